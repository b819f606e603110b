//! Mastodon's account endpoints: profiles, their posts and relations,
//! following, blocking and muting, relationships, lookup, search, and
//! updating one's own profile.

use crate::{
    app::AppState,
    db::{entities::actors, queries},
    domain::{follows, profiles, timelines},
    error::{AppError, AppResult},
    federation::publish,
    http::{
        api::{
            entities::{self, Account, AccountCache, CredentialAccount},
            pagination::{PageParams, paged},
            params::{bool_like, list, parse_id},
        },
        extract::{ApiMember, Auth, Json, Path, Query},
    },
    msg,
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    extract::{OriginalUri, State},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;

/// Routes that take uploads (larger body limit).
pub fn upload_routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/accounts/update_credentials",
        axum::routing::patch(update_credentials),
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/accounts/verify_credentials",
            get(verify_credentials),
        )
        .route("/api/v1/accounts/lookup", get(lookup))
        .route("/api/v1/accounts/relationships", get(relationships))
        .route("/api/v1/accounts/search", get(search))
        .route("/api/v1/accounts/{id}", get(show))
        .route("/api/v1/accounts/{id}/statuses", get(statuses))
        .route("/api/v1/accounts/{id}/followers", get(followers))
        .route("/api/v1/accounts/{id}/following", get(following))
        .route("/api/v1/accounts/{id}/follow", post(follow))
        .route("/api/v1/accounts/{id}/unfollow", post(unfollow))
        .route(
            "/api/v1/accounts/{id}/remove_from_followers",
            post(remove_from_followers),
        )
        .route("/api/v1/accounts/{id}/block", post(block))
        .route("/api/v1/accounts/{id}/unblock", post(unblock))
        .route("/api/v1/accounts/{id}/mute", post(mute))
        .route("/api/v1/accounts/{id}/unmute", post(unmute))
}

async fn verify_credentials(
    State(state): State<AppState>,
    me: ApiMember,
) -> AppResult<axum::Json<CredentialAccount>> {
    me.require_scope("read:accounts")?;
    Ok(axum::Json(
        entities::credential_account_full(&state, &me.member).await?,
    ))
}

async fn target(state: &AppState, id: &str) -> AppResult<actors::Model> {
    let id = parse_id(id).ok_or_else(AppError::not_found)?;
    let actor = queries::actors::by_id(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !crate::domain::actors::visible(state, &actor).await? {
        return Err(AppError::not_found());
    }
    Ok(actor)
}

async fn show(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Account>> {
    let actor = target(&state, &id).await?;
    Ok(axum::Json(entities::account_full(&state, &actor).await?))
}

#[derive(Deserialize)]
struct LookupQuery {
    acct: Option<String>,
}

async fn lookup(
    State(state): State<AppState>,
    Query(q): Query<LookupQuery>,
) -> AppResult<axum::Json<Account>> {
    let acct = q
        .acct
        .ok_or_else(|| AppError::BadRequest(msg!("error-param-missing", param = "acct")))?;
    let acct = acct.trim().trim_start_matches('@');
    let (username, domain) = match acct.split_once('@') {
        Some((u, d)) => (u, d.to_lowercase()),
        None => (acct, state.urls.domain().to_string()),
    };
    let actor = if domain == state.urls.domain() {
        queries::actors::local_by_username(&state.db, username).await?
    } else {
        queries::actors::by_handle(&state.db, username, &domain).await?
    }
    .ok_or_else(AppError::not_found)?;
    if !crate::domain::actors::visible(&state, &actor).await? {
        return Err(AppError::not_found());
    }
    Ok(axum::Json(entities::account_full(&state, &actor).await?))
}

#[derive(Deserialize, Default)]
struct StatusesQuery {
    #[serde(default, deserialize_with = "bool_like")]
    exclude_replies: Option<bool>,
    #[serde(default, deserialize_with = "bool_like")]
    exclude_reblogs: Option<bool>,
    #[serde(default, deserialize_with = "bool_like")]
    pinned: Option<bool>,
    max_id: Option<String>,
    since_id: Option<String>,
    min_id: Option<String>,
    limit: Option<String>,
}

async fn statuses(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<StatusesQuery>,
) -> AppResult<Response> {
    let author = target(&state, &id).await?;
    let viewer = auth.member().map(|m| m.actor.clone());
    let page = PageParams {
        max_id: q.max_id,
        since_id: q.since_id,
        min_id: q.min_id,
        limit: q.limit,
    }
    .page(20, 40);
    if q.pinned == Some(true) {
        return Ok(paged(
            &uri,
            state.urls.base(),
            &[],
            page.limit,
            Value::Array(Vec::new()),
        ));
    }
    let views = timelines::account(
        &state,
        viewer.as_ref(),
        &author,
        q.exclude_replies.unwrap_or(false),
        q.exclude_reblogs.unwrap_or(false),
        page,
    )
    .await?;
    let ids: Vec<i64> = views.iter().map(|v| v.status.id).collect();
    let body = entities::statuses(&state, &views, viewer.is_some()).await?;
    Ok(paged(
        &uri,
        state.urls.base(),
        &ids,
        page.limit,
        Value::Array(body),
    ))
}

async fn relation_list(
    state: &AppState,
    uri: &axum::http::Uri,
    id: &str,
    p: PageParams,
    followers: bool,
) -> AppResult<Response> {
    let actor = target(state, id).await?;
    let page = p.page(40, 80);
    let rows = if followers {
        follows::followers(state, actor.id, page).await?
    } else {
        follows::following(state, actor.id, page).await?
    };
    let mut cache = AccountCache::default();
    let mut out = Vec::new();
    for (_, a) in &rows {
        out.push(cache.get(state, a).await?);
    }
    let ids: Vec<i64> = rows.iter().map(|(f, _)| f.id).collect();
    Ok(paged(
        uri,
        state.urls.base(),
        &ids,
        page.limit,
        Value::Array(out),
    ))
}

async fn followers(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<PageParams>,
) -> AppResult<Response> {
    relation_list(&state, &uri, &id, p, true).await
}

async fn following(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(p): Query<PageParams>,
) -> AppResult<Response> {
    relation_list(&state, &uri, &id, p, false).await
}

async fn relationship_of(
    state: &AppState,
    me: &actors::Model,
    other: i64,
) -> AppResult<axum::Json<Value>> {
    let r = follows::relationship(state, me.id, other).await?;
    Ok(axum::Json(entities::relationship(other, &r)))
}

async fn follow(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:follows")?;
    let other = target(&state, &id).await?;
    let (_, events) = follows::follow(&state, &me.member.actor, &other).await?;
    publish::publish(&state, events).await;
    relationship_of(&state, &me.member.actor, other.id).await
}

async fn unfollow(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:follows")?;
    let other = target(&state, &id).await?;
    let events = follows::unfollow(&state, &me.member.actor, &other).await?;
    publish::publish(&state, events).await;
    relationship_of(&state, &me.member.actor, other.id).await
}

async fn remove_from_followers(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:follows")?;
    let other = target(&state, &id).await?;
    let events = follows::remove_follower(&state, &me.member.actor, other.id).await?;
    publish::publish(&state, events).await;
    relationship_of(&state, &me.member.actor, other.id).await
}

async fn block(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:blocks")?;
    let other = target(&state, &id).await?;
    let events = follows::block(&state, &me.member.actor, &other).await?;
    publish::publish(&state, events).await;
    relationship_of(&state, &me.member.actor, other.id).await
}

async fn unblock(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:blocks")?;
    let other = target(&state, &id).await?;
    let events = follows::unblock(&state, &me.member.actor, &other).await?;
    publish::publish(&state, events).await;
    relationship_of(&state, &me.member.actor, other.id).await
}

async fn mute(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:mutes")?;
    let other = target(&state, &id).await?;
    follows::mute(&state, &me.member.actor, &other).await?;
    relationship_of(&state, &me.member.actor, other.id).await
}

async fn unmute(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("write:mutes")?;
    let other = target(&state, &id).await?;
    follows::unmute(&state, &me.member.actor, &other).await?;
    relationship_of(&state, &me.member.actor, other.id).await
}

#[derive(Deserialize, Default)]
struct RelationshipsQuery {
    #[serde(rename = "id[]", default, deserialize_with = "list")]
    ids_brackets: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    id: Vec<String>,
}

async fn relationships(
    State(state): State<AppState>,
    me: ApiMember,
    Query(q): Query<RelationshipsQuery>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("read:follows")?;
    let mut out = Vec::new();
    for raw in q.ids_brackets.iter().chain(&q.id).take(100) {
        if let Some(id) = parse_id(raw)
            && queries::actors::by_id(&state.db, id).await?.is_some()
        {
            let r = follows::relationship(&state, me.member.actor.id, id).await?;
            out.push(entities::relationship(id, &r));
        }
    }
    Ok(axum::Json(Value::Array(out)))
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    q: Option<String>,
    #[serde(default, deserialize_with = "bool_like")]
    resolve: Option<bool>,
    limit: Option<String>,
}

async fn search(
    data: Data<AppState>,
    me: ApiMember,
    Query(q): Query<SearchQuery>,
) -> AppResult<axum::Json<Value>> {
    me.require_scope("read:accounts")?;
    let query = q.q.unwrap_or_default();
    let limit = q
        .limit
        .as_deref()
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(40)
        .clamp(1, 80);
    let found = super::search::accounts(&data, &query, q.resolve.unwrap_or(false), limit).await?;
    let mut cache = AccountCache::default();
    let mut out = Vec::new();
    for a in &found {
        out.push(cache.get(&data, a).await?);
    }
    Ok(axum::Json(Value::Array(out)))
}

#[derive(Deserialize, Default, Clone)]
struct FieldAttr {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize, Default)]
struct UpdateCredentials {
    display_name: Option<String>,
    note: Option<String>,
    #[serde(default, deserialize_with = "bool_like")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "bool_like")]
    discoverable: Option<bool>,
    fields_attributes: Option<Value>,
    /// Staffroom: subjects taught, comma separated or a list.
    subjects: Option<Value>,
    languages: Option<Value>,
}

fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => profiles::split_list(s),
        _ => Vec::new(),
    }
}

/// Profile updates come as JSON, as a form, or (with an avatar or header) as
/// multipart; Rails-style `fields_attributes[0][name]` keys are understood.
async fn read_update(
    req: axum::extract::Request,
) -> AppResult<(
    UpdateCredentials,
    Option<bytes::Bytes>,
    Option<bytes::Bytes>,
)> {
    use axum::extract::FromRequest;
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let Json(body) = Json::<UpdateCredentials>::from_request(req, &()).await?;
        return Ok((body, None, None));
    }
    let mut form = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|e| AppError::BadRequest(msg!("error-invalid-body", detail = e.body_text())))?;
    let mut body = UpdateCredentials::default();
    let (mut avatar, mut header) = (None, None);
    let mut fields: std::collections::BTreeMap<usize, FieldAttr> =
        std::collections::BTreeMap::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(msg!("error-invalid-body", detail = e.body_text())))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(|e| {
            AppError::BadRequest(msg!("error-invalid-body", detail = e.body_text()))
        })?;
        let text = || String::from_utf8_lossy(&bytes).to_string();
        let truthy = |t: String| matches!(t.trim(), "1" | "true" | "True" | "on");
        match name.as_str() {
            "display_name" => body.display_name = Some(text()),
            "note" => body.note = Some(text()),
            "locked" => body.locked = Some(truthy(text())),
            "discoverable" => body.discoverable = Some(truthy(text())),
            "subjects" => body.subjects = Some(Value::String(text())),
            "languages" => body.languages = Some(Value::String(text())),
            "avatar" if !bytes.is_empty() => avatar = Some(bytes.clone()),
            "header" if !bytes.is_empty() => header = Some(bytes.clone()),
            other => {
                // fields_attributes[0][name] / fields_attributes[0][value]
                if let Some(rest) = other.strip_prefix("fields_attributes[")
                    && let Some((idx, key)) = rest.split_once("][")
                    && let Ok(i) = idx.parse::<usize>()
                {
                    let entry = fields.entry(i).or_default();
                    match key.trim_end_matches(']') {
                        "name" => entry.name = Some(text()),
                        "value" => entry.value = Some(text()),
                        _ => {}
                    }
                }
            }
        }
    }
    if !fields.is_empty() {
        body.fields_attributes = Some(Value::Array(
            fields
                .into_values()
                .map(|f| serde_json::json!({ "name": f.name, "value": f.value }))
                .collect(),
        ));
    }
    Ok((body, avatar, header))
}

async fn update_credentials(
    State(state): State<AppState>,
    me: ApiMember,
    req: axum::extract::Request,
) -> AppResult<axum::Json<CredentialAccount>> {
    me.require_scope("write:accounts")?;
    let (body, avatar, header) = read_update(req).await?;
    let fields = body.fields_attributes.as_ref().map(|f| {
        // Either a list or Rails' {"0": {...}, "1": {...}}.
        let items: Vec<Value> = match f {
            Value::Array(a) => a.clone(),
            Value::Object(o) => {
                let mut entries: Vec<(&String, &Value)> = o.iter().collect();
                entries.sort_by_key(|(k, _)| k.parse::<usize>().unwrap_or(usize::MAX));
                entries.into_iter().map(|(_, v)| v.clone()).collect()
            }
            _ => Vec::new(),
        };
        items
            .into_iter()
            .filter_map(|i| serde_json::from_value::<FieldAttr>(i).ok())
            .map(|f| profiles::Field {
                name: f.name.unwrap_or_default(),
                value: f.value.unwrap_or_default(),
            })
            .collect()
    });
    let update = profiles::ProfileUpdate {
        display_name: body.display_name,
        bio: body.note,
        subjects: body.subjects.as_ref().map(string_list),
        languages: body.languages.as_ref().map(string_list),
        fields,
        locked: body.locked,
        discoverable: body.discoverable,
        avatar,
        header,
    };
    let (actor, outbox) = profiles::update(&state, &me.member, update).await?;
    publish::publish(&state, outbox).await;
    let member = crate::domain::accounts::Member {
        account: me.member.account.clone(),
        actor,
    };
    Ok(axum::Json(
        entities::credential_account_full(&state, &member).await?,
    ))
}
