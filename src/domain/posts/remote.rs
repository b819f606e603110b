//! Posts that arrive from other servers: stored once, updated by their author's
//! edits, tombstoned by their author's deletes. The federation layer parses and
//! checks the object; this module only decides what the database holds.

use super::{Visibility, notify_boosters_of_edit, record_version, tombstone};
use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        ids, queries,
    },
    domain::notifications,
    error::{AppError, AppResult},
};
use sea_orm::{ActiveValue::Set, IntoActiveModel};
use serde_json::Value;

/// A post from another server, parsed and checked by the federation layer.
#[derive(Debug, Clone)]
pub struct RemotePost {
    pub ap_id: String,
    pub url: Option<String>,
    pub author: actors::Model,
    pub kind: String,
    pub title: Option<String>,
    /// Already sanitised.
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub visibility: Visibility,
    pub in_reply_to_ap_id: Option<String>,
    pub in_reply_to: Option<statuses::Model>,
    pub context: Option<String>,
    pub addressing: Value,
    pub mentions: Vec<actors::Model>,
    pub hashtags: Vec<String>,
    /// The group it was posted in, as the federation layer found it.
    pub group_id: Option<i64>,
    pub published: chrono::DateTime<chrono::Utc>,
    pub updated: Option<chrono::DateTime<chrono::Utc>>,
    pub attachments: Vec<RemoteAttachment>,
    pub poll: Option<RemotePoll>,
}

/// A file attached to a remote post; it stays at its origin.
#[derive(Debug, Clone)]
pub struct RemoteAttachment {
    pub url: String,
    pub media_type: String,
    pub description: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub focus: Option<(f64, f64)>,
    pub blurhash: Option<String>,
}

/// The poll of a remote Question.
#[derive(Debug, Clone)]
pub struct RemotePoll {
    pub options: Vec<String>,
    pub counts: Vec<u64>,
    pub multiple: bool,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub voters: Option<i32>,
}

/// Store a remote post, or apply an edit to one we have. Returns the row.
pub async fn upsert_remote(state: &AppState, p: RemotePost) -> AppResult<statuses::Model> {
    let now = chrono::Utc::now();
    let existing = queries::statuses::by_ap_id(&state.db, &p.ap_id).await?;
    if let Some(e) = &existing {
        if e.actor_id != p.author.id {
            return Err(AppError::forbidden());
        }
        if e.deleted_at.is_some() {
            return Ok(e.clone());
        }
        // A poll's tallies change without the post changing.
        if let Some(poll) = &p.poll {
            crate::domain::polls::upsert_remote(state, e.id, poll).await?;
        }
        let changed = e.content != p.content
            || e.title != p.title
            || e.spoiler_text != p.spoiler_text
            || e.sensitive != p.sensitive;
        if !changed {
            return Ok(e.clone());
        }
    }
    let mention_ids: Vec<i64> = p.mentions.iter().map(|m| m.id).collect();
    let txn = crate::db::begin(&state.db).await?;
    let status = match existing {
        Some(e) => {
            let old_mentions = queries::statuses::mentioned_actor_ids(&txn, e.id).await?;
            let mut a = e.into_active_model();
            a.title = Set(p.title.clone());
            a.content = Set(p.content.clone());
            a.spoiler_text = Set(p.spoiler_text.clone());
            a.sensitive = Set(p.sensitive);
            a.language = Set(p.language.clone());
            a.edited_at = Set(Some(p.updated.unwrap_or(now)));
            let s = queries::statuses::update(&txn, a).await?;
            record_version(&txn, &s).await?;
            queries::statuses::add_mentions(&txn, s.id, &mention_ids).await?;
            for m in p.mentions.iter().filter(|m| !old_mentions.contains(&m.id)) {
                notifications::notify(&txn, m, "mention", p.author.id, Some(s.id)).await?;
            }
            notify_boosters_of_edit(state, &txn, &s).await?;
            s
        }
        None => {
            let published = p.published.min(now);
            let s = queries::statuses::insert(
                &txn,
                statuses::ActiveModel {
                    id: Set(ids::at(published)),
                    ap_id: Set(p.ap_id.clone()),
                    url: Set(p.url.clone()),
                    actor_id: Set(p.author.id),
                    kind: Set(p.kind.clone()),
                    title: Set(p.title.clone()),
                    content: Set(p.content.clone()),
                    source: Set(None),
                    spoiler_text: Set(p.spoiler_text.clone()),
                    sensitive: Set(p.sensitive),
                    language: Set(p.language.clone()),
                    visibility: Set(p.visibility.as_str().into()),
                    in_reply_to_id: Set(p.in_reply_to.as_ref().map(|r| r.id)),
                    in_reply_to_ap_id: Set(p.in_reply_to_ap_id.clone()),
                    in_reply_to_actor_id: Set(p.in_reply_to.as_ref().map(|r| r.actor_id)),
                    context: Set(p
                        .context
                        .clone()
                        .or_else(|| p.in_reply_to.as_ref().and_then(|r| r.context.clone()))),
                    reblog_of_id: Set(None),
                    addressing: Set(p.addressing.clone()),
                    local: Set(false),
                    replies_count: Set(0),
                    reblogs_count: Set(0),
                    favourites_count: Set(0),
                    published: Set(published),
                    edited_at: Set(p.updated.filter(|u| *u > published)),
                    created_at: Set(now),
                    deleted_at: Set(None),
                    group_id: Set(p
                        .group_id
                        .or_else(|| p.in_reply_to.as_ref().and_then(|r| r.group_id))),
                    locked: Set(false),
                },
            )
            .await?;
            record_version(&txn, &s).await?;
            queries::statuses::add_mentions(&txn, s.id, &mention_ids).await?;
            if let Some(parent) = &p.in_reply_to {
                queries::statuses::adjust_counter(
                    &txn,
                    parent.id,
                    statuses::Column::RepliesCount,
                    1,
                )
                .await?;
                // The author of the parent hears about the reply even when not named.
                if parent.actor_id != p.author.id && !mention_ids.contains(&parent.actor_id) {
                    notifications::notify_id(
                        &txn,
                        parent.actor_id,
                        "mention",
                        p.author.id,
                        Some(s.id),
                    )
                    .await?;
                }
            }
            for m in &p.mentions {
                notifications::notify(&txn, m, "mention", p.author.id, Some(s.id)).await?;
            }
            // Replies that arrived before their parent now join the thread.
            for orphan in queries::statuses::orphans_of(&txn, &s.ap_id).await? {
                let mut o = orphan.into_active_model();
                o.in_reply_to_id = Set(Some(s.id));
                o.in_reply_to_actor_id = Set(Some(s.actor_id));
                if o.context.as_ref().is_none() {
                    o.context = Set(s.context.clone());
                }
                queries::statuses::update(&txn, o).await?;
                queries::statuses::adjust_counter(&txn, s.id, statuses::Column::RepliesCount, 1)
                    .await?;
            }
            s
        }
    };
    queries::statuses::set_tags(&txn, status.id, &p.hashtags).await?;
    crate::domain::search::index_post(&txn, &status, &p.author, &p.hashtags).await?;
    queries::media::replace_remote(
        &txn,
        status.id,
        remote_media_rows(status.id, &p.attachments),
    )
    .await?;
    txn.commit().await?;
    if let Some(poll) = &p.poll {
        crate::domain::polls::upsert_remote(state, status.id, poll).await?;
    }
    Ok(status)
}

fn remote_media_rows(
    status_id: i64,
    list: &[RemoteAttachment],
) -> Vec<crate::db::entities::media::ActiveModel> {
    list.iter()
        .take(crate::domain::media::MAX_ATTACHMENTS)
        .enumerate()
        .map(|(pos, a)| crate::db::entities::media::ActiveModel {
            id: Set(ids::next_id()),
            account_id: Set(None),
            storage_key: Set(String::new()),
            content_type: Set(a.media_type.clone()),
            size: Set(0),
            description: Set(a.description.clone()),
            focus_x: Set(a.focus.map(|f| f.0)),
            focus_y: Set(a.focus.map(|f| f.1)),
            width: Set(a.width),
            height: Set(a.height),
            remote_url: Set(Some(a.url.clone())),
            created_at: Set(chrono::Utc::now()),
            status_id: Set(Some(status_id)),
            position: Set(pos as i32),
            kind: Set(crate::domain::media::kind_of(&a.media_type).to_string()),
            blurhash: Set(a.blurhash.clone()),
        })
        .collect()
}

/// A remote actor deleted one of their posts.
pub async fn receive_delete(state: &AppState, actor: &actors::Model, ap_id: &str) -> AppResult<()> {
    let Some(s) = queries::statuses::by_ap_id(&state.db, ap_id).await? else {
        return Ok(());
    };
    if s.actor_id != actor.id {
        return Err(AppError::forbidden());
    }
    if s.deleted_at.is_none() {
        tombstone(state, &s).await?;
    }
    Ok(())
}
