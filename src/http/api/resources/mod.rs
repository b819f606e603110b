//! Teaching resources in the JSON API, under `/api/v1/staffroom/resources`:
//! the library (search, filters, sorts), a resource, its revisions and the
//! diff between two, remixes, publishing and deleting. Creating and editing
//! take multipart bodies with files ([`upload`]). Every rule lives in
//! `domain::resources`; this module parses and shapes JSON.

mod history;
mod upload;

pub use history::*;
pub use upload::*;

use crate::{
    app::AppState,
    domain::resources::{self, Library, Resource, Sort, files},
    error::{AppError, AppResult},
    federation::publish,
    http::{
        api::{entities, groups::viewer, params::parse_id},
        extract::{ApiMember, Auth, Path, Query},
    },
    msg,
};
use axum::{
    Router,
    extract::{OriginalUri, State},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const BASE: &str = "/api/v1/staffroom/resources";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list))
        .route(&format!("{BASE}/{{id}}"), get(show).delete(delete))
        .route(&format!("{BASE}/{{id}}/publish"), post(publish_draft))
        .route(&format!("{BASE}/{{id}}/remix"), post(remix))
        .route(&format!("{BASE}/{{id}}/remixes"), get(remixes))
        .route(&format!("{BASE}/{{id}}/revisions"), get(revisions))
        .route(&format!("{BASE}/{{id}}/diff"), get(diff))
}

/// A licence: SPDX id, name and canonical URI.
#[derive(Debug, Serialize, ToSchema)]
pub struct LicenceEntity {
    /// An SPDX id (`CC-BY-4.0`...) or `all-rights-reserved`.
    pub id: String,
    pub name: String,
    /// The licence's canonical URI (none for all rights reserved).
    pub url: Option<String>,
}

/// A file or an external link of a resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceFile {
    pub id: String,
    /// `file` or `link`.
    pub kind: String,
    pub name: String,
    /// Detected from the content (`text/html` for links).
    pub content_type: String,
    /// In bytes (0 for links and unknown sizes).
    pub size: i64,
    /// Where to download it (links: where they lead).
    pub url: String,
    /// For images stored here: a reduced copy at most 640 pixels on its
    /// longer side (the image itself when it is that small already).
    pub preview_url: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// The resource a remix comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct DerivedFrom {
    /// Its id here, when this server has it.
    pub id: Option<String>,
    /// Its ActivityPub id.
    pub uri: String,
}

/// A teaching resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceEntity {
    pub id: String,
    /// Its ActivityPub id.
    pub uri: String,
    /// Its page.
    pub url: String,
    pub title: String,
    /// The description, as HTML.
    pub description: String,
    /// The description as written (Markdown), for its editors.
    pub description_source: Option<String>,
    pub licence: LicenceEntity,
    pub attribution: String,
    pub authors: Vec<String>,
    pub subjects: Vec<String>,
    pub levels: Vec<String>,
    pub languages: Vec<String>,
    pub tags: Vec<String>,
    /// `public`, `instance` (this instance's members) or `group` (the group's members).
    pub visibility: String,
    /// `draft` or `published`.
    pub state: String,
    /// The person or group that owns it.
    pub owner: entities::Account,
    /// The group it belongs to.
    pub group: Option<entities::Account>,
    pub derived_from: Option<DerivedFrom>,
    pub files: Vec<ResourceFile>,
    /// The number of the current revision.
    pub revision: i32,
    pub download_count: i64,
    /// How many resources were remixed from it ("used by").
    pub remix_count: i64,
    /// From this instance (otherwise from `origin`).
    pub local: bool,
    pub origin: String,
    pub published_at: Option<String>,
    pub updated_at: String,
    pub created_at: String,
    /// The caller may edit it.
    pub editable: bool,
}

pub fn file_entity(
    state: &AppState,
    f: &crate::db::entities::resource_files::Model,
) -> ResourceFile {
    ResourceFile {
        id: f.id.to_string(),
        kind: f.kind.clone(),
        name: f.name.clone(),
        content_type: f.content_type.clone(),
        size: f.size,
        url: files::url(state, f),
        preview_url: (f.content_type.starts_with("image/") && f.remote_url.is_none())
            .then(|| format!("{}?preview=1", files::url(state, f))),
        width: f.width,
        height: f.height,
    }
}

pub async fn entity(
    state: &AppState,
    viewer: Option<&crate::db::entities::actors::Model>,
    r: &Resource,
) -> AppResult<ResourceEntity> {
    let editable = match viewer {
        Some(v) => resources::may_edit(state, v, r).await?,
        None => false,
    };
    let l = r.licence();
    Ok(ResourceEntity {
        id: r.id().to_string(),
        uri: r.model.ap_id.clone(),
        url: r.model.url.clone().unwrap_or_else(|| r.model.ap_id.clone()),
        title: r.model.title.clone(),
        description: r.model.description_html.clone(),
        description_source: editable.then(|| r.model.description.clone()),
        licence: LicenceEntity {
            id: l.id.into(),
            name: l.name.into(),
            url: l.uri.map(str::to_string),
        },
        attribution: r.model.attribution.clone(),
        authors: r.authors.clone(),
        subjects: r.subjects.clone(),
        levels: r.levels.clone(),
        languages: r.languages.clone(),
        tags: r.tags.clone(),
        visibility: r.model.visibility.clone(),
        state: r.model.state.clone(),
        owner: entities::account(state, &r.owner),
        group: r.group.as_ref().map(|g| entities::account(state, g)),
        derived_from: r.model.derived_from_ap_id.clone().map(|uri| DerivedFrom {
            id: r.model.derived_from_id.map(|i| i.to_string()),
            uri,
        }),
        files: r.files.iter().map(|f| file_entity(state, f)).collect(),
        revision: r.model.revision,
        download_count: r.model.download_count,
        remix_count: r.model.remix_count,
        local: r.model.local,
        origin: r.model.origin.clone(),
        published_at: r.model.published_at.map(|d| d.to_rfc3339()),
        updated_at: r.model.updated_at.to_rfc3339(),
        created_at: r.model.created_at.to_rfc3339(),
        editable,
    })
}

pub async fn entities_of(
    state: &AppState,
    viewer: Option<&crate::db::entities::actors::Model>,
    list: &[Resource],
) -> AppResult<Vec<ResourceEntity>> {
    let mut out = Vec::with_capacity(list.len());
    for r in list {
        out.push(entity(state, viewer, r).await?);
    }
    Ok(out)
}

fn id_param(raw: &str) -> AppResult<i64> {
    parse_id(raw).ok_or_else(AppError::not_found)
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    /// Words in the title, description, attribution, tags or file names.
    #[param(max_length = 200)]
    q: Option<String>,
    /// One of the instance's subjects.
    #[param(max_length = 50)]
    subject: Option<String>,
    /// One of the instance's education levels (`isced-0`…`isced-8` by default).
    #[param(max_length = 50)]
    level: Option<String>,
    /// An SPDX id or `all-rights-reserved`.
    #[param(value_type = Option<LicenceId>)]
    licence: Option<String>,
    /// An ISO 639 code.
    #[param(max_length = 10)]
    language: Option<String>,
    /// Resources of this group (its account id).
    #[param(pattern = r"^[0-9]{1,18}$")]
    group_id: Option<String>,
    /// Resources from this server (`host` or `host:port`).
    #[param(max_length = 253)]
    instance: Option<String>,
    /// `newest` (default), `downloads` or `remixes`.
    #[param(value_type = Option<SortName>)]
    sort: Option<String>,
    /// `true`: the caller's own resources, drafts included.
    #[param(value_type = Option<bool>)]
    mine: Option<String>,
    /// At most this many (default 20, at most 40).
    #[param(value_type = Option<u32>, maximum = 40)]
    limit: Option<String>,
    /// Skip this many.
    #[param(value_type = Option<u32>, maximum = 10000)]
    offset: Option<String>,
}

impl LibraryQuery {
    /// The group filter as typed.
    pub fn group_echo(&self) -> String {
        self.group_id.clone().unwrap_or_default()
    }

    /// The text filters as typed (for forms shown again).
    #[allow(clippy::type_complexity)]
    pub fn echo(
        &self,
    ) -> (
        &Option<String>,
        &Option<String>,
        &Option<String>,
        &Option<String>,
        &Option<String>,
        &Option<String>,
        &Option<String>,
    ) {
        (
            &self.q,
            &self.subject,
            &self.level,
            &self.licence,
            &self.language,
            &self.instance,
            &self.mine,
        )
    }
}

/// The licences resources may have.
#[derive(Debug, Deserialize, ToSchema)]
pub enum LicenceId {
    #[serde(rename = "CC0-1.0")]
    Cc0,
    #[serde(rename = "CC-BY-4.0")]
    CcBy,
    #[serde(rename = "CC-BY-SA-4.0")]
    CcBySa,
    #[serde(rename = "CC-BY-NC-4.0")]
    CcByNc,
    #[serde(rename = "CC-BY-NC-SA-4.0")]
    CcByNcSa,
    #[serde(rename = "CC-BY-ND-4.0")]
    CcByNd,
    #[serde(rename = "CC-BY-NC-ND-4.0")]
    CcByNcNd,
    #[serde(rename = "all-rights-reserved")]
    AllRightsReserved,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortName {
    Newest,
    Downloads,
    Remixes,
}

/// Query decoding reads `x=` as absent; for parameters with a type or a
/// list of values, an empty value is an error.
pub fn no_empty(query: Option<&str>, names: &[&str]) -> AppResult<()> {
    let pairs: Vec<(String, String)> = query
        .map(serde_html_form::from_str)
        .transpose()
        .map_err(|_| bad_query("query"))?
        .unwrap_or_default();
    match pairs
        .iter()
        .find(|(k, v)| v.is_empty() && names.contains(&k.as_str()))
    {
        Some((k, _)) => Err(bad_query(k)),
        None => Ok(()),
    }
}

fn bad_query(what: &str) -> AppError {
    AppError::BadRequest(msg!("error-invalid-query", detail = what))
}

/// A filter's value. `strict` (the API): exactly as the schema says, an
/// empty value included; otherwise (web forms) empty means unset.
fn value(v: Option<String>, strict: bool, max: usize, what: &str) -> AppResult<Option<String>> {
    match v {
        Some(s) if s.chars().count() > max => Err(bad_query(what)),
        Some(s) if !strict && s.trim().is_empty() => Ok(None),
        Some(s) if !strict => Ok(Some(s.trim().to_string())),
        other => Ok(other),
    }
}

fn number(raw: Option<String>, strict: bool, default: u64, max: u64, what: &str) -> AppResult<u64> {
    match value(raw, strict, 20, what)? {
        None => Ok(default),
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= max && s.chars().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| bad_query(what)),
    }
}

/// Turn the query of a library view (API or web) into a domain query.
pub fn library_query(
    q: LibraryQuery,
    limit_default: u64,
    strict: bool,
) -> AppResult<(Library, bool)> {
    let sort = match value(q.sort, strict, 20, "sort")? {
        Some(s) => match s.as_str() {
            "newest" => Sort::Newest,
            "downloads" => Sort::Downloads,
            "remixes" => Sort::Remixes,
            _ => return Err(bad_query("sort (newest, downloads or remixes)")),
        },
        None => Sort::Newest,
    };
    let licence = match value(q.licence, strict, 100, "licence")? {
        Some(l) => Some(
            resources::LICENCES
                .iter()
                .find(|x| x.id == l)
                .map(|x| x.id.to_string())
                .ok_or_else(|| {
                    AppError::Unprocessable(msg!(
                        "error-resource-licence",
                        licence = l.chars().take(60).collect::<String>(),
                        choices = resources::LICENCES
                            .iter()
                            .map(|x| x.id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?,
        ),
        None => None,
    };
    let mine = match value(q.mine, strict, 5, "mine")?.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(bad_query("mine (true or false)")),
    };
    let group_id = match value(q.group_id, strict, 18, "group_id")? {
        Some(g) if g.chars().all(|c| c.is_ascii_digit()) && !g.is_empty() => {
            Some(g.parse::<i64>().map_err(|_| bad_query("group_id"))?)
        }
        Some(_) => return Err(bad_query("group_id")),
        None => None,
    };
    let text = value(q.q, strict, 200, "q")?.unwrap_or_default();
    let lower = |v: Option<String>| v.map(|s| s.to_lowercase()).filter(|s| !s.is_empty());
    Ok((
        Library {
            text,
            subject: lower(value(q.subject, strict, 50, "subject")?),
            level: lower(value(q.level, strict, 50, "level")?),
            licence,
            language: lower(value(q.language, strict, 10, "language")?),
            group_id,
            instance: lower(value(q.instance, strict, 253, "instance")?),
            owner_id: None,
            drafts: mine,
            sort,
            limit: number(q.limit, strict, limit_default, 40, "limit (at most 40)")?.max(1),
            offset: number(q.offset, strict, 0, 10_000, "offset (at most 10000)")?,
        },
        mine,
    ))
}

/// The library: resources the caller may see, matching the filters.
#[utoipa::path(get, path = "/api/v1/staffroom/resources", tag = "resources",
    params(LibraryQuery),
    responses((status = 200, body = Vec<ResourceEntity>), (status = 401)),
    security((), ("bearer" = ["read:statuses"])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<LibraryQuery>,
) -> AppResult<axum::Json<Vec<ResourceEntity>>> {
    let me = viewer(&auth, "read:statuses")?;
    no_empty(
        uri.query(),
        &["sort", "licence", "mine", "group_id", "limit", "offset"],
    )?;
    let (mut library, mine) = library_query(q, 20, true)?;
    let actor = me.as_ref().map(|m| &m.actor);
    if mine {
        let a = actor.ok_or_else(AppError::unauthorized)?;
        library.owner_id = Some(a.id);
    }
    let list = resources::library(&state, actor, &library).await?;
    Ok(axum::Json(entities_of(&state, actor, &list).await?))
}

/// One resource.
#[utoipa::path(get, path = "/api/v1/staffroom/resources/{id}", tag = "resources",
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, body = ResourceEntity), (status = 401), (status = 404)),
    security((), ("bearer" = ["read:statuses"])))]
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<ResourceEntity>> {
    let me = viewer(&auth, "read:statuses")?;
    let actor = me.as_ref().map(|m| &m.actor);
    let r = resources::visible(&state, actor, id_param(&id)?).await?;
    Ok(axum::Json(entity(&state, actor, &r).await?))
}

/// Delete a resource (its owner, or the moderators of the group owning it).
#[utoipa::path(delete, path = "/api/v1/staffroom/resources/{id}", tag = "resources",
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, body = Object, description = "Deleted: an empty object"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["write:statuses"])))]
pub async fn delete(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<serde_json::Value>> {
    me.require_scope("write:statuses")?;
    let events = resources::delete(&state, &me.member, id_param(&id)?).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(serde_json::json!({})))
}

/// Publish a draft.
#[utoipa::path(post, path = "/api/v1/staffroom/resources/{id}/publish", tag = "resources",
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, body = ResourceEntity), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["write:statuses"])))]
pub async fn publish_draft(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<ResourceEntity>> {
    me.require_scope("write:statuses")?;
    let (r, events) = resources::publish(&state, &me.member, id_param(&id)?).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        entity(&state, Some(&me.member.actor), &r).await?,
    ))
}

/// Remix: a new draft of the caller's, with the resource's content and
/// files, linked to it. Refused for licences without derivatives.
#[utoipa::path(post, path = "/api/v1/staffroom/resources/{id}/remix", tag = "resources",
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, body = ResourceEntity), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["write:statuses"])))]
pub async fn remix(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<ResourceEntity>> {
    me.require_scope("write:statuses")?;
    let (r, events) = resources::remix(&state, &me.member, id_param(&id)?).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        entity(&state, Some(&me.member.actor), &r).await?,
    ))
}

/// Resources remixed from this one.
#[utoipa::path(get, path = "/api/v1/staffroom/resources/{id}/remixes", tag = "resources",
    params(("id" = String, Path, description = "The resource's id")),
    responses((status = 200, body = Vec<ResourceEntity>), (status = 401), (status = 404)),
    security((), ("bearer" = ["read:statuses"])))]
pub async fn remixes(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Vec<ResourceEntity>>> {
    let me = viewer(&auth, "read:statuses")?;
    let actor = me.as_ref().map(|m| &m.actor);
    let r = resources::visible(&state, actor, id_param(&id)?).await?;
    let list = resources::remixes(&state, actor, &r).await?;
    Ok(axum::Json(entities_of(&state, actor, &list).await?))
}
