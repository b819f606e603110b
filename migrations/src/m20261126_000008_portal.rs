//! The national portal's own records, beside the follows that make up its
//! membership: relay subscriptions (servers that follow the Public
//! collection, FEP-ae0c, and are not member instances), items its
//! moderators hid from the aggregated feeds, and what it last learnt of
//! each member instance (its NodeInfo, when it was last heard from).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PortalRelays {
    Table,
    Id,
    ActorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PortalHidden {
    Table,
    Id,
    ObjectApId,
    ModeratorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PortalInstances {
    Table,
    Id,
    Domain,
    Nodeinfo,
    FetchedAt,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PortalRelays::Table)
                .col(big_integer(PortalRelays::Id).primary_key())
                .col(big_integer(PortalRelays::ActorId).unique_key())
                .col(timestamp_with_time_zone(PortalRelays::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PortalHidden::Table)
                .col(big_integer(PortalHidden::Id).primary_key())
                .col(string(PortalHidden::ObjectApId).unique_key())
                .col(big_integer_null(PortalHidden::ModeratorId))
                .col(timestamp_with_time_zone(PortalHidden::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PortalInstances::Table)
                .col(big_integer(PortalInstances::Id).primary_key())
                .col(string(PortalInstances::Domain).unique_key())
                .col(text(PortalInstances::Nodeinfo).default("{}"))
                .col(timestamp_with_time_zone_null(PortalInstances::FetchedAt))
                .col(timestamp_with_time_zone_null(PortalInstances::LastSeenAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            PortalInstances::Table.into_iden(),
            PortalHidden::Table.into_iden(),
            PortalRelays::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
