//! Posts (statuses) with edit history, mentions and hashtags; follows, blocks,
//! mutes, likes, bookmarks, notifications; the outgoing activity store and
//! persistent delivery queue; the persistent inbox; known remote hosts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Actors {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Statuses {
    Table,
    Id,
    ApId,
    Url,
    ActorId,
    Kind,
    Title,
    Content,
    Source,
    SpoilerText,
    Sensitive,
    Language,
    Visibility,
    InReplyToId,
    InReplyToApId,
    InReplyToActorId,
    Context,
    ReblogOfId,
    Addressing,
    Local,
    RepliesCount,
    ReblogsCount,
    FavouritesCount,
    Published,
    EditedAt,
    CreatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum StatusEdits {
    Table,
    Id,
    StatusId,
    Title,
    Content,
    SpoilerText,
    Sensitive,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Mentions {
    Table,
    StatusId,
    ActorId,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StatusTags {
    Table,
    StatusId,
    TagId,
}

#[derive(DeriveIden)]
enum Follows {
    Table,
    Id,
    FollowerId,
    FolloweeId,
    ApId,
    State,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Blocks {
    Table,
    Id,
    ActorId,
    TargetId,
    ApId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Mutes {
    Table,
    Id,
    ActorId,
    TargetId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Favourites {
    Table,
    Id,
    ActorId,
    StatusId,
    ApId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Bookmarks {
    Table,
    Id,
    ActorId,
    StatusId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    RecipientId,
    Kind,
    FromActorId,
    StatusId,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    ApId,
    ActorId,
    Kind,
    ObjectApId,
    Json,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    ActivityId,
    InboxUrl,
    Host,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastStatus,
    LastError,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InboxItems {
    Table,
    Id,
    ApId,
    ActorApId,
    Kind,
    Json,
    ReceivedAt,
    ProcessedAt,
    Attempts,
    NextAttemptAt,
    LastError,
}

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Domain,
    FirstSeenAt,
    LastSuccessAt,
    LastFailureAt,
    FailureCount,
    DeadSince,
    Blocked,
    Software,
}

fn id_pk<T: IntoIden>(col: T) -> ColumnDef {
    big_integer(col).primary_key().take()
}

fn index(name: &str, table: impl IntoIden, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

fn fk(
    from_table: impl IntoIden,
    from: impl IntoIden,
    to_table: impl IntoIden,
    to: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from)
        .to(to_table, to)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Statuses::Table)
                .col(id_pk(Statuses::Id))
                .col(text_uniq(Statuses::ApId))
                .col(text_null(Statuses::Url))
                .col(big_integer(Statuses::ActorId))
                .col(string(Statuses::Kind))
                .col(text_null(Statuses::Title))
                .col(text(Statuses::Content).default(""))
                .col(text_null(Statuses::Source))
                .col(text(Statuses::SpoilerText).default(""))
                .col(boolean(Statuses::Sensitive).default(false))
                .col(string_null(Statuses::Language))
                .col(string(Statuses::Visibility))
                .col(big_integer_null(Statuses::InReplyToId))
                .col(text_null(Statuses::InReplyToApId))
                .col(big_integer_null(Statuses::InReplyToActorId))
                .col(text_null(Statuses::Context))
                .col(big_integer_null(Statuses::ReblogOfId))
                .col(json_binary(Statuses::Addressing))
                .col(boolean(Statuses::Local))
                .col(integer(Statuses::RepliesCount).default(0))
                .col(integer(Statuses::ReblogsCount).default(0))
                .col(integer(Statuses::FavouritesCount).default(0))
                .col(timestamp_with_time_zone(Statuses::Published))
                .col(timestamp_with_time_zone_null(Statuses::EditedAt))
                .col(timestamp_with_time_zone(Statuses::CreatedAt))
                .col(timestamp_with_time_zone_null(Statuses::DeletedAt))
                .foreign_key(&mut fk(
                    Statuses::Table,
                    Statuses::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "statuses_actor_id",
            Statuses::Table,
            &["actor_id", "id"],
        ))
        .await?;
        m.create_index(index(
            "statuses_in_reply_to",
            Statuses::Table,
            &["in_reply_to_id"],
        ))
        .await?;
        m.create_index(index(
            "statuses_in_reply_to_ap",
            Statuses::Table,
            &["in_reply_to_ap_id"],
        ))
        .await?;
        m.create_index(index(
            "statuses_reblog_of",
            Statuses::Table,
            &["reblog_of_id"],
        ))
        .await?;
        m.create_index(index("statuses_context", Statuses::Table, &["context"]))
            .await?;
        m.create_index(index(
            "statuses_local_visibility",
            Statuses::Table,
            &["local", "visibility", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(StatusEdits::Table)
                .col(id_pk(StatusEdits::Id))
                .col(big_integer(StatusEdits::StatusId))
                .col(text_null(StatusEdits::Title))
                .col(text(StatusEdits::Content))
                .col(text(StatusEdits::SpoilerText).default(""))
                .col(boolean(StatusEdits::Sensitive).default(false))
                .col(timestamp_with_time_zone(StatusEdits::CreatedAt))
                .foreign_key(&mut fk(
                    StatusEdits::Table,
                    StatusEdits::StatusId,
                    Statuses::Table,
                    Statuses::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "status_edits_status",
            StatusEdits::Table,
            &["status_id", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Mentions::Table)
                .col(big_integer(Mentions::StatusId))
                .col(big_integer(Mentions::ActorId))
                .primary_key(
                    Index::create()
                        .col(Mentions::StatusId)
                        .col(Mentions::ActorId),
                )
                .foreign_key(&mut fk(
                    Mentions::Table,
                    Mentions::StatusId,
                    Statuses::Table,
                    Statuses::Id,
                ))
                .foreign_key(&mut fk(
                    Mentions::Table,
                    Mentions::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "mentions_actor",
            Mentions::Table,
            &["actor_id", "status_id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Tags::Table)
                .col(id_pk(Tags::Id))
                .col(string_uniq(Tags::Name))
                .col(timestamp_with_time_zone(Tags::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(StatusTags::Table)
                .col(big_integer(StatusTags::StatusId))
                .col(big_integer(StatusTags::TagId))
                .primary_key(
                    Index::create()
                        .col(StatusTags::StatusId)
                        .col(StatusTags::TagId),
                )
                .foreign_key(&mut fk(
                    StatusTags::Table,
                    StatusTags::StatusId,
                    Statuses::Table,
                    Statuses::Id,
                ))
                .foreign_key(&mut fk(
                    StatusTags::Table,
                    StatusTags::TagId,
                    Tags::Table,
                    Tags::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "status_tags_tag",
            StatusTags::Table,
            &["tag_id", "status_id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Follows::Table)
                .col(id_pk(Follows::Id))
                .col(big_integer(Follows::FollowerId))
                .col(big_integer(Follows::FolloweeId))
                .col(text_null(Follows::ApId))
                .col(string(Follows::State))
                .col(timestamp_with_time_zone(Follows::CreatedAt))
                .col(timestamp_with_time_zone(Follows::UpdatedAt))
                .foreign_key(&mut fk(
                    Follows::Table,
                    Follows::FollowerId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut fk(
                    Follows::Table,
                    Follows::FolloweeId,
                    Actors::Table,
                    Actors::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "follows_pair",
                Follows::Table,
                &["follower_id", "followee_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "follows_followee",
            Follows::Table,
            &["followee_id", "state"],
        ))
        .await?;

        for (table, cols) in [
            (Blocks::Table.into_iden(), true),
            (Mutes::Table.into_iden(), false),
        ] {
            let mut t = Table::create();
            t.table(table.clone())
                .col(id_pk(Alias::new("id")))
                .col(big_integer(Alias::new("actor_id")))
                .col(big_integer(Alias::new("target_id")));
            if cols {
                t.col(text_null(Alias::new("ap_id")));
            }
            t.col(timestamp_with_time_zone(Alias::new("created_at")))
                .foreign_key(&mut fk(
                    table.clone(),
                    Alias::new("actor_id"),
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut fk(
                    table.clone(),
                    Alias::new("target_id"),
                    Actors::Table,
                    Actors::Id,
                ));
            m.create_table(t.to_owned()).await?;
        }
        let _ = (
            Blocks::Id,
            Blocks::ActorId,
            Blocks::TargetId,
            Blocks::ApId,
            Blocks::CreatedAt,
        );
        let _ = (Mutes::Id, Mutes::ActorId, Mutes::TargetId, Mutes::CreatedAt);
        m.create_index(
            index("blocks_pair", Blocks::Table, &["actor_id", "target_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index("blocks_target", Blocks::Table, &["target_id"]))
            .await?;
        m.create_index(
            index("mutes_pair", Mutes::Table, &["actor_id", "target_id"])
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Favourites::Table)
                .col(id_pk(Favourites::Id))
                .col(big_integer(Favourites::ActorId))
                .col(big_integer(Favourites::StatusId))
                .col(text_null(Favourites::ApId))
                .col(timestamp_with_time_zone(Favourites::CreatedAt))
                .foreign_key(&mut fk(
                    Favourites::Table,
                    Favourites::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut fk(
                    Favourites::Table,
                    Favourites::StatusId,
                    Statuses::Table,
                    Statuses::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "favourites_pair",
                Favourites::Table,
                &["actor_id", "status_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "favourites_status",
            Favourites::Table,
            &["status_id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Bookmarks::Table)
                .col(id_pk(Bookmarks::Id))
                .col(big_integer(Bookmarks::ActorId))
                .col(big_integer(Bookmarks::StatusId))
                .col(timestamp_with_time_zone(Bookmarks::CreatedAt))
                .foreign_key(&mut fk(
                    Bookmarks::Table,
                    Bookmarks::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut fk(
                    Bookmarks::Table,
                    Bookmarks::StatusId,
                    Statuses::Table,
                    Statuses::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "bookmarks_pair",
                Bookmarks::Table,
                &["actor_id", "status_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(id_pk(Notifications::Id))
                .col(big_integer(Notifications::RecipientId))
                .col(string(Notifications::Kind))
                .col(big_integer(Notifications::FromActorId))
                .col(big_integer_null(Notifications::StatusId))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .foreign_key(&mut fk(
                    Notifications::Table,
                    Notifications::RecipientId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut fk(
                    Notifications::Table,
                    Notifications::FromActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut fk(
                    Notifications::Table,
                    Notifications::StatusId,
                    Statuses::Table,
                    Statuses::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "notifications_recipient",
            Notifications::Table,
            &["recipient_id", "id"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Activities::Table)
                .col(id_pk(Activities::Id))
                .col(text_uniq(Activities::ApId))
                .col(big_integer(Activities::ActorId))
                .col(string(Activities::Kind))
                .col(text_null(Activities::ObjectApId))
                .col(text(Activities::Json))
                .col(timestamp_with_time_zone(Activities::CreatedAt))
                .foreign_key(&mut fk(
                    Activities::Table,
                    Activities::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Deliveries::Table)
                .col(id_pk(Deliveries::Id))
                .col(big_integer(Deliveries::ActivityId))
                .col(text(Deliveries::InboxUrl))
                .col(string(Deliveries::Host))
                .col(integer(Deliveries::Attempts).default(0))
                .col(timestamp_with_time_zone(Deliveries::NextAttemptAt))
                .col(timestamp_with_time_zone_null(Deliveries::LockedUntil))
                .col(integer_null(Deliveries::LastStatus))
                .col(text_null(Deliveries::LastError))
                .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                .foreign_key(&mut fk(
                    Deliveries::Table,
                    Deliveries::ActivityId,
                    Activities::Table,
                    Activities::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "deliveries_due",
            Deliveries::Table,
            &["next_attempt_at"],
        ))
        .await?;
        m.create_index(
            index(
                "deliveries_activity_inbox",
                Deliveries::Table,
                &["activity_id", "inbox_url"],
            )
            .unique()
            .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(InboxItems::Table)
                .col(id_pk(InboxItems::Id))
                .col(text_uniq(InboxItems::ApId))
                .col(text(InboxItems::ActorApId))
                .col(string(InboxItems::Kind))
                .col(text(InboxItems::Json))
                .col(timestamp_with_time_zone(InboxItems::ReceivedAt))
                .col(timestamp_with_time_zone_null(InboxItems::ProcessedAt))
                .col(integer(InboxItems::Attempts).default(0))
                .col(timestamp_with_time_zone_null(InboxItems::NextAttemptAt))
                .col(text_null(InboxItems::LastError))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "inbox_items_pending",
            InboxItems::Table,
            &["processed_at", "next_attempt_at"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Hosts::Table)
                .col(string(Hosts::Domain).primary_key())
                .col(timestamp_with_time_zone(Hosts::FirstSeenAt))
                .col(timestamp_with_time_zone_null(Hosts::LastSuccessAt))
                .col(timestamp_with_time_zone_null(Hosts::LastFailureAt))
                .col(integer(Hosts::FailureCount).default(0))
                .col(timestamp_with_time_zone_null(Hosts::DeadSince))
                .col(boolean(Hosts::Blocked).default(false))
                .col(string_null(Hosts::Software))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
