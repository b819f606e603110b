//! The national portal's public pages (on instances with
//! `instance.role = "portal"`, 404 elsewhere): the national feed (web and
//! Atom), cross-instance search, the directory of member instances and
//! public groups, and the national calendar (web and iCalendar). Portal staff hide
//! items from these and admit or suspend member instances from the
//! directory.

use super::{Ctx, StaffCtx, resources::resource_value, views};
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::entities::calendar_events,
    domain::{national, portal},
    error::{AppError, AppResult},
    federation::publish,
    http::extract::{Form, Query},
};
use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/national", get(feed))
        .route("/national/feed.atom", get(atom))
        .route("/national/search", get(search))
        .route("/national/directory", get(directory))
        .route("/national/calendar", get(calendar_page))
        .route("/national/calendar.ics", get(calendar_ics))
        .route("/national/hide", post(hide))
        .route("/national/members", post(member_decision))
}

fn event_value(e: &calendar_events::Model) -> Value {
    context! {
        id => e.id.to_string(),
        title => e.title.clone(),
        when => views::when(e.starts_at),
        start_iso => views::iso(e.starts_at),
        location_name => e.location_name.clone(),
        online => e.online_url.is_some(),
    }
}

async fn feed(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<views::PageQuery>,
) -> AppResult<Response> {
    let mut list = national::posts(&state, q.page()).await?;
    let next = views::cut(&mut list, |v| v.status.id);
    let staff = ctx.active_member().is_some_and(|m| m.is_staff());
    let posts: Vec<Value> = list
        .iter()
        .map(|v| {
            let mut p = views::post_value(v, None, false);
            if staff {
                p = context! { ..p, ..context! { ap_id => v.status.ap_id.clone() } };
            }
            p
        })
        .collect();
    let resources: Vec<Value> = national::resources(&state, "", 10)
        .await?
        .iter()
        .map(|r| resource_value(&state, &ctx, r))
        .collect();
    let events: Vec<Value> = national::events(&state, chrono::Utc::now(), None, 10)
        .await?
        .iter()
        .map(event_value)
        .collect();
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "national.html",
        context! {
            page => "feed",
            posts => posts,
            resources => resources,
            events => events,
            older => next.map(|n| format!("/national?max_id={n}")),
            empty => ctx.t("national-feed-empty"),
            staff => staff,
        },
    ))
}

/// `/national/feed.atom`: the national feed's posts for feed readers.
async fn atom(State(state): State<AppState>) -> AppResult<Response> {
    let list = national::posts(
        &state,
        crate::db::queries::Page {
            limit: 40,
            ..Default::default()
        },
    )
    .await?;
    let base = state.urls.base();
    let updated = list
        .iter()
        .map(|v| v.status.edited_at.unwrap_or(v.status.published))
        .max()
        .unwrap_or_else(chrono::Utc::now);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    out.push_str(&format!(
        "<title>{}</title>\n<id>{base}/national/feed.atom</id>\n<link rel=\"self\" href=\"{base}/national/feed.atom\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{base}/national\"/>\n<updated>{}</updated>\n",
        crate::domain::text::escape_html(&state.config.instance.name),
        updated.to_rfc3339()
    ));
    for v in &list {
        let s = &v.status;
        let url = s.url.clone().unwrap_or_else(|| s.ap_id.clone());
        let text = crate::domain::text::html_to_text(&s.content);
        let title: String = s
            .title
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| text.chars().take(80).collect());
        out.push_str("<entry>\n");
        out.push_str(&format!(
            "<title>{}</title>\n",
            crate::domain::text::escape_html(&title)
        ));
        out.push_str(&format!(
            "<id>{}</id>\n",
            crate::domain::text::escape_html(&s.ap_id)
        ));
        out.push_str(&format!(
            "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            crate::domain::text::escape_html(&url)
        ));
        out.push_str(&format!(
            "<author><name>{}</name><uri>{}</uri></author>\n",
            crate::domain::text::escape_html(&views::full_handle(&v.author)),
            crate::domain::text::escape_html(&v.author.ap_id)
        ));
        out.push_str(&format!(
            "<published>{}</published>\n<updated>{}</updated>\n",
            s.published.to_rfc3339(),
            s.edited_at.unwrap_or(s.published).to_rfc3339()
        ));
        out.push_str(&format!(
            "<content type=\"html\">{}</content>\n</entry>\n",
            crate::domain::text::escape_html(&s.content)
        ));
    }
    out.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        out,
    )
        .into_response())
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

const SEARCH_MAX: usize = 500;

async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    national::check_portal(&state)?;
    let query = q.q.trim().to_string();
    let (status, found, error) = if query.chars().count() > SEARCH_MAX {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            national::Found::default(),
            Some(crate::i18n::t(
                ctx.locale,
                "search-too-long",
                &[(std::borrow::Cow::Borrowed("max"), SEARCH_MAX.to_string())],
            )),
        )
    } else {
        (
            StatusCode::OK,
            national::search(&state, &query).await?,
            None,
        )
    };
    let posts = views::post_values(&found.posts, None, false);
    let resources: Vec<Value> = found
        .resources
        .iter()
        .map(|r| resource_value(&state, &ctx, r))
        .collect();
    let events: Vec<Value> = found.events.iter().map(event_value).collect();
    Ok(ctx.render(
        &state,
        status,
        "national.html",
        context! {
            page => "search",
            q => query.clone(),
            searched => !query.is_empty(),
            error => error,
            posts => posts,
            resources => resources,
            events => events,
            empty => ctx.t("search-none"),
        },
    ))
}

async fn directory(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let members: Vec<Value> = national::directory(&state)
        .await?
        .into_iter()
        .map(|m| {
            context! {
                domain => m.domain,
                name => m.name,
                status => m.status,
                joined => views::when(m.joined),
                joined_iso => views::iso(m.joined),
                last_seen => m.last_seen.map(views::when),
                users => m.users,
                posts => m.posts,
                languages => m.languages.join(", "),
                description => m.description,
                software => m.software,
                contact => m.contact,
            }
        })
        .collect();
    let groups: Vec<Value> = national::groups(&state)
        .await?
        .iter()
        .map(|g| {
            context! {
                name => views::display_name(g),
                handle => views::full_handle(g),
                url => views::web_url(g.url.as_deref()).or_else(|| views::web_url(Some(&g.ap_id))),
                summary => crate::domain::text::html_to_text(&g.summary),
            }
        })
        .collect();
    let admin = ctx.active_member().is_some_and(|m| m.is_admin());
    // Who was suspended is the admins' business, not the public's.
    let suspended: Vec<Value> = if admin {
        national::suspended(&state)
            .await?
            .into_iter()
            .map(|(domain, at)| {
                context! { domain => domain, at => views::when(at), at_iso => views::iso(at) }
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "national.html",
        context! {
            page => "directory",
            members => members,
            groups => groups,
            admin => admin,
            suspended => suspended,
        },
    ))
}

#[derive(Deserialize, Default)]
struct CalendarQuery {
    tag: Option<String>,
}

/// `/national/calendar`: what member instances have coming up, optionally
/// for one subject, with the iCalendar feed to subscribe to.
async fn calendar_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CalendarQuery>,
) -> AppResult<Response> {
    // The calendar filter itself ignores `#` and case.
    let tag = q
        .tag
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let list = national::events(&state, chrono::Utc::now(), tag.clone(), 100).await?;
    let events: Vec<Value> = list
        .iter()
        .map(|e| super::events::event_value(&ctx, &state, e, None))
        .collect();
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "national.html",
        context! {
            page => "calendar",
            events => events,
            tag => tag.unwrap_or_default(),
        },
    ))
}

async fn calendar_ics(State(state): State<AppState>) -> AppResult<Response> {
    // A month back, so that calendar apps keep what just happened.
    let from = chrono::Utc::now() - chrono::Duration::days(31);
    let list = national::events(&state, from, None, 200).await?;
    super::calendar::render(&state, &state.config.instance.name, None, list).await
}

#[derive(Deserialize)]
struct HideForm {
    ap_id: String,
    #[serde(default)]
    show: Option<String>,
}

/// A portal moderator hides an item from the aggregated feeds.
async fn hide(
    State(state): State<AppState>,
    StaffCtx(ctx, member): StaffCtx,
    Form(f): Form<HideForm>,
) -> AppResult<Response> {
    national::set_hidden(&state, &member.actor, &f.ap_id, f.show.is_none()).await?;
    Ok(ctx.redirect_with(&state, "/national", "flash-portal-saved"))
}

#[derive(Deserialize)]
struct MemberForm {
    domain: String,
    decision: String,
}

/// A portal admin admits an applicant instance, suspends a member or lifts
/// a suspension
/// (moderators hide items; who belongs to the network is the admins' call).
async fn member_decision(
    State(state): State<AppState>,
    StaffCtx(ctx, member): StaffCtx,
    Form(f): Form<MemberForm>,
) -> AppResult<Response> {
    national::check_portal(&state)?;
    if !member.is_admin() {
        return Err(AppError::forbidden());
    }
    let events = match f.decision.as_str() {
        "approve" => portal::approve(&state, &f.domain).await?,
        "suspend" => portal::suspend(&state, &f.domain).await?,
        "lift" => portal::lift_suspension(&state, &f.domain)
            .await?
            .then(Outbox::none),
        _ => {
            return Err(AppError::Unprocessable(crate::msg!(
                "error-invalid-query",
                detail = "decision"
            )));
        }
    };
    let Some(events) = events else {
        return Err(AppError::not_found());
    };
    publish::publish(&state, events).await;
    Ok(ctx.redirect_with(&state, "/national/directory", "flash-portal-saved"))
}
