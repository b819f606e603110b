//! Publications that could not be turned into deliveries when their use case
//! finished (the database refused the queue rows, say) wait here and are
//! tried again, so a committed post still reaches its followers.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PendingPublications {
    Table,
    Id,
    Event,
    Attempts,
    LastError,
    NextAttemptAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PendingPublications::Table)
                .col(big_integer(PendingPublications::Id).primary_key())
                .col(text(PendingPublications::Event))
                .col(integer(PendingPublications::Attempts).default(0))
                .col(text_null(PendingPublications::LastError))
                .col(timestamp_with_time_zone(PendingPublications::NextAttemptAt))
                .col(timestamp_with_time_zone(PendingPublications::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pending_publications_due")
                .table(PendingPublications::Table)
                .col(PendingPublications::NextAttemptAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PendingPublications::Table).to_owned())
            .await
    }
}
