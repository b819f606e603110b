//! Reports. `POST /api/v1/reports` is Mastodon's, for members (its apps'
//! "Report" button); the moderators' side follows Mastodon's admin API
//! (`/api/v1/admin/reports`: list, show, resolve, reopen) with Staffroom's
//! `forward`, which sends a report to the server of the account reported.

use crate::{
    app::AppState,
    db::{entities::reports as report_rows, queries},
    domain::reports::{self, NewReport},
    error::{AppError, AppResult},
    federation::publish,
    http::{
        api::{
            admin::staff,
            entities::{self, Account},
            params::{bool_like, list, parse_id, string_like},
        },
        extract::{ApiMember, Json, Path, Query},
    },
    msg,
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    extract::State,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", post(create))
        .route("/api/v1/admin/reports", get(admin_list))
        .route("/api/v1/admin/reports/{id}", get(admin_show))
        .route("/api/v1/admin/reports/{id}/resolve", post(resolve))
        .route("/api/v1/admin/reports/{id}/reopen", post(reopen))
        .route("/api/v1/admin/reports/{id}/forward", post(forward))
}

#[derive(Debug, Deserialize)]
struct ReportBody {
    #[serde(default, deserialize_with = "string_like")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    status_ids: Vec<String>,
    #[serde(rename = "status_ids[]", default, deserialize_with = "list")]
    status_ids_brackets: Vec<String>,
    #[serde(default, deserialize_with = "string_like")]
    comment: Option<String>,
    #[serde(default, deserialize_with = "bool_like")]
    forward: Option<bool>,
    #[serde(default, deserialize_with = "string_like")]
    category: Option<String>,
}

/// Mastodon's Report entity.
async fn report_json(state: &AppState, r: &report_rows::Model) -> AppResult<Value> {
    let target = queries::actors::by_id(&state.db, r.target_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(json!({
        "id": r.id.to_string(),
        "action_taken": r.resolved_at.is_some(),
        "action_taken_at": r.resolved_at.map(entities::iso),
        "category": r.category,
        "comment": r.comment,
        "forwarded": r.forwarded_at.is_some(),
        "created_at": entities::iso(r.created_at),
        "status_ids": reports::status_ids(r).iter().map(i64::to_string).collect::<Vec<_>>(),
        "rule_ids": Value::Null,
        "target_account": entities::account(state, &target),
    }))
}

async fn create(
    data: Data<AppState>,
    me: ApiMember,
    Json(body): Json<ReportBody>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:reports")?;
    let target_id = body
        .account_id
        .as_deref()
        .and_then(parse_id)
        .ok_or_else(|| AppError::Unprocessable(msg!("error-report-account")))?;
    let status_ids = body
        .status_ids
        .iter()
        .chain(&body.status_ids_brackets)
        .map(|s| parse_id(s).ok_or_else(|| AppError::Unprocessable(msg!("error-report-statuses"))))
        .collect::<AppResult<Vec<_>>>()?;
    let (report, events) = reports::create(
        &data,
        &me.member.actor,
        NewReport {
            target_id,
            status_ids,
            comment: body.comment,
            category: body.category,
            forward: body.forward.unwrap_or(false),
        },
    )
    .await?;
    publish::publish(&data, events).await;
    // Read again: forwarding has stamped it.
    let report = queries::reports::by_id(&data.db, report.id)
        .await?
        .unwrap_or(report);
    Ok(axum::Json(report_json(&data, &report).await?))
}

/// A report as the moderators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminReport {
    pub id: String,
    /// Resolved by a moderator.
    pub action_taken: bool,
    pub action_taken_at: Option<String>,
    /// `spam`, `legal`, `violation` or `other`.
    pub category: String,
    pub comment: String,
    /// Sent to the server of the account reported.
    pub forwarded: bool,
    pub created_at: String,
    /// Who reported: a member, or (for a report from another server) the
    /// server's actor.
    pub account: Account,
    pub target_account: Account,
    /// The posts named, as `/api/v1/statuses/:id` ids.
    pub status_ids: Vec<String>,
}

async fn admin_report(state: &AppState, r: &report_rows::Model) -> AppResult<AdminReport> {
    let ids = [r.reporter_id, r.target_id];
    let actors = queries::actors::by_ids(&state.db, &ids).await?;
    let find = |id: i64| {
        actors
            .iter()
            .find(|a| a.id == id)
            .map(|a| entities::account(state, a))
            .ok_or_else(AppError::not_found)
    };
    Ok(AdminReport {
        id: r.id.to_string(),
        action_taken: r.resolved_at.is_some(),
        action_taken_at: r.resolved_at.map(entities::iso),
        category: r.category.clone(),
        comment: r.comment.clone(),
        forwarded: r.forwarded_at.is_some(),
        created_at: entities::iso(r.created_at),
        account: find(r.reporter_id)?,
        target_account: find(r.target_id)?,
        status_ids: reports::status_ids(r).iter().map(i64::to_string).collect(),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportsQuery {
    /// `true` for resolved reports; open ones otherwise.
    #[param(value_type = Option<bool>)]
    resolved: Option<String>,
    /// Reports older than this id.
    #[param(pattern = "^[0-9]{0,19}$")]
    max_id: Option<String>,
    /// How many (at most 200; default 100).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
    limit: Option<u32>,
}

/// Open (or resolved) reports, newest first.
#[utoipa::path(get, path = "/api/v1/admin/reports", tag = "admin", params(ReportsQuery),
    responses((status = 200, body = Vec<AdminReport>), (status = 401), (status = 403)),
    security(("bearer" = ["admin:read:reports"])))]
pub async fn admin_list(
    State(state): State<AppState>,
    me: ApiMember,
    Query(q): Query<ReportsQuery>,
) -> AppResult<axum::Json<Vec<AdminReport>>> {
    staff(&me, "admin:read:reports")?;
    let bad = |detail: &str| AppError::BadRequest(msg!("error-invalid-query", detail = detail));
    let resolved = match q.resolved.as_deref() {
        None => false,
        Some("true" | "1") => true,
        Some("false" | "0") => false,
        Some(_) => return Err(bad("resolved")),
    };
    let max_id = match q.max_id.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        // Ids beyond the largest possible one mean "from the newest".
        Some(m) => Some(
            m.parse::<u64>()
                .map_err(|_| bad("max_id"))?
                .min(i64::MAX as u64) as i64,
        ),
        None => None,
    };
    let limit = u64::from(q.limit.unwrap_or(100).clamp(1, 200));
    let list = reports::list(&state, &me.member, resolved, max_id, limit).await?;
    let mut out = Vec::with_capacity(list.len());
    for r in &list {
        out.push(admin_report(&state, r).await?);
    }
    Ok(axum::Json(out))
}

async fn by_path(state: &AppState, me: &ApiMember, id: &str) -> AppResult<report_rows::Model> {
    let id = parse_id(id).ok_or_else(AppError::not_found)?;
    reports::get(state, &me.member, id).await
}

/// One report.
#[utoipa::path(get, path = "/api/v1/admin/reports/{id}", tag = "admin",
    params(("id" = String, Path, description = "Report id")),
    responses((status = 200, body = AdminReport), (status = 404)),
    security(("bearer" = ["admin:read:reports"])))]
pub async fn admin_show(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<AdminReport>> {
    staff(&me, "admin:read:reports")?;
    let r = by_path(&state, &me, &id).await?;
    Ok(axum::Json(admin_report(&state, &r).await?))
}

async fn set_resolved(
    state: &AppState,
    me: &ApiMember,
    id: &str,
    resolved: bool,
) -> AppResult<axum::Json<AdminReport>> {
    staff(me, "admin:write:reports")?;
    let r = by_path(state, me, id).await?;
    let r = reports::resolve(state, &me.member, r.id, resolved).await?;
    Ok(axum::Json(admin_report(state, &r).await?))
}

/// Mark a report dealt with.
#[utoipa::path(post, path = "/api/v1/admin/reports/{id}/resolve", tag = "admin",
    params(("id" = String, Path, description = "Report id")),
    responses((status = 200, body = AdminReport), (status = 404)),
    security(("bearer" = ["admin:write:reports"])))]
pub async fn resolve(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<AdminReport>> {
    set_resolved(&state, &me, &id, true).await
}

/// Open a resolved report again.
#[utoipa::path(post, path = "/api/v1/admin/reports/{id}/reopen", tag = "admin",
    params(("id" = String, Path, description = "Report id")),
    responses((status = 200, body = AdminReport), (status = 404)),
    security(("bearer" = ["admin:write:reports"])))]
pub async fn reopen(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<AdminReport>> {
    set_resolved(&state, &me, &id, false).await
}

/// Send the report to the server of the account reported, as a `Flag` from
/// this instance (the reporter is not named). Only for accounts of other
/// servers (422 otherwise); forwarding twice sends once.
#[utoipa::path(post, path = "/api/v1/admin/reports/{id}/forward", tag = "admin",
    params(("id" = String, Path, description = "Report id")),
    responses((status = 200, body = AdminReport), (status = 404), (status = 422)),
    security(("bearer" = ["admin:write:reports"])))]
pub async fn forward(
    data: Data<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<AdminReport>> {
    staff(&me, "admin:write:reports")?;
    let r = by_path(&data, &me, &id).await?;
    let (_, events) = reports::forward(&data, &me.member, r.id).await?;
    publish::publish(&data, events).await;
    let r = by_path(&data, &me, &id).await?;
    Ok(axum::Json(admin_report(&data, &r).await?))
}
