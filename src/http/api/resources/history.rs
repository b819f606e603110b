//! A resource's revisions and the diff between two of them.

use super::id_param;
use crate::{
    app::AppState,
    db::entities::resource_revisions,
    domain::resources::{self, Resource, diff::Diff},
    error::{AppError, AppResult},
    http::{
        api::{entities, groups::viewer},
        extract::{Auth, Path, Query},
    },
    msg,
};
use axum::extract::{OriginalUri, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One revision: who made it, when, and what the resource was then.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionEntity {
    pub number: i32,
    /// Who made it (absent for revisions from other servers).
    pub editor: Option<entities::Account>,
    pub note: String,
    pub created_at: String,
    pub title: String,
    pub licence: String,
    pub files: Vec<String>,
}

async fn revision_entity(
    state: &AppState,
    r: &resource_revisions::Model,
) -> AppResult<RevisionEntity> {
    let editor = match r.editor_id {
        Some(id) => crate::db::queries::actors::by_id(&state.db, id)
            .await?
            .map(|a| entities::account(state, &a)),
        None => None,
    };
    let snap = resources::snapshot_of(&r.snapshot);
    Ok(RevisionEntity {
        number: r.number,
        editor,
        note: r.note.clone(),
        created_at: r.created_at.to_rfc3339(),
        title: snap.title,
        licence: snap.licence,
        files: snap.files.into_iter().map(|f| f.name).collect(),
    })
}

/// Every revision, newest first.
#[utoipa::path(get, path = "/api/v1/staffroom/resources/{id}/revisions", tag = "resources",
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, body = Vec<RevisionEntity>), (status = 401), (status = 404)),
    security((), ("bearer" = ["read:statuses"])))]
pub async fn revisions(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Vec<RevisionEntity>>> {
    let me = viewer(&auth, "read:statuses")?;
    let r = resources::visible(&state, me.as_ref().map(|m| &m.actor), id_param(&id)?).await?;
    let mut out = Vec::new();
    for rev in resources::revisions(&state, &r).await? {
        out.push(revision_entity(&state, &rev).await?);
    }
    Ok(axum::Json(out))
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older revision's number (default: the one before `to`).
    #[param(value_type = Option<u32>, minimum = 1)]
    from: Option<String>,
    /// The newer revision's number (default: the current one).
    #[param(value_type = Option<u32>, minimum = 1)]
    to: Option<String>,
}

/// Parse a revision number from a query: digits, at least 1 (a number
/// past any revision is simply not found).
pub fn revision_number(raw: Option<&str>) -> AppResult<Option<i32>> {
    let Some(s) = raw else {
        return Ok(None);
    };
    let bad = || {
        AppError::Unprocessable(msg!(
            "error-revision-number",
            value = s.chars().take(20).collect::<String>()
        ))
    };
    if s.is_empty() || s.len() > 12 || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = s.parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(bad());
    }
    Ok(Some(i32::try_from(n).unwrap_or(i32::MAX)))
}

/// Compute the diff between two revisions of a resource.
pub async fn diff_of(
    state: &AppState,
    r: &Resource,
    from: Option<i32>,
    to: Option<i32>,
) -> AppResult<Diff> {
    let to = to.unwrap_or(r.model.revision);
    let from = from.unwrap_or((to - 1).max(1));
    let (_, a) = resources::revision(state, r, from).await?;
    let (_, b) = resources::revision(state, r, to).await?;
    Ok(resources::diff::diff(from, &a, to, &b))
}

/// What changed between two revisions.
#[utoipa::path(get, path = "/api/v1/staffroom/resources/{id}/diff", tag = "resources",
    params(("id" = String, Path, description = "The resource's id"), DiffQuery),
    responses((status = 200, body = Diff), (status = 401), (status = 404)),
    security((), ("bearer" = ["read:statuses"])))]
pub async fn diff(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> AppResult<axum::Json<Diff>> {
    let me = viewer(&auth, "read:statuses")?;
    super::no_empty(uri.query(), &["from", "to"])?;
    let r = resources::visible(&state, me.as_ref().map(|m| &m.actor), id_param(&id)?).await?;
    let from = revision_number(q.from.as_deref())?;
    let to = revision_number(q.to.as_deref())?;
    Ok(axum::Json(diff_of(&state, &r, from, to).await?))
}
