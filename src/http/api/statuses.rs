//! Mastodon's statuses endpoints: post, show, edit, delete, thread, history,
//! likes, boosts and bookmarks.

use crate::{
    app::AppState,
    db::queries,
    domain::{
        idempotency, interactions,
        polls::PollInput,
        posts::{self, Compose, Visibility},
        timelines,
    },
    error::{AppError, AppResult},
    federation::{publish, resolve},
    http::{
        api::{
            entities,
            pagination::{PageParams, paged},
            params::{bool_like, list, parse_id, present_list, string_like},
        },
        extract::{ApiMember, Auth, Json, Path, Query},
    },
    msg,
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    extract::{OriginalUri, State},
    http::HeaderMap,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/statuses", post(create))
        .route("/api/v1/statuses/{id}", get(show).delete(delete).put(edit))
        .route("/api/v1/statuses/{id}/context", get(context))
        .route("/api/v1/statuses/{id}/history", get(history))
        .route("/api/v1/statuses/{id}/source", get(source))
        .route("/api/v1/statuses/{id}/favourite", post(favourite))
        .route("/api/v1/statuses/{id}/unfavourite", post(unfavourite))
        .route("/api/v1/statuses/{id}/reblog", post(reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(unreblog))
        .route("/api/v1/statuses/{id}/bookmark", post(bookmark))
        .route("/api/v1/statuses/{id}/unbookmark", post(unbookmark))
        .route("/api/v1/statuses/{id}/favourited_by", get(favourited_by))
        .route("/api/v1/statuses/{id}/reblogged_by", get(reblogged_by))
}

#[derive(Deserialize, Default)]
struct StatusBody {
    #[serde(default, deserialize_with = "string_like")]
    status: Option<String>,
    #[serde(default, deserialize_with = "string_like")]
    in_reply_to_id: Option<String>,
    visibility: Option<String>,
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "bool_like")]
    sensitive: Option<bool>,
    language: Option<String>,
    /// Staffroom: a title makes the post an article.
    title: Option<String>,
    /// Staffroom: post in this group (its account id).
    #[serde(default, deserialize_with = "string_like")]
    group_id: Option<String>,
    #[serde(default, deserialize_with = "present_list")]
    media_ids: Option<Vec<String>>,
    #[serde(rename = "media_ids[]", default, deserialize_with = "present_list")]
    media_ids_brackets: Option<Vec<String>>,
    poll: Option<PollBody>,
    #[serde(rename = "poll[options][]", default, deserialize_with = "list")]
    poll_options_form: Vec<String>,
    #[serde(rename = "poll[expires_in]", default, deserialize_with = "string_like")]
    poll_expires_form: Option<String>,
    #[serde(rename = "poll[multiple]", default, deserialize_with = "bool_like")]
    poll_multiple_form: Option<bool>,
}

#[derive(Deserialize, Default)]
struct PollBody {
    #[serde(default, deserialize_with = "list")]
    options: Vec<String>,
    #[serde(default, deserialize_with = "string_like")]
    expires_in: Option<String>,
    #[serde(default, deserialize_with = "bool_like")]
    multiple: Option<bool>,
}

fn id_of(raw: &str) -> AppResult<i64> {
    parse_id(raw).ok_or_else(AppError::not_found)
}

async fn one(
    state: &AppState,
    me: Option<&crate::db::entities::actors::Model>,
    s: crate::db::entities::statuses::Model,
) -> AppResult<Value> {
    let views = timelines::hydrate(state, me, vec![s]).await?;
    let v = views.into_iter().next().ok_or_else(AppError::not_found)?;
    entities::status(
        state,
        &mut entities::AccountCache::default(),
        &v,
        me.is_some(),
    )
    .await
}

fn compose(body: &StatusBody, default_visibility: Visibility) -> AppResult<Compose> {
    let visibility = match body.visibility.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => Visibility::parse(v)
            .ok_or_else(|| AppError::Unprocessable(msg!("error-visibility", visibility = v)))?,
        None => default_visibility,
    };
    Ok(Compose {
        text: body.status.clone().unwrap_or_default(),
        title: body.title.clone(),
        spoiler_text: body.spoiler_text.clone(),
        sensitive: body.sensitive.unwrap_or(false),
        visibility,
        in_reply_to_id: match body.in_reply_to_id.as_deref().filter(|s| !s.is_empty()) {
            Some(r) => Some(parse_id(r).ok_or_else(AppError::not_found)?),
            None => None,
        },
        language: body.language.clone(),
        media_ids: match (&body.media_ids, &body.media_ids_brackets) {
            (None, None) => None,
            (a, b) => Some(
                a.iter()
                    .chain(b)
                    .flatten()
                    .map(|m| parse_id(m).ok_or_else(AppError::not_found))
                    .collect::<AppResult<Vec<_>>>()?,
            ),
        },
        poll: poll_input(body)?,
        group_id: match body.group_id.as_deref().filter(|s| !s.is_empty()) {
            Some(g) => Some(parse_id(g).ok_or_else(AppError::not_found)?),
            None => None,
        },
    })
}

fn poll_input(body: &StatusBody) -> AppResult<Option<PollInput>> {
    let (options, expires, multiple) = match &body.poll {
        Some(p) if !p.options.is_empty() => (p.options.clone(), p.expires_in.clone(), p.multiple),
        _ if !body.poll_options_form.is_empty() => (
            body.poll_options_form.clone(),
            body.poll_expires_form.clone(),
            body.poll_multiple_form,
        ),
        _ => return Ok(None),
    };
    let expires_in = match expires.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => Some(
            e.parse::<i64>()
                .map_err(|_| AppError::Unprocessable(msg!("error-poll-expiry")))?,
        ),
        None => None,
    };
    Ok(Some(PollInput {
        options,
        expires_in,
        multiple: multiple.unwrap_or(false),
    }))
}

async fn create(
    data: Data<AppState>,
    me: ApiMember,
    headers: HeaderMap,
    Json(body): Json<StatusBody>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:statuses")?;
    let actor = &me.member.actor;
    // Idempotency-Key: the same request again within an hour gets the same post.
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| (actor.id, k.chars().take(200).collect::<String>()));
    let slot = key
        .clone()
        .map(|k| data.idempotency.get_with(k, Default::default));
    let mut done = match &slot {
        Some(slot) => Some(slot.lock().await),
        None => None,
    };
    let mut existing = done.as_deref().copied().flatten();
    if existing.is_none()
        && let Some((_, k)) = &key
    {
        existing = idempotency::earlier(&data, actor.id, k).await?;
    }
    if let Some(existing) = existing
        && let Some(s) = queries::statuses::by_id(&data.db, existing).await?
    {
        return Ok(axum::Json(one(&data, Some(actor), s).await?));
    }
    let input = compose(&body, Visibility::Public)?;
    let mentions = resolve::mentions(&data, &input.text).await;
    let (s, events) = posts::create(&data, actor, input, mentions).await?;
    if let Some(done) = done.as_mut() {
        **done = Some(s.id);
        if let Some((_, k)) = &key {
            idempotency::remember(&data, actor.id, k, s.id).await;
        }
    }
    drop(done);
    publish::publish(&data, events).await;
    Ok(axum::Json(one(&data, Some(actor), s).await?))
}

async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    if matches!(auth, Auth::BadToken) {
        return Err(AppError::unauthorized());
    }
    let viewer = auth.member().map(|m| m.actor.clone());
    let s = posts::visible(&state, viewer.as_ref(), id_of(&id)?).await?;
    Ok(axum::Json(one(&state, viewer.as_ref(), s).await?))
}

async fn edit(
    data: Data<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<StatusBody>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:statuses")?;
    let actor = &me.member.actor;
    let current = posts::visible(&data, Some(actor), id_of(&id)?).await?;
    let mut input = compose(&body, Visibility::of(&current))?;
    if body.title.is_none() {
        input.title = current.title.clone();
    }
    let mentions = resolve::mentions(&data, &input.text).await;
    let (s, events) = posts::edit(&data, actor, current.id, input, mentions).await?;
    publish::publish(&data, events).await;
    Ok(axum::Json(one(&data, Some(actor), s).await?))
}

async fn delete(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:statuses")?;
    let actor = &me.member.actor;
    let s = posts::visible(&state, Some(actor), id_of(&id)?).await?;
    if s.actor_id != actor.id {
        return Err(AppError::forbidden());
    }
    // Mastodon answers with the post and its source, for "delete and redraft".
    let mut out = one(&state, Some(actor), s.clone()).await?;
    out["text"] = json!(s.source.clone().unwrap_or_default());
    let (_, events) = posts::delete(&state, actor, me.member.is_staff(), s.id).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(out))
}

async fn context(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    let viewer = auth.member().map(|m| m.actor.clone());
    let s = posts::visible(&state, viewer.as_ref(), id_of(&id)?).await?;
    let (ancestors, descendants) = posts::thread(&state, viewer.as_ref(), &s).await?;
    let a = timelines::hydrate(&state, viewer.as_ref(), ancestors).await?;
    let d = timelines::hydrate(&state, viewer.as_ref(), descendants).await?;
    Ok(axum::Json(json!({
        "ancestors": entities::statuses(&state, &a, viewer.is_some()).await?,
        "descendants": entities::statuses(&state, &d, viewer.is_some()).await?,
    })))
}

async fn history(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    let viewer = auth.member().map(|m| m.actor.clone());
    let s = posts::visible(&state, viewer.as_ref(), id_of(&id)?).await?;
    let author = queries::actors::by_id(&state.db, s.actor_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let account = entities::account_full(&state, &author).await?;
    let edits = posts::history(&state, &s).await?;
    Ok(axum::Json(Value::Array(
        edits
            .into_iter()
            .map(|e| {
                json!({
                    "content": match &e.title { Some(t) => format!("<p><strong>{t}</strong></p>{}", e.content), None => e.content.clone() },
                    "spoiler_text": e.spoiler_text,
                    "sensitive": e.sensitive,
                    "created_at": entities::iso(e.created_at),
                    "account": account,
                    "media_attachments": [],
                    "emojis": [],
                })
            })
            .collect(),
    )))
}

async fn source(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    let s = posts::visible(&state, Some(&me.member.actor), id_of(&id)?).await?;
    if s.actor_id != me.member.actor.id {
        return Err(AppError::not_found());
    }
    Ok(axum::Json(
        json!({ "id": s.id.to_string(), "text": s.source.unwrap_or_default(), "spoiler_text": s.spoiler_text }),
    ))
}

async fn favourite(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:favourites")?;
    let (s, events) = interactions::favourite(&state, &me.member.actor, id_of(&id)?).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(one(&state, Some(&me.member.actor), s).await?))
}

async fn unfavourite(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:favourites")?;
    let (s, events) = interactions::unfavourite(&state, &me.member.actor, id_of(&id)?).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(one(&state, Some(&me.member.actor), s).await?))
}

#[derive(Deserialize, Default)]
struct ReblogBody {
    visibility: Option<String>,
}

async fn reblog(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<ReblogBody>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:statuses")?;
    let visibility = body.visibility.and_then(|v| Visibility::parse(&v));
    let (boost, events) =
        interactions::reblog(&state, &me.member.actor, id_of(&id)?, visibility).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        one(&state, Some(&me.member.actor), boost).await?,
    ))
}

async fn unreblog(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:statuses")?;
    let (original, events) = interactions::unreblog(&state, &me.member.actor, id_of(&id)?).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        one(&state, Some(&me.member.actor), original).await?,
    ))
}

async fn bookmark(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:bookmarks")?;
    let s = interactions::bookmark(&state, &me.member.actor, id_of(&id)?).await?;
    Ok(axum::Json(one(&state, Some(&me.member.actor), s).await?))
}

async fn unbookmark(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:bookmarks")?;
    let s = interactions::unbookmark(&state, &me.member.actor, id_of(&id)?).await?;
    Ok(axum::Json(one(&state, Some(&me.member.actor), s).await?))
}

/// A page of the accounts behind `rows` (row id, actor id), paged by the
/// rows' ids; accounts gone since are left out.
async fn accounts_page(
    state: &AppState,
    uri: &axum::http::Uri,
    page: queries::Page,
    rows: Vec<(i64, i64)>,
) -> AppResult<Response> {
    let mut cache = entities::AccountCache::default();
    let mut out = Vec::new();
    for (_, actor_id) in &rows {
        if let Some(a) = queries::actors::by_id(&state.db, *actor_id).await? {
            out.push(cache.get(state, &a).await?);
        }
    }
    let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    Ok(paged(
        uri,
        state.urls.base(),
        &ids,
        page.limit,
        Value::Array(out),
    ))
}

async fn favourited_by(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<PageParams>,
) -> AppResult<Response> {
    let viewer = auth.member().map(|m| m.actor.clone());
    let s = posts::visible(&state, viewer.as_ref(), id_of(&id)?).await?;
    let page = p.page(40, 80);
    let favs = queries::relations::favourites_of_status(&state.db, s.id, page).await?;
    let rows = favs.iter().map(|f| (f.id, f.actor_id)).collect();
    accounts_page(&state, &uri, page, rows).await
}

async fn reblogged_by(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<PageParams>,
) -> AppResult<Response> {
    let viewer = auth.member().map(|m| m.actor.clone());
    let s = posts::visible(&state, viewer.as_ref(), id_of(&id)?).await?;
    let page = p.page(40, 80);
    let boosts = queries::statuses::reblogs_of(&state.db, s.id, page).await?;
    let rows = boosts.iter().map(|b| (b.id, b.actor_id)).collect();
    accounts_page(&state, &uri, page, rows).await
}
