//! Pages anyone may see: the landing page, the about page and public
//! profiles with their posts (local ones, and what we know of remote ones).
//! Only public profile data is used here, never the registry. `/@name` also
//! answers with the ActivityPub actor when asked for it.

use super::{
    Ctx,
    views::{self, PageQuery},
};
use crate::{
    app::AppState,
    db::queries,
    domain::{actors, follows, instance, profiles, timelines},
    error::{AppError, AppResult},
    federation::resolve,
    http::{
        activitypub::{actor_document, wants_activitypub},
        extract::{Path, Query},
    },
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use minijinja::{Value, context};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/about", get(about))
        .route("/{handle}", get(profile))
}

async fn landing(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    // Members start from their home timeline.
    if ctx.active_member().is_some() {
        return Ok(Redirect::to("/home").into_response());
    }
    let settings = instance::load(&state).await?;
    let members = queries::accounts::count_by_status(&state.db, "active").await?;
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "landing.html",
        context! {
            description => settings.description,
            mode => settings.registration_mode.as_str(),
            member_count => members,
            domain => state.urls.domain(),
        },
    ))
}

async fn about(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let settings = instance::load(&state).await?;
    // The portals this instance is a member of (not its open applications).
    let portals: Vec<Value> = crate::domain::portal::standings(&state)
        .await?
        .into_iter()
        .filter(|(_, s)| *s == crate::domain::portal::Standing::Member)
        .map(|(a, _)| {
            context! {
                name => views::display_name(&a),
                handle => views::full_handle(&a),
                url => views::web_url(a.url.as_deref()).or_else(|| views::web_url(Some(&a.ap_id))),
            }
        })
        .collect();
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "about.html",
        context! {
            description => settings.description,
            rules => settings.rules_list(),
            contact_email => settings.contact_email,
            mode => settings.registration_mode.as_str(),
            domain => state.urls.domain(),
            role => match state.config.instance.role { crate::config::InstanceRole::Association => "association", crate::config::InstanceRole::Portal => "portal" },
            portals => portals,
        },
    ))
}

/// The public view of an actor: what anyone on the internet may see.
pub fn public_profile(actor: &crate::db::entities::actors::Model) -> Value {
    let fields: Vec<Value> = profiles::fields(actor)
        .into_iter()
        .map(|f| context! { name => f.name, value => f.value })
        .collect();
    context! {
        username => actor.username.clone(),
        domain => actor.domain.clone(),
        display_name => if actor.display_name.is_empty() { actor.username.clone() } else { actor.display_name.clone() },
        // Stored sanitised at write time.
        bio_html => Value::from_safe_string(actor.summary.clone()),
        // Remote profiles name their pictures: http(s) only.
        avatar_url => views::image_url(actor.avatar_url.as_deref()),
        header_url => views::image_url(actor.header_url.as_deref()),
        subjects => profiles::string_list(&actor.subjects),
        languages => profiles::string_list(&actor.languages),
        fields => fields,
        locked => actor.manually_approves_followers,
        joined => actor.created_at.format("%Y-%m-%d").to_string(),
    }
}

async fn profile(
    data: Data<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(handle): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let username = handle.strip_prefix('@').ok_or_else(AppError::not_found)?;
    // "@alice@this.instance" is the same person as "@alice".
    let username = match username.split_once('@') {
        Some((name, domain)) if domain.eq_ignore_ascii_case(data.urls.domain()) => name,
        Some((name, domain)) => {
            if wants_activitypub(&headers) {
                return Err(AppError::not_found());
            }
            return remote_profile(&data, &ctx, name, domain, &q).await;
        }
        None => username,
    };
    if wants_activitypub(&headers) {
        return actor_document(&data, username).await;
    }
    let actor = queries::actors::local_by_username(&data.db, username)
        .await?
        .filter(|a| a.kind == "Person")
        .ok_or_else(AppError::not_found)?;
    if actor.deleted_at.is_some() {
        return Err(AppError::Gone(crate::msg!("error-account-gone")));
    }
    if actor.username != username {
        return Ok(Redirect::permanent(&format!("/@{}", actor.username)).into_response());
    }
    // Pending, rejected and suspended members have no public profile.
    let account = match actor.account_id {
        Some(id) => queries::accounts::by_id(&data.db, id).await?,
        None => None,
    };
    if account.is_none_or(|a| a.status != "active") {
        return Err(AppError::not_found());
    }
    profile_page(&data, &ctx, &actor, &q).await
}

/// What we know of an account elsewhere. Members may look up one we have
/// not met yet (through WebFinger), as the search box does.
async fn remote_profile(
    data: &Data<AppState>,
    ctx: &Ctx,
    name: &str,
    domain: &str,
    q: &PageQuery,
) -> AppResult<Response> {
    let known = queries::actors::by_handle(&data.db, name, domain).await?;
    let actor = match known {
        Some(a) => Some(a),
        None if ctx.viewer_actor().is_some() => {
            resolve::handle(data, &format!("{name}@{domain}"), true)
                .await
                .map_err(AppError::from)?
        }
        None => None,
    }
    .filter(|a| !a.local)
    .ok_or_else(AppError::not_found)?;
    if actor.deleted_at.is_some() {
        return Err(AppError::Gone(crate::msg!("error-account-gone")));
    }
    if actor.username != name || actor.domain != domain {
        return Ok(Redirect::permanent(&views::actor_path(&actor)).into_response());
    }
    profile_page(data, ctx, &actor, q).await
}

/// A profile with its posts (as the viewer may see them) and, for members,
/// the follow button.
async fn profile_page(
    state: &AppState,
    ctx: &Ctx,
    actor: &crate::db::entities::actors::Model,
    q: &PageQuery,
) -> AppResult<Response> {
    let viewer = ctx.viewer_actor();
    let counts = actors::counts(state, actor).await?;
    let relationship = match viewer {
        Some(v) if v.id != actor.id => Some(follows::relationship(state, v.id, actor.id).await?),
        _ => None,
    };
    let own = viewer.is_some_and(|v| v.id == actor.id);
    let requests = if own {
        queries::follows::count_requests(&state.db, actor.id).await?
    } else {
        0
    };
    let mut list = timelines::account(state, viewer, actor, false, false, q.page()).await?;
    let next = views::cut(&mut list, |v| v.status.id);
    let staff = ctx.active_member().is_some_and(|m| m.is_staff());
    let path = views::actor_path(actor);
    Ok(ctx.render(
        state,
        StatusCode::OK,
        "profile.html",
        context! {
            profile => public_profile(actor),
            account => views::actor_value(actor),
            handle => views::full_handle(actor),
            counts => context! {
                statuses => counts.statuses,
                followers => counts.followers,
                following => counts.following,
            },
            relationship => relationship,
            own => own,
            requests => requests,
            posts => views::post_values(&list, viewer, staff),
            older => next.map(|n| format!("{path}?max_id={n}")),
        },
    ))
}
