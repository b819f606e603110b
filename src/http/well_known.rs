//! Discovery: WebFinger (accounts, and the instance actor per FEP-d556),
//! host-meta, and NodeInfo 2.1/2.0 with the application actor link of
//! FEP-2677. NodeInfo carries aggregates only, never registry data.

use crate::{
    app::AppState,
    config::{InstanceRole, RegistrationMode},
    db::queries,
    domain::instance,
    error::{AppError, AppResult},
    http::extract::Query,
    msg,
};
use axum::{
    Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/host-meta", get(host_meta))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/nodeinfo/2.1", get(nodeinfo_21))
        .route("/nodeinfo/2.0", get(nodeinfo_20))
}

fn with_type(body: Value, content_type: &'static str) -> Response {
    let mut res = axum::Json(body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

#[derive(Deserialize)]
struct WebfingerQuery {
    resource: Option<String>,
}

async fn webfinger(
    State(state): State<AppState>,
    Query(q): Query<WebfingerQuery>,
) -> AppResult<Response> {
    let resource = q
        .resource
        .ok_or_else(|| AppError::BadRequest(msg!("error-param-missing", param = "resource")))?;
    let domain = state.urls.domain().to_string();
    let base = state.urls.base().to_string();
    let instance_actor = state.urls.instance_actor();
    // FEP-d556: the server itself, as a URL or as acct:domain@domain.
    if resource == base
        || resource == format!("{base}/")
        || resource == format!("acct:{domain}@{domain}")
        || resource == instance_actor
    {
        let subject = if resource.starts_with("acct:") {
            resource.clone()
        } else {
            format!("{base}/")
        };
        return Ok(with_type(
            json!({
                "subject": subject,
                "aliases": [instance_actor],
                "links": [
                    { "rel": "self", "type": "application/activity+json", "href": instance_actor },
                    { "rel": "https://www.w3.org/ns/activitystreams#Application", "type": "application/activity+json", "href": instance_actor },
                    { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": format!("{base}/about") },
                ]
            }),
            "application/jrd+json; charset=utf-8",
        ));
    }
    let username = if let Some(acct) = resource.strip_prefix("acct:") {
        let acct = acct.trim_start_matches('@');
        let (user, host) = acct.rsplit_once('@').ok_or_else(|| {
            AppError::BadRequest(msg!("error-invalid-query", detail = "resource"))
        })?;
        if !host.eq_ignore_ascii_case(&domain) {
            return Err(AppError::not_found());
        }
        user.to_string()
    } else if let Some(path) = resource.strip_prefix(&format!("{base}/users/")) {
        path.to_string()
    } else if let Some(path) = resource.strip_prefix(&format!("{base}/@")) {
        path.to_string()
    } else if resource.starts_with("http://") || resource.starts_with("https://") {
        return Err(AppError::not_found());
    } else {
        return Err(AppError::BadRequest(msg!(
            "error-invalid-query",
            detail = "resource"
        )));
    };
    let actor = queries::actors::local_by_username(&state.db, &username)
        .await?
        .filter(|a| {
            let portal = (a.kind == "Application"
                && a.ap_id == crate::federation::portal::actor_id(&state))
                || crate::federation::topics::is_topic(&state, a);
            a.deleted_at.is_none() && (a.kind == "Person" || a.kind == "Group" || portal)
        })
        .ok_or_else(AppError::not_found)?;
    if let Some(id) = actor.account_id
        && queries::accounts::by_id(&state.db, id)
            .await?
            .is_none_or(|a| a.status != "active")
    {
        return Err(AppError::not_found());
    }
    let profile = actor.url.clone().unwrap_or_else(|| actor.ap_id.clone());
    let mut res = with_type(
        json!({
            "subject": format!("acct:{}@{domain}", actor.username),
            "aliases": [actor.ap_id, profile],
            "links": [
                { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile },
                {
                    "rel": "self",
                    "type": "application/activity+json",
                    "href": actor.ap_id,
                    "properties": { "https://www.w3.org/ns/activitystreams#type": actor.kind },
                },
            ]
        }),
        "application/jrd+json; charset=utf-8",
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=3600, public"),
    );
    Ok(res)
}

async fn host_meta(State(state): State<AppState>) -> Response {
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" template="{}/.well-known/webfinger?resource={{uri}}"/>
</XRD>
"#,
        state.urls.base()
    );
    (
        [(header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn nodeinfo_links(State(state): State<AppState>) -> Response {
    let base = state.urls.base();
    with_type(
        json!({
            "links": [
                { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": format!("{base}/nodeinfo/2.1") },
                { "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": format!("{base}/nodeinfo/2.0") },
                { "rel": "https://www.w3.org/ns/activitystreams#Application", "href": state.urls.instance_actor() },
            ]
        }),
        "application/json; charset=utf-8",
    )
}

async fn nodeinfo(state: &AppState, version: &str) -> AppResult<Value> {
    let s = instance::load(state).await?;
    let now = chrono::Utc::now();
    let users = queries::accounts::count_by_status(&state.db, "active").await?;
    let month =
        queries::accounts::count_active_since(&state.db, now - chrono::Duration::days(30)).await?;
    let half =
        queries::accounts::count_active_since(&state.db, now - chrono::Duration::days(180)).await?;
    let posts = queries::statuses::count_local(&state.db, false).await?;
    let comments = queries::statuses::count_local(&state.db, true).await?;
    // The instance's own language first, then those its members post in.
    let mut languages = vec![state.config.instance.default_locale.clone()];
    for l in queries::statuses::local_languages(&state.db, 10).await? {
        if !languages.contains(&l) {
            languages.push(l);
        }
    }
    let mut software = json!({ "name": "staffroom", "version": env!("CARGO_PKG_VERSION") });
    if version == "2.1" {
        software["repository"] = json!(env!("CARGO_PKG_REPOSITORY"));
        software["homepage"] = json!(state.urls.base());
    }
    Ok(json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": matches!(s.registration_mode, RegistrationMode::Open | RegistrationMode::Approval),
        "usage": {
            "users": { "total": users, "activeMonth": month, "activeHalfyear": half },
            "localPosts": posts,
            "localComments": comments,
        },
        "metadata": {
            "nodeName": s.name,
            "nodeDescription": s.description,
            "languages": languages,
            // Misskey's and Pleroma's key for the public contact (the same
            // address as on the about page); the portal's directory shows it.
            "maintainer": { "email": (!s.contact_email.is_empty()).then_some(&s.contact_email) },
            "staffroom": {
                "role": match state.config.instance.role { InstanceRole::Association => "association", InstanceRole::Portal => "portal" },
                "registrationMode": s.registration_mode.as_str(),
                "federationMode": state.trust.mode().as_str(),
                "portals": crate::domain::portal::memberships(state).await?,
                "portalMembers": crate::domain::portal::member_count(state).await?,
            },
        },
    }))
}

async fn nodeinfo_21(State(state): State<AppState>) -> AppResult<Response> {
    Ok(with_type(
        nodeinfo(&state, "2.1").await?,
        r#"application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#""#,
    ))
}

async fn nodeinfo_20(State(state): State<AppState>) -> AppResult<Response> {
    Ok(with_type(
        nodeinfo(&state, "2.0").await?,
        r#"application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#""#,
    ))
}
