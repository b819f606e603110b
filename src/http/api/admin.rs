//! Mastodon's admin API over the member registry (`/api/v1/admin/accounts`),
//! with Staffroom's registry fields added. Staff only.

use crate::{
    app::AppState,
    db::queries::{self, Page},
    domain::accounts::{self, Decision, Member, Role, Status},
    error::{AppError, AppResult},
    http::{
        api::entities::{self, AdminAccount},
        extract::{ApiMember, Json, Path, Query},
    },
    msg,
};
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/accounts", get(list))
        .route("/api/v1/admin/accounts/{id}", get(show))
        .route("/api/v1/admin/accounts/{id}/approve", post(approve))
        .route("/api/v1/admin/accounts/{id}/reject", post(reject))
        .route("/api/v1/admin/accounts/{id}/unsuspend", post(unsuspend))
        .route("/api/v1/admin/accounts/{id}/action", post(action))
        .route("/api/v1/admin/accounts/{id}/role", post(role))
}

/// Staff only, with the scope the operation needs.
pub(crate) fn staff(me: &ApiMember, scope: &str) -> AppResult<()> {
    if !me.member.is_staff() {
        return Err(AppError::forbidden());
    }
    me.require_scope(scope)
}

async fn target(state: &AppState, id: &str) -> AppResult<Member> {
    let actor_id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let account = queries::accounts::by_actor_id(&state.db, actor_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    accounts::member_by_account_id(state, account.id)
        .await?
        .ok_or_else(AppError::not_found)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only entries in this state.
    #[param(value_type = Option<RegistryStatus>)]
    status: Option<String>,
    /// Mastodon's boolean filters: `pending=true`, `active=true`, `suspended=true`.
    pending: Option<String>,
    active: Option<String>,
    suspended: Option<String>,
    /// Entries older than this account id.
    #[param(pattern = "^[0-9]{0,19}$")]
    max_id: Option<String>,
    /// How many entries (at most 200 are returned; default 100).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
    limit: Option<u32>,
}

/// A registry entry's state (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum RegistryStatus {
    Pending,
    Active,
    Suspended,
    Rejected,
}

/// A member's role (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum RoleName {
    Member,
    Moderator,
    Admin,
}

/// The admin actions Staffroom takes (Mastodon's `none`, `sensitive`,
/// `disable` and `silence` are refused with 422).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ActionType {
    Suspend,
}

fn truthy(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("1" | "true" | "True"))
}

/// List registry entries, newest first.
#[utoipa::path(get, path = "/api/v1/admin/accounts", tag = "admin", params(ListQuery),
    responses((status = 200, body = Vec<AdminAccount>), (status = 401), (status = 403)),
    security(("bearer" = ["admin:read:accounts"])))]
pub async fn list(
    State(state): State<AppState>,
    me: ApiMember,
    uri: axum::extract::OriginalUri,
    Query(q): Query<ListQuery>,
) -> AppResult<axum::Json<Vec<AdminAccount>>> {
    staff(&me, "admin:read:accounts")?;
    // `status=` is not one of the statuses (form decoding would drop it).
    crate::http::api::resources::no_empty(uri.query(), &["status"])?;
    let status = if let Some(s) = q.status.as_deref() {
        Some(
            Status::parse(s)
                .ok_or_else(|| AppError::BadRequest(msg!("error-invalid-query", detail = s)))?,
        )
    } else if truthy(&q.pending) {
        Some(Status::Pending)
    } else if truthy(&q.suspended) {
        Some(Status::Suspended)
    } else if truthy(&q.active) {
        Some(Status::Active)
    } else {
        None
    };
    let max_id = match q.max_id.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => {
            // Ids beyond the largest possible one mean "from the newest".
            let id = m.parse::<u64>().map_err(|_| {
                AppError::BadRequest(msg!("error-invalid-query", detail = "max_id"))
            })?;
            let found = match i64::try_from(id) {
                Ok(id) => queries::accounts::by_actor_id(&state.db, id).await?,
                Err(_) => None,
            };
            Some(found.map(|a| a.id).unwrap_or(i64::MAX))
        }
        None => None,
    };
    let members = accounts::list(
        &state,
        status,
        Page {
            max_id,
            limit: u64::from(q.limit.unwrap_or(100).clamp(1, 200)),
            ..Default::default()
        },
    )
    .await?;
    Ok(axum::Json(
        members
            .iter()
            .map(|m| entities::admin_account(&state, m))
            .collect(),
    ))
}

/// One registry entry.
#[utoipa::path(get, path = "/api/v1/admin/accounts/{id}", tag = "admin",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = AdminAccount), (status = 404)),
    security(("bearer" = ["admin:read:accounts"])))]
pub async fn show(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<AdminAccount>> {
    staff(&me, "admin:read:accounts")?;
    let m = target(&state, &id).await?;
    Ok(axum::Json(entities::admin_account(&state, &m)))
}

async fn decide(
    state: &AppState,
    me: &ApiMember,
    id: &str,
    d: Decision,
) -> AppResult<axum::Json<AdminAccount>> {
    staff(me, "admin:write:accounts")?;
    let m = target(state, id).await?;
    accounts::decide(state, &me.member, m.account.id, d).await?;
    let m = accounts::member_by_account_id(state, m.account.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(axum::Json(entities::admin_account(state, &m)))
}

/// Approve a pending application.
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/approve", tag = "admin",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = AdminAccount), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = ["admin:write:accounts"])))]
pub async fn approve(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<AdminAccount>> {
    decide(&state, &me, &id, Decision::Approve).await
}

/// Reject a pending application.
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/reject", tag = "admin",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = AdminAccount), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = ["admin:write:accounts"])))]
pub async fn reject(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<AdminAccount>> {
    decide(&state, &me, &id, Decision::Reject).await
}

/// Lift a suspension.
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/unsuspend", tag = "admin",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = AdminAccount), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = ["admin:write:accounts"])))]
pub async fn unsuspend(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<AdminAccount>> {
    decide(&state, &me, &id, Decision::Unsuspend).await
}

#[derive(Deserialize, ToSchema)]
pub struct ActionBody {
    #[serde(rename = "type")]
    #[schema(value_type = ActionType)]
    kind: Option<String>,
}

/// Take an action on an account (Mastodon's `action`; `suspend` only).
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/action", tag = "admin",
    params(("id" = String, Path, description = "Account id")), request_body = ActionBody,
    responses((status = 200, body = AdminAccount), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = ["admin:write:accounts"])))]
pub async fn action(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<ActionBody>,
) -> AppResult<axum::Json<AdminAccount>> {
    match body.kind.as_deref() {
        Some("suspend") => decide(&state, &me, &id, Decision::Suspend).await,
        other => Err(AppError::Unprocessable(msg!(
            "error-unknown-action",
            action = other.unwrap_or("")
        ))),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RoleBody {
    #[schema(value_type = RoleName)]
    role: String,
}

/// Change a member's role (admins only).
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/role", tag = "admin",
    params(("id" = String, Path, description = "Account id")), request_body = RoleBody,
    responses((status = 200, body = AdminAccount), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = ["admin:write:accounts"])))]
pub async fn role(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<RoleBody>,
) -> AppResult<axum::Json<AdminAccount>> {
    staff(&me, "admin:write:accounts")?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        AppError::Unprocessable(msg!("error-role-unknown", role = body.role.clone()))
    })?;
    let m = target(&state, &id).await?;
    accounts::set_role(&state, &me.member, m.account.id, role).await?;
    let m = accounts::member_by_account_id(&state, m.account.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(axum::Json(entities::admin_account(&state, &m)))
}
