//! A resource's page (or its ActivityPub `Page` when asked for one), its
//! list of revisions and the diff between two of them.

use super::resource_value;
use crate::{
    app::AppState,
    domain::resources,
    error::{AppError, AppResult},
    http::{
        activitypub::{ap_json, wants_activitypub},
        api::resources::{diff_of, revision_number},
        extract::{Path, Query},
        web::{Ctx, views},
    },
};
use axum::{
    extract::{Request, State},
    http::StatusCode,
    response::Response,
};
use minijinja::context;
use serde::Deserialize;

fn id_of(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::not_found())
}

pub(super) async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    req: Request,
) -> AppResult<Response> {
    let id = id_of(&id)?;
    if wants_activitypub(req.headers()) {
        // A withdrawn resource of ours is gone, as deleted posts are: servers
        // that hear of its deletion second-hand check that here.
        if let Some(m) = crate::db::queries::resources::by_id(&state.db, id).await?
            && m.local
            && m.deleted_at.is_some()
            && resources::Visibility::of(&m) == resources::Visibility::Public
        {
            return Ok(ap_json(
                StatusCode::GONE,
                serde_json::json!({ "id": m.ap_id, "type": "Tombstone" }),
            ));
        }
        // Only what anyone may see is an ActivityPub document.
        let r = resources::visible(&state, None, id).await?;
        if !r.model.local || r.visibility() != resources::Visibility::Public {
            return Err(AppError::not_found());
        }
        return Ok(ap_json(
            StatusCode::OK,
            crate::federation::resources::document(&state, &r),
        ));
    }
    let viewer = ctx.viewer_actor().cloned();
    let r = resources::visible(&state, viewer.as_ref(), id).await?;
    let (editable, owner_side) = match &viewer {
        Some(v) => (
            resources::may_edit(&state, v, &r).await?,
            resources::is_owner_side(&state, v, &r).await?,
        ),
        None => (false, false),
    };
    let remixes: Vec<_> = resources::remixes(&state, viewer.as_ref(), &r)
        .await?
        .iter()
        .map(|x| resource_value(&state, &ctx, x))
        .collect();
    let source = resources::source(&state, viewer.as_ref(), &r)
        .await?
        .map(|s| resource_value(&state, &ctx, &s));
    let revisions = revision_values(&state, &r).await?;
    let editors: Vec<_> = resources::editors(&state, &r)
        .await?
        .iter()
        .map(views::actor_value)
        .collect();
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "resource.html",
        context! {
            r => resource_value(&state, &ctx, &r),
            editable => editable,
            owner_side => owner_side,
            can_remix => ctx.active_member().is_some() && !r.is_draft(),
            remixes => remixes,
            source => source,
            source_uri => r.model.derived_from_ap_id.clone().and_then(|u| views::web_url(Some(&u))),
            revisions => revisions,
            editors => editors,
        },
    ))
}

async fn revision_values(
    state: &AppState,
    r: &resources::Resource,
) -> AppResult<Vec<minijinja::Value>> {
    let mut out = Vec::new();
    for rev in resources::revisions(state, r).await? {
        let editor = match rev.editor_id {
            Some(e) => crate::db::queries::actors::by_id(&state.db, e)
                .await?
                .map(|a| views::actor_value(&a)),
            None => None,
        };
        out.push(context! {
            number => rev.number,
            note => rev.note,
            editor => editor,
            at => views::when(rev.created_at),
            at_iso => views::iso(rev.created_at),
        });
    }
    Ok(out)
}

pub(super) async fn revisions(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let viewer = ctx.viewer_actor().cloned();
    let r = resources::visible(&state, viewer.as_ref(), id_of(&id)?).await?;
    let revisions = revision_values(&state, &r).await?;
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "resource_diff.html",
        context! { r => resource_value(&state, &ctx, &r), revisions => revisions, diff => None::<()> },
    ))
}

#[derive(Deserialize, Default)]
pub(super) struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

pub(super) async fn diff(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> AppResult<Response> {
    let viewer = ctx.viewer_actor().cloned();
    let r = resources::visible(&state, viewer.as_ref(), id_of(&id)?).await?;
    let from = revision_number(q.from.as_deref())?;
    let to = revision_number(q.to.as_deref())?;
    let d = diff_of(&state, &r, from, to).await?;
    let revisions = revision_values(&state, &r).await?;
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "resource_diff.html",
        context! {
            r => resource_value(&state, &ctx, &r),
            revisions => revisions,
            diff => minijinja::Value::from_serialize(&d),
        },
    ))
}
