//! Resources from other servers: stored with their origin, their files
//! linked where they are (never copied), every change a revision.

use super::{PUBLISHED, read, write};
use crate::{
    app::AppState,
    db::{
        entities::{actors, resource_files, resource_revisions, resources},
        ids, queries,
    },
    error::{AppError, AppResult},
};
use sea_orm::{ActiveValue::Set, IntoActiveModel};

/// A file or link of a remote resource, as its document lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// `file` or `link`.
    pub kind: String,
    pub url: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
}

/// A resource from another server, parsed and checked by the federation
/// layer (HTML already sanitised).
#[derive(Debug, Clone)]
pub struct RemoteResource {
    pub ap_id: String,
    pub url: Option<String>,
    pub owner: actors::Model,
    /// One of our groups (or a remote group we know) it was shared in.
    pub group_id: Option<i64>,
    pub title: String,
    pub description_html: String,
    pub licence: String,
    pub attribution: String,
    pub authors: Vec<String>,
    pub subjects: Vec<String>,
    pub levels: Vec<String>,
    pub languages: Vec<String>,
    pub tags: Vec<String>,
    pub derived_from: Option<String>,
    pub files: Vec<RemoteFile>,
    pub published: chrono::DateTime<chrono::Utc>,
    pub updated: Option<chrono::DateTime<chrono::Utc>>,
}

fn labels(r: &RemoteResource) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    out.extend(r.subjects.iter().map(|v| ("subject", v.clone())));
    out.extend(r.levels.iter().map(|v| ("level", v.clone())));
    out.extend(r.languages.iter().map(|v| ("language", v.clone())));
    out.extend(r.tags.iter().map(|v| ("tag", v.clone())));
    out
}

fn file_rows(resource_id: i64, list: &[RemoteFile]) -> Vec<resource_files::Model> {
    list.iter()
        .enumerate()
        .map(|(i, f)| resource_files::Model {
            id: ids::next_id(),
            resource_id,
            kind: f.kind.clone(),
            name: f.name.clone(),
            storage_key: None,
            remote_url: Some(f.url.clone()),
            content_type: f.media_type.clone(),
            size: f.size,
            width: None,
            height: None,
            sha256: String::new(),
            position: i as i32,
            removed_in: None,
            created_at: chrono::Utc::now(),
        })
        .collect()
}

/// A stored file of a remote resource, as its origin describes it.
fn remote_file(f: &resource_files::Model) -> RemoteFile {
    RemoteFile {
        kind: f.kind.clone(),
        url: f.remote_url.clone().unwrap_or_default(),
        name: f.name.clone(),
        media_type: f.content_type.clone(),
        size: f.size,
    }
}

/// Did anything an edit can change change?
fn changed(current: &super::Resource, r: &RemoteResource) -> bool {
    let files: Vec<RemoteFile> = current.files.iter().map(remote_file).collect();
    current.model.title != r.title
        || current.model.description_html != r.description_html
        || current.model.licence != r.licence
        || current.model.attribution != r.attribution
        || current.authors != r.authors
        || current.subjects != r.subjects
        || current.levels != r.levels
        || current.languages != r.languages
        || current.tags != r.tags
        || files != r.files
}

/// Store a remote resource, or apply a new revision of one we have.
pub async fn upsert(state: &AppState, r: RemoteResource) -> AppResult<resources::Model> {
    let now = chrono::Utc::now();
    let existing = queries::resources::by_ap_id(&state.db, &r.ap_id).await?;
    let authors = serde_json::to_string(&r.authors).map_err(AppError::internal)?;
    let txn = crate::db::begin(&state.db).await?;
    // Positions in `r.files` of files we already hold.
    let mut kept: Vec<usize> = Vec::new();
    let id = match existing {
        Some(e) => {
            if e.owner_id != r.owner.id || e.local {
                return Err(AppError::forbidden());
            }
            // A resource its owner withdrew (made non-public) and now
            // publishes again comes back: the same id, from its owner.
            let revived = e.deleted_at.is_some();
            let current = read::load(&txn, e.id)
                .await?
                .ok_or_else(AppError::not_found)?;
            if !revived && !changed(&current, &r) {
                return Ok(e);
            }
            let revision = e.revision + 1;
            let mut a = e.clone().into_active_model();
            if revived {
                a.deleted_at = Set(None);
                if let Some(src) = e.derived_from_id {
                    queries::resources::bump(&txn, src, resources::Column::RemixCount, 1).await?;
                }
            }
            a.title = Set(r.title.clone());
            a.description_html = Set(r.description_html.clone());
            a.licence = Set(r.licence.clone());
            a.attribution = Set(r.attribution.clone());
            a.authors = Set(authors);
            a.revision = Set(revision);
            a.updated_at = Set(r.updated.unwrap_or(now).min(now));
            queries::resources::update(&txn, a).await?;
            // A file the new revision still lists keeps its row (so the
            // diff between revisions shows only what changed); the others
            // are retired, and the new ones inserted below.
            let mut retired = Vec::new();
            for f in &current.files {
                let same = remote_file(f);
                match r.files.iter().position(|g| *g == same) {
                    Some(pos) => {
                        kept.push(pos);
                        queries::resources::set_file_position(&txn, f.id, pos as i32).await?;
                    }
                    None => retired.push(f.id),
                }
            }
            queries::resources::retire_files(&txn, &retired, revision).await?;
            e.id
        }
        None => {
            let published = r.published.min(now);
            let id = ids::at(published);
            let source = match &r.derived_from {
                Some(d) => queries::resources::by_ap_id(&txn, d)
                    .await?
                    .filter(|s| s.deleted_at.is_none()),
                None => None,
            };
            queries::resources::insert(
                &txn,
                resources::ActiveModel {
                    id: Set(id),
                    ap_id: Set(r.ap_id.clone()),
                    url: Set(r.url.clone()),
                    owner_id: Set(r.owner.id),
                    group_id: Set(r.group_id),
                    title: Set(r.title.clone()),
                    description: Set(String::new()),
                    description_html: Set(r.description_html.clone()),
                    licence: Set(r.licence.clone()),
                    attribution: Set(r.attribution.clone()),
                    authors: Set(authors),
                    visibility: Set("public".into()),
                    state: Set(PUBLISHED.into()),
                    derived_from_id: Set(source.as_ref().map(|s| s.id)),
                    derived_from_ap_id: Set(r.derived_from.clone()),
                    local: Set(false),
                    origin: Set(r.owner.domain.clone()),
                    revision: Set(1),
                    download_count: Set(0),
                    remix_count: Set(0),
                    published_at: Set(Some(published)),
                    updated_at: Set(r.updated.unwrap_or(published).min(now)),
                    created_at: Set(now),
                    deleted_at: Set(None),
                },
            )
            .await?;
            if let Some(s) = &source {
                queries::resources::bump(&txn, s.id, resources::Column::RemixCount, 1).await?;
            }
            id
        }
    };
    queries::resources::set_labels(&txn, id, &labels(&r)).await?;
    for (pos, row) in file_rows(id, &r.files).into_iter().enumerate() {
        if !kept.contains(&pos) {
            queries::resources::insert_file(&txn, row.into_active_model()).await?;
        }
    }
    let stored = read::load(&txn, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    queries::resources::insert_revision(
        &txn,
        resource_revisions::ActiveModel {
            id: Set(ids::next_id()),
            resource_id: Set(id),
            number: Set(stored.model.revision),
            editor_id: Set(None),
            note: Set(String::new()),
            snapshot: Set(
                serde_json::to_string(&stored.snapshot(state)).map_err(AppError::internal)?
            ),
            created_at: Set(stored.model.updated_at),
        },
    )
    .await?;
    read::index(&txn, &stored).await?;
    txn.commit().await?;
    Ok(stored.model)
}

/// A remote actor deleted one of their resources.
pub async fn receive_delete(
    state: &AppState,
    actor: &actors::Model,
    ap_id: &str,
) -> AppResult<bool> {
    let Some(r) = queries::resources::by_ap_id(&state.db, ap_id).await? else {
        return Ok(false);
    };
    if r.owner_id != actor.id || r.local {
        return Err(AppError::forbidden());
    }
    if r.deleted_at.is_none() {
        let txn = crate::db::begin(&state.db).await?;
        write::tombstone(&txn, &r).await?;
        txn.commit().await?;
    }
    Ok(true)
}
