//! Resources as ActivityStreams `Page` objects, in both directions.
//!
//! Mastodon turns a `Page` into a status built from its `name`, `summary`
//! and `url` alone (a `Document` would be dropped, and a `Page`'s `content`
//! is ignored), so `summary` carries what a teacher needs in a timeline: the
//! first line of the description, the licence with its link and the credit.
//! `content` is the same card with the title and the link, for servers that
//! show `content` (Lemmy, Misskey, Pleroma). The full description travels
//! as Markdown in `source`; licence, attribution, authors, subjects,
//! education levels and languages travel in `license` and Staffroom's own
//! terms, subjects and levels also as hashtags. Only published public
//! resources are ever sent.

use crate::{
    app::AppState,
    db::{entities::actors, queries},
    domain::{
        events::Event,
        resources::{
            self, Resource, files,
            remote::{RemoteFile, RemoteResource},
        },
        text,
    },
    error::{AppError, AppResult},
    federation::{
        actors::ApubActor,
        error::FedError,
        protocol::{PUBLIC, id_of, items, url_of},
        publish::{enqueue, follower_inboxes, inbox_of},
    },
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use url::Url;

/// The first line of a description, at most 280 characters.
fn first_line(markdown_or_text: &str) -> String {
    let plain = text::html_to_text(&text::markdown_to_html(markdown_or_text));
    let line = plain
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    if line.chars().count() > 280 {
        format!("{}…", line.chars().take(279).collect::<String>().trim_end())
    } else {
        line.to_string()
    }
}

fn hashtag(state: &AppState, kind: &str, value: &str) -> Value {
    let name: String = value
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let href = match kind {
        "tag" => format!("{}/tags/{value}", state.urls.base()),
        k => format!("{}/resources?{k}={value}", state.urls.base()),
    };
    json!({ "type": "Hashtag", "href": href, "name": format!("#{name}") })
}

/// The `Page` of one of our resources.
pub fn document(state: &AppState, r: &Resource) -> Value {
    let licence = r.licence();
    let url = r.model.url.clone().unwrap_or_else(|| r.model.ap_id.clone());
    let mut summary = String::new();
    let line = first_line(&r.model.description);
    if !line.is_empty() {
        summary.push_str(&format!(
            "<p>{}</p>",
            crate::domain::text::escape_html(&line)
        ));
    }
    let licence_html = match licence.uri {
        Some(u) => format!(
            r#"<a href="{u}" rel="license">{}</a>"#,
            crate::domain::text::escape_html(licence.name)
        ),
        None => crate::domain::text::escape_html(licence.name),
    };
    let credit = if !r.model.attribution.is_empty() {
        format!(
            " · {}",
            crate::domain::text::escape_html(&r.model.attribution)
        )
    } else if !r.authors.is_empty() {
        format!(
            " · {}",
            crate::domain::text::escape_html(&r.authors.join(", "))
        )
    } else {
        String::new()
    };
    summary.push_str(&format!("<p>📄 {licence_html}{credit}</p>"));
    let card = format!(
        r#"<p><strong>{}</strong></p>{summary}<p><a href="{1}">{1}</a></p>"#,
        crate::domain::text::escape_html(&r.model.title),
        crate::domain::text::escape_html(&url)
    );
    let mut attachment: Vec<Value> = Vec::new();
    for f in &r.files {
        let href = files::url(state, f);
        if f.kind == "link" {
            attachment.push(
                json!({ "type": "Link", "href": href, "name": f.name, "mediaType": "text/html" }),
            );
        } else {
            let mut doc = json!({ "type": "Document", "mediaType": f.content_type, "url": href, "name": f.name, "size": f.size });
            if let (Some(w), Some(h)) = (f.width, f.height) {
                doc["width"] = json!(w);
                doc["height"] = json!(h);
            }
            attachment.push(doc);
        }
    }
    let mut tag: Vec<Value> = Vec::new();
    tag.extend(r.subjects.iter().map(|s| hashtag(state, "subject", s)));
    tag.extend(r.levels.iter().map(|s| hashtag(state, "level", s)));
    tag.extend(r.tags.iter().map(|s| hashtag(state, "tag", s)));
    let mut cc: Vec<String> = r.owner.followers_url.clone().into_iter().collect();
    if let Some(g) = &r.group {
        cc.push(g.ap_id.clone());
    }
    let mut doc = json!({
        "id": r.model.ap_id,
        "type": "Page",
        "learningResource": true,
        "attributedTo": r.owner.ap_id,
        "to": [PUBLIC],
        "cc": cc,
        "name": r.model.title,
        "summary": summary,
        "content": card,
        "source": { "content": r.model.description, "mediaType": "text/markdown" },
        "url": url,
        "attachment": attachment,
        "tag": tag,
        "attribution": r.model.attribution,
        "authors": r.authors,
        "subjects": r.subjects,
        "educationLevels": r.levels,
        "languages": r.languages,
        "published": r.model.published_at.unwrap_or(r.model.created_at),
        "updated": r.model.updated_at,
        "sensitive": false,
    });
    if let Some(u) = licence.uri {
        doc["license"] = json!(u);
    }
    if let Some(l) = r.languages.first() {
        doc["contentMap"] = json!({ l: card });
    }
    if let Some(g) = &r.group {
        doc["audience"] = json!(g.ap_id);
    }
    if let Some(d) = &r.model.derived_from_ap_id {
        doc["wasDerivedFrom"] = json!(d);
    }
    doc
}

/// The remote owner of the resource this one remixes: the source's server
/// must hear of the remix so that its page lists it and counts it, as the
/// author of a post hears of a reply.
async fn remote_source_owner(state: &AppState, r: &Resource) -> AppResult<Option<actors::Model>> {
    let Some(source) = r.model.derived_from_id else {
        return Ok(None);
    };
    let Some(source) = queries::resources::by_id(&state.db, source).await? else {
        return Ok(None);
    };
    if source.local {
        return Ok(None);
    }
    queries::actors::by_id(&state.db, source.owner_id)
        .await
        .map_err(Into::into)
}

/// Remote inboxes that hear about a resource: the owner's followers, the
/// owner of a remote source and, in a group, the group's members; public
/// ones also go to our portals.
async fn audience(
    state: &AppState,
    r: &Resource,
    source_owner: Option<&actors::Model>,
) -> AppResult<BTreeSet<String>> {
    let mut out = follower_inboxes(state, r.model.owner_id).await?;
    out.extend(source_owner.and_then(inbox_of));
    if let Some(g) = r.model.group_id
        && g != r.model.owner_id
    {
        out.extend(follower_inboxes(state, g).await?);
    }
    if r.model.local && r.visibility() == resources::Visibility::Public {
        out.extend(crate::federation::relay::portal_inboxes(state).await?);
    }
    Ok(out)
}

/// Turn a resource event into activities in the delivery queue.
pub async fn publish(state: &AppState, event: &Event) -> AppResult<()> {
    match event {
        Event::ResourcePublished(id) | Event::ResourceUpdated(id) => {
            let r = resources::load(&state.db, *id)
                .await?
                .ok_or_else(AppError::not_found)?;
            // Only what anyone may see leaves the instance.
            if !r.model.local
                || r.is_draft()
                || r.visibility() != resources::Visibility::Public
                || r.model.deleted_at.is_some()
            {
                return Ok(());
            }
            let mut doc = document(state, &r);
            let source_owner = remote_source_owner(state, &r).await?;
            if let Some(owner) = &source_owner
                && let Some(cc) = doc["cc"].as_array_mut()
            {
                cc.push(json!(owner.ap_id));
            }
            let (kind, activity_id) = match event {
                Event::ResourcePublished(_) => (
                    "Create",
                    format!("{}/activity/{}", r.model.ap_id, r.model.revision),
                ),
                _ => (
                    "Update",
                    format!("{}#updates/{}", r.model.ap_id, r.model.revision),
                ),
            };
            let activity = json!({
                "id": activity_id,
                "type": kind,
                "actor": r.owner.ap_id,
                "published": r.model.updated_at,
                "to": doc["to"],
                "cc": doc["cc"],
                "object": doc,
            });
            let inboxes = audience(state, &r, source_owner.as_ref()).await?;
            enqueue(
                state,
                &r.owner,
                kind,
                Some(&r.model.ap_id),
                activity,
                inboxes,
            )
            .await
        }
        Event::ResourceWithdrawn(m) => {
            let Some(r) = resources::read::hydrate(&state.db, vec![(**m).clone()])
                .await?
                .into_iter()
                .next()
            else {
                return Ok(());
            };
            let activity = json!({
                "id": format!("{}#delete/{}", r.model.ap_id, crate::db::ids::next_id()),
                "type": "Delete",
                "actor": r.owner.ap_id,
                "to": [PUBLIC],
                "cc": r.owner.followers_url.clone().into_iter().collect::<Vec<_>>(),
                "object": { "id": r.model.ap_id, "type": "Tombstone" },
            });
            let source_owner = remote_source_owner(state, &r).await?;
            let inboxes = audience(state, &r, source_owner.as_ref()).await?;
            enqueue(
                state,
                &r.owner,
                "Delete",
                Some(&r.model.ap_id),
                activity,
                inboxes,
            )
            .await
        }
        _ => Ok(()),
    }
}

/// Is this object a teaching resource (ours or another server's)?
pub fn is_resource(object: &Value) -> bool {
    let kind = crate::federation::protocol::type_of(object).unwrap_or_default();
    matches!(kind.as_str(), "Page" | "Document")
        && (object.get("learningResource").and_then(Value::as_bool) == Some(true)
            || object.get("license").is_some())
}

fn strings(v: Option<&Value>, max: usize, len: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in items(v).iter().filter_map(Value::as_str) {
        let s: String = s.trim().chars().take(len).collect();
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
        if out.len() >= max {
            break;
        }
    }
    out
}

fn files_of(object: &Value, max: usize) -> Vec<RemoteFile> {
    let mut out = Vec::new();
    for a in items(object.get("attachment")) {
        let kind = crate::federation::protocol::type_of(&a).unwrap_or_default();
        let Some(url) = a
            .get("url")
            .and_then(url_of)
            .or_else(|| a.get("href").and_then(url_of))
        else {
            continue;
        };
        let name: String = a
            .get("name")
            .and_then(Value::as_str)
            .map(|n| n.chars().take(resources::TITLE_MAX).collect())
            .unwrap_or_else(|| url.path().rsplit('/').next().unwrap_or("file").to_string());
        let media_type: String = a
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or("application/octet-stream")
            .chars()
            .take(100)
            .collect();
        let is_link = kind == "Link" || media_type.starts_with("text/html");
        out.push(RemoteFile {
            kind: if is_link { "link" } else { "file" }.into(),
            url: url.to_string(),
            name,
            media_type: if is_link {
                "text/html".into()
            } else {
                media_type
            },
            size: a.get("size").and_then(Value::as_i64).unwrap_or(0).max(0),
        });
        if out.len() >= max {
            break;
        }
    }
    out
}

/// The hashtag's form of a label (what `hashtag` puts in `name`).
fn tag_form(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The free tags of a resource: its hashtags, less those that stand for
/// its subjects and education levels (sent as hashtags too).
fn free_tags(object: &Value, subjects: &[String], levels: &[String]) -> Vec<String> {
    let labels: Vec<String> = subjects.iter().chain(levels).map(|s| tag_form(s)).collect();
    let mut out: Vec<String> = Vec::new();
    for t in items(object.get("tag")) {
        if t.get("type").and_then(Value::as_str) != Some("Hashtag") {
            continue;
        }
        let Some(name) = t.get("name").and_then(Value::as_str) else {
            continue;
        };
        // Cleaned as our own members' tags are.
        let name: String = name
            .trim_start_matches('#')
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .flat_map(char::to_lowercase)
            .collect();
        let form = tag_form(&name);
        if form.is_empty() || name.chars().count() > 50 || labels.contains(&form) {
            continue;
        }
        if !out.contains(&name) {
            out.push(name);
        }
        if out.len() >= 20 {
            break;
        }
    }
    out
}

/// Store a resource another server sent (Create or Update from its owner).
pub async fn receive(
    data: &Data<AppState>,
    actor: &actors::Model,
    object: &Value,
) -> Result<(), FedError> {
    let id = id_of(object).ok_or_else(|| FedError::invalid("resource without id"))?;
    let owner_id = object
        .get("attributedTo")
        .and_then(id_of)
        .ok_or_else(|| FedError::invalid("resource without attributedTo"))?;
    let actor_url = Url::parse(&actor.ap_id)?;
    if owner_id != actor_url || !crate::federation::protocol::same_origin(&id, &actor_url) {
        return Err(FedError::forbidden("only the owner can publish a resource"));
    }
    let owner = ObjectId::<ApubActor>::from(owner_id)
        .dereference(data)
        .await?
        .model;
    if owner.local {
        return Err(FedError::forbidden(
            "a remote resource cannot belong to a local actor",
        ));
    }
    // Only public resources are sent; anything else is not for a library.
    let to = crate::federation::protocol::ids_of(object.get("to").unwrap_or(&Value::Null));
    let cc = crate::federation::protocol::ids_of(object.get("cc").unwrap_or(&Value::Null));
    if !to
        .iter()
        .chain(&cc)
        .any(|a| crate::federation::protocol::is_public(a))
    {
        return Ok(());
    }
    let text_field = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or_default();
    let title: String = text::html_to_text(text_field("name"))
        .chars()
        .take(resources::TITLE_MAX)
        .collect();
    let title = if title.trim().is_empty() {
        id.to_string()
    } else {
        title
    };
    let markdown = object
        .get("source")
        .filter(|s| s.get("mediaType").and_then(Value::as_str) == Some("text/markdown"))
        .and_then(|s| s.get("content"))
        .and_then(Value::as_str);
    let description_html = match markdown {
        Some(md) => text::markdown_to_html(
            &md.chars()
                .take(resources::DESCRIPTION_MAX)
                .collect::<String>(),
        ),
        None => text::sanitize_html(text_field("content")),
    };
    let licence = resources::by_uri(
        object
            .get("license")
            .and_then(|l| {
                l.as_str()
                    .map(str::to_string)
                    .or_else(|| id_of(l).map(|u| u.to_string()))
            })
            .as_deref(),
    );
    let group_id = match object.get("audience").and_then(id_of) {
        Some(g) => queries::actors::by_ap_id(&data.db, g.as_str())
            .await?
            .filter(|a| a.kind == "Group")
            .map(|a| a.id),
        None => None,
    };
    let date = |k: &str| {
        object
            .get(k)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok())
    };
    let max = data.config.resources.max_files;
    let subjects = strings(object.get("subjects"), 20, 50);
    let levels = strings(object.get("educationLevels"), 20, 50);
    let tags = free_tags(object, &subjects, &levels);
    let remote = RemoteResource {
        ap_id: id.to_string(),
        url: object.get("url").and_then(url_of).map(|u| u.to_string()),
        owner,
        group_id,
        title,
        description_html,
        licence: licence.id.to_string(),
        attribution: text::html_to_text(text_field("attribution"))
            .chars()
            .take(resources::ATTRIBUTION_MAX)
            .collect(),
        authors: strings(
            object.get("authors"),
            resources::AUTHORS_MAX,
            resources::AUTHOR_MAX,
        ),
        subjects,
        levels,
        languages: strings(object.get("languages"), resources::LANGUAGES_MAX, 10),
        tags,
        derived_from: object
            .get("wasDerivedFrom")
            .and_then(id_of)
            .map(|u| u.to_string()),
        files: files_of(object, max),
        published: date("published").unwrap_or_else(chrono::Utc::now),
        updated: date("updated"),
    };
    resources::remote::upsert(data, remote).await?;
    Ok(())
}
