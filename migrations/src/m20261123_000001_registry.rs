//! The private member registry, public profiles (actors), sessions, tokens,
//! invites, password resets, media files and instance settings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstanceSettings {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum Actors {
    Table,
    Id,
    ApId,
    Kind,
    Username,
    Domain,
    Local,
    DisplayName,
    Summary,
    SummarySource,
    Url,
    InboxUrl,
    SharedInboxUrl,
    OutboxUrl,
    FollowersUrl,
    FollowingUrl,
    FeaturedUrl,
    AvatarUrl,
    HeaderUrl,
    AvatarMediaId,
    HeaderMediaId,
    PublicKeyPem,
    PrivateKeyPem,
    ManuallyApprovesFollowers,
    Discoverable,
    Indexable,
    Bot,
    Fields,
    Subjects,
    Languages,
    AccountId,
    CreatedAt,
    UpdatedAt,
    LastRefreshedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    ActorId,
    Username,
    Email,
    PasswordHash,
    RealName,
    School,
    MembershipNumber,
    Role,
    Status,
    Locale,
    SignupReason,
    InviteId,
    ApprovedBy,
    ApprovedAt,
    CreatedAt,
    UpdatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    AccountId,
    UserAgent,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    Id,
    TokenHash,
    RefreshTokenHash,
    AccountId,
    AppId,
    Scopes,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    Id,
    Code,
    CreatedBy,
    Comment,
    MaxUses,
    Uses,
    ExpiresAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    TokenHash,
    AccountId,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Media {
    Table,
    Id,
    AccountId,
    StorageKey,
    ContentType,
    Size,
    Description,
    FocusX,
    FocusY,
    Width,
    Height,
    RemoteUrl,
    CreatedAt,
}

fn id_pk<T: IntoIden>(col: T) -> ColumnDef {
    big_integer(col).primary_key().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InstanceSettings::Table)
                .col(string(InstanceSettings::Key).primary_key())
                .col(text(InstanceSettings::Value))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Actors::Table)
                .col(id_pk(Actors::Id))
                .col(text_uniq(Actors::ApId))
                .col(string(Actors::Kind))
                .col(string(Actors::Username))
                .col(string(Actors::Domain))
                .col(boolean(Actors::Local))
                .col(text(Actors::DisplayName).default(""))
                .col(text(Actors::Summary).default(""))
                .col(text_null(Actors::SummarySource))
                .col(text_null(Actors::Url))
                .col(text(Actors::InboxUrl))
                .col(text_null(Actors::SharedInboxUrl))
                .col(text_null(Actors::OutboxUrl))
                .col(text_null(Actors::FollowersUrl))
                .col(text_null(Actors::FollowingUrl))
                .col(text_null(Actors::FeaturedUrl))
                .col(text_null(Actors::AvatarUrl))
                .col(text_null(Actors::HeaderUrl))
                .col(big_integer_null(Actors::AvatarMediaId))
                .col(big_integer_null(Actors::HeaderMediaId))
                .col(text(Actors::PublicKeyPem))
                .col(text_null(Actors::PrivateKeyPem))
                .col(boolean(Actors::ManuallyApprovesFollowers).default(false))
                .col(boolean(Actors::Discoverable).default(true))
                .col(boolean(Actors::Indexable).default(true))
                .col(boolean(Actors::Bot).default(false))
                .col(json_binary(Actors::Fields))
                .col(json_binary(Actors::Subjects))
                .col(json_binary(Actors::Languages))
                .col(big_integer_null(Actors::AccountId))
                .col(timestamp_with_time_zone(Actors::CreatedAt))
                .col(timestamp_with_time_zone(Actors::UpdatedAt))
                .col(timestamp_with_time_zone_null(Actors::LastRefreshedAt))
                .col(timestamp_with_time_zone_null(Actors::DeletedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("actors_username_domain")
                .table(Actors::Table)
                .col(Actors::Username)
                .col(Actors::Domain)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("actors_domain")
                .table(Actors::Table)
                .col(Actors::Domain)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Accounts::Table)
                .col(id_pk(Accounts::Id))
                .col(big_integer_uniq(Accounts::ActorId))
                .col(string_uniq(Accounts::Username))
                .col(string_uniq(Accounts::Email))
                .col(text(Accounts::PasswordHash))
                .col(text_null(Accounts::RealName))
                .col(text_null(Accounts::School))
                .col(text_null(Accounts::MembershipNumber))
                .col(string(Accounts::Role))
                .col(string(Accounts::Status))
                .col(string_null(Accounts::Locale))
                .col(text_null(Accounts::SignupReason))
                .col(big_integer_null(Accounts::InviteId))
                .col(big_integer_null(Accounts::ApprovedBy))
                .col(timestamp_with_time_zone_null(Accounts::ApprovedAt))
                .col(timestamp_with_time_zone(Accounts::CreatedAt))
                .col(timestamp_with_time_zone(Accounts::UpdatedAt))
                .col(timestamp_with_time_zone_null(Accounts::LastSeenAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Accounts::Table, Accounts::ActorId)
                        .to(Actors::Table, Actors::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("accounts_status")
                .table(Accounts::Table)
                .col(Accounts::Status)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(string(Sessions::Id).primary_key())
                .col(big_integer(Sessions::AccountId))
                .col(text_null(Sessions::UserAgent))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Sessions::Table, Sessions::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sessions_account")
                .table(Sessions::Table)
                .col(Sessions::AccountId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AccessTokens::Table)
                .col(id_pk(AccessTokens::Id))
                .col(string_uniq(AccessTokens::TokenHash))
                .col(string_null(AccessTokens::RefreshTokenHash).unique_key())
                .col(big_integer_null(AccessTokens::AccountId))
                .col(big_integer_null(AccessTokens::AppId))
                .col(text(AccessTokens::Scopes))
                .col(timestamp_with_time_zone(AccessTokens::CreatedAt))
                .col(timestamp_with_time_zone_null(AccessTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(AccessTokens::RevokedAt))
                .col(timestamp_with_time_zone_null(AccessTokens::LastUsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(AccessTokens::Table, AccessTokens::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("access_tokens_account")
                .table(AccessTokens::Table)
                .col(AccessTokens::AccountId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Invites::Table)
                .col(id_pk(Invites::Id))
                .col(string_uniq(Invites::Code))
                .col(big_integer_null(Invites::CreatedBy))
                .col(text_null(Invites::Comment))
                .col(integer_null(Invites::MaxUses))
                .col(integer(Invites::Uses).default(0))
                .col(timestamp_with_time_zone_null(Invites::ExpiresAt))
                .col(timestamp_with_time_zone_null(Invites::RevokedAt))
                .col(timestamp_with_time_zone(Invites::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PasswordResets::Table)
                .col(id_pk(PasswordResets::Id))
                .col(string_uniq(PasswordResets::TokenHash))
                .col(big_integer(PasswordResets::AccountId))
                .col(big_integer_null(PasswordResets::CreatedBy))
                .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PasswordResets::Table, PasswordResets::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Media::Table)
                .col(id_pk(Media::Id))
                .col(big_integer_null(Media::AccountId))
                .col(text(Media::StorageKey))
                .col(string(Media::ContentType))
                .col(big_integer(Media::Size))
                .col(text_null(Media::Description))
                .col(double_null(Media::FocusX))
                .col(double_null(Media::FocusY))
                .col(integer_null(Media::Width))
                .col(integer_null(Media::Height))
                .col(text_null(Media::RemoteUrl))
                .col(timestamp_with_time_zone(Media::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("media_account")
                .table(Media::Table)
                .col(Media::AccountId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
