//! Calendar events: the event itself (one row per event, sharing its id with
//! the `statuses` row that carries its text and addressing, so timelines,
//! search and federation of posts apply to it), who takes part, and the
//! secret tokens of personal calendar feeds.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CalendarEvents {
    Table,
    Id,
    OrganizerId,
    GroupId,
    Title,
    DescriptionSource,
    Description,
    StartsAt,
    EndsAt,
    Timezone,
    AllDay,
    LocationName,
    LocationAddress,
    Latitude,
    Longitude,
    OnlineUrl,
    OnlineParticipantsOnly,
    Capacity,
    WaitingList,
    JoinMode,
    EventStatus,
    Tags,
    Language,
    Visibility,
    GoingCount,
    RemoteParticipantCount,
    PollStatusId,
    Local,
    RemindedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EventParticipants {
    Table,
    Id,
    EventId,
    ActorId,
    Status,
    ApId,
    Message,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CalendarFeeds {
    Table,
    ActorId,
    Token,
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

fn fk(
    from_table: impl IntoIden,
    from: impl IntoIden,
    to_table: impl IntoIden,
    to: impl IntoIden,
    action: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from)
        .to(to_table, to)
        .on_delete(action)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CalendarEvents::Table)
                .col(big_integer(CalendarEvents::Id).primary_key())
                .col(big_integer(CalendarEvents::OrganizerId))
                .col(big_integer_null(CalendarEvents::GroupId))
                .col(string(CalendarEvents::Title))
                .col(text_null(CalendarEvents::DescriptionSource))
                .col(text(CalendarEvents::Description))
                .col(timestamp_with_time_zone(CalendarEvents::StartsAt))
                .col(timestamp_with_time_zone(CalendarEvents::EndsAt))
                .col(string(CalendarEvents::Timezone))
                .col(boolean(CalendarEvents::AllDay).default(false))
                .col(string_null(CalendarEvents::LocationName))
                .col(text_null(CalendarEvents::LocationAddress))
                .col(double_null(CalendarEvents::Latitude))
                .col(double_null(CalendarEvents::Longitude))
                .col(text_null(CalendarEvents::OnlineUrl))
                .col(boolean(CalendarEvents::OnlineParticipantsOnly).default(false))
                .col(integer_null(CalendarEvents::Capacity))
                .col(boolean(CalendarEvents::WaitingList).default(false))
                .col(string(CalendarEvents::JoinMode).default("free"))
                .col(string(CalendarEvents::EventStatus).default("confirmed"))
                .col(json(CalendarEvents::Tags))
                .col(string_null(CalendarEvents::Language))
                .col(string(CalendarEvents::Visibility).default("public"))
                .col(integer(CalendarEvents::GoingCount).default(0))
                .col(integer_null(CalendarEvents::RemoteParticipantCount))
                .col(big_integer_null(CalendarEvents::PollStatusId))
                .col(boolean(CalendarEvents::Local))
                .col(timestamp_with_time_zone_null(CalendarEvents::RemindedAt))
                .col(timestamp_with_time_zone(CalendarEvents::CreatedAt))
                .col(timestamp_with_time_zone(CalendarEvents::UpdatedAt))
                .foreign_key(&mut fk(
                    CalendarEvents::Table,
                    CalendarEvents::Id,
                    Statuses::Table,
                    Statuses::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    CalendarEvents::Table,
                    CalendarEvents::OrganizerId,
                    Actors::Table,
                    Actors::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    CalendarEvents::Table,
                    CalendarEvents::GroupId,
                    Actors::Table,
                    Actors::Id,
                    ForeignKeyAction::SetNull,
                ))
                .foreign_key(&mut fk(
                    CalendarEvents::Table,
                    CalendarEvents::PollStatusId,
                    Statuses::Table,
                    Statuses::Id,
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("calendar_events_starts", CalendarEvents::StartsAt),
            ("calendar_events_group", CalendarEvents::GroupId),
            ("calendar_events_organizer", CalendarEvents::OrganizerId),
            ("calendar_events_poll", CalendarEvents::PollStatusId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(CalendarEvents::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(EventParticipants::Table)
                .col(big_integer(EventParticipants::Id).primary_key())
                .col(big_integer(EventParticipants::EventId))
                .col(big_integer(EventParticipants::ActorId))
                .col(string(EventParticipants::Status))
                .col(string_null(EventParticipants::ApId))
                .col(text_null(EventParticipants::Message))
                .col(timestamp_with_time_zone(EventParticipants::CreatedAt))
                .col(timestamp_with_time_zone(EventParticipants::UpdatedAt))
                .foreign_key(&mut fk(
                    EventParticipants::Table,
                    EventParticipants::EventId,
                    CalendarEvents::Table,
                    CalendarEvents::Id,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    EventParticipants::Table,
                    EventParticipants::ActorId,
                    Actors::Table,
                    Actors::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("event_participants_pair")
                .table(EventParticipants::Table)
                .col(EventParticipants::EventId)
                .col(EventParticipants::ActorId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("event_participants_actor")
                .table(EventParticipants::Table)
                .col(EventParticipants::ActorId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("event_participants_ap_id")
                .table(EventParticipants::Table)
                .col(EventParticipants::ApId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CalendarFeeds::Table)
                .col(big_integer(CalendarFeeds::ActorId).primary_key())
                .col(string(CalendarFeeds::Token).unique_key())
                .col(timestamp_with_time_zone(CalendarFeeds::CreatedAt))
                .foreign_key(&mut fk(
                    CalendarFeeds::Table,
                    CalendarFeeds::ActorId,
                    Actors::Table,
                    Actors::Id,
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            CalendarFeeds::Table.into_iden(),
            EventParticipants::Table.into_iden(),
            CalendarEvents::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
