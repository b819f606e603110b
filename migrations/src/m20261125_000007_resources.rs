//! Teaching resources: the resource itself (owner person or group, licence,
//! visibility, draft or published, remix source, counters), its labels
//! (subjects, levels, languages, free tags), its files and links, every
//! revision as a snapshot, and its co-editors. Remote resources live in the
//! same tables with their origin; their files stay where they are.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
    ApId,
    Url,
    OwnerId,
    GroupId,
    Title,
    Description,
    DescriptionHtml,
    Licence,
    Attribution,
    Authors,
    Visibility,
    State,
    DerivedFromId,
    DerivedFromApId,
    Local,
    Origin,
    Revision,
    DownloadCount,
    RemixCount,
    PublishedAt,
    UpdatedAt,
    CreatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum ResourceLabels {
    Table,
    Id,
    ResourceId,
    Kind,
    Value,
}

#[derive(DeriveIden)]
enum ResourceFiles {
    Table,
    Id,
    ResourceId,
    Kind,
    Name,
    StorageKey,
    RemoteUrl,
    ContentType,
    Size,
    Width,
    Height,
    Sha256,
    Position,
    RemovedIn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ResourceRevisions {
    Table,
    Id,
    ResourceId,
    Number,
    EditorId,
    Note,
    Snapshot,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ResourceEditors {
    Table,
    ResourceId,
    ActorId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Resources::Table)
                .col(big_integer(Resources::Id).primary_key())
                .col(string(Resources::ApId).unique_key())
                .col(string_null(Resources::Url))
                .col(big_integer(Resources::OwnerId))
                .col(big_integer_null(Resources::GroupId))
                .col(text(Resources::Title))
                .col(text(Resources::Description).default(""))
                .col(text(Resources::DescriptionHtml).default(""))
                .col(string(Resources::Licence))
                .col(text(Resources::Attribution).default(""))
                .col(text(Resources::Authors).default("[]"))
                .col(string(Resources::Visibility))
                .col(string(Resources::State))
                .col(big_integer_null(Resources::DerivedFromId))
                .col(string_null(Resources::DerivedFromApId))
                .col(boolean(Resources::Local))
                .col(string(Resources::Origin))
                .col(integer(Resources::Revision).default(1))
                .col(big_integer(Resources::DownloadCount).default(0))
                .col(big_integer(Resources::RemixCount).default(0))
                .col(timestamp_with_time_zone_null(Resources::PublishedAt))
                .col(timestamp_with_time_zone(Resources::UpdatedAt))
                .col(timestamp_with_time_zone(Resources::CreatedAt))
                .col(timestamp_with_time_zone_null(Resources::DeletedAt))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("resources_owner", Resources::OwnerId),
            ("resources_group", Resources::GroupId),
            ("resources_derived", Resources::DerivedFromId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Resources::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(ResourceLabels::Table)
                .col(big_integer(ResourceLabels::Id).primary_key())
                .col(big_integer(ResourceLabels::ResourceId))
                .col(string(ResourceLabels::Kind))
                .col(string(ResourceLabels::Value))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("resource_labels_resource")
                .table(ResourceLabels::Table)
                .col(ResourceLabels::ResourceId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("resource_labels_value")
                .table(ResourceLabels::Table)
                .col(ResourceLabels::Kind)
                .col(ResourceLabels::Value)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ResourceFiles::Table)
                .col(big_integer(ResourceFiles::Id).primary_key())
                .col(big_integer(ResourceFiles::ResourceId))
                .col(string(ResourceFiles::Kind))
                .col(text(ResourceFiles::Name))
                .col(string_null(ResourceFiles::StorageKey))
                .col(text_null(ResourceFiles::RemoteUrl))
                .col(string(ResourceFiles::ContentType))
                .col(big_integer(ResourceFiles::Size).default(0))
                .col(integer_null(ResourceFiles::Width))
                .col(integer_null(ResourceFiles::Height))
                .col(string(ResourceFiles::Sha256).default(""))
                .col(integer(ResourceFiles::Position).default(0))
                .col(integer_null(ResourceFiles::RemovedIn))
                .col(timestamp_with_time_zone(ResourceFiles::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("resource_files_resource")
                .table(ResourceFiles::Table)
                .col(ResourceFiles::ResourceId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ResourceRevisions::Table)
                .col(big_integer(ResourceRevisions::Id).primary_key())
                .col(big_integer(ResourceRevisions::ResourceId))
                .col(integer(ResourceRevisions::Number))
                .col(big_integer_null(ResourceRevisions::EditorId))
                .col(text(ResourceRevisions::Note).default(""))
                .col(text(ResourceRevisions::Snapshot))
                .col(timestamp_with_time_zone(ResourceRevisions::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("resource_revisions_number")
                .table(ResourceRevisions::Table)
                .col(ResourceRevisions::ResourceId)
                .col(ResourceRevisions::Number)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ResourceEditors::Table)
                .col(big_integer(ResourceEditors::ResourceId))
                .col(big_integer(ResourceEditors::ActorId))
                .col(timestamp_with_time_zone(ResourceEditors::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(ResourceEditors::ResourceId)
                        .col(ResourceEditors::ActorId),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
