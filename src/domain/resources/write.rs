//! Creating, editing (each edit a revision), publishing and deleting local
//! resources. Files are checked before anything is written and removed from
//! the store again when the database write fails.

use super::{
    DRAFT, NOTE_MAX, PUBLISHED, Resource, Visibility, files,
    input::{
        Input, Placement, check, check_uploads, derived, editor_ids, group_for, labels, link_row,
    },
    read,
};
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{resource_files, resource_revisions, resources},
        ids, queries,
    },
    domain::{accounts::Member, events::Event, groups, text, validate},
    error::{AppError, AppResult},
    msg,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, IntoActiveModel};

/// The events that tell other servers about a change: only published,
/// public resources ever leave the instance.
fn events(before_public: bool, after: &resources::Model) -> Vec<Event> {
    let after_public = after.state == PUBLISHED && after.visibility == "public";
    match (before_public, after_public) {
        (false, true) => vec![Event::ResourcePublished(after.id)],
        (true, true) => vec![Event::ResourceUpdated(after.id)],
        (true, false) => vec![Event::ResourceWithdrawn(Box::new(after.clone()))],
        (false, false) => Vec::new(),
    }
}

fn is_public(r: &resources::Model) -> bool {
    r.state == PUBLISHED && r.visibility == "public" && r.deleted_at.is_none()
}

async fn write_revision(
    db: &impl ConnectionTrait,
    state: &AppState,
    id: i64,
    editor: Option<i64>,
    note: &str,
) -> AppResult<Resource> {
    let r = read::load(db, id).await?.ok_or_else(AppError::not_found)?;
    queries::resources::insert_revision(
        db,
        resource_revisions::ActiveModel {
            id: Set(ids::next_id()),
            resource_id: Set(id),
            number: Set(r.model.revision),
            editor_id: Set(editor),
            note: Set(note.to_string()),
            snapshot: Set(serde_json::to_string(&r.snapshot(state)).map_err(AppError::internal)?),
            created_at: Set(r.model.updated_at),
        },
    )
    .await?;
    super::read::index(db, &r).await?;
    Ok(r)
}

/// Create a resource (a draft unless `input.publish`).
pub async fn create(
    state: &AppState,
    me: &Member,
    input: Input,
    place: Placement,
) -> AppResult<(Resource, Outbox)> {
    let meta = check(state, &input, None)?;
    let note = validate::optional("note", input.note.as_deref(), NOTE_MAX)?.unwrap_or_default();
    if input.files.len() + meta.links.len() > state.config.resources.max_files {
        return Err(AppError::Unprocessable(msg!(
            "error-too-many",
            field = "files",
            max = state.config.resources.max_files
        )));
    }
    if input.publish && input.files.is_empty() && meta.links.is_empty() {
        return Err(AppError::Unprocessable(msg!("error-resource-no-files")));
    }
    let checked = check_uploads(state, &input.files)?;
    let group = group_for(state, me, place.group_id).await?;
    if meta.visibility == Visibility::Group && group.is_none() {
        return Err(AppError::Unprocessable(msg!("error-resource-group-needed")));
    }
    // A members-only group's resources stay with its members.
    let visibility = match &group {
        Some(g) if g.members_only() => Visibility::Group,
        _ => meta.visibility,
    };
    let owner = match (&group, place.owned_by_group) {
        (Some(g), true) => {
            groups::require_staff(state, g, me).await?;
            g.actor.clone()
        }
        (None, true) => return Err(AppError::Unprocessable(msg!("error-resource-group-needed"))),
        _ => me.actor.clone(),
    };
    let editor_names = input.editors.clone().unwrap_or_default();
    let mut editors = editor_ids(state, &editor_names, owner.id).await?;
    if owner.id != me.actor.id && !editors.contains(&me.actor.id) {
        editors.insert(0, me.actor.id);
    }
    let (source, source_ap) = match &place.derived_from {
        Some(d) => derived(state, me, d).await?,
        None => (None, None),
    };
    let id = ids::next_id();
    let now = chrono::Utc::now();
    let url = format!("{}/resources/{id}", state.urls.base());
    let mut rows: Vec<resource_files::Model> = meta
        .links
        .iter()
        .enumerate()
        .map(|(i, l)| link_row(id, l, i as i32))
        .collect();
    let stored = files::store(state, id, checked, rows.len() as i32).await?;
    rows.extend(stored.iter().cloned());
    let model = resources::ActiveModel {
        id: Set(id),
        ap_id: Set(url.clone()),
        url: Set(Some(url)),
        owner_id: Set(owner.id),
        group_id: Set(group.as_ref().map(groups::Group::id)),
        title: Set(meta.title.clone()),
        description_html: Set(text::markdown_to_html(&meta.description)),
        description: Set(meta.description.clone()),
        licence: Set(meta.licence.clone()),
        attribution: Set(meta.attribution.clone()),
        authors: Set(serde_json::to_string(&meta.authors).map_err(AppError::internal)?),
        visibility: Set(visibility.as_str().into()),
        state: Set(if input.publish { PUBLISHED } else { DRAFT }.into()),
        derived_from_id: Set(source.as_ref().map(|s| s.id)),
        derived_from_ap_id: Set(source_ap),
        local: Set(true),
        origin: Set(state.urls.domain().to_string()),
        revision: Set(1),
        download_count: Set(0),
        remix_count: Set(0),
        published_at: Set(input.publish.then_some(now)),
        updated_at: Set(now),
        created_at: Set(now),
        deleted_at: Set(None),
    };
    let result: AppResult<(Resource, Outbox)> = async {
        let txn = crate::db::begin(&state.db).await?;
        queries::resources::insert(&txn, model).await?;
        queries::resources::set_labels(&txn, id, &labels(&meta)).await?;
        for r in &rows {
            queries::resources::insert_file(&txn, r.clone().into_active_model()).await?;
        }
        queries::resources::set_editors(&txn, id, &editors).await?;
        // A draft is nobody's use of its source yet: it counts once published.
        if let Some(s) = source.as_ref().filter(|_| input.publish) {
            queries::resources::bump(&txn, s.id, resources::Column::RemixCount, 1).await?;
        }
        let r = write_revision(&txn, state, id, Some(me.actor.id), &note).await?;
        let outbox = Outbox::commit(txn, events(false, &r.model)).await?;
        Ok((r, outbox))
    }
    .await;
    match result {
        Ok(done) => Ok(done),
        Err(e) => {
            files::discard(state, &stored).await;
            Err(e)
        }
    }
}

/// Edit a resource: a new revision with the changed metadata and files.
pub async fn update(
    state: &AppState,
    me: &Member,
    id: i64,
    input: Input,
) -> AppResult<(Resource, Outbox)> {
    let current = read::visible(state, Some(&me.actor), id).await?;
    if !read::may_edit(state, &me.actor, &current).await? {
        return Err(AppError::Forbidden(msg!("error-resource-not-editor")));
    }
    let meta = check(state, &input, Some(&current))?;
    let note = validate::optional("note", input.note.as_deref(), NOTE_MAX)?.unwrap_or_default();
    let current_files: Vec<&resource_files::Model> =
        current.files.iter().filter(|f| f.kind == "file").collect();
    for rid in &input.remove_files {
        if !current_files.iter().any(|f| f.id == *rid) {
            return Err(AppError::Unprocessable(msg!(
                "error-resource-file-unknown",
                id = rid
            )));
        }
    }
    let kept: Vec<&resource_files::Model> = current_files
        .iter()
        .copied()
        .filter(|f| !input.remove_files.contains(&f.id))
        .collect();
    let total = kept.len() + input.files.len() + meta.links.len();
    if total > state.config.resources.max_files {
        return Err(AppError::Unprocessable(msg!(
            "error-too-many",
            field = "files",
            max = state.config.resources.max_files
        )));
    }
    let publish = input.publish || current.model.state == PUBLISHED;
    if publish && total == 0 {
        return Err(AppError::Unprocessable(msg!("error-resource-no-files")));
    }
    let editors = match &input.editors {
        Some(names) => {
            if !read::is_owner_side(state, &me.actor, &current).await? {
                return Err(AppError::Forbidden(msg!("error-resource-owner-only")));
            }
            Some(editor_ids(state, names, current.model.owner_id).await?)
        }
        None => None,
    };
    let checked = check_uploads(state, &input.files)?;
    let visibility = match current.model.group_id {
        Some(g) => match groups::load(&state.db, g).await? {
            Some(g) if g.members_only() => Visibility::Group,
            _ => meta.visibility,
        },
        None if meta.visibility == Visibility::Group => {
            return Err(AppError::Unprocessable(msg!("error-resource-group-needed")));
        }
        None => meta.visibility,
    };
    let links_changed = input.links.is_some();
    let old_links: Vec<i64> = current
        .files
        .iter()
        .filter(|f| f.kind == "link")
        .map(|f| f.id)
        .collect();
    let mut new_rows: Vec<resource_files::Model> = Vec::new();
    if links_changed {
        new_rows.extend(
            meta.links
                .iter()
                .enumerate()
                .map(|(i, l)| link_row(id, l, i as i32)),
        );
    }
    let first = (meta.links.len() + kept.len()) as i32;
    let stored = files::store(state, id, checked, first).await?;
    new_rows.extend(stored.iter().cloned());
    let before_public = is_public(&current.model);
    let now = chrono::Utc::now();
    let revision = current.model.revision + 1;
    let result: AppResult<(Resource, Outbox)> = async {
        let txn = crate::db::begin(&state.db).await?;
        let mut a = current.model.clone().into_active_model();
        a.title = Set(meta.title.clone());
        a.description_html = Set(text::markdown_to_html(&meta.description));
        a.description = Set(meta.description.clone());
        a.licence = Set(meta.licence.clone());
        a.attribution = Set(meta.attribution.clone());
        a.authors = Set(serde_json::to_string(&meta.authors).map_err(AppError::internal)?);
        a.visibility = Set(visibility.as_str().into());
        a.revision = Set(revision);
        a.updated_at = Set(now);
        if publish && current.model.state == DRAFT {
            a.state = Set(PUBLISHED.into());
            a.published_at = Set(Some(now));
            if let Some(src) = current.model.derived_from_id {
                queries::resources::bump(&txn, src, resources::Column::RemixCount, 1).await?;
            }
        }
        queries::resources::update(&txn, a).await?;
        queries::resources::set_labels(&txn, id, &labels(&meta)).await?;
        let mut retired = input.remove_files.clone();
        if links_changed {
            retired.extend(old_links.iter().copied());
        }
        queries::resources::retire_files(&txn, &retired, revision).await?;
        for (i, f) in kept.iter().enumerate() {
            queries::resources::set_file_position(&txn, f.id, (meta.links.len() + i) as i32)
                .await?;
        }
        for r in &new_rows {
            queries::resources::insert_file(&txn, r.clone().into_active_model()).await?;
        }
        if let Some(e) = &editors {
            queries::resources::set_editors(&txn, id, e).await?;
        }
        let r = write_revision(&txn, state, id, Some(me.actor.id), &note).await?;
        let outbox = Outbox::commit(txn, events(before_public, &r.model)).await?;
        Ok((r, outbox))
    }
    .await;
    match result {
        Ok(done) => Ok(done),
        Err(e) => {
            files::discard(state, &stored).await;
            Err(e)
        }
    }
}

/// Publish a draft as it is.
pub async fn publish(state: &AppState, me: &Member, id: i64) -> AppResult<(Resource, Outbox)> {
    update(
        state,
        me,
        id,
        Input {
            publish: true,
            ..Default::default()
        },
    )
    .await
}

/// Delete a resource (its owner, or the moderators of its group). The row
/// stays as a tombstone; the files leave the store.
pub async fn delete(state: &AppState, me: &Member, id: i64) -> AppResult<Outbox> {
    let r = read::visible(state, Some(&me.actor), id).await?;
    if !r.model.local {
        return Err(AppError::not_found());
    }
    if !read::is_owner_side(state, &me.actor, &r).await? {
        return Err(AppError::Forbidden(msg!("error-resource-owner-only")));
    }
    let was_public = is_public(&r.model);
    let all = queries::resources::all_files_of(&state.db, id).await?;
    let txn = crate::db::begin(&state.db).await?;
    let gone = tombstone(&txn, &r.model).await?;
    let events = if was_public {
        vec![Event::ResourceWithdrawn(Box::new(gone))]
    } else {
        Vec::new()
    };
    let outbox = Outbox::commit(txn, events).await?;
    files::discard(state, &all).await;
    Ok(outbox)
}

/// Mark a resource deleted, out of the index, and no longer counted as a
/// remix of its source.
pub async fn tombstone(
    db: &impl ConnectionTrait,
    r: &resources::Model,
) -> AppResult<resources::Model> {
    let mut a = r.clone().into_active_model();
    a.deleted_at = Set(Some(chrono::Utc::now()));
    let gone = queries::resources::update(db, a).await?;
    crate::db::search::remove(db, "resource", r.id).await?;
    if let Some(src) = r.derived_from_id.filter(|_| r.state != DRAFT) {
        queries::resources::bump(db, src, resources::Column::RemixCount, -1).await?;
    }
    Ok(gone)
}
