//! Following (with requests for locked profiles and their approval page),
//! notifications, and the search box that finds local accounts and, for
//! members, remote accounts (`@user@host`) and posts or profiles by URL.

use super::{
    Ctx, MemberCtx,
    views::{self, PageQuery},
};
use crate::{
    app::AppState,
    db::{entities::actors, queries},
    domain::{follows, notifications, posts, timelines},
    error::{AppError, AppResult},
    federation::{
        publish,
        resolve::{self, Resolved},
    },
    http::extract::{Form, Path, Query},
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{id}/{action}", post(relationship_action))
        .route("/follow-requests", get(follow_requests))
        .route("/follow-requests/{id}/{action}", post(decide_request))
        .route("/notifications", get(notifications_page))
        .route("/search", get(search))
}

#[derive(Deserialize, Default)]
struct BackForm {
    back: Option<String>,
}

/// An actor a member may follow: known, not deleted, not an applicant.
async fn target(state: &AppState, raw: &str) -> AppResult<actors::Model> {
    let id: i64 = raw.parse().map_err(|_| AppError::not_found())?;
    let a = queries::actors::by_id(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !crate::domain::actors::visible(state, &a).await? {
        return Err(AppError::not_found());
    }
    Ok(a)
}

/// Follow or unfollow (which also withdraws a pending request).
async fn relationship_action(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<BackForm>,
) -> AppResult<Response> {
    let other = target(&state, &id).await?;
    let back = views::back_to(form.back.as_deref(), &views::actor_path(&other));
    let me = &member.actor;
    match action.as_str() {
        "follow" => {
            let (row, events) = follows::follow(&state, me, &other).await?;
            publish::publish(&state, events).await;
            let flash = if row.state == follows::ACCEPTED {
                "flash-followed"
            } else {
                "flash-follow-requested"
            };
            Ok(ctx.redirect_with(&state, &back, flash))
        }
        "unfollow" => {
            let events = follows::unfollow(&state, me, &other).await?;
            publish::publish(&state, events).await;
            Ok(ctx.redirect_with(&state, &back, "flash-unfollowed"))
        }
        _ => Err(AppError::not_found()),
    }
}

async fn follow_requests(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let mut rows = follows::requests(&state, &member.actor, q.page()).await?;
    let next = views::cut(&mut rows, |(f, _)| f.id);
    let requests: Vec<Value> = rows
        .iter()
        .map(|(f, a)| {
            context! {
                account => views::actor_value(a),
                at => views::when(f.created_at),
                at_iso => views::iso(f.created_at),
            }
        })
        .collect();
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "follow_requests.html",
        context! {
            requests => requests,
            older => next.map(|n| format!("/follow-requests?max_id={n}")),
            locked => member.actor.manually_approves_followers,
        },
    ))
}

async fn decide_request(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path((id, action)): Path<(String, String)>,
) -> AppResult<Response> {
    let follower: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let (events, flash) = match action.as_str() {
        "authorize" => (
            follows::authorize(&state, &member.actor, follower).await?,
            "flash-request-approved",
        ),
        "reject" => (
            follows::reject(&state, &member.actor, follower).await?,
            "flash-request-rejected",
        ),
        _ => return Err(AppError::not_found()),
    };
    publish::publish(&state, events).await;
    Ok(ctx.redirect_with(&state, "/follow-requests", flash))
}

async fn notifications_page(
    State(state): State<AppState>,
    MemberCtx(mut ctx, member): MemberCtx,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let me = &member.actor;
    let filter = notifications::Filter {
        types: Vec::new(),
        exclude_types: Vec::new(),
        account_id: None,
    };
    let mut list = notifications::list(&state, me, &filter, q.page()).await?;
    let next = views::cut(&mut list, |n| n.id);
    let mut actor_ids: Vec<i64> = list.iter().map(|n| n.from_actor_id).collect();
    actor_ids.extend(list.iter().filter_map(|n| n.group_id));
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let people: HashMap<i64, actors::Model> = queries::actors::by_ids(&state.db, &actor_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let status_ids: Vec<i64> = list.iter().filter_map(|n| n.status_id).collect();
    let statuses = queries::statuses::by_ids(&state.db, &status_ids).await?;
    let views_by_id: HashMap<i64, timelines::PostView> =
        timelines::visible_views(&state, Some(me), statuses)
            .await?
            .into_iter()
            .map(|v| (v.status.id, v))
            .collect();
    let staff = member.is_staff();
    let mut items = Vec::new();
    for n in &list {
        let Some(from) = people.get(&n.from_actor_id) else {
            continue;
        };
        let post = match n.status_id {
            Some(sid) => match views_by_id.get(&sid) {
                Some(v) => Some(v),
                // The post is gone or no longer visible: so is the notice.
                None => continue,
            },
            None => None,
        };
        let kind = match n.kind.as_str() {
            "mention" if post.is_some_and(|p| p.status.in_reply_to_actor_id == Some(me.id)) => {
                "reply"
            }
            k => k,
        };
        items.push(context! {
            kind => kind,
            from => views::actor_value(from),
            post => post.map(|p| views::post_value_at(p, Some(me), staff, format!("n{}", n.id))),
            unread => n.read_at.is_none(),
            // Requests to join and invitations name their group.
            group => n.group_id.and_then(|g| people.get(&g)).map(|g| context! {
                name => views::display_name(g),
                path => views::group_path(g),
            }),
            at => views::when(n.created_at),
            at_iso => views::iso(n.created_at),
        });
    }
    let requests = queries::follows::count_requests(&state.db, me.id).await?;
    // Seen now: the count in the navigation goes back to zero.
    if q.max_id.is_none() {
        notifications::mark_read(&state, me).await?;
        ctx.unread = 0;
    }
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "notifications.html",
        context! {
            items => items,
            older => next.map(|n| format!("/notifications?max_id={n}")),
            requests => requests,
        },
    ))
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

const SEARCH_MAX: usize = 500;

/// What the search box found.
#[derive(Default)]
struct Found {
    accounts: Vec<actors::Model>,
    post: Option<crate::db::entities::statuses::Model>,
    hashtag: Option<String>,
    error: Option<String>,
}

async fn search(
    data: Data<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let query = q.q.trim().to_string();
    let viewer = ctx.viewer_actor().cloned();
    let mut status = StatusCode::OK;
    let mut found = Found::default();
    if query.chars().count() > SEARCH_MAX {
        status = StatusCode::UNPROCESSABLE_ENTITY;
        found.error = Some(crate::i18n::t(
            ctx.locale,
            "search-too-long",
            &[(std::borrow::Cow::Borrowed("max"), SEARCH_MAX.to_string())],
        ));
    } else if !query.is_empty() {
        found = find(&data, &ctx, &query, viewer.is_some()).await?;
    }
    let staff = ctx.active_member().is_some_and(|m| m.is_staff());
    let post = match found.post {
        Some(s) if posts::can_view(&data, viewer.as_ref(), &s).await? => {
            timelines::hydrate(&data, viewer.as_ref(), vec![s])
                .await?
                .first()
                .map(|v| views::post_value(v, viewer.as_ref(), staff))
        }
        _ => None,
    };
    let mut accounts = Vec::new();
    let mut seen = Vec::new();
    for a in &found.accounts {
        if !seen.contains(&a.id) && crate::domain::actors::visible(&data, a).await? {
            seen.push(a.id);
            accounts.push(views::actor_value(a));
        }
    }
    let looks_remote = query.trim_start_matches('@').contains('@')
        || query.starts_with("http://")
        || query.starts_with("https://");
    Ok(ctx.render(
        &data,
        status,
        "search.html",
        context! {
            q => query,
            searched => !q.q.trim().is_empty(),
            accounts => accounts,
            post => post,
            hashtag => found.hashtag,
            error => found.error,
            login_hint => viewer.is_none() && looks_remote,
        },
    ))
}

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric() || c == '_')
}

async fn find(data: &Data<AppState>, ctx: &Ctx, query: &str, member: bool) -> AppResult<Found> {
    let mut found = Found::default();
    let report = |e: AppError| -> AppResult<String> {
        match e {
            AppError::Internal(e) => Err(AppError::Internal(e)),
            other => Ok(other.public_message().render(ctx.locale)),
        }
    };
    if let Some(tag) = query.strip_prefix('#') {
        let tag = tag.to_lowercase();
        if valid_tag(&tag) {
            found.hashtag = Some(tag);
        }
        return Ok(found);
    }
    if query.starts_with("http://") || query.starts_with("https://") {
        // Known here already, else (members only) fetched from its server.
        let known_post = match queries::statuses::by_ap_id(&data.db, query).await? {
            Some(s) => Some(s),
            None => queries::statuses::by_url(&data.db, query).await?,
        };
        if let Some(s) = known_post {
            found.post = Some(s);
            return Ok(found);
        }
        let known_actor = match queries::actors::by_ap_id(&data.db, query).await? {
            Some(a) => Some(a),
            None => queries::actors::by_url(&data.db, query).await?,
        };
        if let Some(a) = known_actor {
            found.accounts.push(a);
            return Ok(found);
        }
        if member {
            match resolve::url(data, query).await {
                Ok(Some(Resolved::Post(s))) => found.post = Some(*s),
                Ok(Some(Resolved::Actor(a))) => found.accounts.push(*a),
                Ok(None) => {}
                Err(e) => found.error = Some(report(e.into())?),
            }
        }
        return Ok(found);
    }
    let bare = query.trim_start_matches('@');
    if let Some((user, host)) = bare.split_once('@') {
        if member {
            match resolve::handle(data, query, true).await {
                Ok(Some(a)) => found.accounts.push(a),
                Ok(None) => {}
                Err(e) => found.error = Some(report(e.into())?),
            }
        } else {
            let host = host.to_lowercase();
            let a = if host == data.urls.domain() {
                queries::actors::local_by_username(&data.db, user).await?
            } else {
                queries::actors::by_handle(&data.db, user, &host).await?
            };
            found.accounts.extend(a);
        }
        return Ok(found);
    }
    if !bare.is_empty() {
        found.accounts = queries::actors::search_by_name(&data.db, bare, 20).await?;
    }
    Ok(found)
}
