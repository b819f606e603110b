//! A group's posts and pinned threads, and its moderation: removing posts,
//! locking and pinning threads, bans, and the log members can read.

use super::*;
use crate::{
    db::queries,
    domain::{groups::moderation, timelines},
    federation::publish,
    http::{
        api::pagination::{PageParams, paged},
        extract::{Json, Path, Query},
    },
};
use axum::{
    extract::{OriginalUri, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostsParams {
    /// `threads`: only thread starters; `discussions`: only titled ones;
    /// absent: every post and reply.
    #[param(value_type = Option<Only>)]
    #[serde(skip)]
    #[allow(dead_code)]
    only: Option<Only>,
    max_id: Option<String>,
    since_id: Option<String>,
    min_id: Option<String>,
    /// At most this many (default 20, at most 40).
    limit: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Only {
    Threads,
    Discussions,
}

/// `only` as sent: form decoding would read an empty or repeated value as
/// absent, and list everything instead of refusing.
/// What is posted in the group, newest first, as Mastodon statuses. Members
/// only for a members-only group. Paged with `Link`.
#[utoipa::path(get, path = "/api/v1/staffroom/groups/{id}/statuses", tag = "groups",
    params(("id" = String, Path, description = "The group's account id"), PostsParams),
    responses((status = 200, body = Vec<Object>), (status = 401), (status = 403), (status = 404)),
    security((), ("bearer" = ["read:statuses"])))]
pub async fn statuses(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Query(q): Query<PostsParams>,
) -> AppResult<Response> {
    let me = viewer(&auth, "read:statuses")?;
    let g = group_by_id(&state, &id).await?;
    let page = PageParams {
        max_id: q.max_id.clone(),
        since_id: q.since_id.clone(),
        min_id: q.min_id.clone(),
        limit: q.limit.clone(),
    }
    .page(20, 40);
    let only = crate::http::api::params::strict_choice::<Only>(uri.query(), "only")?;
    let listing = queries::groups::Listing {
        top_level_only: only.is_some(),
        titled_only: matches!(only, Some(Only::Discussions)),
        ..Default::default()
    };
    let viewer = me.as_ref().map(|m| &m.actor);
    let list = groups::posts(&state, viewer, &g, listing, page).await?;
    let ids: Vec<i64> = list.iter().map(|s| s.id).collect();
    let views = timelines::hydrate(&state, viewer, list).await?;
    let body = entities::statuses(&state, &views, viewer.is_some()).await?;
    Ok(paged(
        &uri,
        state.urls.base(),
        &ids,
        page.limit,
        Value::Array(body),
    ))
}

/// The group's pinned threads (its `featured` collection).
#[utoipa::path(get, path = "/api/v1/staffroom/groups/{id}/pinned", tag = "groups",
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = Vec<Object>), (status = 401), (status = 404)),
    security((), ("bearer" = ["read:statuses"])))]
pub async fn pinned(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    let me = viewer(&auth, "read:statuses")?;
    let g = group_by_id(&state, &id).await?;
    let viewer = me.as_ref().map(|m| &m.actor);
    let list = groups::pinned(&state, viewer, &g).await?;
    let views = timelines::hydrate(&state, viewer, list).await?;
    Ok(axum::Json(Value::Array(
        entities::statuses(&state, &views, viewer.is_some()).await?,
    )))
}

#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum ModerationAction {
    /// Remove the post or reply (everywhere it was copied).
    Remove,
    /// Lock its thread: no new replies.
    Lock,
    Unlock,
    /// Pin its thread to the top of the group.
    Pin,
    Unpin,
}

/// Moderate a post of the group (its moderators): remove it, lock or unlock
/// its thread, pin or unpin its thread. Written to the group's log.
#[utoipa::path(post, path = "/api/v1/staffroom/groups/{id}/statuses/{status_id}/{action}", tag = "groups",
    request_body = Option<Reason>,
    params(("id" = String, Path, description = "The group's account id"),
        ("status_id" = String, Path, description = "A post of the group"),
        ("action" = ModerationAction, Path, description = "What to do")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:groups"])))]
pub async fn moderate(
    State(state): State<AppState>,
    me: ApiMember,
    Path((id, status, action)): Path<(String, String, String)>,
    Json(body): Json<Reason>,
) -> AppResult<axum::Json<GroupEntity>> {
    let action: ModerationAction =
        serde_json::from_value(Value::String(action)).map_err(|_| AppError::not_found())?;
    write(&me)?;
    let g = local_group(&state, &id).await?;
    let sid = parse_id(&status).ok_or_else(AppError::not_found)?;
    let m = &me.member;
    let events = match action {
        ModerationAction::Remove => {
            moderation::remove_post(&state, m, &g, sid, body.reason.as_deref()).await?
        }
        ModerationAction::Lock => moderation::set_locked(&state, m, &g, sid, true).await?,
        ModerationAction::Unlock => moderation::set_locked(&state, m, &g, sid, false).await?,
        ModerationAction::Pin => moderation::set_pinned(&state, m, &g, sid, true).await?,
        ModerationAction::Unpin => moderation::set_pinned(&state, m, &g, sid, false).await?,
    };
    publish::publish(&state, events).await;
    Ok(axum::Json(group_entity(&state, Some(m), &g).await?))
}

/// A ban.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupBan {
    pub account: entities::Account,
    pub reason: String,
    pub created_at: String,
}

/// Who is banned, newest first (the group's moderators).
#[utoipa::path(get, path = "/api/v1/staffroom/groups/{id}/bans", tag = "groups",
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = Vec<GroupBan>), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["read:groups"])))]
pub async fn bans(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Vec<GroupBan>>> {
    me.require_scope("read:groups")?;
    let g = local_group(&state, &id).await?;
    let mut out = Vec::new();
    for (b, a) in moderation::bans(&state, &me.member, &g).await? {
        out.push(GroupBan {
            account: entities::account_full(&state, &a).await?,
            reason: b.reason,
            created_at: entities::iso(b.created_at),
        });
    }
    Ok(axum::Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewBan {
    /// Whom to ban: an account id, local or from another server.
    account_id: String,
    #[schema(
        max_length = 500,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    reason: Option<String>,
}

/// Ban someone: their membership ends, they cannot join again, and their
/// posts to the group are refused. Remote servers get a Block.
#[utoipa::path(post, path = "/api/v1/staffroom/groups/{id}/bans", tag = "groups", request_body = NewBan,
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:groups"])))]
pub async fn ban(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<NewBan>,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    let g = local_group(&state, &id).await?;
    let who = account_by_id(&state, &body.account_id).await?;
    let events = moderation::ban(&state, &me.member, &g, who.id, body.reason.as_deref()).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        group_entity(&state, Some(&me.member), &g).await?,
    ))
}

/// Lift a ban.
#[utoipa::path(delete, path = "/api/v1/staffroom/groups/{id}/bans/{account_id}", tag = "groups",
    params(("id" = String, Path, description = "The group's account id"), ("account_id" = String, Path, description = "The banned account")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["write:groups"])))]
pub async fn unban(
    State(state): State<AppState>,
    me: ApiMember,
    Path((id, account)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    write(&me)?;
    let g = local_group(&state, &id).await?;
    let who = account_by_id(&state, &account).await?;
    let events = moderation::unban(&state, &me.member, &g, who.id).await?;
    publish::publish(&state, events).await;
    Ok(StatusCode::NO_CONTENT)
}

/// An entry of the moderation log.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupLogEntry {
    pub id: String,
    /// `create`, `settings`, `approve`, `reject`, `invite`, `role`, `remove`,
    /// `lock`, `unlock`, `pin`, `unpin`, `kick`, `ban`, `unban`, `left-parent`.
    pub action: String,
    pub moderator: Option<entities::Account>,
    pub target_account: Option<entities::Account>,
    pub target_status_id: Option<String>,
    pub reason: String,
    pub created_at: String,
}

/// The moderation log, newest first (members of the group).
#[utoipa::path(get, path = "/api/v1/staffroom/groups/{id}/log", tag = "groups",
    params(("id" = String, Path, description = "The group's account id"), ListParams),
    responses((status = 200, body = Vec<GroupLogEntry>), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["read:groups"])))]
pub async fn log(
    State(state): State<AppState>,
    me: ApiMember,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Query(q): Query<ListParams>,
) -> AppResult<Response> {
    me.require_scope("read:groups")?;
    let g = local_group(&state, &id).await?;
    let page = q.page();
    let entries = groups::log(&state, &me.member.actor, &g, page).await?;
    let mut cache: std::collections::HashMap<i64, Option<entities::Account>> =
        std::collections::HashMap::new();
    let mut people = Vec::new();
    for e in &entries {
        people.extend(e.moderator_id);
        people.extend(e.target_actor_id);
    }
    people.sort_unstable();
    people.dedup();
    for a in queries::actors::by_ids(&state.db, &people).await? {
        cache.insert(a.id, Some(entities::account(&state, &a)));
    }
    let account = |id: Option<i64>| id.and_then(|i| cache.get(&i).cloned().flatten());
    let mut out = Vec::with_capacity(entries.len());
    for e in &entries {
        out.push(GroupLogEntry {
            id: e.id.to_string(),
            action: e.action.clone(),
            moderator: account(e.moderator_id),
            target_account: account(e.target_actor_id),
            target_status_id: e.target_status_id.map(|s| s.to_string()),
            reason: e.reason.clone(),
            created_at: entities::iso(e.created_at),
        });
    }
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    Ok(paged(
        &uri,
        state.urls.base(),
        &ids,
        page.limit,
        serde_json::to_value(out).map_err(AppError::internal)?,
    ))
}
