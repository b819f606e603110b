//! Posts arriving from other servers: the lenient `Note` checked and turned
//! into a `RemotePost` (author, audience, thread, group, mentions, hashtags,
//! sanitised HTML, files and polls) for the domain to store.

use super::*;

/// Attachments of a post: documents with a URL and a media type (Link
/// attachments without a media type, as Lemmy sends, are not files).
fn attachments_of(list: &[Value]) -> Vec<posts::RemoteAttachment> {
    list.iter()
        .filter_map(|a| {
            let url = a
                .get("url")
                .and_then(crate::federation::protocol::url_of)
                .or_else(|| a.get("href").and_then(crate::federation::protocol::url_of))?;
            let media_type = a
                .get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| match a.get("type").and_then(Value::as_str) {
                    Some("Image") => Some("image/jpeg".to_string()),
                    Some("Video") => Some("video/mp4".to_string()),
                    Some("Audio") => Some("audio/mpeg".to_string()),
                    _ => None,
                })?;
            if !matches!(url.scheme(), "http" | "https") {
                return None;
            }
            let focus = a.get("focalPoint").and_then(Value::as_array).and_then(|f| {
                Some((
                    f.first()?.as_f64()?.clamp(-1.0, 1.0),
                    f.get(1)?.as_f64()?.clamp(-1.0, 1.0),
                ))
            });
            let int = |k: &str| {
                a.get(k)
                    .and_then(Value::as_i64)
                    .and_then(|v| i32::try_from(v).ok())
            };
            Some(posts::RemoteAttachment {
                url: url.to_string(),
                media_type: media_type.chars().take(100).collect(),
                description: a
                    .get("name")
                    .or_else(|| a.get("summary"))
                    .and_then(Value::as_str)
                    .map(|d| {
                        d.chars()
                            .take(crate::domain::media::DESCRIPTION_MAX)
                            .collect()
                    }),
                width: int("width"),
                height: int("height"),
                focus,
                blurhash: a
                    .get("blurhash")
                    .and_then(Value::as_str)
                    .map(|b| b.chars().take(100).collect()),
            })
        })
        .take(crate::domain::media::MAX_ATTACHMENTS)
        .collect()
}

/// The poll of a `Question`: option names and their vote counts.
fn poll_of(json: &Note) -> Option<posts::RemotePoll> {
    let (items, multiple) = if !json.any_of.is_empty() {
        (&json.any_of, true)
    } else {
        (&json.one_of, false)
    };
    if json.kind != "Question" || items.is_empty() {
        return None;
    }
    let mut options = Vec::new();
    let mut counts = Vec::new();
    for o in items.iter().take(crate::domain::polls::MAX_OPTIONS * 4) {
        let name = o
            .get("name")
            .or_else(|| o.get("content"))
            .and_then(Value::as_str)?;
        options.push(
            name.chars()
                .take(crate::domain::polls::OPTION_MAX_CHARS * 2)
                .collect(),
        );
        counts.push(
            o.get("replies")
                .and_then(|r| r.get("totalItems"))
                .and_then(Value::as_u64)
                .unwrap_or(0),
        );
    }
    let closed_at = match &json.closed {
        Some(Value::String(s)) => s.parse::<DateTime<Utc>>().ok(),
        Some(Value::Bool(true)) => Some(Utc::now()),
        _ => None,
    };
    Some(posts::RemotePoll {
        options,
        counts,
        multiple,
        expires_at: json.end_time,
        closed_at,
        voters: json.voters_count.and_then(|v| i32::try_from(v).ok()),
    })
}

/// Turn a received post into a stored one: author, addressing, thread,
/// mentions and hashtags resolved, HTML sanitised.
pub async fn store_remote(data: &Data<AppState>, json: Note) -> Result<statuses::Model, FedError> {
    let author_id = json
        .author_id()
        .ok_or_else(|| FedError::invalid("object has no author"))?;
    let author = ObjectId::<ApubActor>::from(author_id)
        .dereference(data)
        .await?
        .model;
    if author.local {
        return Err(FedError::forbidden(
            "a remote object cannot be attributed to a local actor",
        ));
    }
    let visibility =
        Visibility::from_addressing(&json.to, &json.cc, author.followers_url.as_deref());
    let in_reply_to_ap = json.in_reply_to_id();
    // The parent is fetched if unknown; the library's per-request fetch limit
    // bounds how far up a chain (or round a cycle) this may go. A parent that
    // cannot be had leaves the reply unattached, not lost.
    let parent = match &in_reply_to_ap {
        Some(p) => {
            match Box::pin(ObjectId::<ApubStatus>::from(p.clone()).dereference(data)).await {
                Ok(s) => Some(s.model),
                Err(e) => {
                    tracing::debug!(parent = %p, error = %e, "reply parent not available");
                    queries::statuses::by_ap_id(&data.db, p.as_str()).await?
                }
            }
        }
        None => None,
    };
    let mut mentions: Vec<actors::Model> = Vec::new();
    let mut hashtags: Vec<String> = Vec::new();
    for t in &json.tag {
        match t.get("type").and_then(Value::as_str) {
            Some("Mention") => {
                if let Some(href) = t.get("href").and_then(Value::as_str) {
                    let found = match queries::actors::by_ap_id(&data.db, href).await? {
                        Some(a) => Some(a),
                        None => queries::actors::by_url(&data.db, href).await?,
                    };
                    if let Some(a) = found
                        && !mentions.iter().any(|m| m.id == a.id)
                    {
                        mentions.push(a);
                    }
                }
            }
            Some("Hashtag") => {
                if let Some(name) = t.get("name").and_then(Value::as_str) {
                    let name = name.trim_start_matches('#').to_lowercase();
                    if !name.is_empty() && name.chars().count() <= 100 && !hashtags.contains(&name)
                    {
                        hashtags.push(name);
                    }
                }
            }
            _ => {}
        }
    }
    // Local actors addressed directly count as mentioned even without a tag.
    for addr in json.to.iter().chain(&json.cc) {
        if let Some(a) = queries::actors::by_ap_id(&data.db, addr).await?
            && a.local
            && !mentions.iter().any(|m| m.id == a.id)
        {
            mentions.push(a);
        }
    }
    let is_note_like = matches!(json.kind.as_str(), "Note" | "Question");
    let sensitive = json.sensitive.unwrap_or(false);
    let summary = json
        .summary
        .clone()
        .map(|s| text::html_to_text(&s))
        .filter(|s| !s.is_empty());
    let spoiler_text = if is_note_like || sensitive {
        summary.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let mut content = text::sanitize_html(&json.body().unwrap_or_default());
    if content.trim().is_empty()
        && let (false, Some(s)) = (is_note_like, &summary)
    {
        content = format!("<p>{}</p>", text::sanitize_html(s));
    }
    // A link post (Lemmy, Prismo) shows where it links to.
    if json.kind == "Page"
        && let Some(u) = json.url.as_ref().filter(|u| u.as_str() != json.id.as_str())
        && !content.contains(u.as_str())
    {
        content.push_str(&format!(r#"<p><a href="{0}">{0}</a></p>"#, u));
    }
    let title = if is_note_like {
        None
    } else {
        json.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.chars().take(posts::TITLE_MAX).collect())
    };
    let context = json
        .context
        .as_ref()
        .and_then(|c| {
            id_of(c)
                .map(|u| u.to_string())
                .or_else(|| c.as_str().map(str::to_string))
        })
        .or_else(|| json.conversation.clone());
    // A post in a group: ours must let the author post there.
    let group = groups::group_of_incoming(&data.db, &json, parent.as_ref(), &mentions).await?;
    if let Some(g) = &group {
        groups::check_incoming(&data.db, g, &author, parent.as_ref()).await?;
    }
    let visibility = match &group {
        Some(g) if g.members_only() => Visibility::Private,
        _ => visibility,
    };
    mentions.retain(|m| m.kind != "Group");
    if hashtags.is_empty() {
        hashtags = text::hashtags_in(&text::html_to_text(&content))
            .into_iter()
            .take(20)
            .collect();
    }
    let post = RemotePost {
        ap_id: json.id.to_string(),
        url: json
            .url
            .as_ref()
            .map(Url::to_string)
            .or_else(|| Some(json.id.to_string())),
        author,
        kind: if POST_TYPES.contains(&json.kind.as_str()) {
            json.kind.clone()
        } else {
            "Note".into()
        },
        title,
        content,
        spoiler_text: spoiler_text.chars().take(posts::SPOILER_MAX).collect(),
        sensitive,
        language: json.language(),
        visibility,
        in_reply_to_ap_id: in_reply_to_ap.map(|u| u.to_string()),
        in_reply_to: parent,
        context,
        addressing: json!({ "to": json.to, "cc": json.cc }),
        mentions,
        hashtags,
        published: json.published.unwrap_or_else(Utc::now),
        updated: json.updated,
        attachments: attachments_of(&json.attachment),
        poll: poll_of(&json),
        group_id: group.as_ref().map(crate::domain::groups::Group::id),
    };
    let event = (json.kind == "Event").then(|| crate::federation::calendar::parse(&json));
    let stored = posts::upsert_remote(data, post).await?;
    if let Some(e) = event
        && stored.deleted_at.is_none()
    {
        let poll = match &e.rsvp_poll {
            Some(url) => crate::federation::calendar::rsvp_poll(data, &stored, url).await,
            None => None,
        };
        crate::domain::calendar::remote::upsert(data, &stored, e, poll).await?;
    }
    Ok(stored)
}
