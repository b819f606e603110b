//! OAuth applications and authorisation codes; media attached to posts;
//! polls and their votes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthApps {
    Table,
    Id,
    ClientId,
    ClientSecret,
    Name,
    Website,
    RedirectUris,
    Scopes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    Id,
    CodeHash,
    AppId,
    AccountId,
    RedirectUri,
    Scopes,
    CodeChallenge,
    CodeChallengeMethod,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Media {
    Table,
    StatusId,
    Position,
    Kind,
    Blurhash,
}

#[derive(DeriveIden)]
enum Polls {
    Table,
    Id,
    StatusId,
    Options,
    Multiple,
    ExpiresAt,
    ClosedAt,
    RemoteCounts,
    VotersCount,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PollVotes {
    Table,
    Id,
    PollId,
    ActorId,
    Choice,
    ApId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Statuses {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Actors {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

fn id_pk<T: IntoIden>(col: T) -> ColumnDef {
    big_integer(col).primary_key().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OauthApps::Table)
                .col(id_pk(OauthApps::Id))
                .col(string_uniq(OauthApps::ClientId))
                .col(string(OauthApps::ClientSecret))
                .col(string(OauthApps::Name))
                .col(text_null(OauthApps::Website))
                .col(text(OauthApps::RedirectUris))
                .col(text(OauthApps::Scopes))
                .col(timestamp_with_time_zone(OauthApps::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OauthCodes::Table)
                .col(id_pk(OauthCodes::Id))
                .col(string_uniq(OauthCodes::CodeHash))
                .col(big_integer(OauthCodes::AppId))
                .col(big_integer(OauthCodes::AccountId))
                .col(text(OauthCodes::RedirectUri))
                .col(text(OauthCodes::Scopes))
                .col(string_null(OauthCodes::CodeChallenge))
                .col(string_null(OauthCodes::CodeChallengeMethod))
                .col(timestamp_with_time_zone(OauthCodes::CreatedAt))
                .col(timestamp_with_time_zone(OauthCodes::ExpiresAt))
                .col(timestamp_with_time_zone_null(OauthCodes::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(OauthCodes::Table, OauthCodes::AppId)
                        .to(OauthApps::Table, OauthApps::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(OauthCodes::Table, OauthCodes::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        // SQLite adds one column per statement.
        for col in [
            big_integer_null(Media::StatusId),
            integer(Media::Position).default(0).take(),
            string(Media::Kind).default("unknown").take(),
            string_null(Media::Blurhash),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Media::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("media_status")
                .table(Media::Table)
                .col(Media::StatusId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Polls::Table)
                .col(id_pk(Polls::Id))
                .col(big_integer_uniq(Polls::StatusId))
                .col(json_binary(Polls::Options))
                .col(boolean(Polls::Multiple).default(false))
                .col(timestamp_with_time_zone_null(Polls::ExpiresAt))
                .col(timestamp_with_time_zone_null(Polls::ClosedAt))
                .col(json_binary_null(Polls::RemoteCounts))
                .col(integer(Polls::VotersCount).default(0))
                .col(timestamp_with_time_zone(Polls::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Polls::Table, Polls::StatusId)
                        .to(Statuses::Table, Statuses::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PollVotes::Table)
                .col(id_pk(PollVotes::Id))
                .col(big_integer(PollVotes::PollId))
                .col(big_integer(PollVotes::ActorId))
                .col(integer(PollVotes::Choice))
                .col(text_null(PollVotes::ApId))
                .col(timestamp_with_time_zone(PollVotes::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PollVotes::Table, PollVotes::PollId)
                        .to(Polls::Table, Polls::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(PollVotes::Table, PollVotes::ActorId)
                        .to(Actors::Table, Actors::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("poll_votes_unique")
                .table(PollVotes::Table)
                .col(PollVotes::PollId)
                .col(PollVotes::ActorId)
                .col(PollVotes::Choice)
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
