//! OAuth in the browser: the consent page apps send members to
//! (`/oauth/authorize`), and the list of authorised apps in settings, where
//! a member can revoke them.

use super::{Ctx, MemberCtx, safe_next};
use crate::{
    app::AppState,
    domain::oauth::{self, AuthRequest, OOB},
    error::{AppError, AppResult},
    http::extract::{Form, Path, Query},
};
use axum::{
    Router,
    extract::{OriginalUri, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(authorize_page).post(authorize))
        .route("/settings/apps", get(apps_page))
        .route("/settings/apps/{id}/revoke", post(revoke_app))
}

#[derive(Deserialize, Default)]
struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    force_login: Option<String>,
}

/// Clients send literal "None", "False" or "" for absent values.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "None" && *s != "null")
}

async fn check(state: &AppState, q: &AuthorizeQuery) -> AppResult<AuthRequest> {
    oauth::check_request(
        state,
        present(&q.client_id).unwrap_or_default(),
        present(&q.redirect_uri).unwrap_or(OOB),
        present(&q.scope),
        present(&q.response_type),
        present(&q.code_challenge),
        present(&q.code_challenge_method),
    )
    .await
}

fn scope_descriptions(ctx: &Ctx, scopes: &[String]) -> Vec<Value> {
    scopes
        .iter()
        .map(|s| {
            let key = match s.split(':').next().unwrap_or_default() {
                "read" => "scope-read",
                "write" => "scope-write",
                "follow" => "scope-follow",
                "push" => "scope-push",
                "profile" => "scope-profile",
                "admin" => "scope-admin",
                _ => "scope-other",
            };
            context! { scope => s, text => ctx.t(key) }
        })
        .collect()
}

async fn authorize_page(
    State(state): State<AppState>,
    ctx: Ctx,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<AuthorizeQuery>,
) -> AppResult<Response> {
    let req = check(&state, &q).await?;
    let force = present(&q.force_login).is_some_and(|f| matches!(f, "true" | "True" | "1"));
    let signed_in = ctx.member().is_some_and(|m| m.is_active());
    if !signed_in || (force && ctx.member().is_none()) {
        let next = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let to = format!(
            "/login?next={}",
            percent_encoding::utf8_percent_encode(&next, percent_encoding::NON_ALPHANUMERIC)
        );
        return Ok(Redirect::to(&to).into_response());
    }
    let scopes = scope_descriptions(&ctx, &req.scopes);
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "oauth_authorize.html",
        context! {
            app_name => req.app.name.clone(),
            app_website => req.app.website.clone(),
            scopes => scopes,
            client_id => req.app.client_id.clone(),
            redirect_uri => req.redirect_uri.clone(),
            scope => req.scopes.join(" "),
            oauth_state => present(&q.state),
            code_challenge => req.code_challenge.clone(),
            code_challenge_method => req.code_challenge_method.clone(),
        },
    ))
}

#[derive(Deserialize, Default)]
struct AuthorizeForm {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    decision: Option<String>,
}

fn with_params(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(_) => return redirect_uri.to_string(),
    };
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in params {
            pairs.append_pair(k, v);
        }
    }
    url.to_string()
}

async fn authorize(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Form(f): Form<AuthorizeForm>,
) -> AppResult<Response> {
    let q = AuthorizeQuery {
        client_id: f.client_id,
        redirect_uri: f.redirect_uri,
        response_type: Some("code".into()),
        scope: f.scope,
        state: f.state.clone(),
        code_challenge: f.code_challenge,
        code_challenge_method: f.code_challenge_method,
        force_login: None,
    };
    let req = check(&state, &q).await?;
    let oauth_state = present(&f.state).map(str::to_string);
    if f.decision.as_deref() != Some("approve") {
        if req.redirect_uri == OOB {
            return Ok(ctx.message(
                &state,
                StatusCode::OK,
                &ctx.t("oauth-denied-title"),
                &ctx.t("oauth-denied-text"),
            ));
        }
        let mut params = vec![("error", "access_denied")];
        if let Some(s) = &oauth_state {
            params.push(("state", s));
        }
        return Ok(Redirect::to(&with_params(&req.redirect_uri, &params)).into_response());
    }
    let code = oauth::grant_code(&state, &member, &req).await?;
    if req.redirect_uri == OOB {
        return Ok(ctx.render(
            &state,
            StatusCode::OK,
            "oauth_code.html",
            context! { code => code, app_name => req.app.name },
        ));
    }
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &oauth_state {
        params.push(("state", s));
    }
    Ok(Redirect::to(&with_params(&req.redirect_uri, &params)).into_response())
}

async fn apps_page(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
) -> AppResult<Response> {
    let apps: Vec<Value> = oauth::authorised_apps(&state, &member)
        .await?
        .into_iter()
        .map(|a| {
            context! {
                id => a.app.id.to_string(),
                name => a.app.name,
                website => a.app.website,
                scopes => a.scopes,
                since => a.since.format("%Y-%m-%d").to_string(),
                last_used => a.last_used.map(|t| t.format("%Y-%m-%d").to_string()),
            }
        })
        .collect();
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "settings_apps.html",
        context! { apps => apps },
    ))
}

async fn revoke_app(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    oauth::revoke_app(&state, &member, id).await?;
    Ok(ctx.redirect_with(
        &state,
        &safe_next(Some("/settings/apps")),
        "flash-app-revoked",
    ))
}
