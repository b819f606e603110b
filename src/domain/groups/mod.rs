//! Groups (FEP-1b12): communities, working groups and private sub-groups.
//!
//! A group is a `Group` actor. Its members are its accepted followers, so a
//! Mastodon or Lemmy user joins by following it; owners and moderators are
//! listed in `group_roles`. Who may join is decided here ([`admission`]) for
//! every way in: the web, the API and a Follow from another server. A
//! members-only sub-group admits only members of its parent, and leaving the
//! parent ends those memberships. Moderation lives in [`moderation`].

mod content;
mod membership;
pub mod moderation;
mod settings;

pub use content::*;
pub use membership::*;
pub use settings::*;

use crate::{
    app::AppState,
    db::{
        entities::{actors, follows, group_invitations, group_log, group_roles, groups, statuses},
        ids,
        queries::{self, Page, notifications::About},
    },
    domain::{
        accounts::Member,
        events::Event,
        follows::{ACCEPTED, PENDING},
        instance, notifications, profiles, text, validate,
    },
    error::{AppError, AppResult},
    federation::keys,
    msg,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, IntoActiveModel};
pub const NAME_MAX: usize = 30;
pub const DESCRIPTION_MAX: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JoinPolicy {
    Open,
    Approval,
    Invite,
}

impl JoinPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Approval => "approval",
            Self::Invite => "invite",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "open" => Some(Self::Open),
            "approval" => Some(Self::Approval),
            "invite" | "invitation" => Some(Self::Invite),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PostingPolicy {
    Members,
    Moderators,
}

impl PostingPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Members => "members",
            Self::Moderators => "moderators",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "members" => Some(Self::Members),
            "moderators" => Some(Self::Moderators),
            _ => None,
        }
    }
}

/// Someone's place in a group. Ordered: an owner is also a moderator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupRole {
    Member,
    Moderator,
    Owner,
}

impl GroupRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Moderator => "moderator",
            Self::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "member" => Some(Self::Member),
            "moderator" => Some(Self::Moderator),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }

    pub fn is_staff(self) -> bool {
        self >= Self::Moderator
    }
}

/// A group: its actor and its settings.
#[derive(Debug, Clone)]
pub struct Group {
    pub actor: actors::Model,
    pub settings: groups::Model,
}

impl Group {
    pub fn id(&self) -> i64 {
        self.actor.id
    }

    pub fn local(&self) -> bool {
        self.actor.local
    }

    pub fn members_only(&self) -> bool {
        self.settings.members_only
    }

    pub fn join_policy(&self) -> JoinPolicy {
        JoinPolicy::parse(&self.settings.join_policy).unwrap_or(JoinPolicy::Approval)
    }

    pub fn posting_policy(&self) -> PostingPolicy {
        PostingPolicy::parse(&self.settings.posting_policy).unwrap_or(PostingPolicy::Members)
    }
}

/// The group behind an actor id, local or remote; None for other actors.
pub async fn load(db: &impl ConnectionTrait, actor_id: i64) -> AppResult<Option<Group>> {
    let Some(actor) = queries::actors::by_id(db, actor_id).await? else {
        return Ok(None);
    };
    of_actor(db, actor).await
}

pub async fn of_actor(db: &impl ConnectionTrait, actor: actors::Model) -> AppResult<Option<Group>> {
    if actor.kind != "Group" || actor.deleted_at.is_some() {
        return Ok(None);
    }
    let settings = match queries::groups::get(db, actor.id).await? {
        Some(s) => s,
        // A remote group we met before its settings were recorded.
        None => defaults_for_remote(&actor),
    };
    Ok(Some(Group { actor, settings }))
}

fn defaults_for_remote(actor: &actors::Model) -> groups::Model {
    groups::Model {
        actor_id: actor.id,
        parent_id: None,
        members_only: false,
        join_policy: if actor.manually_approves_followers {
            JoinPolicy::Approval
        } else {
            JoinPolicy::Open
        }
        .as_str()
        .into(),
        posting_policy: PostingPolicy::Members.as_str().into(),
        created_by: None,
        created_at: actor.created_at,
    }
}

/// A local group by its handle, or 404.
pub async fn by_name(state: &AppState, name: &str) -> AppResult<Group> {
    let actor = queries::actors::local_by_username(&state.db, &name.to_lowercase())
        .await?
        .filter(|a| a.kind == "Group")
        .ok_or_else(AppError::not_found)?;
    of_actor(&state.db, actor)
        .await?
        .ok_or_else(AppError::not_found)
}

/// What a remote group's actor document says about it.
#[derive(Debug, Clone, Default)]
pub struct RemoteSettings {
    pub members_only: bool,
    pub join_policy: Option<String>,
    pub posting_restricted: bool,
    pub parent: Option<i64>,
}

/// Record (or refresh) the settings of a remote group.
pub async fn upsert_remote_settings(
    db: &impl ConnectionTrait,
    actor: &actors::Model,
    s: RemoteSettings,
) -> AppResult<()> {
    let join = s
        .join_policy
        .as_deref()
        .and_then(JoinPolicy::parse)
        .unwrap_or(if actor.manually_approves_followers {
            JoinPolicy::Approval
        } else {
            JoinPolicy::Open
        });
    let posting = if s.posting_restricted {
        PostingPolicy::Moderators
    } else {
        PostingPolicy::Members
    };
    match queries::groups::get(db, actor.id).await? {
        Some(existing) => {
            let mut a = existing.into_active_model();
            a.members_only = Set(s.members_only);
            a.join_policy = Set(join.as_str().into());
            a.posting_policy = Set(posting.as_str().into());
            a.parent_id = Set(s.parent);
            queries::groups::update(db, a).await?;
        }
        None => {
            queries::groups::insert(
                db,
                groups::ActiveModel {
                    actor_id: Set(actor.id),
                    parent_id: Set(s.parent),
                    members_only: Set(s.members_only),
                    join_policy: Set(join.as_str().into()),
                    posting_policy: Set(posting.as_str().into()),
                    created_by: Set(None),
                    created_at: Set(chrono::Utc::now()),
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Someone's role in a group: owner or moderator (from `group_roles`),
/// member (an accepted follower), or nothing.
pub async fn role_of(
    db: &impl ConnectionTrait,
    group: &Group,
    actor_id: i64,
) -> AppResult<Option<GroupRole>> {
    if let Some(r) = queries::groups::role(db, group.id(), actor_id).await? {
        return Ok(GroupRole::parse(&r.role));
    }
    Ok(queries::follows::get(db, actor_id, group.id())
        .await?
        .filter(|f| f.state == ACCEPTED)
        .map(|_| GroupRole::Member))
}

pub async fn is_member(db: &impl ConnectionTrait, group: &Group, actor_id: i64) -> AppResult<bool> {
    Ok(role_of(db, group, actor_id).await?.is_some())
}

/// The caller moderates this group (or is an instance admin acting on a
/// local group); otherwise 403.
pub async fn require_staff(state: &AppState, group: &Group, me: &Member) -> AppResult<GroupRole> {
    if !group.local() {
        return Err(AppError::not_found());
    }
    match role_of(&state.db, group, me.actor.id).await? {
        Some(r) if r.is_staff() => Ok(r),
        _ if me.is_admin() => Ok(GroupRole::Owner),
        _ => Err(AppError::Forbidden(msg!("error-group-staff-only"))),
    }
}

/// May `viewer` (None: anonymous) read what is posted in this group?
pub async fn may_read(
    db: &impl ConnectionTrait,
    group: &Group,
    viewer: Option<&actors::Model>,
) -> AppResult<bool> {
    if !group.members_only() {
        return Ok(true);
    }
    match viewer {
        Some(v) => insider(db, group, v).await,
        None => Ok(false),
    }
}

/// The group itself, a member, or the server of a member (its instance
/// actor signs the fetches that server makes).
pub async fn insider(
    db: &impl ConnectionTrait,
    group: &Group,
    actor: &actors::Model,
) -> AppResult<bool> {
    Ok(actor.id == group.id()
        || is_member(db, group, actor.id).await?
        || server_has_member(db, group, actor).await?)
}

/// A server's instance actor (which signs its fetches) stands for the
/// server while one of its people belongs to the group: that server gets
/// the group's posts delivered anyway.
pub async fn server_has_member(
    db: &impl ConnectionTrait,
    group: &Group,
    server_actor: &actors::Model,
) -> AppResult<bool> {
    if server_actor.kind != "Application" || server_actor.local || !group.local() {
        return Ok(false);
    }
    let ids = queries::follows::all_follower_ids(db, group.id()).await?;
    for chunk in ids.chunks(500) {
        if queries::actors::by_ids(db, chunk)
            .await?
            .iter()
            .any(|a| a.domain == server_actor.domain)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The first post of the thread `s` belongs to (itself when top-level).
pub async fn thread_root(
    db: &impl ConnectionTrait,
    s: &statuses::Model,
) -> AppResult<statuses::Model> {
    let mut current = s.clone();
    for _ in 0..200 {
        match current.in_reply_to_id {
            Some(pid) => match queries::statuses::by_id(db, pid).await? {
                Some(p) => current = p,
                None => break,
            },
            None => break,
        }
    }
    Ok(current)
}

/// Write an entry in a group's moderation log.
pub async fn write_log(
    db: &impl ConnectionTrait,
    group: i64,
    moderator: Option<i64>,
    action: &str,
    target_actor: Option<i64>,
    target_status: Option<i64>,
    reason: &str,
) -> AppResult<group_log::Model> {
    Ok(queries::groups::log(
        db,
        group_log::ActiveModel {
            id: Set(ids::next_id()),
            group_id: Set(group),
            moderator_id: Set(moderator),
            action: Set(action.into()),
            target_actor_id: Set(target_actor),
            target_status_id: Set(target_status),
            reason: Set(reason.into()),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?)
}

/// The moderation log, for members.
pub async fn log(
    state: &AppState,
    viewer: &actors::Model,
    group: &Group,
    page: Page,
) -> AppResult<Vec<group_log::Model>> {
    if !is_member(&state.db, group, viewer.id).await? {
        return Err(AppError::Forbidden(msg!("error-group-members-only")));
    }
    Ok(queries::groups::log_entries(&state.db, group.id(), page).await?)
}
