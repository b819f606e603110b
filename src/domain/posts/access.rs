//! Who may see a post, and the thread and edit history a viewer is shown.
//! Reads only: the rules are shared by the web pages, the client API and the
//! ActivityPub endpoints, so a post hidden in one is hidden in all.

use super::Visibility;
use crate::{
    app::AppState,
    db::{
        entities::{actors, status_edits, statuses},
        queries,
    },
    domain::groups,
    error::{AppError, AppResult},
};
use std::collections::{HashMap, HashSet};

/// Accounts that follow `author` (accepted).
async fn follows(state: &AppState, viewer: i64, author: i64) -> AppResult<bool> {
    Ok(queries::follows::get(&state.db, viewer, author)
        .await?
        .is_some_and(|f| f.state == "accepted"))
}

/// May `viewer` (None: anonymous) see this post?
pub async fn can_view(
    state: &AppState,
    viewer: Option<&actors::Model>,
    s: &statuses::Model,
) -> AppResult<bool> {
    if s.deleted_at.is_some() {
        return Ok(false);
    }
    if let Some(v) = viewer {
        if v.id == s.actor_id {
            return Ok(true);
        }
        if queries::relations::block(&state.db, s.actor_id, v.id)
            .await?
            .is_some()
        {
            return Ok(false);
        }
    }
    // A members-only group's posts are for its members, whoever they mention.
    if let Some(gid) = s.group_id
        && let Some(g) = groups::load(&state.db, gid).await?
        && g.members_only()
    {
        return groups::may_read(&state.db, &g, viewer).await;
    }
    match Visibility::of(s) {
        Visibility::Public | Visibility::Unlisted => Ok(true),
        Visibility::Private => match viewer {
            Some(v) => Ok(follows(state, v.id, s.actor_id).await?
                || queries::statuses::is_mentioned(&state.db, s.id, v.id).await?),
            None => Ok(false),
        },
        Visibility::Direct => match viewer {
            Some(v) => Ok(queries::statuses::is_mentioned(&state.db, s.id, v.id).await?),
            None => Ok(false),
        },
    }
}

/// Load a post the viewer may see, or 404 (never 403: Mastodon does not
/// reveal that a private post exists).
pub async fn visible(
    state: &AppState,
    viewer: Option<&actors::Model>,
    id: i64,
) -> AppResult<statuses::Model> {
    let s = queries::statuses::by_id(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if can_view(state, viewer, &s).await? {
        Ok(s)
    } else {
        Err(AppError::not_found())
    }
}

/// Ancestors (root first) and descendants (depth-first, in thread order).
pub async fn thread(
    state: &AppState,
    viewer: Option<&actors::Model>,
    s: &statuses::Model,
) -> AppResult<(Vec<statuses::Model>, Vec<statuses::Model>)> {
    let mut ancestors = Vec::new();
    let mut seen = HashSet::from([s.id]);
    let mut parent = s.in_reply_to_id;
    while let Some(pid) = parent {
        if !seen.insert(pid) || ancestors.len() >= 200 {
            break;
        }
        match queries::statuses::by_id(&state.db, pid).await? {
            Some(p) => {
                parent = p.in_reply_to_id;
                if can_view(state, viewer, &p).await? {
                    ancestors.push(p);
                }
            }
            None => break,
        }
    }
    ancestors.reverse();

    let mut children: HashMap<i64, Vec<statuses::Model>> = HashMap::new();
    let mut frontier = vec![s.id];
    let mut total = 0;
    while !frontier.is_empty() && total < 2000 {
        let replies = queries::statuses::replies_to(&state.db, &frontier).await?;
        frontier = Vec::new();
        for r in replies {
            if seen.insert(r.id) {
                frontier.push(r.id);
                total += 1;
                if let Some(p) = r.in_reply_to_id {
                    children.entry(p).or_default().push(r);
                }
            }
        }
    }
    let mut descendants = Vec::new();
    let mut stack: Vec<statuses::Model> = children
        .remove(&s.id)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .collect();
    while let Some(next) = stack.pop() {
        let id = next.id;
        if can_view(state, viewer, &next).await? {
            descendants.push(next);
            if let Some(kids) = children.remove(&id) {
                stack.extend(kids.into_iter().rev());
            }
        }
    }
    Ok((ancestors, descendants))
}

pub async fn history(state: &AppState, s: &statuses::Model) -> AppResult<Vec<status_edits::Model>> {
    Ok(queries::statuses::edits(&state.db, s.id).await?)
}
