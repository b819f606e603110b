//! Remixing a resource and downloading its files (with the counters that
//! go with them).

use super::{
    ALL_RIGHTS_RESERVED, ATTRIBUTION_MAX, NOTE_MAX, Resource, files,
    input::{Input, LinkInput, Placement},
    read, write,
};
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{resource_files, resources},
        queries,
    },
    domain::{accounts::Member, text, thumbnails},
    error::{AppError, AppResult},
    msg,
};

/// Remix: a new draft owned by `me`, with the source's metadata and files
/// (ours copied in the store, remote ones linked), linked to its source.
/// A licence that forbids derivatives is respected unless `me` edits the
/// source.
pub async fn remix(state: &AppState, me: &Member, source_id: i64) -> AppResult<(Resource, Outbox)> {
    let src = read::visible(state, Some(&me.actor), source_id).await?;
    if src.is_draft() {
        return Err(AppError::not_found());
    }
    let licence = src.licence();
    let no_derivatives = licence.id.contains("-ND-") || licence.id == ALL_RIGHTS_RESERVED;
    if no_derivatives && !read::may_edit(state, &me.actor, &src).await? {
        return Err(AppError::Unprocessable(msg!(
            "error-resource-no-remix",
            licence = licence.name
        )));
    }
    let owner_name = if src.owner.display_name.is_empty() {
        src.owner.username.clone()
    } else {
        src.owner.display_name.clone()
    };
    let credit = format!(
        "Based on “{}” by {} ({}), {}",
        src.model.title,
        owner_name,
        src.model
            .url
            .clone()
            .unwrap_or_else(|| src.model.ap_id.clone()),
        licence.name
    );
    let attribution = if src.model.attribution.is_empty() {
        credit
    } else {
        format!("{credit}. {}", src.model.attribution)
    };
    let description = if src.model.local {
        src.model.description.clone()
    } else {
        text::html_to_text(&src.model.description_html)
    };
    let input = Input {
        title: Some(src.model.title.clone()),
        description: Some(description),
        licence: Some(src.model.licence.clone()),
        attribution: Some(attribution.chars().take(ATTRIBUTION_MAX).collect()),
        authors: Some(src.authors.clone()),
        subjects: Some(
            src.subjects
                .iter()
                .filter(|s| state.config.resources.subjects.contains(s))
                .cloned()
                .collect(),
        ),
        levels: Some(
            src.levels
                .iter()
                .filter(|s| state.config.resources.levels.contains(s))
                .cloned()
                .collect(),
        ),
        languages: Some(src.languages.clone()),
        tags: Some(src.tags.clone()),
        visibility: Some("public".into()),
        links: Some(
            src.files
                .iter()
                .filter(|f| f.kind == "link" || f.storage_key.is_none())
                .filter_map(|f| {
                    f.remote_url.clone().map(|u| LinkInput {
                        url: u,
                        title: Some(f.name.clone()),
                    })
                })
                .collect(),
        ),
        files: Vec::new(),
        remove_files: Vec::new(),
        editors: None,
        note: Some(
            format!("Remix of {}", src.model.title)
                .chars()
                .take(NOTE_MAX)
                .collect(),
        ),
        publish: false,
    };
    let mut uploads = Vec::new();
    for f in src.files.iter().filter(|f| f.kind == "file") {
        if let Some(key) = &f.storage_key {
            let bytes = state
                .media
                .get(key)
                .await
                .map_err(AppError::internal)?
                .ok_or_else(AppError::not_found)?;
            uploads.push(files::Upload {
                name: f.name.clone(),
                declared: None,
                bytes,
            });
        }
    }
    write::create(
        state,
        me,
        Input {
            files: uploads,
            ..input
        },
        Placement {
            group_id: None,
            owned_by_group: false,
            derived_from: Some(src.model.id.to_string()),
        },
    )
    .await
}

/// A file of a resource the viewer may read, with its storage key.
async fn readable_file(
    state: &AppState,
    viewer: Option<&crate::db::entities::actors::Model>,
    file_id: i64,
) -> AppResult<(resource_files::Model, String, Resource)> {
    let f = queries::resources::file(&state.db, file_id)
        .await?
        .filter(|f| f.kind == "file")
        .ok_or_else(AppError::not_found)?;
    let key = f.storage_key.clone().ok_or_else(AppError::not_found)?;
    let r = read::visible(state, viewer, f.resource_id).await?;
    Ok((f, key, r))
}

/// A file of a resource the viewer may read; counts a download.
pub async fn download(
    state: &AppState,
    viewer: Option<&crate::db::entities::actors::Model>,
    file_id: i64,
    count: bool,
) -> AppResult<(resource_files::Model, bytes::Bytes)> {
    let (f, key, r) = readable_file(state, viewer, file_id).await?;
    let bytes = state
        .media
        .get(&key)
        .await
        .map_err(AppError::internal)?
        .ok_or_else(AppError::not_found)?;
    if count && !r.is_draft() {
        queries::resources::bump(&state.db, r.id(), resources::Column::DownloadCount, 1).await?;
    }
    Ok((f, bytes))
}

/// What a page shows of a file, not counted as a download: a large image's
/// preview (`domain::thumbnails`), or else the file itself. The returned
/// type is the preview's, or the file's own.
pub async fn preview(
    state: &AppState,
    viewer: Option<&crate::db::entities::actors::Model>,
    file_id: i64,
) -> AppResult<(resource_files::Model, bytes::Bytes, String)> {
    let (f, key, _) = readable_file(state, viewer, file_id).await?;
    let (bytes, content_type) =
        thumbnails::shown(&state.media, &key, &f.content_type, f.width, f.height)
            .await
            .map_err(AppError::internal)?
            .ok_or_else(AppError::not_found)?;
    Ok((f, bytes, content_type))
}
