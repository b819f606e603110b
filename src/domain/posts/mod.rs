//! Posts: writing (Markdown, mentions, hashtags, content warnings, titles for
//! articles), editing with history, deleting, who may see what, threads, and
//! storing posts that arrive from other servers.

use crate::db::queries::notifications::About;
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{actors, status_edits, statuses},
        ids, queries,
    },
    domain::{
        events::Event,
        groups, notifications,
        text::{self, MentionTarget},
        validate,
    },
    error::{AppError, AppResult},
    federation::protocol::PUBLIC,
    msg,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, IntoActiveModel};
use serde_json::{Value, json};

pub const MAX_CHARS: usize = 5000;
pub const TITLE_MAX: usize = 300;
pub const SPOILER_MAX: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Unlisted,
    Private,
    Direct,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Private => "private",
            Self::Direct => "direct",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "public" => Some(Self::Public),
            "unlisted" => Some(Self::Unlisted),
            "private" | "followers" => Some(Self::Private),
            "direct" => Some(Self::Direct),
            _ => None,
        }
    }

    pub fn of(status: &statuses::Model) -> Self {
        Self::parse(&status.visibility).unwrap_or(Self::Direct)
    }

    /// Visibility of a remote object from its addressing (Mastodon's rules).
    pub fn from_addressing(to: &[String], cc: &[String], followers: Option<&str>) -> Self {
        let public = |v: &[String]| v.iter().any(|a| crate::federation::protocol::is_public(a));
        if public(to) {
            Self::Public
        } else if public(cc) {
            Self::Unlisted
        } else if followers.is_some_and(|f| to.iter().chain(cc).any(|a| a == f)) {
            Self::Private
        } else {
            Self::Direct
        }
    }
}

/// What a member writes.
#[derive(Debug, Clone)]
pub struct Compose {
    pub text: String,
    /// A title makes the post an Article.
    pub title: Option<String>,
    pub spoiler_text: Option<String>,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub in_reply_to_id: Option<i64>,
    pub language: Option<String>,
    /// Uploads to attach, in order. `None` on an edit keeps the current
    /// attachments (as Mastodon does); on a new post it means none.
    pub media_ids: Option<Vec<i64>>,
    pub poll: Option<crate::domain::polls::PollInput>,
    /// Post in this group (local or remote). A reply always belongs to the
    /// group of the thread it answers.
    pub group_id: Option<i64>,
}

pub fn check_language(lang: Option<&str>) -> AppResult<Option<String>> {
    let Some(l) = lang.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let l = l.to_lowercase();
    let ok = (2..=3).contains(&l.split('-').next().unwrap_or("").len())
        && l.len() <= 10
        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(Some(l))
    } else {
        Err(AppError::Unprocessable(msg!(
            "error-language-code",
            code = l
        )))
    }
}

struct Checked {
    text: String,
    title: Option<String>,
    spoiler: String,
    language: Option<String>,
}

fn check(input: &Compose) -> AppResult<Checked> {
    let text = input.text.trim().to_string();
    let title = validate::optional("title", input.title.as_deref(), TITLE_MAX)?;
    if text.is_empty() && title.is_none() && input.media_ids.as_ref().is_none_or(Vec::is_empty) {
        return Err(AppError::Unprocessable(msg!("error-post-empty")));
    }
    if text.chars().count() > MAX_CHARS {
        return Err(validate::too_long("status", MAX_CHARS));
    }
    let spoiler = validate::optional("spoiler_text", input.spoiler_text.as_deref(), SPOILER_MAX)?
        .unwrap_or_default();
    Ok(Checked {
        text,
        title,
        spoiler,
        language: check_language(input.language.as_deref())?,
    })
}

/// `to` and `cc` of a post in a group (FEP-1b12): the group is addressed.
/// A members-only group's posts go to its members (its followers) only.
pub fn group_addressing(
    group: &groups::Group,
    followers: Option<&str>,
    mentioned: &[String],
) -> Value {
    if group.members_only() {
        json!({
            "to": [group.actor.followers_url.clone().unwrap_or_else(|| group.actor.ap_id.clone())],
            "cc": [group.actor.ap_id],
        })
    } else {
        let cc: Vec<String> = followers
            .map(str::to_string)
            .into_iter()
            .chain(mentioned.iter().cloned())
            .collect();
        json!({ "to": [PUBLIC, group.actor.ap_id], "cc": cc })
    }
}

/// The visibility a post in this group has.
pub fn group_visibility(group: &groups::Group) -> Visibility {
    if group.members_only() {
        Visibility::Private
    } else {
        Visibility::Public
    }
}

/// `to` and `cc` of one of our posts.
pub fn addressing(visibility: Visibility, followers: Option<&str>, mentioned: &[String]) -> Value {
    let followers: Vec<String> = followers.map(|f| vec![f.to_string()]).unwrap_or_default();
    let (to, cc): (Vec<String>, Vec<String>) = match visibility {
        Visibility::Public => (
            vec![PUBLIC.into()],
            [followers, mentioned.to_vec()].concat(),
        ),
        Visibility::Unlisted => (
            followers,
            [vec![PUBLIC.to_string()], mentioned.to_vec()].concat(),
        ),
        Visibility::Private => (followers, mentioned.to_vec()),
        Visibility::Direct => (mentioned.to_vec(), Vec::new()),
    };
    json!({ "to": to, "cc": cc })
}

pub fn addressed(status: &statuses::Model) -> (Vec<String>, Vec<String>) {
    let list = |k: &str| -> Vec<String> {
        status
            .addressing
            .get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    (list("to"), list("cc"))
}

fn mention_targets(mentions: &[actors::Model]) -> Vec<MentionTarget<'_>> {
    mentions
        .iter()
        .map(|m| MentionTarget {
            username: &m.username,
            domain: &m.domain,
            local: m.local,
            url: m.url.as_deref().unwrap_or(&m.ap_id),
        })
        .collect()
}

/// Publish a post (or reply) by a local actor. `mentions` are the accounts
/// named in the text, already resolved (remote ones through WebFinger).
pub async fn create(
    state: &AppState,
    author: &actors::Model,
    input: Compose,
    mut mentions: Vec<actors::Model>,
) -> AppResult<(statuses::Model, Outbox)> {
    let c = check(&input)?;
    let account_id = author.account_id.ok_or_else(AppError::forbidden)?;
    let media = crate::domain::media::for_post(
        state,
        account_id,
        input.media_ids.as_deref().unwrap_or_default(),
        None,
    )
    .await?;
    let poll = match &input.poll {
        Some(p) => Some((crate::domain::polls::check(p)?, p.multiple)),
        None => None,
    };
    let parent = match input.in_reply_to_id {
        Some(id) => {
            let p = queries::statuses::by_id(&state.db, id)
                .await?
                .ok_or_else(AppError::not_found)?;
            if p.deleted_at.is_some()
                || p.reblog_of_id.is_some()
                || !can_view(state, Some(author), &p).await?
            {
                return Err(AppError::not_found());
            }
            Some(p)
        }
        None => None,
    };
    let group = match (parent.as_ref().and_then(|p| p.group_id), input.group_id) {
        (Some(g), _) | (None, Some(g)) => Some(
            groups::load(&state.db, g)
                .await?
                .ok_or_else(AppError::not_found)?,
        ),
        (None, None) => None,
    };
    if let Some(g) = &group {
        let root = match &parent {
            Some(p) => Some(groups::thread_root(&state.db, p).await?),
            None => None,
        };
        groups::check_post(&state.db, g, author, root.as_ref()).await?;
    }
    // The author of the post replied to always hears about the reply.
    if let Some(p) = &parent
        && p.actor_id != author.id
        && !mentions.iter().any(|m| m.id == p.actor_id)
        && let Some(a) = queries::actors::by_id(&state.db, p.actor_id).await?
    {
        mentions.push(a);
    }
    mentions.retain(|m| m.id != author.id && m.deleted_at.is_none());
    // What is said in a members-only group stays there: no one else is told.
    mentions = members_only_audience(state, group.as_ref(), mentions).await?;
    let visibility = group
        .as_ref()
        .map(group_visibility)
        .unwrap_or(input.visibility);
    let rendered = text::render_post(&c.text, state.urls.base(), &mention_targets(&mentions));
    let id = ids::next_id();
    let ap_id = format!("{}/statuses/{id}", author.ap_id);
    let now = chrono::Utc::now();
    let mentioned_ids: Vec<String> = mentions.iter().map(|m| m.ap_id.clone()).collect();
    let context = parent
        .as_ref()
        .map(|p| p.context.clone().unwrap_or_else(|| p.ap_id.clone()))
        .unwrap_or_else(|| format!("{}/contexts/{id}", state.urls.base()));
    let model = statuses::ActiveModel {
        id: Set(id),
        ap_id: Set(ap_id),
        url: Set(Some(format!(
            "{}/@{}/{id}",
            state.urls.base(),
            author.username
        ))),
        actor_id: Set(author.id),
        kind: Set(if poll.is_some() {
            "Question"
        } else if c.title.is_some() {
            "Article"
        } else {
            "Note"
        }
        .into()),
        title: Set(c.title.clone()),
        content: Set(rendered.html.clone()),
        source: Set(Some(c.text.clone())),
        spoiler_text: Set(c.spoiler.clone()),
        sensitive: Set(input.sensitive || !c.spoiler.is_empty()),
        language: Set(c.language.clone()),
        visibility: Set(visibility.as_str().into()),
        in_reply_to_id: Set(parent.as_ref().map(|p| p.id)),
        in_reply_to_ap_id: Set(parent.as_ref().map(|p| p.ap_id.clone())),
        in_reply_to_actor_id: Set(parent.as_ref().map(|p| p.actor_id)),
        context: Set(Some(context)),
        reblog_of_id: Set(None),
        addressing: Set(match &group {
            Some(g) => group_addressing(g, author.followers_url.as_deref(), &mentioned_ids),
            None => addressing(visibility, author.followers_url.as_deref(), &mentioned_ids),
        }),
        local: Set(true),
        replies_count: Set(0),
        reblogs_count: Set(0),
        favourites_count: Set(0),
        published: Set(now),
        edited_at: Set(None),
        created_at: Set(now),
        deleted_at: Set(None),
        group_id: Set(group.as_ref().map(groups::Group::id)),
        locked: Set(false),
    };
    let txn = crate::db::begin(&state.db).await?;
    let status = queries::statuses::insert(&txn, model).await?;
    record_version(&txn, &status).await?;
    queries::media::attach(
        &txn,
        status.id,
        &media.iter().map(|m| m.id).collect::<Vec<_>>(),
    )
    .await?;
    if let Some(((options, expires_at), multiple)) = poll {
        crate::domain::polls::create(&txn, status.id, options, Some(expires_at), multiple).await?;
    }
    queries::statuses::add_mentions(
        &txn,
        status.id,
        &mentions.iter().map(|m| m.id).collect::<Vec<_>>(),
    )
    .await?;
    queries::statuses::set_tags(&txn, status.id, &rendered.hashtags).await?;
    crate::domain::search::index_post(&txn, &status, author, &rendered.hashtags).await?;
    if let Some(p) = &parent {
        queries::statuses::adjust_counter(&txn, p.id, statuses::Column::RepliesCount, 1).await?;
    }
    for m in &mentions {
        notifications::notify(&txn, m, "mention", author.id, Some(status.id)).await?;
    }
    let outbox = Outbox::commit(txn, vec![Event::PostCreated(status.id)]).await?;
    Ok((status, outbox))
}

/// In a members-only group, only members may be mentioned (and so told).
async fn members_only_audience(
    state: &AppState,
    group: Option<&groups::Group>,
    mentions: Vec<actors::Model>,
) -> AppResult<Vec<actors::Model>> {
    let Some(g) = group.filter(|g| g.members_only()) else {
        return Ok(mentions);
    };
    let mut kept = Vec::new();
    for m in mentions {
        if groups::is_member(&state.db, g, m.id).await? {
            kept.push(m);
        }
    }
    Ok(kept)
}

async fn record_version(db: &impl ConnectionTrait, s: &statuses::Model) -> AppResult<()> {
    queries::statuses::add_edit(
        db,
        status_edits::ActiveModel {
            id: Set(ids::next_id()),
            status_id: Set(s.id),
            title: Set(s.title.clone()),
            content: Set(s.content.clone()),
            spoiler_text: Set(s.spoiler_text.clone()),
            sensitive: Set(s.sensitive),
            created_at: Set(s.edited_at.unwrap_or(s.published)),
        },
    )
    .await?;
    Ok(())
}

/// Change a post's text, title, warning or language; visibility and the
/// thread it belongs to stay. Every version is kept.
pub async fn edit(
    state: &AppState,
    author: &actors::Model,
    status_id: i64,
    mut input: Compose,
    mut mentions: Vec<actors::Model>,
) -> AppResult<(statuses::Model, Outbox)> {
    let status = queries::statuses::by_id(&state.db, status_id)
        .await?
        .filter(|s| s.deleted_at.is_none() && s.reblog_of_id.is_none())
        .ok_or_else(AppError::not_found)?;
    if status.actor_id != author.id {
        return Err(AppError::forbidden());
    }
    if input.media_ids.is_none() {
        let current = queries::media::of_statuses(&state.db, &[status.id]).await?;
        input.media_ids = Some(current.iter().map(|m| m.id).collect());
    }
    let c = check(&input)?;
    let account_id = author.account_id.ok_or_else(AppError::forbidden)?;
    let media = crate::domain::media::for_post(
        state,
        account_id,
        input.media_ids.as_deref().unwrap_or_default(),
        Some(status.id),
    )
    .await?;
    let old_mentions = queries::statuses::mentioned_actor_ids(&state.db, status.id).await?;
    // Keep everyone who was addressed: an edit cannot take a post back.
    for id in &old_mentions {
        if !mentions.iter().any(|m| m.id == *id)
            && let Some(a) = queries::actors::by_id(&state.db, *id).await?
        {
            mentions.push(a);
        }
    }
    mentions.retain(|m| m.id != author.id);
    let group = match status.group_id {
        Some(g) => groups::load(&state.db, g).await?,
        None => None,
    };
    mentions = members_only_audience(state, group.as_ref(), mentions).await?;
    let rendered = text::render_post(&c.text, state.urls.base(), &mention_targets(&mentions));
    let now = chrono::Utc::now();
    let mentioned_ids: Vec<String> = mentions.iter().map(|m| m.ap_id.clone()).collect();
    let txn = crate::db::begin(&state.db).await?;
    let mut a = status.clone().into_active_model();
    a.title = Set(c.title.clone());
    if status.kind != "Question" {
        a.kind = Set(if c.title.is_some() { "Article" } else { "Note" }.into());
    }
    a.content = Set(rendered.html);
    a.source = Set(Some(c.text));
    a.spoiler_text = Set(c.spoiler.clone());
    a.sensitive = Set(input.sensitive || !c.spoiler.is_empty());
    a.language = Set(c.language);
    a.addressing = Set(match &group {
        Some(g) => group_addressing(g, author.followers_url.as_deref(), &mentioned_ids),
        None => addressing(
            Visibility::of(&status),
            author.followers_url.as_deref(),
            &mentioned_ids,
        ),
    });
    a.edited_at = Set(Some(now));
    let updated = queries::statuses::update(&txn, a).await?;
    record_version(&txn, &updated).await?;
    queries::media::attach(
        &txn,
        updated.id,
        &media.iter().map(|m| m.id).collect::<Vec<_>>(),
    )
    .await?;
    queries::statuses::add_mentions(
        &txn,
        updated.id,
        &mentions.iter().map(|m| m.id).collect::<Vec<_>>(),
    )
    .await?;
    queries::statuses::set_tags(&txn, updated.id, &rendered.hashtags).await?;
    crate::domain::search::index_post(&txn, &updated, author, &rendered.hashtags).await?;
    for m in mentions.iter().filter(|m| !old_mentions.contains(&m.id)) {
        notifications::notify(&txn, m, "mention", author.id, Some(updated.id)).await?;
    }
    notify_boosters_of_edit(state, &txn, &updated).await?;
    let outbox = Outbox::commit(txn, vec![Event::PostUpdated(updated.id)]).await?;
    Ok((updated, outbox))
}

/// People who boosted a post hear when it changes, as on Mastodon.
async fn notify_boosters_of_edit(
    state: &AppState,
    db: &impl ConnectionTrait,
    s: &statuses::Model,
) -> AppResult<()> {
    let boosts = queries::statuses::reblogs_of(
        db,
        s.id,
        queries::Page {
            limit: 200,
            ..Default::default()
        },
    )
    .await?;
    let _ = state;
    for b in boosts {
        notifications::notify_id(db, b.actor_id, "update", s.actor_id, Some(s.id)).await?;
    }
    Ok(())
}

/// Delete a post: its author, or staff moderating their instance. The row
/// stays as a tombstone (410 Gone) so the deletion can be told to others.
pub async fn delete(
    state: &AppState,
    actor: &actors::Model,
    is_staff: bool,
    status_id: i64,
) -> AppResult<(statuses::Model, Outbox)> {
    let status = queries::statuses::by_id(&state.db, status_id)
        .await?
        .filter(|s| s.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    if status.actor_id != actor.id && !is_staff {
        return Err(AppError::forbidden());
    }
    let txn = crate::db::begin(&state.db).await?;
    let removed = tombstone_in(&txn, &status).await?;
    let events = if status.local {
        if status.reblog_of_id.is_some() {
            vec![Event::Unboosted(status.id)]
        } else {
            vec![Event::PostDeleted(status.id)]
        }
    } else {
        Vec::new()
    };
    Ok((removed, Outbox::commit(txn, events).await?))
}

/// Make a post a tombstone and undo its effects on counters and notifications.
pub async fn tombstone(state: &AppState, status: &statuses::Model) -> AppResult<statuses::Model> {
    let txn = crate::db::begin(&state.db).await?;
    let removed = tombstone_in(&txn, status).await?;
    txn.commit().await?;
    Ok(removed)
}

/// `tombstone` inside the caller's transaction, for use cases that record
/// what they announce in the same commit.
pub async fn tombstone_in(
    txn: &crate::db::DatabaseTransaction,
    status: &statuses::Model,
) -> AppResult<statuses::Model> {
    let now = chrono::Utc::now();
    let mut a = status.clone().into_active_model();
    a.deleted_at = Set(Some(now));
    a.content = Set(String::new());
    a.source = Set(None);
    a.title = Set(None);
    let removed = queries::statuses::update(txn, a).await?;
    crate::domain::search::unindex_post(txn, status.id).await?;
    // A deleted event leaves the calendars (its participants with it).
    queries::calendar::delete(txn, status.id).await?;
    if let Some(parent) = status.in_reply_to_id {
        queries::statuses::adjust_counter(txn, parent, statuses::Column::RepliesCount, -1).await?;
    }
    if let Some(orig) = status.reblog_of_id {
        queries::statuses::adjust_counter(txn, orig, statuses::Column::ReblogsCount, -1).await?;
        queries::notifications::delete_about(
            txn,
            About {
                kind: Some("reblog"),
                from: Some(status.actor_id),
                status: Some(orig),
                ..About::default()
            },
        )
        .await?;
    }
    queries::notifications::delete_about(
        txn,
        About {
            status: Some(status.id),
            ..About::default()
        },
    )
    .await?;
    Ok(removed)
}

mod access;
mod remote;

pub use access::{can_view, history, thread, visible};
pub use remote::{RemoteAttachment, RemotePoll, RemotePost, receive_delete, upsert_remote};
