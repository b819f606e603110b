//! Our posts as documents: every property Mastodon, Lemmy and Misskey read,
//! complete and strict, from a `statuses` row.

use super::*;

/// The document of one of our posts.
pub async fn note(state: &AppState, s: &statuses::Model) -> Result<Note, FedError> {
    let author = queries::actors::by_id(&state.db, s.actor_id)
        .await?
        .ok_or_else(|| FedError::NotFound("author".into()))?;
    let mention_ids = queries::statuses::mentioned_actor_ids(&state.db, s.id).await?;
    let mentioned = queries::actors::by_ids(&state.db, &mention_ids).await?;
    let attachment: Vec<Value> = queries::media::of_statuses(&state.db, &[s.id])
        .await?
        .into_iter()
        .map(|m| {
            let mut doc = json!({
                "type": "Document",
                "mediaType": m.content_type,
                "url": crate::domain::media::url(state, &m),
                "name": m.description,
            });
            if let (Some(w), Some(h)) = (m.width, m.height) {
                doc["width"] = json!(w);
                doc["height"] = json!(h);
            }
            if let (Some(x), Some(y)) = (m.focus_x, m.focus_y) {
                doc["focalPoint"] = json!([x, y]);
            }
            doc
        })
        .collect();
    // (multiple, end, closed, voters) and the options with their counts.
    let poll_row = queries::polls::by_status(&state.db, s.id).await?;
    let (poll, poll_options) = match &poll_row {
        Some(p) => {
            let counts = crate::domain::polls::tallies(state, p).await?;
            let options: Vec<Value> = crate::domain::polls::options(p)
                .into_iter()
                .zip(counts)
                .map(|(name, n)| json!({ "type": "Note", "name": name, "replies": { "type": "Collection", "totalItems": n } }))
                .collect();
            let closed = crate::domain::polls::expired(p)
                .then(|| p.closed_at.or(p.expires_at))
                .flatten();
            (
                Some((p.multiple, p.expires_at, closed, i64::from(p.voters_count))),
                options,
            )
        }
        None => (None, Vec::new()),
    };
    let tags: Vec<String> = queries::statuses::tags_of(&state.db, &[s.id])
        .await?
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    let mut tag: Vec<Value> = mentioned
        .iter()
        .map(|m| json!({ "type": "Mention", "href": m.ap_id, "name": format!("@{}@{}", m.username, m.domain) }))
        .collect();
    tag.extend(tags.iter().map(|t| {
        json!({ "type": "Hashtag", "href": format!("{}/tags/{t}", state.urls.base()), "name": format!("#{t}") })
    }));
    let group = match s.group_id {
        Some(g) => crate::domain::groups::load(&state.db, g).await?,
        None => None,
    };
    // Mentioning the group of a public thread makes Mastodon's reply
    // composer address the group, so replies from there reach it.
    if let Some(g) = group.as_ref().filter(|g| !g.members_only()) {
        tag.push(json!({ "type": "Mention", "href": g.actor.ap_id, "name": format!("@{}@{}", g.actor.username, g.actor.domain) }));
    }
    let group = group.map(|g| g.actor);
    let (to, cc) = posts::addressed(s);
    let is_article = s.kind == "Article";
    let summary = if !s.spoiler_text.is_empty() {
        Some(s.spoiler_text.clone())
    } else if is_article {
        let plain = text::html_to_text(&s.content);
        let excerpt: String = plain.chars().take(400).collect();
        Some(if plain.chars().count() > 400 {
            format!("{}…", excerpt.trim_end())
        } else {
            excerpt
        })
    } else {
        None
    };
    let event = if s.kind == "Event" {
        crate::federation::calendar::event_fields(state, s).await?
    } else {
        None
    };
    let (extra, summary) = match event {
        Some((fields, facts)) => (fields, Some(facts)),
        None => (Map::new(), summary),
    };
    let event_end = if s.kind == "Event" {
        crate::federation::calendar::end_time(state, s).await?
    } else {
        None
    };
    let content_map = s.language.as_ref().map(|l| {
        let mut m = Map::new();
        m.insert(l.clone(), Value::String(s.content.clone()));
        m
    });
    Ok(Note {
        kind: s.kind.clone(),
        id: Url::parse(&s.ap_id)?,
        attributed_to: Value::String(author.ap_id.clone()),
        to,
        cc,
        name: s.title.clone(),
        content: Some(s.content.clone()),
        content_map,
        summary,
        sensitive: Some(s.sensitive),
        in_reply_to: s.in_reply_to_ap_id.clone().map(Value::String),
        published: Some(s.published),
        updated: s.edited_at,
        url: s.url.as_deref().and_then(|u| Url::parse(u).ok()),
        tag,
        attachment,
        context: s.context.clone().map(Value::String),
        conversation: s.context.clone(),
        audience: group.as_ref().map(|g| Value::String(g.ap_id.clone())),
        comments_enabled: group.as_ref().map(|_| !s.locked),
        source: s
            .source
            .clone()
            .map(|src| json!({ "content": src, "mediaType": "text/markdown" })),
        one_of: if poll.as_ref().is_some_and(|p| !p.0) {
            poll_options.clone()
        } else {
            Vec::new()
        },
        any_of: if poll.as_ref().is_some_and(|p| p.0) {
            poll_options
        } else {
            Vec::new()
        },
        end_time: event_end.or(poll.as_ref().and_then(|p| p.1)),
        closed: poll.as_ref().and_then(|p| p.2).map(|c| json!(c)),
        voters_count: poll.as_ref().map(|p| p.3),
        extra,
    })
}
