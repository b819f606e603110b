//! The OpenAPI document of Staffroom's own endpoints, at `/api/openapi.json`.

use crate::{
    app::AppState,
    http::api::{admin, entities, events, groups, reports, resources, staffroom},
};
use axum::{Json, Router, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Staffroom API", description = "Staffroom's own endpoints. Mastodon-compatible endpoints follow Mastodon's documentation.", license(name = "AGPL-3.0-or-later")),
    paths(
        staffroom::list_invites, staffroom::create_invite, staffroom::revoke_invite,
        staffroom::get_settings, staffroom::put_settings, staffroom::export,
        admin::list, admin::show, admin::approve, admin::reject, admin::unsuspend, admin::action, admin::role,
        reports::admin_list, reports::admin_show, reports::resolve, reports::reopen, reports::forward,
        groups::list, groups::create, groups::show, groups::update, groups::images, groups::subgroups,
        groups::join, groups::leave, groups::members, groups::requests, groups::authorize, groups::reject,
        groups::invite, groups::invitations, groups::decline, groups::set_role, groups::remove_member,
        groups::statuses, groups::pinned, groups::moderate, groups::bans, groups::ban, groups::unban, groups::log,
        events::list, events::create, events::show, events::update, events::remove, events::cancel,
        events::rsvp, events::participants, events::decide, events::invite, events::message, events::feed,
        resources::list, resources::create, resources::show, resources::update, resources::delete, resources::publish_draft,
        resources::remix, resources::remixes, resources::revisions, resources::diff,
    ),
    components(schemas(entities::Account, entities::AdminAccount, entities::Field, entities::Role, admin::RegistryStatus, groups::Only, groups::ModerationAction, ApiError)),
    modifiers(&Security, &ErrorResponses),
    tags((name = "staffroom", description = "Invites, instance settings, data export"), (name = "admin", description = "The member registry (Mastodon admin API with registry fields) and reports"), (name = "groups", description = "Groups: directory, settings, membership, posts and moderation"), (name = "events", description = "Events: calendar, answers, participants"), (name = "resources", description = "Teaching resources: the library, files, revisions, remixes"))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Every error body, in Mastodon's shape.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ApiError {
    /// What went wrong, in the language the client asked for.
    error: String,
}

/// The errors every operation can answer, documented once instead of on
/// each path: unreadable bodies (400), missing or invalid tokens (401),
/// missing scopes or roles (403), unknown ids (404) and invalid values
/// (422). Each gets the `ApiError` body.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let body = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let mut codes = vec![
                    ("400", "The request could not be read"),
                    ("422", "A value is invalid"),
                ];
                if op.security.is_some() {
                    codes.push(("401", "No valid access token"));
                    codes.push(("403", "The token lacks the scope, or the account the role"));
                }
                if path.contains('{') {
                    codes.push(("404", "No such record"));
                }
                for (code, description) in codes {
                    let entry = op
                        .responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| body(description).into());
                    // Codes a path lists without a body still get the shape.
                    if let utoipa::openapi::RefOr::T(r) = entry
                        && r.content.is_empty()
                    {
                        *entry = body(if r.description.is_empty() {
                            description
                        } else {
                            &r.description
                        })
                        .into();
                    }
                }
            }
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
