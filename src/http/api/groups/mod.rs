//! Staffroom's groups endpoints, in the Mastodon API's style, under
//! `/api/v1/staffroom/groups`: the directory, creating and configuring a
//! group, membership (join, leave, requests, invitations, roles), the
//! group's posts, and moderation with its log. A group's `id` is its account
//! id, so the Mastodon endpoints (follow, account statuses) work on it too.
//! Handlers parse and shape JSON; every rule lives in `domain::groups`.

mod content;
mod membership;
mod settings;

pub use content::*;
pub use membership::*;
pub use settings::*;

use crate::{
    app::AppState,
    db::entities::actors,
    domain::{
        accounts::Member,
        groups::{self, Group, GroupRole},
    },
    error::{AppError, AppResult},
    http::{
        api::{entities, params::parse_id},
        extract::{ApiMember, Auth},
    },
};
use axum::{
    Router,
    routing::{delete, get, post},
};
use serde::Serialize;
use utoipa::ToSchema;

pub const BASE: &str = "/api/v1/staffroom/groups";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route(&format!("{BASE}/invitations"), get(invitations))
        .route(&format!("{BASE}/invitations/{{id}}/decline"), post(decline))
        .route(&format!("{BASE}/{{id}}"), get(show).patch(update))
        .route(&format!("{BASE}/{{id}}/subgroups"), get(subgroups))
        .route(&format!("{BASE}/{{id}}/join"), post(join))
        .route(&format!("{BASE}/{{id}}/leave"), post(leave))
        .route(&format!("{BASE}/{{id}}/members"), get(members))
        .route(
            &format!("{BASE}/{{id}}/members/{{account_id}}/role"),
            post(set_role),
        )
        .route(
            &format!("{BASE}/{{id}}/members/{{account_id}}/remove"),
            post(remove_member),
        )
        .route(&format!("{BASE}/{{id}}/requests"), get(requests))
        .route(
            &format!("{BASE}/{{id}}/requests/{{account_id}}/authorize"),
            post(authorize),
        )
        .route(
            &format!("{BASE}/{{id}}/requests/{{account_id}}/reject"),
            post(reject),
        )
        .route(&format!("{BASE}/{{id}}/invite"), post(invite))
        .route(&format!("{BASE}/{{id}}/statuses"), get(statuses))
        .route(&format!("{BASE}/{{id}}/pinned"), get(pinned))
        .route(
            &format!("{BASE}/{{id}}/statuses/{{status_id}}/{{action}}"),
            post(moderate),
        )
        .route(&format!("{BASE}/{{id}}/bans"), get(bans).post(ban))
        .route(&format!("{BASE}/{{id}}/bans/{{account_id}}"), delete(unban))
        .route(&format!("{BASE}/{{id}}/log"), get(log))
        .route(
            &format!("{BASE}/{{id}}/images"),
            axum::routing::patch(images),
        )
}

/// A group as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupEntity {
    /// The group's account id (usable with the accounts endpoints).
    pub id: String,
    /// Its ActivityPub id.
    pub uri: String,
    pub url: String,
    pub username: String,
    /// `name` for a group of this instance, `name@domain` otherwise.
    pub acct: String,
    pub display_name: String,
    /// The description, as HTML.
    pub note: String,
    /// The description as written (Markdown), for the group's moderators.
    pub note_source: Option<String>,
    pub avatar: String,
    pub header: String,
    pub subjects: Vec<String>,
    pub languages: Vec<String>,
    /// Only members see what is posted in it.
    pub members_only: bool,
    /// `open`, `approval` or `invite`.
    pub join_policy: String,
    /// `members` or `moderators`: who may start threads.
    pub posting_policy: String,
    /// The parent group's id, for a sub-group.
    pub parent_id: Option<String>,
    pub member_count: u64,
    pub local: bool,
    pub created_at: String,
    /// The caller's place in the group, when signed in.
    pub relationship: Option<GroupRelationship>,
}

/// Where the caller stands with a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupRelationship {
    /// `owner`, `moderator`, `member`, or null when not a member.
    pub role: Option<String>,
    /// A request to join awaits the moderators.
    pub requested: bool,
    /// An unused invitation to join.
    pub invited: bool,
    pub banned: bool,
}

pub async fn group_entity(
    state: &AppState,
    viewer: Option<&Member>,
    g: &Group,
) -> AppResult<GroupEntity> {
    let account = entities::account(state, &g.actor);
    let relationship = match viewer {
        Some(me) => Some(relationship(state, g, &me.actor).await?),
        None => None,
    };
    let staff = match viewer {
        Some(me) => {
            relationship
                .as_ref()
                .and_then(|r| r.role.as_deref())
                .and_then(GroupRole::parse)
                .is_some_and(GroupRole::is_staff)
                || (g.local() && me.is_admin())
        }
        None => false,
    };
    Ok(GroupEntity {
        id: g.id().to_string(),
        uri: g.actor.ap_id.clone(),
        url: account.url,
        username: account.username,
        acct: account.acct,
        display_name: account.display_name,
        note: account.note,
        note_source: staff.then(|| g.actor.summary_source.clone().unwrap_or_default()),
        avatar: account.avatar,
        header: account.header,
        subjects: account.subjects,
        languages: account.languages,
        members_only: g.members_only(),
        join_policy: g.join_policy().as_str().into(),
        posting_policy: g.posting_policy().as_str().into(),
        parent_id: g.settings.parent_id.map(|p| p.to_string()),
        member_count: groups::member_count(&state.db, g).await?,
        local: g.local(),
        created_at: account.created_at,
        relationship,
    })
}

async fn relationship(
    state: &AppState,
    g: &Group,
    me: &actors::Model,
) -> AppResult<GroupRelationship> {
    let role = groups::role_of(&state.db, g, me.id).await?;
    let follow = crate::db::queries::follows::get(&state.db, me.id, g.id()).await?;
    Ok(GroupRelationship {
        role: role.map(|r| r.as_str().to_string()),
        requested: follow.is_some_and(|f| f.state == crate::domain::follows::PENDING),
        invited: crate::db::queries::groups::invitation(&state.db, g.id(), me.id)
            .await?
            .is_some(),
        banned: crate::db::queries::groups::ban(&state.db, g.id(), me.id)
            .await?
            .is_some(),
    })
}

pub async fn group_entities(
    state: &AppState,
    viewer: Option<&Member>,
    list: &[Group],
) -> AppResult<Vec<GroupEntity>> {
    let mut out = Vec::with_capacity(list.len());
    for g in list {
        out.push(group_entity(state, viewer, g).await?);
    }
    Ok(out)
}

/// The group behind an id in the path, or 404. Members-only groups are
/// listed and shown to everyone (their name is public); their posts are not.
pub async fn group_by_id(state: &AppState, raw: &str) -> AppResult<Group> {
    let id = parse_id(raw).ok_or_else(AppError::not_found)?;
    groups::load(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// A local group, for the endpoints that manage one.
pub async fn local_group(state: &AppState, raw: &str) -> AppResult<Group> {
    let g = group_by_id(state, raw).await?;
    if g.local() {
        Ok(g)
    } else {
        Err(AppError::not_found())
    }
}

/// An account id from the path or body, or 404.
pub async fn account_by_id(state: &AppState, raw: &str) -> AppResult<actors::Model> {
    let id = parse_id(raw).ok_or_else(AppError::not_found)?;
    crate::db::queries::actors::by_id(&state.db, id)
        .await?
        .filter(|a| a.deleted_at.is_none())
        .ok_or_else(AppError::not_found)
}

/// An account by id, or a handle (`name` here, `name@server` elsewhere)
/// looked up over WebFinger when not yet known; 404 when neither.
pub async fn account_or_handle(
    data: &activitypub_federation::config::Data<AppState>,
    raw: &str,
) -> AppResult<actors::Model> {
    match account_by_id(data, raw).await {
        Ok(a) => Ok(a),
        Err(_) => crate::federation::resolve::handle(data, raw, true)
            .await
            .ok()
            .flatten()
            .filter(|a| a.deleted_at.is_none())
            .ok_or_else(AppError::not_found),
    }
}

/// The signed-in member for reading endpoints that anonymous callers may
/// use too; a bad token is still a 401.
pub fn viewer(auth: &Auth, scope: &str) -> AppResult<Option<Member>> {
    match auth {
        Auth::BadToken => Err(AppError::unauthorized()),
        Auth::Token { .. } if !auth.has_scope(scope) => Err(AppError::Forbidden(crate::msg!(
            "error-scope-missing",
            scope = scope
        ))),
        _ => Ok(auth.member().cloned()),
    }
}

pub fn write(me: &ApiMember) -> AppResult<()> {
    me.require_scope("write:groups")
}
