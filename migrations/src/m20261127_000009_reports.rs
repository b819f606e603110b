//! Reports (Mastodon's "report", ActivityPub's `Flag`): a member's or another
//! server's complaint about an account and some of its posts, for this
//! instance's moderators, who resolve it and may forward it to the server
//! the account lives on.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Reports {
    Table,
    Id,
    ApId,
    ReporterId,
    TargetId,
    StatusIds,
    Comment,
    Category,
    ForwardedAt,
    ResolvedAt,
    ResolvedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Reports::Table)
                .col(big_integer(Reports::Id).primary_key())
                // The Flag's id: ours when forwarded, the sender's when received.
                .col(string_null(Reports::ApId).unique_key())
                // A local member, or the remote actor that sent the Flag.
                .col(big_integer(Reports::ReporterId))
                .col(big_integer(Reports::TargetId))
                .col(text(Reports::StatusIds).default("[]"))
                .col(text(Reports::Comment).default(""))
                .col(string(Reports::Category).default("other"))
                .col(timestamp_with_time_zone_null(Reports::ForwardedAt))
                .col(timestamp_with_time_zone_null(Reports::ResolvedAt))
                .col(big_integer_null(Reports::ResolvedBy))
                .col(timestamp_with_time_zone(Reports::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("reports_open")
                .table(Reports::Table)
                .col(Reports::ResolvedAt)
                .col(Reports::Id)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Reports::Table).to_owned())
            .await
    }
}
