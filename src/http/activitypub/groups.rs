//! A group's ActivityPub documents: the Group actor and its collections —
//! outbox (its threads, as boosts), followers (its members: a count for
//! everyone, the list for members and their servers), moderators (the
//! group's `attributedTo`) and featured (pinned threads, full objects).

use super::{PageQuery, ap_json, fed};
use crate::{
    app::AppState,
    db::queries::{self, Page},
    domain::groups::{self, Group},
    error::{AppError, AppResult},
    federation::{actors::actor_document, objects::note, signatures},
    http::extract::{Path, Query},
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    extract::{Request, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/groups/{name}/outbox", get(outbox))
        .route("/groups/{name}/followers", get(followers))
        .route("/groups/{name}/moderators", get(moderators))
        .route("/groups/{name}/collections/featured", get(featured))
}

pub fn inbox_routes() -> Router<AppState> {
    Router::new().route("/groups/{name}/inbox", post(super::user_inbox))
}

/// The Group actor document (the web page at the same URL hands over here
/// when ActivityPub is asked for).
pub async fn group_document(state: &AppState, name: &str) -> AppResult<Response> {
    let g = groups::by_name(state, name).await?;
    let doc = serde_json::to_value(actor_document(state, &g.actor).await.map_err(fed)?)
        .map_err(AppError::internal)?;
    Ok(ap_json(StatusCode::OK, doc))
}

const PAGE_SIZE: u64 = 20;

async fn outbox(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let g = groups::by_name(&state, &name).await?;
    let id = state.urls.outbox(&g.actor.ap_id);
    let listing = queries::groups::Listing {
        top_level_only: true,
        titled_only: false,
        with_private: false,
    };
    let total = if g.members_only() {
        0
    } else {
        queries::groups::count_public_posts(&state.db, g.id()).await?
    };
    if q.page.is_none() || g.members_only() {
        return Ok(ap_json(
            StatusCode::OK,
            json!({ "id": id, "type": "OrderedCollection", "totalItems": total, "first": format!("{id}?page=true") }),
        ));
    }
    let list = queries::groups::posts(
        &state.db,
        g.id(),
        listing,
        Page {
            max_id: q.max_id,
            limit: PAGE_SIZE,
            ..Default::default()
        },
    )
    .await?;
    let items: Vec<_> = list
        .iter()
        .map(|s| json!({ "id": format!("{}/boosts/{}", g.actor.ap_id, s.id), "type": "Announce", "actor": g.actor.ap_id, "published": s.published, "to": [crate::federation::protocol::PUBLIC], "cc": [g.actor.followers_url], "object": s.ap_id }))
        .collect();
    let mut page = json!({
        "id": format!("{id}?page=true{}", q.max_id.map(|m| format!("&max_id={m}")).unwrap_or_default()),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "orderedItems": items,
    });
    if list.len() as u64 == PAGE_SIZE
        && let Some(last) = list.last()
    {
        page["next"] = json!(format!("{id}?page=true&max_id={}", last.id));
    }
    Ok(ap_json(StatusCode::OK, page))
}

/// Members' identities are for members: the list needs a signed request
/// from a member or from a server one of them is on.
async fn followers(
    data: Data<AppState>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
    req: Request,
) -> AppResult<Response> {
    let g = groups::by_name(&data, &name).await?;
    let id = state_followers(&data, &g);
    let total = groups::member_count(&data.db, &g).await?;
    let (parts, _) = req.into_parts();
    let signer = signatures::signer(&data, &parts).await.unwrap_or(None);
    let allowed = match &signer {
        Some(s) => groups::insider(&data.db, &g, s).await?,
        None => false,
    };
    if q.page.is_none() || !allowed {
        return Ok(ap_json(
            StatusCode::OK,
            json!({ "id": id, "type": "OrderedCollection", "totalItems": total }),
        ));
    }
    let rows = queries::follows::followers(
        &data.db,
        g.id(),
        crate::domain::follows::ACCEPTED,
        Page {
            max_id: q.max_id,
            limit: 200,
            ..Default::default()
        },
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.follower_id).collect();
    let actors = queries::actors::by_ids(&data.db, &ids).await?;
    let items: Vec<String> = ids
        .iter()
        .filter_map(|i| actors.iter().find(|a| a.id == *i).map(|a| a.ap_id.clone()))
        .collect();
    let mut doc = json!({
        "id": format!("{id}?page=true{}", q.max_id.map(|m| format!("&max_id={m}")).unwrap_or_default()),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "totalItems": total,
        "orderedItems": items,
    });
    if rows.len() == 200
        && let Some(last) = rows.last()
    {
        doc["next"] = json!(format!("{id}?page=true&max_id={}", last.id));
    }
    Ok(ap_json(StatusCode::OK, doc))
}

fn state_followers(state: &AppState, g: &Group) -> String {
    g.actor
        .followers_url
        .clone()
        .unwrap_or_else(|| state.urls.followers(&g.actor.ap_id))
}

async fn moderators(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<Response> {
    let g = groups::by_name(&state, &name).await?;
    let mods: Vec<String> = groups::moderators(&state.db, &g)
        .await?
        .into_iter()
        .map(|a| a.ap_id)
        .collect();
    Ok(ap_json(
        StatusCode::OK,
        json!({ "id": state.urls.moderators(&g.actor.ap_id), "type": "OrderedCollection", "totalItems": mods.len(), "orderedItems": mods }),
    ))
}

async fn featured(State(state): State<AppState>, Path(name): Path<String>) -> AppResult<Response> {
    let g = groups::by_name(&state, &name).await?;
    let pinned = groups::pinned(&state, None, &g).await?;
    let mut items = Vec::with_capacity(pinned.len());
    for s in &pinned {
        items.push(
            serde_json::to_value(note(&state, s).await.map_err(fed)?)
                .map_err(AppError::internal)?,
        );
    }
    Ok(ap_json(
        StatusCode::OK,
        json!({ "id": state.urls.featured(&g.actor.ap_id), "type": "OrderedCollection", "totalItems": items.len(), "orderedItems": items }),
    ))
}
