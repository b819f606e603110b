//! Full-text search over what members can read: posts now; resources, events
//! and groups index themselves here as they land. The index (`db::search`)
//! holds a plain-text copy of each item; results that are not public are
//! checked against the viewer before they are returned.

use crate::{
    app::AppState,
    db::{
        ConnectionTrait,
        entities::{actors, statuses},
        queries,
        search::{self, Document, Query},
    },
    domain::{posts, text},
    error::AppResult,
};

/// Put a post in the index (or take it out when it is gone, a boost, or a
/// direct message, which is never searchable).
pub async fn index_post(
    db: &impl ConnectionTrait,
    s: &statuses::Model,
    author: &actors::Model,
    hashtags: &[String],
) -> AppResult<()> {
    if s.deleted_at.is_some() || s.reblog_of_id.is_some() || s.visibility == "direct" {
        search::remove(db, "post", s.id).await?;
        return Ok(());
    }
    let mut body = text::html_to_text(&s.content);
    if !s.spoiler_text.is_empty() {
        body = format!("{}\n{body}", s.spoiler_text);
    }
    search::upsert(
        db,
        Document {
            kind: "post",
            item_id: s.id,
            title: s.title.clone().unwrap_or_default(),
            body,
            tags: hashtags.to_vec(),
            language: s.language.clone(),
            public: s.visibility == "public",
            group_id: s.group_id,
            origin: author.domain.clone(),
        },
    )
    .await?;
    Ok(())
}

pub async fn unindex_post(db: &impl ConnectionTrait, status_id: i64) -> AppResult<()> {
    search::remove(db, "post", status_id).await?;
    Ok(())
}

/// Posts matching `text` that `viewer` may read, best first.
pub async fn posts(
    state: &AppState,
    viewer: Option<&actors::Model>,
    text: &str,
    limit: u64,
    offset: u64,
) -> AppResult<Vec<statuses::Model>> {
    let hits = search::search(
        &state.db,
        &Query {
            text,
            kinds: &["post"],
            public_only: viewer.is_none(),
            limit: limit * 2,
            offset,
            ..Default::default()
        },
    )
    .await?;
    let ids: Vec<i64> = hits.iter().map(|h| h.item_id).collect();
    let found = queries::statuses::by_ids(&state.db, &ids).await?;
    let found = crate::domain::timelines::without_unwanted(state, viewer, found).await?;
    let mut out = Vec::new();
    for id in ids {
        let Some(s) = found.iter().find(|s| s.id == id) else {
            continue;
        };
        if posts::can_view(state, viewer, s).await? {
            out.push(s.clone());
        }
        if out.len() as u64 >= limit {
            break;
        }
    }
    Ok(out)
}
