//! Lists of posts (home, local, federated, an account's, a hashtag's) and the
//! loading of everything needed to show them in one batch: authors, boosted
//! originals, mentions, hashtags and the viewer's own likes, boosts and
//! bookmarks.

use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        queries::{self, Page},
    },
    domain::posts,
    error::AppResult,
};
use std::collections::HashMap;

/// A post ready to show.
#[derive(Debug, Clone)]
pub struct PostView {
    pub status: statuses::Model,
    pub author: actors::Model,
    pub mentions: Vec<actors::Model>,
    pub tags: Vec<String>,
    pub reblog: Option<Box<PostView>>,
    pub favourited: bool,
    pub reblogged: bool,
    pub bookmarked: bool,
    pub media: Vec<crate::db::entities::media::Model>,
    pub poll: Option<PollView>,
    /// The group it was posted in (lists link to it).
    pub group: Option<actors::Model>,
}

/// A poll with its tallies and the viewer's own choices.
#[derive(Debug, Clone)]
pub struct PollView {
    pub poll: crate::db::entities::polls::Model,
    pub tallies: Vec<u64>,
    pub own_votes: Vec<i32>,
    /// The event this poll is the RSVP of (Going / Maybe / Can't go), for
    /// readers that can answer the event itself.
    pub event_id: Option<i64>,
}

/// Load what is needed to show `list`, in order; posts whose author is gone
/// are left out, as are boosts of posts the viewer may not see.
pub async fn hydrate(
    state: &AppState,
    viewer: Option<&actors::Model>,
    list: Vec<statuses::Model>,
) -> AppResult<Vec<PostView>> {
    let originals_ids: Vec<i64> = list.iter().filter_map(|s| s.reblog_of_id).collect();
    let mut originals: HashMap<i64, statuses::Model> = HashMap::new();
    for o in queries::statuses::by_ids(&state.db, &originals_ids).await? {
        if posts::can_view(state, viewer, &o).await? {
            originals.insert(o.id, o);
        }
    }
    let all: Vec<&statuses::Model> = list.iter().chain(originals.values()).collect();
    let status_ids: Vec<i64> = all.iter().map(|s| s.id).collect();
    let mentions = queries::statuses::mentions_of(&state.db, &status_ids).await?;
    let mut actor_ids: Vec<i64> = all.iter().map(|s| s.actor_id).collect();
    actor_ids.extend(all.iter().filter_map(|s| s.group_id));
    actor_ids.extend(mentions.iter().map(|m| m.actor_id));
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let actors: HashMap<i64, actors::Model> = queries::actors::by_ids(&state.db, &actor_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (sid, name) in queries::statuses::tags_of(&state.db, &status_ids).await? {
        tags.entry(sid).or_default().push(name);
    }
    let mut mention_map: HashMap<i64, Vec<actors::Model>> = HashMap::new();
    for m in mentions {
        if let Some(a) = actors.get(&m.actor_id) {
            mention_map.entry(m.status_id).or_default().push(a.clone());
        }
    }
    let (fav, book, reblogged) = match viewer {
        Some(v) => (
            queries::relations::favourited_among(&state.db, v.id, &status_ids).await?,
            queries::relations::bookmarked_among(&state.db, v.id, &status_ids).await?,
            queries::statuses::reblogged_among(&state.db, v.id, &status_ids).await?,
        ),
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let mut media: HashMap<i64, Vec<crate::db::entities::media::Model>> = HashMap::new();
    for m in queries::media::of_statuses(&state.db, &status_ids).await? {
        if let Some(sid) = m.status_id {
            media.entry(sid).or_default().push(m);
        }
    }
    let mut polls: HashMap<i64, PollView> = HashMap::new();
    let events_of_polls: HashMap<i64, i64> =
        queries::calendar::events_of_polls(&state.db, &status_ids)
            .await?
            .into_iter()
            .collect();
    for p in queries::polls::of_statuses(&state.db, &status_ids).await? {
        let tallies = crate::domain::polls::tallies(state, &p).await?;
        let own_votes = match viewer {
            Some(v) => queries::polls::votes_of(&state.db, p.id, v.id)
                .await?
                .into_iter()
                .map(|v| v.choice)
                .collect(),
            None => Vec::new(),
        };
        polls.insert(
            p.status_id,
            PollView {
                event_id: events_of_polls.get(&p.status_id).copied(),
                poll: p,
                tallies,
                own_votes,
            },
        );
    }
    let view = |s: &statuses::Model| -> Option<PostView> {
        Some(PostView {
            status: s.clone(),
            author: actors.get(&s.actor_id)?.clone(),
            mentions: mention_map.get(&s.id).cloned().unwrap_or_default(),
            tags: tags.get(&s.id).cloned().unwrap_or_default(),
            reblog: None,
            favourited: fav.contains(&s.id),
            reblogged: reblogged.contains(&s.id),
            bookmarked: book.contains(&s.id),
            media: media.get(&s.id).cloned().unwrap_or_default(),
            poll: polls.get(&s.id).cloned(),
            group: s.group_id.and_then(|g| actors.get(&g)).cloned(),
        })
    };
    let mut out = Vec::with_capacity(list.len());
    for s in &list {
        let Some(mut v) = view(s) else { continue };
        if let Some(oid) = s.reblog_of_id {
            match originals.get(&oid).and_then(view) {
                Some(o) => v.reblog = Some(Box::new(o)),
                None => continue,
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// Posts of members-only groups the viewer is not in never appear in lists,
/// even when the viewer follows their author.
async fn without_closed_groups(
    state: &AppState,
    viewer: Option<&actors::Model>,
    list: Vec<statuses::Model>,
) -> AppResult<Vec<statuses::Model>> {
    let mut ids: Vec<i64> = list.iter().filter_map(|s| s.group_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut closed = Vec::new();
    for id in ids {
        if let Some(g) = crate::domain::groups::load(&state.db, id).await?
            && !crate::domain::groups::may_read(&state.db, &g, viewer).await?
        {
            closed.push(id);
        }
    }
    if closed.is_empty() {
        return Ok(list);
    }
    Ok(list
        .into_iter()
        .filter(|s| s.group_id.is_none_or(|g| !closed.contains(&g)))
        .collect())
}

/// Posts from accounts the viewer blocks or mutes do not appear in lists,
/// nor posts of members-only groups they are not in, nor (on a portal)
/// posts its moderators hid from the aggregated feeds. Searches leave the
/// same out.
pub(crate) async fn without_unwanted(
    state: &AppState,
    viewer: Option<&actors::Model>,
    list: Vec<statuses::Model>,
) -> AppResult<Vec<statuses::Model>> {
    let mut list = without_closed_groups(state, viewer, list).await?;
    if state.config.instance.role == crate::config::InstanceRole::Portal {
        let hidden = queries::portal::hidden(&state.db).await?;
        list.retain(|s| !hidden.contains(&s.ap_id));
    }
    let Some(v) = viewer else { return Ok(list) };
    let mut hidden = queries::relations::blocked_ids(&state.db, v.id).await?;
    hidden.extend(queries::relations::muted_ids(&state.db, v.id).await?);
    if hidden.is_empty() {
        return Ok(list);
    }
    Ok(list
        .into_iter()
        .filter(|s| !hidden.contains(&s.actor_id))
        .collect())
}

fn ordered(mut list: Vec<statuses::Model>, page: Page) -> Vec<statuses::Model> {
    // min_id pages come back oldest first; lists are always newest first.
    if page.min_id.is_some() {
        list.reverse();
    }
    list
}

pub async fn home(state: &AppState, me: &actors::Model, page: Page) -> AppResult<Vec<PostView>> {
    let list = ordered(queries::statuses::home(&state.db, me.id, page).await?, page);
    let list = without_unwanted(state, Some(me), list).await?;
    hydrate(state, Some(me), list).await
}

pub async fn public(
    state: &AppState,
    viewer: Option<&actors::Model>,
    local: Option<bool>,
    page: Page,
) -> AppResult<Vec<PostView>> {
    let list = ordered(
        queries::statuses::public(&state.db, local, page).await?,
        page,
    );
    let list = without_unwanted(state, viewer, list).await?;
    hydrate(state, viewer, list).await
}

/// Public posts by accounts of the given servers (the national feed).
pub async fn public_from(
    state: &AppState,
    viewer: Option<&actors::Model>,
    domains: &[String],
    page: Page,
) -> AppResult<Vec<PostView>> {
    let list = ordered(
        queries::statuses::public_from_domains(&state.db, domains, page).await?,
        page,
    );
    let list = without_unwanted(state, viewer, list).await?;
    hydrate(state, viewer, list).await
}

pub async fn tag(
    state: &AppState,
    viewer: Option<&actors::Model>,
    tag: &str,
    local: Option<bool>,
    page: Page,
) -> AppResult<Vec<PostView>> {
    let list = ordered(
        queries::statuses::tagged(&state.db, tag, local, page).await?,
        page,
    );
    let list = without_unwanted(state, viewer, list).await?;
    hydrate(state, viewer, list).await
}

/// An account's posts as the viewer may see them.
pub async fn account(
    state: &AppState,
    viewer: Option<&actors::Model>,
    author: &actors::Model,
    exclude_replies: bool,
    exclude_reblogs: bool,
    page: Page,
) -> AppResult<Vec<PostView>> {
    let mut visibilities = vec!["public", "unlisted"];
    if let Some(v) = viewer {
        let follows = queries::follows::get(&state.db, v.id, author.id)
            .await?
            .is_some_and(|f| f.state == "accepted");
        if v.id == author.id || follows {
            visibilities.push("private");
        }
        if v.id == author.id {
            visibilities.push("direct");
        }
        if queries::relations::block(&state.db, author.id, v.id)
            .await?
            .is_some()
        {
            return Ok(Vec::new());
        }
    }
    let list = ordered(
        queries::statuses::by_actor(
            &state.db,
            author.id,
            &visibilities,
            exclude_replies,
            exclude_reblogs,
            page,
        )
        .await?,
        page,
    );
    let list = without_closed_groups(state, viewer, list).await?;
    hydrate(state, viewer, list).await
}

/// Posts by id, keeping only those the viewer may see.
pub async fn visible_views(
    state: &AppState,
    viewer: Option<&actors::Model>,
    list: Vec<statuses::Model>,
) -> AppResult<Vec<PostView>> {
    let mut out = Vec::new();
    for s in list {
        if posts::can_view(state, viewer, &s).await? {
            out.push(s);
        }
    }
    hydrate(state, viewer, out).await
}
