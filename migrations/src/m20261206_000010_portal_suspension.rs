//! A suspended member instance stays suspended: the portal remembers when it
//! suspended an instance, so that a new application from it is refused
//! until an admin lifts the suspension.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PortalInstances {
    Table,
    SuspendedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(PortalInstances::Table)
                .add_column(timestamp_with_time_zone_null(PortalInstances::SuspendedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(PortalInstances::Table)
                .drop_column(PortalInstances::SuspendedAt)
                .to_owned(),
        )
        .await
    }
}
