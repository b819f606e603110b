//! What a member sends to create or edit a resource, and its checks:
//! lengths, the controlled lists of subjects and levels, language codes,
//! links, co-editors, the group and the source of a remix.

use super::{
    ATTRIBUTION_MAX, AUTHOR_MAX, AUTHORS_MAX, DESCRIPTION_MAX, LANGUAGES_MAX, LINK_MAX, Resource,
    TAG_MAX, TAGS_MAX, TITLE_MAX, Visibility, files, read,
};
use crate::{
    app::AppState,
    db::{
        entities::{resource_files, resources},
        ids, queries,
    },
    domain::{accounts::Member, groups, validate},
    error::{AppError, AppResult},
    msg,
};

/// An external link of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInput {
    pub url: String,
    pub title: Option<String>,
}

/// What a member sends to create or edit a resource. `None` on an edit
/// keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub title: Option<String>,
    pub description: Option<String>,
    pub licence: Option<String>,
    pub attribution: Option<String>,
    pub authors: Option<Vec<String>>,
    pub subjects: Option<Vec<String>>,
    pub levels: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub visibility: Option<String>,
    /// Replaces the links when given.
    pub links: Option<Vec<LinkInput>>,
    /// Files to add.
    pub files: Vec<files::Upload>,
    /// Ids of current files to drop.
    pub remove_files: Vec<i64>,
    /// Usernames of local co-editors (owner side only); replaces the list.
    pub editors: Option<Vec<String>>,
    /// What changed, for the revision list.
    pub note: Option<String>,
    /// Publish now (a draft otherwise, or stays as it is on an edit).
    pub publish: bool,
}

/// Where a new resource goes.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// The group it is shared in.
    pub group_id: Option<i64>,
    /// Owned by the group rather than by its author (group moderators).
    pub owned_by_group: bool,
    /// A resource it is derived from: a local id, or a URL (ours or another
    /// server's).
    pub derived_from: Option<String>,
}

/// Validated metadata.
#[derive(Debug, Clone)]
pub(super) struct Meta {
    pub(super) title: String,
    pub(super) description: String,
    pub(super) licence: String,
    pub(super) attribution: String,
    pub(super) authors: Vec<String>,
    pub(super) subjects: Vec<String>,
    pub(super) levels: Vec<String>,
    pub(super) languages: Vec<String>,
    pub(super) tags: Vec<String>,
    pub(super) visibility: Visibility,
    pub(super) links: Vec<LinkInput>,
}

pub(super) fn clean_list(
    field: &'static str,
    list: Vec<String>,
    max_items: usize,
    max_len: usize,
) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in &list {
        let Some(v) = validate::optional(field, Some(item), max_len)? else {
            continue;
        };
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.len() > max_items {
        return Err(AppError::Unprocessable(msg!(
            "error-too-many",
            field = field,
            max = max_items
        )));
    }
    Ok(out)
}

pub(super) fn controlled(
    field: &'static str,
    list: Vec<String>,
    allowed: &[String],
) -> AppResult<Vec<String>> {
    let values = clean_list(field, list, allowed.len().max(1), 50)?;
    let mut out = Vec::new();
    for v in values {
        let v = v.to_lowercase();
        if !allowed.contains(&v) {
            return Err(AppError::Unprocessable(msg!(
                "error-resource-vocabulary",
                field = field,
                value = v,
                choices = allowed.join(", ")
            )));
        }
        out.push(v);
    }
    Ok(out)
}

pub(super) fn languages(list: Vec<String>) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for l in clean_list("languages", list, LANGUAGES_MAX, 10)? {
        let l = l.to_lowercase();
        let ok = (2..=3).contains(&l.split('-').next().unwrap_or("").len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(AppError::Unprocessable(msg!(
                "error-language-code",
                code = l
            )));
        }
        out.push(l);
    }
    Ok(out)
}

pub(super) fn tags(list: Vec<String>) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for t in clean_list("tags", list, TAGS_MAX, TAG_MAX)? {
        let t: String = t
            .trim_start_matches('#')
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect::<String>()
            .to_lowercase();
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

pub(super) fn links(list: Vec<LinkInput>, max: usize) -> AppResult<Vec<LinkInput>> {
    let mut out = Vec::new();
    for l in list {
        let raw = l.url.trim();
        if raw.is_empty() {
            continue;
        }
        if raw.len() > LINK_MAX {
            return Err(validate::too_long("links", LINK_MAX));
        }
        let url = url::Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                AppError::Unprocessable(msg!(
                    "error-resource-link",
                    url = raw.chars().take(80).collect::<String>()
                ))
            })?;
        let title = validate::optional("link title", l.title.as_deref(), TITLE_MAX)?;
        out.push(LinkInput {
            url: url.to_string(),
            title,
        });
    }
    if out.len() > max {
        return Err(AppError::Unprocessable(msg!(
            "error-too-many",
            field = "links",
            max = max
        )));
    }
    Ok(out)
}

/// Merge an input over the current values (or the defaults) and check it.
pub(super) fn check(
    state: &AppState,
    input: &Input,
    current: Option<&Resource>,
) -> AppResult<Meta> {
    let cfg = &state.config.resources;
    let title = match (&input.title, current) {
        (Some(t), _) => validate::optional("title", Some(t), TITLE_MAX)?,
        (None, Some(c)) => Some(c.model.title.clone()),
        (None, None) => None,
    }
    .ok_or_else(|| AppError::Unprocessable(msg!("error-field-required", field = "title")))?;
    let description = match (&input.description, current) {
        (Some(d), _) => {
            let d = d.trim().to_string();
            if d.chars().count() > DESCRIPTION_MAX {
                return Err(validate::too_long("description", DESCRIPTION_MAX));
            }
            d
        }
        (None, Some(c)) => c.model.description.clone(),
        (None, None) => String::new(),
    };
    let licence = match (&input.licence, current) {
        (Some(l), _) => super::licence(l)?.id.to_string(),
        (None, Some(c)) => c.model.licence.clone(),
        (None, None) => {
            return Err(AppError::Unprocessable(msg!(
                "error-field-required",
                field = "licence"
            )));
        }
    };
    let attribution = match (&input.attribution, current) {
        (Some(a), _) => {
            validate::optional("attribution", Some(a), ATTRIBUTION_MAX)?.unwrap_or_default()
        }
        (None, Some(c)) => c.model.attribution.clone(),
        (None, None) => String::new(),
    };
    let pick = |given: &Option<Vec<String>>, now: Option<&Vec<String>>| -> Vec<String> {
        given.clone().or_else(|| now.cloned()).unwrap_or_default()
    };
    let authors = clean_list(
        "authors",
        pick(&input.authors, current.map(|c| &c.authors)),
        AUTHORS_MAX,
        AUTHOR_MAX,
    )?;
    let subjects = controlled(
        "subjects",
        pick(&input.subjects, current.map(|c| &c.subjects)),
        &cfg.subjects,
    )?;
    let levels = controlled(
        "levels",
        pick(&input.levels, current.map(|c| &c.levels)),
        &cfg.levels,
    )?;
    let languages = languages(pick(&input.languages, current.map(|c| &c.languages)))?;
    let tags = tags(pick(&input.tags, current.map(|c| &c.tags)))?;
    let visibility = match (&input.visibility, current) {
        (Some(v), _) => Visibility::parse(v)?,
        (None, Some(c)) => c.visibility(),
        (None, None) => Visibility::Public,
    };
    let current_links: Vec<LinkInput> = current
        .map(|c| {
            c.files
                .iter()
                .filter(|f| f.kind == "link")
                .map(|f| LinkInput {
                    url: f.remote_url.clone().unwrap_or_default(),
                    title: Some(f.name.clone()),
                })
                .collect()
        })
        .unwrap_or_default();
    let links = match &input.links {
        Some(l) => links(l.clone(), cfg.max_files)?,
        None => current_links,
    };
    Ok(Meta {
        title,
        description,
        licence,
        attribution,
        authors,
        subjects,
        levels,
        languages,
        tags,
        visibility,
        links,
    })
}

pub(super) fn check_uploads(
    state: &AppState,
    uploads: &[files::Upload],
) -> AppResult<Vec<files::Checked>> {
    uploads
        .iter()
        .map(|u| files::check(state, u.clone()))
        .collect()
}

pub(super) fn labels(m: &Meta) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    out.extend(m.subjects.iter().map(|v| ("subject", v.clone())));
    out.extend(m.levels.iter().map(|v| ("level", v.clone())));
    out.extend(m.languages.iter().map(|v| ("language", v.clone())));
    out.extend(m.tags.iter().map(|v| ("tag", v.clone())));
    out
}

pub(super) fn link_row(resource_id: i64, l: &LinkInput, position: i32) -> resource_files::Model {
    let name = l.title.clone().unwrap_or_else(|| {
        url::Url::parse(&l.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| l.url.clone())
    });
    resource_files::Model {
        id: ids::next_id(),
        resource_id,
        kind: "link".into(),
        name,
        storage_key: None,
        remote_url: Some(l.url.clone()),
        content_type: "text/html".into(),
        size: 0,
        width: None,
        height: None,
        sha256: String::new(),
        position,
        removed_in: None,
        created_at: chrono::Utc::now(),
    }
}

/// Local co-editors from usernames: active local people, not the owner.
pub(super) async fn editor_ids(
    state: &AppState,
    names: &[String],
    owner: i64,
) -> AppResult<Vec<i64>> {
    let mut out = Vec::new();
    for n in names.iter().flat_map(|n| n.split([',', ' ', '\n'])) {
        let n = n.trim().trim_start_matches('@');
        let n = n
            .strip_suffix(&format!("@{}", state.urls.domain()))
            .unwrap_or(n)
            .to_lowercase();
        if n.is_empty() {
            continue;
        }
        let a = queries::actors::local_by_username(&state.db, &n)
            .await?
            .filter(|a| a.kind == "Person" && a.deleted_at.is_none())
            .ok_or_else(|| AppError::Unprocessable(msg!("error-resource-editor", name = n)))?;
        if a.id != owner && !out.contains(&a.id) {
            out.push(a.id);
        }
    }
    if out.len() > AUTHORS_MAX {
        return Err(AppError::Unprocessable(msg!(
            "error-too-many",
            field = "editors",
            max = AUTHORS_MAX
        )));
    }
    Ok(out)
}

/// Find what a new resource derives from: a local id, our URL, or a
/// remote resource's id (kept as a reference even when we do not have it).
pub(super) async fn derived(
    state: &AppState,
    me: &Member,
    raw: &str,
) -> AppResult<(Option<resources::Model>, Option<String>)> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok((None, None));
    }
    let local_id = raw.parse::<i64>().ok().or_else(|| {
        raw.strip_prefix(&format!("{}/resources/", state.urls.base()))
            .and_then(|rest| rest.split(['/', '?', '#']).next())
            .and_then(|id| id.parse().ok())
    });
    if let Some(id) = local_id {
        let r = read::visible(state, Some(&me.actor), id).await?;
        return Ok((Some(r.model.clone()), Some(r.model.ap_id)));
    }
    let url = url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            AppError::Unprocessable(msg!(
                "error-resource-link",
                url = raw.chars().take(80).collect::<String>()
            ))
        })?;
    let known = queries::resources::by_ap_id(&state.db, url.as_str())
        .await?
        .filter(|r| r.deleted_at.is_none());
    Ok((known, Some(url.to_string())))
}

pub(super) async fn group_for(
    state: &AppState,
    me: &Member,
    group_id: Option<i64>,
) -> AppResult<Option<groups::Group>> {
    let Some(gid) = group_id else {
        return Ok(None);
    };
    let g = groups::load(&state.db, gid)
        .await?
        .filter(groups::Group::local)
        .ok_or_else(AppError::not_found)?;
    if !groups::is_member(&state.db, &g, me.actor.id).await? {
        return Err(AppError::Forbidden(msg!("error-group-members-only")));
    }
    Ok(Some(g))
}
