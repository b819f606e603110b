//! Event pages: the calendar (a month grid or a list, with filters), an
//! event's page with its answer buttons, the form to create or change an
//! event, and the organisers' participant list with approval, invitations
//! and messages to participants.

use crate::{
    app::AppState,
    db::{entities::calendar_events, queries},
    domain::calendar::{self, EventStatus, Filter, Rsvp, time},
    error::{AppError, AppResult},
    federation::publish,
    http::{
        extract::{Form, Path, Query},
        web::{Ctx, MemberCtx, views},
    },
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::{Datelike, NaiveDate};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events", get(calendar_page).post(create))
        .route("/events/new", get(new_form))
        .route("/events/{id}", get(event_page))
        .route("/events/{id}/edit", get(edit_form).post(edit))
        .route("/events/{id}/rsvp", post(rsvp))
        .route("/events/{id}/cancel", post(cancel))
        .route("/events/{id}/participants", get(participants_page))
        .route("/events/{id}/participants/{actor}/{decision}", post(decide))
        .route("/events/{id}/invite", post(invite))
        .route("/events/{id}/message", post(message))
}

pub(crate) fn event_value(
    ctx: &Ctx,
    state: &AppState,
    e: &calendar_events::Model,
    organiser: Option<&crate::db::entities::actors::Model>,
) -> Value {
    let tz = time::zone_or_utc(&e.timezone);
    let start = e.starts_at.with_timezone(&tz);
    let _ = ctx;
    context! {
        id => e.id.to_string(),
        title => e.title.clone(),
        description => e.description.clone(),
        when => time::human(e.starts_at, e.ends_at, tz, e.all_day),
        start_iso => time::with_offset(e.starts_at, tz),
        day => start.format("%Y-%m-%d").to_string(),
        hour => if e.all_day { String::new() } else { start.format("%H:%M").to_string() },
        timezone => e.timezone.clone(),
        location_name => e.location_name.clone(),
        location_address => e.location_address.clone(),
        osm_url => calendar::osm_url(e),
        online => e.online_url.is_some(),
        status => EventStatus::of(e).as_str(),
        join_mode => calendar::JoinMode::of(e).as_str(),
        capacity => e.capacity,
        remaining => calendar::remaining(e),
        waiting_list => e.waiting_list,
        count => calendar::participant_count(e),
        tags => calendar::tags(e),
        local => e.local,
        url => calendar::page_url(state.urls.base(), e),
        organiser => organiser.map(views::actor_value),
    }
}

#[derive(Debug, Deserialize, Default)]
struct CalendarQuery {
    view: Option<String>,
    month: Option<String>,
    group: Option<String>,
    tag: Option<String>,
    mode: Option<String>,
}

/// `/events`: upcoming events as a list, or a month as a grid.
async fn calendar_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CalendarQuery>,
) -> AppResult<Response> {
    let viewer = ctx.viewer_actor().cloned();
    let month_view = q.view.as_deref() == Some("month");
    let today = chrono::Utc::now().date_naive();
    let first = q
        .month
        .as_deref()
        .and_then(|m| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok())
        .unwrap_or_else(|| today.with_day(1).unwrap_or(today));
    let next_month = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let prev_month = first
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(first);
    let group = match q.group.as_deref().filter(|g| !g.is_empty()) {
        Some(g) => Some(crate::domain::groups::by_name(&state, g).await?),
        None => None,
    };
    let online = match q.mode.as_deref() {
        Some("online") => Some(true),
        Some("in_person") => Some(false),
        _ => None,
    };
    let tag = q.tag.clone().filter(|t| !t.trim().is_empty());
    let filter = if month_view {
        Filter {
            from: Some(
                first.and_time(chrono::NaiveTime::MIN).and_utc() - chrono::Duration::days(1),
            ),
            to: Some(
                next_month.and_time(chrono::NaiveTime::MIN).and_utc() + chrono::Duration::days(1),
            ),
            group_id: group.as_ref().map(|g| g.id()),
            tag: tag.clone(),
            online,
            limit: 200,
            ..Filter::default()
        }
    } else {
        Filter {
            from: Some(chrono::Utc::now()),
            group_id: group.as_ref().map(|g| g.id()),
            tag: tag.clone(),
            online,
            limit: 100,
            ..Filter::default()
        }
    };
    let list = calendar::list(&state.db, viewer.as_ref(), &filter).await?;
    let events: Vec<Value> = list
        .iter()
        .map(|e| event_value(&ctx, &state, e, None))
        .collect();
    // The month grid: weeks from Monday, each day with its events.
    let mut weeks: Vec<Vec<Value>> = Vec::new();
    if month_view {
        let offset = first.weekday().num_days_from_monday() as i64;
        let mut day = first - chrono::Duration::days(offset);
        while day < next_month {
            let mut week = Vec::new();
            for _ in 0..7 {
                let key = day.format("%Y-%m-%d").to_string();
                let todays: Vec<&Value> = events
                    .iter()
                    .filter(|e| {
                        e.get_attr("day")
                            .ok()
                            .and_then(|d| d.as_str().map(str::to_string))
                            == Some(key.clone())
                    })
                    .collect();
                week.push(context! {
                    day => day.day(),
                    date => key,
                    in_month => day.month() == first.month(),
                    today => day == today,
                    events => todays,
                });
                day += chrono::Duration::days(1);
            }
            weeks.push(week);
        }
    }
    let groups = match &viewer {
        Some(v) => crate::domain::groups::memberships(&state, v).await?,
        None => Vec::new(),
    };
    let group_options: Vec<Value> = groups
        .iter()
        .filter(|g| g.local())
        .map(|g| context! { name => g.actor.username.clone(), label => if g.actor.display_name.is_empty() { g.actor.username.clone() } else { g.actor.display_name.clone() } })
        .collect();
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "events.html",
        context! {
            events => events,
            month_view => month_view,
            weeks => weeks,
            month => first.format("%Y-%m").to_string(),
            month_label => first.format("%B %Y").to_string(),
            prev_month => prev_month.format("%Y-%m").to_string(),
            next_month => next_month.format("%Y-%m").to_string(),
            group => q.group.clone().unwrap_or_default(),
            tag => tag.unwrap_or_default(),
            mode => q.mode.clone().unwrap_or_default(),
            group_options => group_options,
        },
    ))
}

fn parse_id(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::not_found())
}

/// An event's page.
async fn event_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let viewer = ctx.viewer_actor().cloned();
    let e = calendar::visible(&state.db, viewer.as_ref(), parse_id(&id)?).await?;
    let organiser = queries::actors::by_id(&state.db, e.organizer_id).await?;
    let (answer, manages) = match &viewer {
        Some(v) => (
            calendar::my_answer(&state.db, v, &e).await?,
            calendar::is_organiser(&state.db, v, &e).await?,
        ),
        None => (None, false),
    };
    let insider = manages || matches!(answer, Some(Rsvp::Going | Rsvp::Maybe));
    let online_url = e
        .online_url
        .clone()
        .filter(|_| !e.online_participants_only || insider);
    let pending = if manages {
        queries::calendar::count(&state.db, e.id, Rsvp::Pending.as_str()).await?
    } else {
        0
    };
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "event.html",
        context! {
            event => event_value(&ctx, &state, &e, organiser.as_ref()),
            answer => answer.map(Rsvp::as_str),
            manages => manages,
            online_url => online_url,
            online_hidden => e.online_url.is_some() && online_url_hidden(&e, insider),
            pending => pending,
            can_answer => viewer.is_some() && EventStatus::of(&e) != EventStatus::Cancelled,
        },
    ))
}

fn online_url_hidden(e: &calendar_events::Model, insider: bool) -> bool {
    e.online_participants_only && !insider
}

#[derive(Debug, Deserialize)]
struct RsvpForm {
    status: String,
    /// For the organisers of an event that approves its participants.
    note: Option<String>,
}

async fn rsvp(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path(id): Path<String>,
    Form(form): Form<RsvpForm>,
) -> AppResult<Response> {
    let choice = Rsvp::parse(&form.status)
        .filter(|c| matches!(c, Rsvp::Going | Rsvp::Maybe | Rsvp::NotGoing))
        .ok_or_else(|| AppError::Unprocessable(crate::msg!("error-event-answer")))?;
    let id = parse_id(&id)?;
    // An empty message is none (the domain trims it).
    match calendar::answer(&state, &member.actor, id, choice, form.note.as_deref()).await {
        Ok((_, events)) => {
            publish::publish(&state, events).await;
            Ok(ctx.redirect_with(&state, &format!("/events/{id}"), "flash-event-answered"))
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let message = e.public_message().render(ctx.locale);
            Ok(ctx.message(&state, e.status(), &ctx.t("event-answer-refused"), &message))
        }
    }
}

async fn cancel(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let (_, events) = calendar::cancel(&state, &member.actor, id).await?;
    publish::publish(&state, events).await;
    Ok(ctx.redirect_with(&state, &format!("/events/{id}"), "flash-event-cancelled"))
}

async fn participants_page(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let e = calendar::visible(&state.db, Some(&member.actor), parse_id(&id)?).await?;
    let list = calendar::participants(&state, &member.actor, e.id, None).await?;
    let people: Vec<Value> = list
        .iter()
        .map(|p| {
            context! {
                actor => views::actor_value(&p.actor),
                actor_id => p.actor.id.to_string(),
                status => p.row.status.clone(),
                message => p.row.message.clone(),
            }
        })
        .collect();
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "event_participants.html",
        context! { event => event_value(&ctx, &state, &e, None), people => people },
    ))
}

async fn decide(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path((id, actor, decision)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::not_found()),
    };
    let id = parse_id(&id)?;
    let (_, events) =
        calendar::decide_request(&state, &member.actor, id, parse_id(&actor)?, approve).await?;
    publish::publish(&state, events).await;
    Ok(ctx.redirect_with(
        &state,
        &format!("/events/{id}/participants"),
        "flash-event-decided",
    ))
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    handle: String,
}

async fn invite(
    data: Data<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path(id): Path<String>,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let who = views::by_handle(&data, &form.handle).await?;
    let (_, events) = calendar::outreach::invite(&data, &member.actor, id, &who).await?;
    publish::publish(&data, events).await;
    Ok(ctx.redirect_with(
        &data,
        &format!("/events/{id}/participants"),
        "flash-event-invited",
    ))
}

#[derive(Deserialize)]
struct MessageForm {
    #[serde(default)]
    text: String,
}

async fn message(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path(id): Path<String>,
    Form(form): Form<MessageForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let (_, events) = calendar::outreach::message_participants(
        &state,
        &member.actor,
        id,
        &form.text,
        &calendar::outreach::DEFAULT_AUDIENCE,
    )
    .await?;
    publish::publish(&state, events).await;
    Ok(ctx.redirect_with(
        &state,
        &format!("/events/{id}/participants"),
        "flash-event-messaged",
    ))
}

pub use super::event_form::{create, edit, edit_form, new_form};
