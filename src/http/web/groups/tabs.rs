//! The tabs of a group's page. What a tab shows depends on where the
//! reader stands: posts of a members-only group only to its members (others
//! get the About tab, and a clear refusal on the tabs that list posts), the
//! member list to members, requests, bans and settings to moderators.

use super::{Standing, group_values, person, render_tab};
use crate::{
    app::AppState,
    db::{entities::actors, queries},
    domain::{groups, timelines},
    error::{AppError, AppResult},
    http::web::{
        Ctx,
        posts::ComposeValues,
        views::{self, PageQuery},
    },
    msg,
};
use axum::{http::StatusCode, response::Response};
use minijinja::{Value, context};
use std::collections::HashMap;

/// Log actions with a sentence of their own in the catalogs.
const LOG_ACTIONS: &[&str] = &[
    "create",
    "settings",
    "approve",
    "reject",
    "invite",
    "role",
    "remove",
    "lock",
    "unlock",
    "pin",
    "unpin",
    "kick",
    "ban",
    "unban",
    "left-parent",
];

pub(super) async fn show(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    tab: &str,
    q: &PageQuery,
) -> AppResult<Response> {
    let group = groups::by_name(state, name).await?;
    let standing = Standing::of(state, &group, ctx.active_member()).await?;
    let needs_reading = matches!(tab, "posts" | "discussions" | "resources" | "events");
    if needs_reading && !standing.can_read {
        // The group's own address shows what anyone may know of it.
        let status = if tab == "posts" && ctx.path == format!("/groups/{}", group.actor.username) {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        let page = about(state, &group).await?;
        let page = context! { locked_out => true, ..page };
        return render_tab(state, ctx, &group, &standing, "about", status, page).await;
    }
    let page = match tab {
        "posts" | "discussions" => posts(state, ctx, &group, &standing, tab, q).await?,
        "resources" => {
            let viewer = ctx.viewer_actor();
            let list = crate::domain::resources::library(
                state,
                viewer,
                &crate::domain::resources::Library {
                    group_id: Some(group.id()),
                    limit: 40,
                    ..Default::default()
                },
            )
            .await?;
            let items: Vec<Value> = list
                .iter()
                .map(|r| crate::http::web::resources::resource_value(state, ctx, r))
                .collect();
            context! { resources => items, may_share => standing.role.is_some() }
        }
        "events" => {
            // Upcoming events of the group (and those of the last day, so
            // one under way still shows), soonest first.
            let filter = crate::domain::calendar::Filter {
                from: Some(chrono::Utc::now() - chrono::Duration::days(1)),
                group_id: Some(group.id()),
                limit: 40,
                ..Default::default()
            };
            let list =
                crate::domain::calendar::list(&state.db, ctx.viewer_actor(), &filter).await?;
            let items: Vec<Value> = list
                .iter()
                .map(|e| crate::http::web::events::event_value(ctx, state, e, None))
                .collect();
            context! { events => items, may_share => standing.role.is_some() }
        }
        "members" => {
            if standing.role.is_none() && !standing.staff {
                return refuse(state, ctx, &group, &standing).await;
            }
            members(state, ctx, &group, q).await?
        }
        "subgroups" => {
            let viewer = ctx.viewer_actor();
            let list = groups::subgroups(state, viewer, &group).await?;
            context! { subgroups => group_values(state, &list).await? }
        }
        "about" => about(state, &group).await?,
        "log" => {
            if standing.role.is_none() && !standing.staff {
                return refuse(state, ctx, &group, &standing).await;
            }
            log(state, ctx, &group, q).await?
        }
        "moderation" => {
            let Some(me) = ctx.active_member().filter(|_| standing.staff) else {
                return Err(AppError::Forbidden(msg!("error-group-staff-only")));
            };
            let requests = groups::requests(state, me, &group, q.page()).await?;
            let bans = groups::moderation::bans(state, me, &group).await?;
            let invitations = queries::groups::invitations(&state.db, group.id()).await?;
            let ids: Vec<i64> = invitations.iter().map(|i| i.actor_id).collect();
            let invited = queries::actors::by_ids(&state.db, &ids).await?;
            context! {
                requests => requests.iter().map(person).collect::<Vec<_>>(),
                bans => bans.iter().map(|(b, a)| context! {
                    account => person(a),
                    reason => b.reason.clone(),
                    at => views::when(b.created_at),
                    at_iso => views::iso(b.created_at),
                }).collect::<Vec<_>>(),
                invited => invited.iter().map(person).collect::<Vec<_>>(),
            }
        }
        _ => return Err(AppError::not_found()),
    };
    render_tab(state, ctx, &group, &standing, tab, StatusCode::OK, page).await
}

/// A tab for members only, asked for by someone else: the About tab with
/// the reason, as a 403.
async fn refuse(
    state: &AppState,
    ctx: &Ctx,
    group: &groups::Group,
    standing: &Standing,
) -> AppResult<Response> {
    let page = about(state, group).await?;
    let page = context! { locked_out => true, members_tab_refused => true, ..page };
    render_tab(
        state,
        ctx,
        group,
        standing,
        "about",
        StatusCode::FORBIDDEN,
        page,
    )
    .await
}

async fn posts(
    state: &AppState,
    ctx: &Ctx,
    group: &groups::Group,
    standing: &Standing,
    tab: &str,
    q: &PageQuery,
) -> AppResult<Value> {
    let viewer = ctx.viewer_actor();
    let discussions = tab == "discussions";
    let listing = queries::groups::Listing {
        top_level_only: discussions,
        titled_only: discussions,
        ..Default::default()
    };
    let mut list = groups::posts(state, viewer, group, listing, q.page()).await?;
    let next = views::cut(&mut list, |s| s.id);
    let pinned = if q.max_id.is_none() {
        groups::pinned(state, viewer, group).await?
    } else {
        Vec::new()
    };
    let pinned_ids: Vec<i64> = queries::groups::pinned_ids(&state.db, group.id()).await?;
    let staff = ctx.active_member().is_some_and(|m| m.is_staff());
    let show = |views: Vec<timelines::PostView>| -> Vec<Value> {
        views
            .iter()
            .map(|v| {
                let s = &v.status;
                context! {
                    post => views::post_value(v, viewer, staff),
                    pinned => pinned_ids.contains(&s.id),
                    locked => s.locked,
                    top_level => s.in_reply_to_id.is_none() && s.in_reply_to_ap_id.is_none(),
                }
            })
            .collect()
    };
    // Pinned threads show once, at the top.
    let shown: Vec<i64> = pinned.iter().map(|s| s.id).collect();
    list.retain(|s| !shown.contains(&s.id));
    let pinned_views = timelines::hydrate(state, viewer, pinned).await?;
    let list_views = timelines::hydrate(state, viewer, list).await?;
    let here = if discussions {
        format!("{}/discussions", views::group_path(&group.actor))
    } else {
        views::group_path(&group.actor)
    };
    let form = standing.can_post.then(|| {
        ComposeValues {
            visibility: "public".into(),
            back: here.clone(),
            group_id: Some(group.id().to_string()),
            group_members_only: group.members_only(),
            ..Default::default()
        }
        .value()
    });
    Ok(context! {
        pinned => show(pinned_views),
        entries => show(list_views),
        older => next.map(|n| format!("{here}?max_id={n}")),
        form => form,
        compose_error => None::<String>,
    })
}

async fn members(
    state: &AppState,
    ctx: &Ctx,
    group: &groups::Group,
    q: &PageQuery,
) -> AppResult<Value> {
    let viewer = ctx.viewer_actor();
    let mut list = match groups::members(state, viewer, group, q.page()).await {
        Ok(l) => l,
        // An instance admin moderating a group they are not in.
        Err(AppError::Forbidden(_)) if ctx.active_member().is_some_and(|m| m.is_admin()) => {
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    let next = views::cut(&mut list, |m| m.cursor);
    let me = viewer.map(|v| v.id);
    Ok(context! {
        members => list.iter().map(|m| context! {
            account => person(&m.actor),
            role => m.role.as_str(),
            own => Some(m.actor.id) == me,
        }).collect::<Vec<_>>(),
        older => next.map(|n| format!("{}/members?max_id={n}", views::group_path(&group.actor))),
    })
}

pub(super) async fn about(state: &AppState, group: &groups::Group) -> AppResult<Value> {
    let moderators = groups::moderators(&state.db, group).await?;
    let staff = queries::groups::staff(&state.db, group.id()).await?;
    Ok(context! {
        moderators => moderators.iter().map(|a| context! {
            account => person(a),
            role => staff.iter().find(|s| s.actor_id == a.id).map(|s| s.role.clone()),
        }).collect::<Vec<_>>(),
    })
}

async fn log(
    state: &AppState,
    ctx: &Ctx,
    group: &groups::Group,
    q: &PageQuery,
) -> AppResult<Value> {
    let entries = match ctx.viewer_actor() {
        Some(v) => match groups::log(state, v, group, q.page()).await {
            Ok(e) => e,
            Err(AppError::Forbidden(_)) if ctx.active_member().is_some_and(|m| m.is_admin()) => {
                queries::groups::log_entries(&state.db, group.id(), q.page()).await?
            }
            Err(e) => return Err(e),
        },
        None => return Err(AppError::Forbidden(msg!("error-group-members-only"))),
    };
    let mut entries = entries;
    let next = views::cut(&mut entries, |e| e.id);
    let mut ids: Vec<i64> = entries
        .iter()
        .flat_map(|e| [e.moderator_id, e.target_actor_id])
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let people: HashMap<i64, actors::Model> = queries::actors::by_ids(&state.db, &ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            let known = LOG_ACTIONS.contains(&e.action.as_str());
            context! {
                action => e.action.clone(),
                label_key => known.then(|| format!("group-log-{}", e.action)),
                moderator => e.moderator_id.and_then(|id| people.get(&id)).map(person),
                target => e.target_actor_id.and_then(|id| people.get(&id)).map(person),
                status_path => e.target_status_id.map(|id| format!("/statuses/{id}")),
                reason => e.reason.clone(),
                at => views::when(e.created_at),
                at_iso => views::iso(e.created_at),
            }
        })
        .collect();
    Ok(context! {
        entries => rows,
        older => next.map(|n| format!("{}/log?max_id={n}", views::group_path(&group.actor))),
    })
}
