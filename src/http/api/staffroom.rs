//! Staffroom's own endpoints (no Mastodon equivalent): invites, instance
//! settings and the personal data export.

use crate::{
    app::AppState,
    domain::{accounts, instance, invites},
    error::{AppError, AppResult},
    http::extract::{ApiMember, Json, Path},
};
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/staffroom/invites",
            get(list_invites).post(create_invite),
        )
        .route("/api/v1/staffroom/invites/{id}", delete(revoke_invite))
        .route(
            "/api/v1/staffroom/settings",
            get(get_settings).put(put_settings),
        )
        .route("/api/v1/staffroom/export", get(export))
}

#[derive(Serialize, ToSchema)]
pub struct Invite {
    id: String,
    code: String,
    url: String,
    comment: Option<String>,
    uses: i32,
    max_uses: Option<i32>,
    expires_at: Option<String>,
    revoked: bool,
    valid: bool,
}

fn invite_json(state: &AppState, i: &crate::db::entities::invites::Model) -> Invite {
    Invite {
        id: i.id.to_string(),
        code: i.code.clone(),
        url: format!("{}/signup?invite={}", state.urls.base(), i.code),
        comment: i.comment.clone(),
        uses: i.uses,
        max_uses: i.max_uses,
        expires_at: i.expires_at.map(super::entities::iso),
        revoked: i.revoked_at.is_some(),
        valid: invites::is_valid(i, chrono::Utc::now()),
    }
}

/// All invites, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/staffroom/invites", tag = "staffroom",
    responses((status = 200, body = Vec<Invite>), (status = 401), (status = 403)),
    security(("bearer" = ["admin:read"])))]
pub async fn list_invites(
    State(state): State<AppState>,
    me: ApiMember,
) -> AppResult<axum::Json<Vec<Invite>>> {
    me.require_scope("admin:read")?;
    let list = invites::list(&state, &me.member).await?;
    Ok(axum::Json(
        list.iter().map(|i| invite_json(&state, i)).collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewInvite {
    /// How many people may use it (unlimited when absent).
    #[schema(minimum = 1, maximum = 10000)]
    max_uses: Option<i32>,
    /// Hours until it expires (never when absent).
    #[schema(minimum = 1, maximum = 8760)]
    expires_in_hours: Option<i64>,
    /// A note for admins, e.g. who it is for.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    comment: Option<String>,
}

/// Create an invite (admins only).
#[utoipa::path(post, path = "/api/v1/staffroom/invites", tag = "staffroom", request_body = Option<NewInvite>,
    responses((status = 200, body = Invite), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = ["admin:write"])))]
pub async fn create_invite(
    State(state): State<AppState>,
    me: ApiMember,
    Json(body): Json<NewInvite>,
) -> AppResult<axum::Json<Invite>> {
    me.require_scope("admin:write")?;
    let i = invites::create(
        &state,
        &me.member,
        invites::NewInvite {
            max_uses: body.max_uses,
            expires_in_hours: body.expires_in_hours,
            comment: body.comment,
        },
    )
    .await?;
    Ok(axum::Json(invite_json(&state, &i)))
}

/// Revoke an invite (admins only).
#[utoipa::path(delete, path = "/api/v1/staffroom/invites/{id}", tag = "staffroom",
    params(("id" = String, Path, description = "Invite id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["admin:write"])))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    me.require_scope("admin:write")?;
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    invites::revoke(&state, &me.member, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Settings {
    /// Surrounding white space is trimmed; something must remain.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    name: String,
    #[schema(
        max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    description: String,
    /// Empty, or an address with a dotted domain.
    #[schema(
        max_length = 254,
        pattern = r"^$|^(?=[^@]{1,64}@)[a-zA-Z0-9_%+-]+(\.[a-zA-Z0-9_%+-]+)*@[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$"
    )]
    contact_email: String,
    /// One rule per line.
    #[schema(
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    rules: String,
    #[schema(value_type = RegistrationModeName)]
    registration_mode: String,
    /// Who may create groups; unchanged when absent.
    #[serde(default)]
    #[schema(value_type = Option<GroupCreationName>)]
    group_creation: Option<String>,
}

/// Who may create groups (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum GroupCreationName {
    Members,
    Staff,
    Admins,
}

/// Who may sign up (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum RegistrationModeName {
    Open,
    Approval,
    Invite,
    Closed,
}

fn settings_json(s: instance::Settings) -> Settings {
    Settings {
        name: s.name,
        description: s.description,
        contact_email: s.contact_email,
        rules: s.rules,
        registration_mode: s.registration_mode.as_str().into(),
        group_creation: Some(s.group_creation.as_str().into()),
    }
}

/// Instance settings (admins only).
#[utoipa::path(get, path = "/api/v1/staffroom/settings", tag = "staffroom",
    responses((status = 200, body = Settings), (status = 401), (status = 403)),
    security(("bearer" = ["admin:read"])))]
pub async fn get_settings(
    State(state): State<AppState>,
    me: ApiMember,
) -> AppResult<axum::Json<Settings>> {
    me.require_scope("admin:read")?;
    if !me.member.is_admin() {
        return Err(AppError::forbidden());
    }
    Ok(axum::Json(settings_json(instance::load(&state).await?)))
}

/// Replace instance settings (admins only).
#[utoipa::path(put, path = "/api/v1/staffroom/settings", tag = "staffroom", request_body = Settings,
    responses((status = 200, body = Settings), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = ["admin:write"])))]
pub async fn put_settings(
    State(state): State<AppState>,
    me: ApiMember,
    Json(body): Json<Settings>,
) -> AppResult<axum::Json<Settings>> {
    me.require_scope("admin:write")?;
    if !me.member.is_admin() {
        return Err(AppError::forbidden());
    }
    let s = instance::update(
        &state,
        instance::SettingsUpdate {
            name: body.name,
            description: body.description,
            contact_email: body.contact_email,
            rules: body.rules,
            registration_mode: body.registration_mode,
            group_creation: body.group_creation,
        },
    )
    .await?;
    Ok(axum::Json(settings_json(s)))
}

/// Download everything the instance holds about the caller.
#[utoipa::path(get, path = "/api/v1/staffroom/export", tag = "staffroom",
    responses((status = 200, description = "The caller's registry record and profile", body = Object), (status = 401)),
    security(("bearer" = ["read"])))]
pub async fn export(
    State(state): State<AppState>,
    me: ApiMember,
) -> AppResult<axum::Json<accounts::Export>> {
    me.require_scope("read")?;
    Ok(axum::Json(accounts::export(&state, &me.member)))
}
