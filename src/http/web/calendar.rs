//! Calendars for calendar programs and feed readers: one event as
//! iCalendar, the instance's and a group's calendars, a member's own
//! calendar behind a secret URL (for programs that cannot sign in), and an
//! Atom feed of upcoming events. Each shows what its reader may see.

use crate::{
    app::AppState,
    db::{entities::calendar_events, queries},
    domain::calendar::{self, Filter, Rsvp, ics},
    error::{AppError, AppResult},
    http::extract::{Auth, Path},
};
use axum::{
    Router,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{id}/event.ics", get(one))
        .route("/calendar.ics", get(instance))
        .route("/calendar.atom", get(atom))
        .route("/groups/{name}/calendar.ics", get(group))
        .route("/calendar/feed/{token}", get(personal))
}

fn ics_response(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Events with their ActivityPub ids (the iCalendar UIDs).
async fn with_uids(
    state: &AppState,
    list: Vec<calendar_events::Model>,
) -> AppResult<Vec<(calendar_events::Model, String)>> {
    let ids: Vec<i64> = list.iter().map(|e| e.id).collect();
    let uids: std::collections::HashMap<i64, String> = queries::statuses::by_ids(&state.db, &ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s.ap_id))
        .collect();
    Ok(list
        .into_iter()
        .map(|e| {
            let uid = uids
                .get(&e.id)
                .cloned()
                .unwrap_or_else(|| calendar::page_url(state.urls.base(), &e));
            (e, uid)
        })
        .collect())
}

/// Ids of the events among `list` whose participants-only link `viewer` may see.
async fn insider_of(
    state: &AppState,
    viewer: Option<&crate::db::entities::actors::Model>,
    list: &[calendar_events::Model],
) -> AppResult<Vec<i64>> {
    let mut out = Vec::new();
    if let Some(v) = viewer {
        for e in list {
            let answer = calendar::my_answer(&state.db, v, e).await?;
            if matches!(answer, Some(Rsvp::Going | Rsvp::Maybe))
                || calendar::is_organiser(&state.db, v, e).await?
            {
                out.push(e.id);
            }
        }
    }
    Ok(out)
}

fn viewer(auth: &Auth) -> Option<crate::db::entities::actors::Model> {
    auth.member().map(|m| m.actor.clone())
}

pub(super) async fn render(
    state: &AppState,
    name: &str,
    viewer: Option<&crate::db::entities::actors::Model>,
    list: Vec<calendar_events::Model>,
) -> AppResult<Response> {
    let insiders = insider_of(state, viewer, &list).await?;
    let events = with_uids(state, list).await?;
    let reader = ics::Reader {
        base: state.urls.base(),
        insider_of: &insiders,
    };
    Ok(ics_response(ics::calendar(name, &events, &reader)))
}

async fn one(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let v = viewer(&auth);
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let e = calendar::visible(&state.db, v.as_ref(), id).await?;
    let title = e.title.clone();
    render(&state, &title, v.as_ref(), vec![e]).await
}

/// What calendars show: from a month ago on.
fn recent(limit: u64) -> Filter {
    Filter {
        from: Some(chrono::Utc::now() - chrono::Duration::days(31)),
        limit,
        ..Filter::default()
    }
}

async fn instance(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let v = viewer(&auth);
    let list = calendar::list(&state.db, v.as_ref(), &recent(200)).await?;
    let name = state.config.instance.name.clone();
    render(&state, &name, v.as_ref(), list).await
}

async fn group(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let v = viewer(&auth);
    let g = crate::domain::groups::by_name(&state, &name).await?;
    let filter = Filter {
        group_id: Some(g.id()),
        ..recent(200)
    };
    let list = calendar::list(&state.db, v.as_ref(), &filter).await?;
    let title = if g.actor.display_name.is_empty() {
        g.actor.username.clone()
    } else {
        g.actor.display_name.clone()
    };
    render(&state, &title, v.as_ref(), list).await
}

async fn personal(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    if token.len() > 64 {
        return Err(AppError::not_found());
    }
    let feed = queries::calendar::feed_by_token(&state.db, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let me = queries::actors::by_id(&state.db, feed.actor_id)
        .await?
        .filter(|a| a.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    let filter = Filter {
        mine: true,
        ..recent(200)
    };
    let list = calendar::list(&state.db, Some(&me), &filter).await?;
    let name = format!("{} · {}", me.username, state.config.instance.name);
    render(&state, &name, Some(&me), list).await
}

async fn atom(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let v = viewer(&auth);
    let filter = Filter {
        from: Some(chrono::Utc::now()),
        limit: 50,
        ..Filter::default()
    };
    let list = calendar::list(&state.db, v.as_ref(), &filter).await?;
    let insiders = insider_of(&state, v.as_ref(), &list).await?;
    let events = with_uids(&state, list).await?;
    let reader = ics::Reader {
        base: state.urls.base(),
        insider_of: &insiders,
    };
    let self_url = format!("{}/calendar.atom", state.urls.base());
    let title = format!("{} · events", state.config.instance.name);
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        ics::atom(&title, &self_url, &events, &reader),
    )
        .into_response())
}
