//! Mastodon's media endpoints: upload (`/api/v2/media`, `/api/v1/media`),
//! read and describe (`/api/v1/media/:id`), and polls.

use crate::{
    app::AppState,
    domain::{
        media::{self, Purpose},
        polls, timelines,
    },
    error::{AppError, AppResult},
    federation::publish,
    http::{
        api::{
            entities,
            params::{list, parse_id},
        },
        extract::{ApiMember, Json, Path},
    },
    msg,
};
use axum::{
    Router,
    extract::{Multipart, State},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;

pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/media", post(upload))
        .route("/api/v1/media", post(upload))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/media/{id}", get(show).put(update))
        .route("/api/v1/polls/{id}", get(poll))
        .route("/api/v1/polls/{id}/votes", post(vote))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge(msg!("error-body-too-large"))
    } else {
        AppError::BadRequest(msg!("error-invalid-body", detail = e.body_text()))
    }
}

async fn upload(
    State(state): State<AppState>,
    me: ApiMember,
    mut form: Multipart,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:media")?;
    let mut file = None;
    let mut description = None;
    let mut focus = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "file" => file = Some(field.bytes().await.map_err(multipart_error)?),
            "description" => description = Some(field.text().await.map_err(multipart_error)?),
            "focus" => focus = Some(field.text().await.map_err(multipart_error)?),
            // A custom thumbnail is accepted and ignored: we show the file itself.
            _ => {
                field.bytes().await.map_err(multipart_error)?;
            }
        }
    }
    let file =
        file.ok_or_else(|| AppError::Unprocessable(msg!("error-param-missing", param = "file")))?;
    let focus = match focus.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Some(media::parse_focus(f)?),
        None => None,
    };
    let m = media::store(
        &state,
        Some(me.member.account.id),
        file,
        Purpose::Attachment,
        description,
    )
    .await?;
    let m = match focus {
        Some(f) => media::describe(&state, me.member.account.id, m.id, None, Some(f)).await?,
        None => m,
    };
    Ok(axum::Json(entities::media_attachment(&state, &m)))
}

async fn show(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("read")?;
    let m = media::mine(
        &state,
        me.member.account.id,
        parse_id(&id).ok_or_else(AppError::not_found)?,
    )
    .await?;
    Ok(axum::Json(entities::media_attachment(&state, &m)))
}

#[derive(Deserialize, Default)]
struct MediaUpdate {
    description: Option<String>,
    focus: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<MediaUpdate>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:media")?;
    let focus = match body.focus.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Some(media::parse_focus(f)?),
        None => None,
    };
    let id = parse_id(&id).ok_or_else(AppError::not_found)?;
    let m = media::describe(&state, me.member.account.id, id, body.description, focus).await?;
    Ok(axum::Json(entities::media_attachment(&state, &m)))
}

async fn poll_json(
    state: &AppState,
    me: &crate::db::entities::actors::Model,
    poll_id: i64,
) -> AppResult<Value> {
    let p = crate::db::queries::polls::by_id(&state.db, poll_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let s = crate::domain::posts::visible(state, Some(me), p.status_id).await?;
    let views = timelines::hydrate(state, Some(me), vec![s]).await?;
    let view = views
        .first()
        .and_then(|v| v.poll.clone())
        .ok_or_else(AppError::not_found)?;
    Ok(entities::poll(&view, true))
}

async fn poll(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("read:statuses")?;
    Ok(axum::Json(
        poll_json(
            &state,
            &me.member.actor,
            parse_id(&id).ok_or_else(AppError::not_found)?,
        )
        .await?,
    ))
}

#[derive(Deserialize, Default)]
struct VoteBody {
    #[serde(default, deserialize_with = "list")]
    choices: Vec<String>,
    #[serde(rename = "choices[]", default, deserialize_with = "list")]
    choices_brackets: Vec<String>,
}

async fn vote(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<VoteBody>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:statuses")?;
    let poll_id = parse_id(&id).ok_or_else(AppError::not_found)?;
    let choices = body
        .choices
        .iter()
        .chain(&body.choices_brackets)
        .map(|c| {
            c.trim()
                .parse::<usize>()
                .map_err(|_| AppError::Unprocessable(msg!("error-poll-choice")))
        })
        .collect::<AppResult<Vec<_>>>()?;
    let (_, events) = polls::vote(&state, &me.member.actor, poll_id, &choices).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        poll_json(&state, &me.member.actor, poll_id).await?,
    ))
}
