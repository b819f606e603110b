//! Creating, changing, cancelling and deleting events.

use super::*;
use crate::{
    domain::calendar::EventInput,
    federation::publish,
    http::extract::{ApiMember, Json},
    msg,
};

fn write(me: &ApiMember) -> AppResult<()> {
    me.require_scope("write:statuses")
}

/// Create an event; followers (and the group's members) receive it, with a
/// Going / Maybe / Can't go poll for those on Mastodon.
#[utoipa::path(post, path = "/api/v1/staffroom/events", tag = "events", request_body = NewEventBody,
    responses((status = 200, body = EventEntity), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:statuses"])))]
pub async fn create(
    State(state): State<AppState>,
    me: ApiMember,
    Json(body): Json<NewEventBody>,
) -> AppResult<axum::Json<EventEntity>> {
    write(&me)?;
    let input: EventInput = check(body.into_body())?;
    for (field, missing) in [
        ("title", input.title.is_none()),
        ("start_time", input.start.is_none()),
        ("timezone", input.timezone.is_none()),
    ] {
        if missing {
            return Err(AppError::Unprocessable(msg!(
                "error-field-required",
                field = field
            )));
        }
    }
    let (e, events) = calendar::create(&state, &me.member.actor, input).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        event_entity(&state, Some(&me.member.actor), &e).await?,
    ))
}

/// Change an event (its organiser or its group's moderators); participants
/// are notified and other servers receive the update.
#[utoipa::path(patch, path = "/api/v1/staffroom/events/{id}", tag = "events", request_body = EventBody,
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventEntity), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:statuses"])))]
pub async fn update(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    raw: axum::body::Bytes,
) -> AppResult<axum::Json<EventEntity>> {
    write(&me)?;
    // The changes are required (`{}` changes nothing): no body, or `null`,
    // is a client mistake, where actions elsewhere take none.
    let trimmed = raw.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Err(AppError::Unprocessable(msg!(
            "error-field-required",
            field = "body"
        )));
    }
    let mut req = axum::http::Request::new(axum::body::Body::from(raw));
    if let Some(ct) = headers.get(axum::http::header::CONTENT_TYPE) {
        req.headers_mut()
            .insert(axum::http::header::CONTENT_TYPE, ct.clone());
    }
    let Json(body) =
        <Json<EventBody> as axum::extract::FromRequest<()>>::from_request(req, &()).await?;
    let input = check(body)?;
    let e = event_by_id(&state, Some(&me.member.actor), &id).await?;
    let (e, events) = calendar::update(&state, &me.member.actor, e.id, input).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        event_entity(&state, Some(&me.member.actor), &e).await?,
    ))
}

/// Cancel an event: it stays in calendars, marked cancelled; participants
/// are notified.
#[utoipa::path(post, path = "/api/v1/staffroom/events/{id}/cancel", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventEntity), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["write:statuses"])))]
pub async fn cancel(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<EventEntity>> {
    write(&me)?;
    let e = event_by_id(&state, Some(&me.member.actor), &id).await?;
    let (e, events) = calendar::cancel(&state, &me.member.actor, e.id).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        event_entity(&state, Some(&me.member.actor), &e).await?,
    ))
}

/// Delete an event (and its poll) everywhere.
#[utoipa::path(delete, path = "/api/v1/staffroom/events/{id}", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = Object), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["write:statuses"])))]
pub async fn remove(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<serde_json::Value>> {
    write(&me)?;
    let e = event_by_id(&state, Some(&me.member.actor), &id).await?;
    let events = calendar::delete(&state, &me.member.actor, e.id).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(serde_json::json!({})))
}
