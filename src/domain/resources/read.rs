//! Who may see and edit a resource, loading resources with their labels and
//! files, the search index entry, and the library: full-text search with
//! filters and sorts over what the viewer may see.

use super::{PUBLISHED, Resource, Snapshot, Visibility, authors_of, snapshot_of, split_labels};
use crate::{
    app::AppState,
    db::{
        entities::{actors, resource_revisions, resources},
        queries::{self, resources::Filter},
        search::{self, Document, Query},
    },
    domain::{groups, text},
    error::{AppError, AppResult},
};
use sea_orm::ConnectionTrait;

/// Load resources with their owners, groups, labels and current files.
pub async fn hydrate(
    db: &impl ConnectionTrait,
    models: Vec<resources::Model>,
) -> AppResult<Vec<Resource>> {
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let labels = queries::resources::labels_of(db, &ids).await?;
    let files = queries::resources::current_files(db, &ids).await?;
    let mut actor_ids: Vec<i64> = models.iter().map(|m| m.owner_id).collect();
    actor_ids.extend(models.iter().filter_map(|m| m.group_id));
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let actors = queries::actors::by_ids(db, &actor_ids).await?;
    let mut out = Vec::with_capacity(models.len());
    for m in models {
        let Some(owner) = actors.iter().find(|a| a.id == m.owner_id).cloned() else {
            continue;
        };
        let group = m
            .group_id
            .and_then(|g| actors.iter().find(|a| a.id == g).cloned());
        let (subjects, levels, languages, tags) = split_labels(&labels, m.id);
        out.push(Resource {
            authors: authors_of(&m),
            files: files
                .iter()
                .filter(|f| f.resource_id == m.id)
                .cloned()
                .collect(),
            model: m,
            owner,
            group,
            subjects,
            levels,
            languages,
            tags,
        });
    }
    Ok(out)
}

pub async fn load(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<Resource>> {
    let Some(m) = queries::resources::by_id(db, id).await? else {
        return Ok(None);
    };
    Ok(hydrate(db, vec![m]).await?.into_iter().next())
}

/// The owner, or a moderator of the group that owns it.
pub async fn is_owner_side(state: &AppState, me: &actors::Model, r: &Resource) -> AppResult<bool> {
    if r.model.owner_id == me.id {
        return Ok(true);
    }
    if r.owner.kind == "Group"
        && let Some(g) = groups::load(&state.db, r.owner.id).await?
    {
        return Ok(groups::role_of(&state.db, &g, me.id)
            .await?
            .is_some_and(groups::GroupRole::is_staff));
    }
    Ok(false)
}

/// The owner side or a co-editor, on a local resource.
pub async fn may_edit(state: &AppState, me: &actors::Model, r: &Resource) -> AppResult<bool> {
    if !r.model.local || r.model.deleted_at.is_some() {
        return Ok(false);
    }
    Ok(is_owner_side(state, me, r).await?
        || queries::resources::editors(&state.db, r.id())
            .await?
            .contains(&me.id))
}

/// May `viewer` (None: anonymous) see this resource?
pub async fn may_read(
    state: &AppState,
    viewer: Option<&actors::Model>,
    r: &Resource,
) -> AppResult<bool> {
    if r.model.deleted_at.is_some() {
        return Ok(false);
    }
    if let Some(v) = viewer
        && may_edit(state, v, r).await?
    {
        return Ok(true);
    }
    if r.model.state != PUBLISHED {
        return Ok(false);
    }
    match r.visibility() {
        Visibility::Public => Ok(true),
        Visibility::Instance => {
            Ok(r.model.local && viewer.is_some_and(|v| v.local && v.kind == "Person"))
        }
        Visibility::Group => {
            let (Some(v), Some(gid)) = (viewer, r.model.group_id) else {
                return Ok(false);
            };
            match groups::load(&state.db, gid).await? {
                Some(g) => groups::is_member(&state.db, &g, v.id).await,
                None => Ok(false),
            }
        }
    }
}

/// A resource the viewer may see, or 404 (never 403: its existence is not
/// revealed).
pub async fn visible(
    state: &AppState,
    viewer: Option<&actors::Model>,
    id: i64,
) -> AppResult<Resource> {
    let r = load(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    if may_read(state, viewer, &r).await? {
        Ok(r)
    } else {
        Err(AppError::not_found())
    }
}

/// Put a resource in the search index (or take it out once deleted).
pub async fn index(db: &impl ConnectionTrait, r: &Resource) -> AppResult<()> {
    if r.model.deleted_at.is_some() {
        search::remove(db, "resource", r.id()).await?;
        return Ok(());
    }
    let mut body = text::html_to_text(&r.model.description_html);
    for extra in r.authors.iter().chain([&r.model.attribution]) {
        body.push('\n');
        body.push_str(extra);
    }
    let mut tags: Vec<String> = r.subjects.clone();
    tags.extend(r.levels.iter().cloned());
    tags.extend(r.tags.iter().cloned());
    tags.extend(r.files.iter().map(|f| f.name.clone()));
    search::upsert(
        db,
        Document {
            kind: "resource",
            item_id: r.id(),
            title: r.model.title.clone(),
            body,
            tags,
            language: r.languages.first().cloned(),
            public: r.model.state == PUBLISHED && r.visibility() == Visibility::Public,
            group_id: r.model.group_id,
            origin: r.model.origin.clone(),
        },
    )
    .await?;
    Ok(())
}

pub use queries::resources::Sort;

impl Sort {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "" | "newest" => Some(Self::Newest),
            "downloads" => Some(Self::Downloads),
            "remixes" | "used" => Some(Self::Remixes),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Downloads => "downloads",
            Self::Remixes => "remixes",
        }
    }
}

/// A library view.
#[derive(Debug, Clone, Default)]
pub struct Library {
    pub text: String,
    pub subject: Option<String>,
    pub level: Option<String>,
    pub licence: Option<String>,
    pub language: Option<String>,
    pub group_id: Option<i64>,
    /// Resources from this server (`host[:port]`).
    pub instance: Option<String>,
    pub owner_id: Option<i64>,
    /// Include the viewer's own drafts.
    pub drafts: bool,
    pub sort: Sort,
    pub limit: u64,
    pub offset: u64,
}

/// The library: what the viewer may see, matching the query.
pub async fn library(
    state: &AppState,
    viewer: Option<&actors::Model>,
    q: &Library,
) -> AppResult<Vec<Resource>> {
    let ids = if q.text.trim().is_empty() {
        None
    } else {
        let hits = search::search(
            &state.db,
            &Query {
                text: &q.text,
                kinds: &["resource"],
                public_only: viewer.is_none(),
                limit: 500,
                offset: 0,
                ..Default::default()
            },
        )
        .await?;
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        Some(hits.into_iter().map(|h| h.item_id).collect())
    };
    let member = viewer.is_some_and(|v| v.local && v.kind == "Person");
    let groups = match viewer {
        Some(v) => queries::resources::member_group_ids(&state.db, v.id).await?,
        None => Vec::new(),
    };
    let filter = Filter {
        ids,
        subject: q.subject.clone(),
        level: q.level.clone(),
        language: q.language.clone(),
        licence: q.licence.clone(),
        group_id: q.group_id,
        origin: q.instance.clone(),
        owner_id: q.owner_id,
        drafts_of: viewer.filter(|_| q.drafts).map(|v| v.id),
        member,
        groups,
        sort: q.sort,
        limit: q.limit,
        offset: q.offset,
    };
    let models = queries::resources::list(&state.db, &filter).await?;
    hydrate(&state.db, models).await
}

/// Resources remixed from this one that the viewer may see.
pub async fn remixes(
    state: &AppState,
    viewer: Option<&actors::Model>,
    r: &Resource,
) -> AppResult<Vec<Resource>> {
    let list = hydrate(
        &state.db,
        queries::resources::remixes(&state.db, r.id()).await?,
    )
    .await?;
    let mut out = Vec::new();
    for x in list {
        if may_read(state, viewer, &x).await? {
            out.push(x);
        }
    }
    Ok(out)
}

/// The source a resource was remixed from, when the viewer may see it.
pub async fn source(
    state: &AppState,
    viewer: Option<&actors::Model>,
    r: &Resource,
) -> AppResult<Option<Resource>> {
    let Some(id) = r.model.derived_from_id else {
        return Ok(None);
    };
    let Some(s) = load(&state.db, id).await? else {
        return Ok(None);
    };
    Ok(may_read(state, viewer, &s).await?.then_some(s))
}

/// Every revision, newest first.
pub async fn revisions(
    state: &AppState,
    r: &Resource,
) -> AppResult<Vec<resource_revisions::Model>> {
    Ok(queries::resources::revisions(&state.db, r.id()).await?)
}

/// The snapshot of one revision, or 404.
pub async fn revision(
    state: &AppState,
    r: &Resource,
    number: i32,
) -> AppResult<(resource_revisions::Model, Snapshot)> {
    let rev = queries::resources::revision(&state.db, r.id(), number)
        .await?
        .ok_or_else(AppError::not_found)?;
    let snap = snapshot_of(&rev.snapshot);
    Ok((rev, snap))
}

/// Co-editors' actors.
pub async fn editors(state: &AppState, r: &Resource) -> AppResult<Vec<actors::Model>> {
    let ids = queries::resources::editors(&state.db, r.id()).await?;
    Ok(queries::actors::by_ids(&state.db, &ids).await?)
}
