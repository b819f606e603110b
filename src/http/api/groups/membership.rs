//! Joining and leaving, requests to join, invitations, the member list and
//! roles.

use super::*;
use crate::{
    db::queries::Page,
    domain::follows,
    federation::publish,
    http::{
        api::pagination::{PageParams, paged},
        extract::{Json, Path, Query},
    },
};
use activitypub_federation::config::Data;
use axum::{
    extract::{OriginalUri, State},
    response::Response,
};
use serde::Deserialize;

type IdPath = Path<String>;
type MemberPath = Path<(String, String)>;

/// Join a group (as following it does): at once for open groups, as a
/// request for approval groups; refused when banned or not allowed.
#[utoipa::path(post, path = "/api/v1/staffroom/groups/{id}/join", tag = "groups",
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["write:groups"])))]
pub async fn join(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): IdPath,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    let g = group_by_id(&state, &id).await?;
    let (_, events) = follows::follow(&state, &me.member.actor, &g.actor).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        group_entity(&state, Some(&me.member), &g).await?,
    ))
}

/// Leave a group, or withdraw a request to join.
#[utoipa::path(post, path = "/api/v1/staffroom/groups/{id}/leave", tag = "groups",
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = ["write:groups"])))]
pub async fn leave(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): IdPath,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    let g = group_by_id(&state, &id).await?;
    let events = follows::unfollow(&state, &me.member.actor, &g.actor).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        group_entity(&state, Some(&me.member), &g).await?,
    ))
}

/// A member and their role.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupMember {
    pub account: entities::Account,
    /// `owner`, `moderator` or `member`.
    pub role: String,
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Return results older than this id.
    max_id: Option<String>,
    /// Return results newer than this id.
    since_id: Option<String>,
    /// Return results immediately newer than this id.
    min_id: Option<String>,
    /// At most this many results (default 40, at most 80).
    limit: Option<String>,
}

impl ListParams {
    pub(super) fn page(&self) -> Page {
        PageParams {
            max_id: self.max_id.clone(),
            since_id: self.since_id.clone(),
            min_id: self.min_id.clone(),
            limit: self.limit.clone(),
        }
        .page(40, 80)
    }
}

/// Members, newest first (for members of the group). Paged with `Link`.
#[utoipa::path(get, path = "/api/v1/staffroom/groups/{id}/members", tag = "groups",
    params(("id" = String, Path, description = "The group's account id"), ListParams),
    responses((status = 200, body = Vec<GroupMember>), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["read:groups"])))]
pub async fn members(
    State(state): State<AppState>,
    me: ApiMember,
    OriginalUri(uri): OriginalUri,
    Path(id): IdPath,
    Query(q): Query<ListParams>,
) -> AppResult<Response> {
    me.require_scope("read:groups")?;
    let g = local_group(&state, &id).await?;
    let page = q.page();
    let list = groups::members(&state, Some(&me.member.actor), &g, page).await?;
    let mut out = Vec::with_capacity(list.len());
    for m in &list {
        out.push(GroupMember {
            account: entities::account_full(&state, &m.actor).await?,
            role: m.role.as_str().into(),
        });
    }
    let ids: Vec<i64> = list.iter().map(|m| m.cursor).collect();
    Ok(paged(
        &uri,
        state.urls.base(),
        &ids,
        page.limit,
        serde_json::to_value(out).map_err(AppError::internal)?,
    ))
}

/// Requests to join awaiting a decision (the group's moderators).
#[utoipa::path(get, path = "/api/v1/staffroom/groups/{id}/requests", tag = "groups",
    params(("id" = String, Path, description = "The group's account id"), ListParams),
    responses((status = 200, body = Vec<entities::Account>), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["read:groups"])))]
pub async fn requests(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): IdPath,
    Query(q): Query<ListParams>,
) -> AppResult<axum::Json<Vec<entities::Account>>> {
    me.require_scope("read:groups")?;
    let g = local_group(&state, &id).await?;
    let list = groups::requests(&state, &me.member, &g, q.page()).await?;
    let mut out = Vec::with_capacity(list.len());
    for a in &list {
        out.push(entities::account_full(&state, a).await?);
    }
    Ok(axum::Json(out))
}

/// Admit someone who asked to join.
#[utoipa::path(post, path = "/api/v1/staffroom/groups/{id}/requests/{account_id}/authorize", tag = "groups",
    params(("id" = String, Path, description = "The group's account id"), ("account_id" = String, Path, description = "Who asked")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["write:groups"])))]
pub async fn authorize(
    State(state): State<AppState>,
    me: ApiMember,
    Path((id, account)): MemberPath,
) -> AppResult<axum::Json<GroupEntity>> {
    answer_request(&state, &me, &id, &account, true).await
}

/// Decline a request to join.
#[utoipa::path(post, path = "/api/v1/staffroom/groups/{id}/requests/{account_id}/reject", tag = "groups",
    params(("id" = String, Path, description = "The group's account id"), ("account_id" = String, Path, description = "Who asked")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["write:groups"])))]
pub async fn reject(
    State(state): State<AppState>,
    me: ApiMember,
    Path((id, account)): MemberPath,
) -> AppResult<axum::Json<GroupEntity>> {
    answer_request(&state, &me, &id, &account, false).await
}

/// Admit (`admit`) or decline someone's request to join.
async fn answer_request(
    state: &AppState,
    me: &ApiMember,
    id: &str,
    account: &str,
    admit: bool,
) -> AppResult<axum::Json<GroupEntity>> {
    write(me)?;
    let g = local_group(state, id).await?;
    let who = account_by_id(state, account).await?;
    let events = if admit {
        groups::approve(state, &me.member, &g, who.id).await?
    } else {
        groups::reject(state, &me.member, &g, who.id).await?
    };
    publish::publish(state, events).await;
    Ok(axum::Json(group_entity(state, Some(&me.member), &g).await?))
}

/// Whom to invite.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Invitee {
    /// An account id, or a handle: `name` here, `name@server` elsewhere.
    #[schema(min_length = 1, max_length = 300, pattern = r"^\S+$")]
    account: String,
}

/// Invite someone, here or on another server. Moderators invite to any
/// group; members to open and approval groups.
#[utoipa::path(post, path = "/api/v1/staffroom/groups/{id}/invite", tag = "groups", request_body = Invitee,
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = ["write:groups"])))]
pub async fn invite(
    data: Data<AppState>,
    me: ApiMember,
    Path(id): IdPath,
    Json(body): Json<Invitee>,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    let g = local_group(&data, &id).await?;
    let who = account_or_handle(&data, &body.account).await?;
    let events = groups::invite(&data, &me.member, &g, &who).await?;
    publish::publish(&data, events).await;
    Ok(axum::Json(group_entity(&data, Some(&me.member), &g).await?))
}

/// An invitation the caller received.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupInvitation {
    pub id: String,
    pub group: GroupEntity,
    pub created_at: String,
}

/// Invitations the caller has not used. Joining the group accepts one.
#[utoipa::path(get, path = "/api/v1/staffroom/groups/invitations", tag = "groups",
    responses((status = 200, body = Vec<GroupInvitation>), (status = 401)),
    security(("bearer" = ["read:groups"])))]
pub async fn invitations(
    State(state): State<AppState>,
    me: ApiMember,
) -> AppResult<axum::Json<Vec<GroupInvitation>>> {
    me.require_scope("read:groups")?;
    let mut out = Vec::new();
    for (inv, g) in groups::my_invitations(&state, &me.member.actor).await? {
        out.push(GroupInvitation {
            id: inv.id.to_string(),
            group: group_entity(&state, Some(&me.member), &g).await?,
            created_at: entities::iso(inv.created_at),
        });
    }
    Ok(axum::Json(out))
}

/// Decline an invitation to the group `id`.
#[utoipa::path(post, path = "/api/v1/staffroom/groups/invitations/{id}/decline", tag = "groups",
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 404)),
    security(("bearer" = ["write:groups"])))]
pub async fn decline(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): IdPath,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    let g = group_by_id(&state, &id).await?;
    groups::decline_invitation(&state, &me.member.actor, &g).await?;
    Ok(axum::Json(
        group_entity(&state, Some(&me.member), &g).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupRoleName {
    Owner,
    Moderator,
    Member,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupRoleChange {
    role: GroupRoleName,
}

/// Give a member a role (the group's owners).
#[utoipa::path(post, path = "/api/v1/staffroom/groups/{id}/members/{account_id}/role", tag = "groups", request_body = GroupRoleChange,
    params(("id" = String, Path, description = "The group's account id"), ("account_id" = String, Path, description = "The member")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = ["write:groups"])))]
pub async fn set_role(
    State(state): State<AppState>,
    me: ApiMember,
    Path((id, account)): MemberPath,
    Json(body): Json<GroupRoleChange>,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    let g = local_group(&state, &id).await?;
    let who = account_by_id(&state, &account).await?;
    let role = match body.role {
        GroupRoleName::Owner => GroupRole::Owner,
        GroupRoleName::Moderator => GroupRole::Moderator,
        GroupRoleName::Member => GroupRole::Member,
    };
    let events = groups::set_role(&state, &me.member, &g, who.id, role).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        group_entity(&state, Some(&me.member), &g).await?,
    ))
}

/// Why a moderator acted; shown in the group's log.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct Reason {
    #[schema(
        max_length = 500,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: Option<String>,
}

/// End someone's membership (they may ask to join again).
#[utoipa::path(post, path = "/api/v1/staffroom/groups/{id}/members/{account_id}/remove", tag = "groups", request_body = Option<Reason>,
    params(("id" = String, Path, description = "The group's account id"), ("account_id" = String, Path, description = "The member")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:groups"])))]
pub async fn remove_member(
    State(state): State<AppState>,
    me: ApiMember,
    Path((id, account)): MemberPath,
    Json(body): Json<Reason>,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    let g = local_group(&state, &id).await?;
    let who = account_by_id(&state, &account).await?;
    let events =
        groups::moderation::remove_member(&state, &me.member, &g, who.id, body.reason.as_deref())
            .await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        group_entity(&state, Some(&me.member), &g).await?,
    ))
}
