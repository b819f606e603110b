//! Creating and editing resources with multipart bodies: metadata fields
//! and files read as a stream, each file refused as soon as it passes the
//! size limit. The web forms read their bodies with the same code.

use super::{ResourceEntity, entity, id_param};
use crate::{
    app::AppState,
    domain::resources::{self, Input, LinkInput, Placement, files::Upload},
    error::{AppError, AppResult},
    federation::publish,
    http::{
        api::params::parse_id,
        extract::{ApiMember, Path},
    },
    msg,
};
use axum::{
    Router,
    extract::{Multipart, State},
    routing::{patch, post},
};
use serde::Deserialize;
use utoipa::ToSchema;

pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route(super::BASE, post(create))
        .route(&format!("{}/{{id}}", super::BASE), patch(update))
}

/// The fields the API's schema names.
const API_FIELDS: &[&str] = &[
    "title",
    "licence",
    "description",
    "attribution",
    "authors",
    "subjects",
    "levels",
    "languages",
    "tags",
    "visibility",
    "links",
    "files",
    "editors",
    "note",
    "publish",
    "group_id",
    "owner",
    "derived_from",
    "remove_files",
];

/// Most files one API request may add.
const API_MAX_FILES: usize = 20;

/// Largest text field of a resource form.
const TEXT_FIELD_MAX: usize = 64 * 1024;

/// Everything a resource form may carry.
#[derive(Debug, Default)]
pub struct FormFields {
    pub input: Input,
    pub place: Placement,
    /// The raw text fields, to show a form again after an error.
    pub raw: std::collections::BTreeMap<String, Vec<String>>,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge(msg!("error-body-too-large"))
    } else {
        AppError::BadRequest(msg!("error-invalid-body", detail = e.body_text()))
    }
}

fn lines(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(['\n', '\r']))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// Web forms type several values in one field, separated by commas.
fn commas(values: &[String]) -> Vec<String> {
    lines(values)
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// The API's limits, exactly as its schema states them: (field, longest
/// value, most values). Web forms are checked by the domain alone.
const API_LIMITS: &[(&str, usize, usize)] = &[
    ("title", 200, 1),
    ("description", 20_000, 1),
    ("licence", 100, 1),
    ("attribution", 1000, 1),
    ("visibility", 20, 1),
    ("note", 500, 1),
    ("group_id", 20, 1),
    ("owner", 10, 1),
    ("derived_from", 2000, 1),
    ("publish", 5, 1),
    ("authors", 100, 20),
    ("subjects", 50, 20),
    ("levels", 50, 20),
    ("languages", 10, 10),
    ("tags", 50, 20),
    ("links", 2000, 20),
    ("editors", 100, 20),
    ("remove_files", 20, 20),
];

fn check_api_limits(raw: &std::collections::BTreeMap<String, Vec<String>>) -> AppResult<()> {
    for (field, max_len, max_items) in API_LIMITS {
        let Some(values) = raw.get(*field) else {
            continue;
        };
        if values.len() > *max_items {
            return Err(AppError::Unprocessable(msg!(
                "error-too-many",
                field = *field,
                max = *max_items
            )));
        }
        if values.iter().any(|v| v.chars().count() > *max_len) {
            return Err(crate::domain::validate::too_long(field, *max_len));
        }
    }
    Ok(())
}

/// A link line: `https://…` or `Title | https://…`.
fn link(line: &str) -> LinkInput {
    match line.rsplit_once('|') {
        Some((title, url)) if !title.trim().is_empty() => LinkInput {
            url: url.trim().to_string(),
            title: Some(title.trim().to_string()),
        },
        _ => LinkInput {
            url: line.trim().trim_start_matches('|').trim().to_string(),
            title: None,
        },
    }
}

fn flag(v: &str) -> AppResult<bool> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(AppError::Unprocessable(msg!(
            "error-invalid-body",
            detail = format!(
                "“{}” is not true or false",
                other.chars().take(20).collect::<String>()
            )
        ))),
    }
}

/// Read a resource form. `web`: a form of the web pages, which sends every
/// field (absent lists are empty) and types lists separated by commas;
/// otherwise the API, where absent fields keep their value, each repeated
/// field is one value, and the schema's limits apply.
pub async fn read_form(state: &AppState, mut form: Multipart, web: bool) -> AppResult<FormFields> {
    let complete = web;
    let max = state.config.resources.max_file_bytes;
    let mut out = FormFields::default();
    let mut uploads: Vec<Upload> = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        let raw_name = field.name().unwrap_or_default();
        let name = if web {
            raw_name.trim_end_matches("[]").to_string()
        } else {
            raw_name.to_string()
        };
        if !web && !API_FIELDS.contains(&name.as_str()) {
            return Err(AppError::Unprocessable(msg!(
                "error-invalid-body",
                detail = format!(
                    "unknown field “{}”",
                    name.chars().take(40).collect::<String>()
                )
            )));
        }
        let is_file = name == "files" || (web && name == "file");
        let file_name = field.file_name().map(str::to_string);
        let declared = field.content_type().map(str::to_string);
        let limit = if is_file { max } else { TEXT_FIELD_MAX };
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if buf.len() + chunk.len() > limit {
                return Err(if is_file {
                    AppError::PayloadTooLarge(msg!(
                        "error-upload-too-large",
                        max = max / (1024 * 1024)
                    ))
                } else {
                    AppError::PayloadTooLarge(msg!("error-body-too-large"))
                });
            }
            buf.extend_from_slice(&chunk);
        }
        if is_file {
            // A file input left empty sends a part without a name or bytes.
            if file_name.as_deref().is_none_or(str::is_empty) && buf.is_empty() {
                continue;
            }
            uploads.push(Upload {
                name: file_name.unwrap_or_default(),
                declared,
                bytes: buf.freeze(),
            });
            continue;
        }
        let text = String::from_utf8(buf.to_vec()).map_err(|_| {
            AppError::Unprocessable(msg!(
                "error-invalid-body",
                detail = format!("{name} is not UTF-8 text")
            ))
        })?;
        out.raw.entry(name).or_default().push(text);
    }
    if !web {
        check_api_limits(&out.raw)?;
        if uploads.len() > API_MAX_FILES {
            return Err(AppError::Unprocessable(msg!(
                "error-too-many",
                field = "files",
                max = API_MAX_FILES
            )));
        }
    }
    let one = |k: &str| out.raw.get(k).and_then(|v| v.last()).cloned();
    let list = |k: &str| -> Option<Vec<String>> {
        match out.raw.get(k) {
            Some(v)
                if web && matches!(k, "subjects" | "levels" | "languages" | "tags" | "editors") =>
            {
                Some(commas(v))
            }
            Some(v) if web => Some(lines(v)),
            Some(v) => Some(v.clone()),
            None if complete => Some(Vec::new()),
            None => None,
        }
    };
    let input = Input {
        title: one("title"),
        description: one("description"),
        licence: one("licence"),
        attribution: one("attribution"),
        authors: list("authors"),
        subjects: list("subjects"),
        levels: list("levels"),
        languages: list("languages"),
        tags: list("tags"),
        visibility: one("visibility"),
        links: list("links").map(|l| l.iter().map(|x| link(x)).collect()),
        files: uploads,
        remove_files: lines(
            out.raw
                .get("remove_files")
                .map(Vec::as_slice)
                .unwrap_or_default(),
        )
        .iter()
        .map(|v| {
            parse_id(v).ok_or_else(|| {
                AppError::Unprocessable(msg!(
                    "error-resource-file-unknown",
                    id = v.chars().take(20).collect::<String>()
                ))
            })
        })
        .collect::<AppResult<Vec<_>>>()?,
        editors: list("editors"),
        note: one("note"),
        publish: match one("publish") {
            Some(v) => flag(&v)?,
            None => false,
        },
    };
    let group_id = match one("group_id")
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
    {
        Some(g) => Some(parse_id(&g).ok_or_else(AppError::not_found)?),
        None => None,
    };
    let owned_by_group = match one("owner").as_deref().map(str::trim) {
        None | Some("") | Some("person") => false,
        Some("group") => true,
        Some(other) => {
            return Err(AppError::Unprocessable(msg!(
                "error-invalid-body",
                detail = format!(
                    "owner “{}” (use person or group)",
                    other.chars().take(20).collect::<String>()
                )
            )));
        }
    };
    out.place = Placement {
        group_id,
        owned_by_group,
        derived_from: one("derived_from").filter(|d| !d.trim().is_empty()),
    };
    out.input = input;
    Ok(out)
}

/// A new resource. Lists are sent as repeated fields, one value each.
#[derive(Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
#[allow(dead_code)]
pub struct NewResource {
    #[schema(max_length = 200, required = true)]
    title: String,
    /// An SPDX id (`CC0-1.0`, `CC-BY-4.0`, `CC-BY-SA-4.0`, `CC-BY-NC-4.0`,
    /// `CC-BY-NC-SA-4.0`, `CC-BY-ND-4.0`, `CC-BY-NC-ND-4.0`), its URI, or
    /// `all-rights-reserved`; anything else is refused (422).
    #[schema(max_length = 100, required = true)]
    licence: String,
    /// Markdown.
    #[schema(max_length = 20000)]
    description: String,
    #[schema(max_length = 1000)]
    attribution: String,
    #[schema(max_items = 20, max_length = 100)]
    authors: Vec<String>,
    /// From the instance's list of subjects (others are refused).
    #[schema(max_items = 20, max_length = 50)]
    subjects: Vec<String>,
    /// From the instance's list of education levels.
    #[schema(max_items = 20, max_length = 50)]
    levels: Vec<String>,
    /// ISO 639 codes.
    #[schema(max_items = 10, max_length = 10)]
    languages: Vec<String>,
    /// Free tags.
    #[schema(max_items = 20, max_length = 50)]
    tags: Vec<String>,
    /// `public` (default), `instance` or `group`.
    #[schema(max_length = 20)]
    visibility: String,
    /// `https://…` or `Title | https://…`.
    #[schema(max_items = 20, max_length = 2000)]
    links: Vec<String>,
    /// Files to add: PDF, office and OpenDocument files, images, audio,
    /// video, plain text, ZIP packages (SCORM, H5P). The type is detected
    /// from the content and must agree with the file's name; others are
    /// refused (422), and so are files over the size limit (413). Repeat
    /// the field to send several (at most 20).
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    files: Vec<u8>,
    /// Usernames of co-editors on this instance.
    #[schema(max_items = 20, max_length = 100)]
    editors: Vec<String>,
    /// What changed, for the list of revisions.
    #[schema(max_length = 500)]
    note: String,
    /// Publish now; a draft otherwise.
    publish: bool,
    /// Share it in this group (its account id).
    #[schema(max_length = 20)]
    group_id: String,
    /// `person` (default) or `group`: who owns it.
    #[schema(max_length = 10)]
    owner: String,
    /// The resource it is derived from: an id here or a URL.
    #[schema(max_length = 2000)]
    derived_from: String,
}

/// Changes to a resource: a new revision. Fields left out keep their value.
#[derive(Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
#[allow(dead_code)]
pub struct ResourceEdit {
    #[schema(max_length = 200)]
    title: String,
    /// As when creating.
    #[schema(max_length = 100)]
    licence: String,
    /// Markdown.
    #[schema(max_length = 20000)]
    description: String,
    #[schema(max_length = 1000)]
    attribution: String,
    #[schema(max_items = 20, max_length = 100)]
    authors: Vec<String>,
    /// From the instance's list of subjects (others are refused).
    #[schema(max_items = 20, max_length = 50)]
    subjects: Vec<String>,
    /// From the instance's list of education levels.
    #[schema(max_items = 20, max_length = 50)]
    levels: Vec<String>,
    /// ISO 639 codes.
    #[schema(max_items = 10, max_length = 10)]
    languages: Vec<String>,
    /// Free tags.
    #[schema(max_items = 20, max_length = 50)]
    tags: Vec<String>,
    /// `public` (default), `instance` or `group`.
    #[schema(max_length = 20)]
    visibility: String,
    /// `https://…` or `Title | https://…`.
    #[schema(max_items = 20, max_length = 2000)]
    links: Vec<String>,
    /// Files to add: PDF, office and OpenDocument files, images, audio,
    /// video, plain text, ZIP packages (SCORM, H5P). The type is detected
    /// from the content and must agree with the file's name; others are
    /// refused (422), and so are files over the size limit (413). Repeat
    /// the field to send several (at most 20).
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    files: Vec<u8>,
    /// Usernames of co-editors on this instance.
    #[schema(max_items = 20, max_length = 100)]
    editors: Vec<String>,
    /// What changed, for the list of revisions.
    #[schema(max_length = 500)]
    note: String,
    /// Publish now; a draft otherwise.
    publish: bool,
    /// Ids of current files to drop.
    #[schema(max_items = 20, max_length = 20)]
    remove_files: Vec<String>,
}

/// Create a resource (a draft unless `publish` is true).
#[utoipa::path(post, path = "/api/v1/staffroom/resources", tag = "resources",
    request_body(content = NewResource, content_type = "multipart/form-data"),
    responses((status = 200, body = ResourceEntity), (status = 401), (status = 403), (status = 404), (status = 413, body = crate::http::api::openapi::ApiError)),
    security(("bearer" = ["write:statuses"])))]
pub async fn create(
    State(state): State<AppState>,
    me: ApiMember,
    form: Multipart,
) -> AppResult<axum::Json<ResourceEntity>> {
    me.require_scope("write:statuses")?;
    let f = read_form(&state, form, false).await?;
    let (r, events) = resources::create(&state, &me.member, f.input, f.place).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        entity(&state, Some(&me.member.actor), &r).await?,
    ))
}

/// Edit a resource: a new revision. Fields left out keep their value.
#[utoipa::path(patch, path = "/api/v1/staffroom/resources/{id}", tag = "resources",
    params(("id" = String, Path, description = "The resource's id")),
    request_body(content = ResourceEdit, content_type = "multipart/form-data"),
    responses((status = 200, body = ResourceEntity), (status = 401), (status = 403), (status = 404), (status = 413, body = crate::http::api::openapi::ApiError)),
    security(("bearer" = ["write:statuses"])))]
pub async fn update(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    form: Multipart,
) -> AppResult<axum::Json<ResourceEntity>> {
    me.require_scope("write:statuses")?;
    let id = id_param(&id)?;
    let f = read_form(&state, form, false).await?;
    let (r, events) = resources::update(&state, &me.member, id, f.input).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        entity(&state, Some(&me.member.actor), &r).await?,
    ))
}
