//! Groups (FEP-1b12): the settings of group actors, roles, invitations, bans
//! and the moderation log; posts that belong to a group and threads that are
//! locked; pinned posts (an actor's `featured` collection); the group a
//! notification is about.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Groups {
    Table,
    ActorId,
    ParentId,
    MembersOnly,
    JoinPolicy,
    PostingPolicy,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GroupRoles {
    Table,
    Id,
    GroupId,
    ActorId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GroupInvitations {
    Table,
    Id,
    GroupId,
    ActorId,
    InvitedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GroupBans {
    Table,
    Id,
    GroupId,
    ActorId,
    Reason,
    BannedBy,
    ApId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GroupLog {
    Table,
    Id,
    GroupId,
    ModeratorId,
    Action,
    TargetActorId,
    TargetStatusId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Pins {
    Table,
    Id,
    ActorId,
    StatusId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Statuses {
    Table,
    Id,
    GroupId,
    Locked,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    GroupId,
}

#[derive(DeriveIden)]
enum Actors {
    Table,
    Id,
}

fn id_pk<T: IntoIden>(col: T) -> ColumnDef {
    big_integer(col).primary_key().take()
}

fn cascade(
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

fn unique_pair(
    name: &str,
    table: impl IntoIden,
    a: impl IntoIden,
    b: impl IntoIden,
) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(a)
        .col(b)
        .unique()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Groups::Table)
                .col(big_integer(Groups::ActorId).primary_key())
                .col(big_integer_null(Groups::ParentId))
                .col(boolean(Groups::MembersOnly).default(false))
                .col(string(Groups::JoinPolicy).default("open"))
                .col(string(Groups::PostingPolicy).default("members"))
                .col(big_integer_null(Groups::CreatedBy))
                .col(timestamp_with_time_zone(Groups::CreatedAt))
                .foreign_key(&mut cascade(
                    Groups::Table,
                    Groups::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(Groups::Table, Groups::ParentId)
                        .to(Actors::Table, Actors::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("groups_parent")
                .table(Groups::Table)
                .col(Groups::ParentId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(GroupRoles::Table)
                .col(id_pk(GroupRoles::Id))
                .col(big_integer(GroupRoles::GroupId))
                .col(big_integer(GroupRoles::ActorId))
                .col(string(GroupRoles::Role))
                .col(timestamp_with_time_zone(GroupRoles::CreatedAt))
                .foreign_key(&mut cascade(
                    GroupRoles::Table,
                    GroupRoles::GroupId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut cascade(
                    GroupRoles::Table,
                    GroupRoles::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_pair(
            "group_roles_pair",
            GroupRoles::Table,
            GroupRoles::GroupId,
            GroupRoles::ActorId,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(GroupInvitations::Table)
                .col(id_pk(GroupInvitations::Id))
                .col(big_integer(GroupInvitations::GroupId))
                .col(big_integer(GroupInvitations::ActorId))
                .col(big_integer_null(GroupInvitations::InvitedBy))
                .col(timestamp_with_time_zone(GroupInvitations::CreatedAt))
                .foreign_key(&mut cascade(
                    GroupInvitations::Table,
                    GroupInvitations::GroupId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut cascade(
                    GroupInvitations::Table,
                    GroupInvitations::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_pair(
            "group_invitations_pair",
            GroupInvitations::Table,
            GroupInvitations::GroupId,
            GroupInvitations::ActorId,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(GroupBans::Table)
                .col(id_pk(GroupBans::Id))
                .col(big_integer(GroupBans::GroupId))
                .col(big_integer(GroupBans::ActorId))
                .col(text(GroupBans::Reason).default(""))
                .col(big_integer_null(GroupBans::BannedBy))
                .col(text_null(GroupBans::ApId))
                .col(timestamp_with_time_zone(GroupBans::CreatedAt))
                .foreign_key(&mut cascade(
                    GroupBans::Table,
                    GroupBans::GroupId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut cascade(
                    GroupBans::Table,
                    GroupBans::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_pair(
            "group_bans_pair",
            GroupBans::Table,
            GroupBans::GroupId,
            GroupBans::ActorId,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(GroupLog::Table)
                .col(id_pk(GroupLog::Id))
                .col(big_integer(GroupLog::GroupId))
                .col(big_integer_null(GroupLog::ModeratorId))
                .col(string(GroupLog::Action))
                .col(big_integer_null(GroupLog::TargetActorId))
                .col(big_integer_null(GroupLog::TargetStatusId))
                .col(text(GroupLog::Reason).default(""))
                .col(timestamp_with_time_zone(GroupLog::CreatedAt))
                .foreign_key(&mut cascade(
                    GroupLog::Table,
                    GroupLog::GroupId,
                    Actors::Table,
                    Actors::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("group_log_group")
                .table(GroupLog::Table)
                .col(GroupLog::GroupId)
                .col(GroupLog::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Pins::Table)
                .col(id_pk(Pins::Id))
                .col(big_integer(Pins::ActorId))
                .col(big_integer(Pins::StatusId))
                .col(timestamp_with_time_zone(Pins::CreatedAt))
                .foreign_key(&mut cascade(
                    Pins::Table,
                    Pins::ActorId,
                    Actors::Table,
                    Actors::Id,
                ))
                .foreign_key(&mut cascade(
                    Pins::Table,
                    Pins::StatusId,
                    Statuses::Table,
                    Statuses::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(unique_pair(
            "pins_pair",
            Pins::Table,
            Pins::ActorId,
            Pins::StatusId,
        ))
        .await?;

        // SQLite adds one column per statement.
        for col in [
            big_integer_null(Statuses::GroupId),
            boolean(Statuses::Locked).default(false).take(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Statuses::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        // Requests to join and invitations name the group concerned.
        m.alter_table(
            Table::alter()
                .table(Notifications::Table)
                .add_column(big_integer_null(Notifications::GroupId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("statuses_group")
                .table(Statuses::Table)
                .col(Statuses::GroupId)
                .col(Statuses::Id)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
