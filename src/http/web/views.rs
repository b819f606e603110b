//! Turning domain values (actors, posts, notifications) into what the
//! templates show, and the web addresses of actors and posts: local ones at
//! `/@name` and `/@name/{id}`, remote ones at `/@name@host` and
//! `/@name@host/{id}` (what we know of them, with a link to their original).

use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        queries::Page,
    },
    domain::{
        posts::{self, Visibility},
        timelines::PostView,
    },
    error::{AppError, AppResult},
};
use minijinja::{Value, context};
use serde::Deserialize;

/// Posts per page on every list.
pub const PAGE_SIZE: u64 = 20;

/// `?max_id=` of the "older" links.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "id_param")]
    pub max_id: Option<i64>,
}

/// An id from a query string: empty means none, anything else must be a number.
fn id_param<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("“{s}” is not an id"))),
    }
}

impl PageQuery {
    /// One more than shown, to know whether an older page exists.
    pub fn page(&self) -> Page {
        Page {
            max_id: self.max_id,
            limit: PAGE_SIZE + 1,
            ..Default::default()
        }
    }
}

/// Cut a list fetched with [`PageQuery::page`] to the page size; returns
/// the `max_id` of the next (older) page when there is one.
pub fn cut<T>(list: &mut Vec<T>, id: impl Fn(&T) -> i64) -> Option<String> {
    if list.len() as u64 > PAGE_SIZE {
        list.truncate(PAGE_SIZE as usize);
        list.last().map(|x| id(x).to_string())
    } else {
        None
    }
}

/// `@alice` for local actors, `@bob@example.org` for remote ones: the path
/// of their page here (with a leading slash).
pub fn actor_path(a: &actors::Model) -> String {
    if a.local {
        format!("/@{}", a.username)
    } else {
        format!("/@{}@{}", a.username, a.domain)
    }
}

/// The full handle, `@name@host`.
pub fn full_handle(a: &actors::Model) -> String {
    format!("@{}@{}", a.username, a.domain)
}

/// What one writes to mention this actor from here.
pub fn mention_handle(a: &actors::Model) -> String {
    if a.local {
        format!("@{}", a.username)
    } else {
        full_handle(a)
    }
}

pub fn display_name(a: &actors::Model) -> String {
    if a.display_name.trim().is_empty() {
        a.username.clone()
    } else {
        a.display_name.clone()
    }
}

/// A group's page here: `/groups/{name}` for ours, the actor page for others.
pub fn group_path(g: &actors::Model) -> String {
    if g.local {
        format!("/groups/{}", g.username)
    } else {
        actor_path(g)
    }
}

pub fn post_path(author: &actors::Model, s: &statuses::Model) -> String {
    format!("{}/{}", actor_path(author), s.id)
}

pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A link or image address from another server, only when it is http(s):
/// a remote document could name a `javascript:` or `data:` URL.
pub fn web_url(url: Option<&str>) -> Option<String> {
    let u = url?.trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| u.to_string())
}

/// A picture of ours (`/media/...`, `/static/...`) or a remote http(s) one.
pub fn image_url(url: Option<&str>) -> Option<String> {
    match url {
        Some(u) if u.starts_with('/') && !u.starts_with("//") => Some(u.to_string()),
        other => web_url(other),
    }
}

/// An actor as lists and post headers show it.
pub fn actor_value(a: &actors::Model) -> Value {
    context! {
        id => a.id.to_string(),
        display_name => display_name(a),
        username => a.username.clone(),
        handle => full_handle(a),
        path => actor_path(a),
        avatar_url => image_url(a.avatar_url.as_deref()),
        local => a.local,
        remote_url => if a.local { None } else { web_url(a.url.as_deref()).or_else(|| web_url(Some(&a.ap_id))) },
        locked => a.manually_approves_followers,
        bot => a.bot,
        group => a.kind == "Group",
    }
}

/// Does the reader of the page act as `viewer`?
fn is(viewer: Option<&actors::Model>, id: i64) -> bool {
    viewer.is_some_and(|v| v.id == id)
}

/// A post as the templates show it. A boost shows the boosted post, with
/// who boosted it.
pub fn post_value(v: &PostView, viewer: Option<&actors::Model>, is_staff: bool) -> Value {
    // The element id is the list entry's (a boost's own id), so a post and
    // a boost of it can both be on a page.
    post_value_at(v, viewer, is_staff, v.status.id.to_string())
}

/// A post whose element id on the page is `post-{anchor}` (for pages where
/// one post may appear more than once, like notifications).
pub fn post_value_at(
    v: &PostView,
    viewer: Option<&actors::Model>,
    is_staff: bool,
    anchor: String,
) -> Value {
    match &v.reblog {
        Some(original) => one_post(original, viewer, is_staff, Some(&v.author), anchor),
        None => one_post(v, viewer, is_staff, None, anchor),
    }
}

fn one_post(
    v: &PostView,
    viewer: Option<&actors::Model>,
    is_staff: bool,
    boosted_by: Option<&actors::Model>,
    anchor: String,
) -> Value {
    let s = &v.status;
    let visibility = Visibility::of(s);
    let path = post_path(&v.author, s);
    let own = is(viewer, s.actor_id);
    // Replying names the author and everyone named in the post, but not oneself.
    let mut reply_to: Vec<String> = Vec::new();
    for a in std::iter::once(&v.author).chain(v.mentions.iter()) {
        let h = mention_handle(a);
        if !is(viewer, a.id) && !reply_to.contains(&h) {
            reply_to.push(h);
        }
    }
    let reply_prefill = if reply_to.is_empty() {
        String::new()
    } else {
        format!("{} ", reply_to.join(" "))
    };
    context! {
        id => s.id.to_string(),
        anchor => anchor,
        path => path,
        author => actor_value(&v.author),
        boosted_by => boosted_by.map(actor_value),
        title => s.title.clone(),
        // Stored sanitised (ours from Markdown, remote ones on arrival).
        content => Value::from_safe_string(s.content.clone()),
        spoiler_text => s.spoiler_text.clone(),
        sensitive => s.sensitive,
        visibility => visibility.as_str(),
        can_boost => matches!(visibility, Visibility::Public | Visibility::Unlisted),
        published => when(s.published),
        published_iso => iso(s.published),
        edited => s.edited_at.is_some(),
        edited_at => s.edited_at.map(when),
        // The parent's page here, or its address elsewhere when we do not have it.
        in_reply_to => s
            .in_reply_to_id
            .map(|id| format!("/statuses/{id}"))
            .or_else(|| web_url(s.in_reply_to_ap_id.as_deref())),
        remote_url => if s.local { None } else { web_url(s.url.as_deref()).or_else(|| web_url(Some(&s.ap_id))) },
        article => s.kind == "Article",
        replies_count => s.replies_count.max(0),
        reblogs_count => s.reblogs_count.max(0),
        favourites_count => s.favourites_count.max(0),
        favourited => v.favourited,
        reblogged => v.reblogged,
        bookmarked => v.bookmarked,
        own => own,
        can_edit => own && s.local,
        can_delete => own || (is_staff && viewer.is_some()),
        tags => v.tags.clone(),
        reply_prefill => reply_prefill,
        language => s.language.clone(),
        poll => v.poll.as_ref().map(|p| poll_value(p, viewer, own)),
        group => v.group.as_ref().map(|g| context! {
            name => display_name(g),
            path => group_path(g),
            // A members-only group's posts are addressed to its members.
            members_only => visibility == Visibility::Private,
        }),
    }
}

/// A list of posts as the templates show it. An event's Going / Maybe /
/// Can't go poll is left out: it is there for Mastodon, which shows no
/// event; here the event's own post, with its page and answer buttons, is
/// in the list.
/// A poll under its post: the options with their share of the votes, and
/// whether the reader may still vote. An event's poll points to the event,
/// where the answer is given.
fn poll_value(
    p: &crate::domain::timelines::PollView,
    viewer: Option<&actors::Model>,
    own: bool,
) -> Value {
    let options = crate::domain::polls::options(&p.poll);
    let total: u64 = p.tallies.iter().sum();
    let expired = crate::domain::polls::expired(&p.poll);
    let voted = !p.own_votes.is_empty();
    let list: Vec<Value> = options
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let votes = p.tallies.get(i).copied().unwrap_or(0);
            context! {
                index => i,
                title => title.clone(),
                votes => votes,
                percent => (votes * 100 + total / 2).checked_div(total).unwrap_or(0),
                mine => p.own_votes.contains(&(i as i32)),
            }
        })
        .collect();
    context! {
        options => list,
        multiple => p.poll.multiple,
        voters => p.poll.voters_count.max(0),
        expired => expired,
        closes => p.poll.expires_at.map(when),
        can_vote => viewer.is_some() && !own && !expired && !voted && p.event_id.is_none(),
        event_path => p.event_id.map(|id| format!("/events/{id}")),
    }
}

pub fn post_values(
    list: &[PostView],
    viewer: Option<&actors::Model>,
    is_staff: bool,
) -> Vec<Value> {
    list.iter()
        .filter(|v| !is_event_poll(v.reblog.as_deref().unwrap_or(v)))
        .map(|v| post_value(v, viewer, is_staff))
        .collect()
}

fn is_event_poll(v: &PostView) -> bool {
    v.poll.as_ref().is_some_and(|p| p.event_id.is_some())
}

/// Find a post by the id in its address and check who may see it; 404 for
/// anything the viewer may not see (a private post's existence stays hidden).
pub async fn visible_post(
    state: &AppState,
    viewer: Option<&actors::Model>,
    raw_id: &str,
) -> AppResult<statuses::Model> {
    let id: i64 = raw_id.parse().map_err(|_| AppError::not_found())?;
    let s = posts::visible(state, viewer, id).await?;
    if s.reblog_of_id.is_some() {
        return Err(AppError::not_found());
    }
    Ok(s)
}

/// A local path given by a form to return to, or `fallback`.
pub fn back_to(back: Option<&str>, fallback: &str) -> String {
    match back {
        Some(b) if !b.is_empty() => super::safe_next(Some(b)),
        _ => fallback.to_string(),
    }
}

/// Someone named in a form, here or on another server.
pub async fn by_handle(
    data: &activitypub_federation::config::Data<AppState>,
    raw: &str,
) -> AppResult<actors::Model> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::Unprocessable(crate::msg!(
            "error-field-required",
            field = "handle"
        )));
    }
    match crate::federation::resolve::handle(data, raw, true).await {
        Ok(Some(a)) => Ok(a),
        Ok(None) | Err(_) => Err(AppError::Unprocessable(crate::msg!(
            "error-group-handle-unknown",
            handle = raw.trim_start_matches('@').to_string()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_become_links() {
        assert_eq!(
            web_url(Some("https://ex.example/@a")).as_deref(),
            Some("https://ex.example/@a")
        );
        assert_eq!(
            web_url(Some("HTTP://ex.example/")).as_deref(),
            Some("HTTP://ex.example/")
        );
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,<script>x</script>",
            "//evil.example/",
            "ftp://x.example/",
            "",
        ] {
            assert_eq!(web_url(Some(bad)), None, "{bad}");
        }
        assert_eq!(image_url(Some("/media/abc")).as_deref(), Some("/media/abc"));
        assert_eq!(image_url(Some("//evil.example/x.png")), None);
        assert_eq!(image_url(Some("javascript:x")), None);
    }
}
