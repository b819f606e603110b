//! Answering events, and the organisers' participant list with approval.

use super::*;
use crate::{
    domain::calendar::Rsvp,
    federation::publish,
    http::extract::{ApiMember, Json},
};

/// Answer an event: going, maybe or not going. In approval mode "going"
/// becomes a request; when the event is full it joins the waiting list (if
/// it keeps one) or is refused.
#[utoipa::path(post, path = "/api/v1/staffroom/events/{id}/rsvp", tag = "events", request_body = RsvpBody,
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventEntity), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:statuses"])))]
pub async fn rsvp(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<RsvpBody>,
) -> AppResult<axum::Json<EventEntity>> {
    me.require_scope("write:statuses")?;
    body.check()?;
    let actor = &me.member.actor;
    let e = event_by_id(&state, Some(actor), &id).await?;
    let choice = match body.status {
        RsvpName::Going => Rsvp::Going,
        RsvpName::Maybe => Rsvp::Maybe,
        RsvpName::NotGoing => Rsvp::NotGoing,
    };
    let (_, events) =
        calendar::answer(&state, actor, e.id, choice, body.message.as_deref()).await?;
    publish::publish(&state, events).await;
    let e = event_by_id(&state, Some(actor), &id).await?;
    Ok(axum::Json(event_entity(&state, Some(actor), &e).await?))
}

/// Someone who answered, and how.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventParticipant {
    pub account: entities::Account,
    /// `going`, `maybe`, `not_going`, `pending`, `waiting`, `invited` or `rejected`.
    pub status: String,
    /// What they told the organisers.
    pub message: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ParticipantsQuery {
    /// Only people with this answer.
    status: Option<ParticipantStatus>,
}

#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantStatus {
    Going,
    Maybe,
    NotGoing,
    Pending,
    Waiting,
    Invited,
    Rejected,
}

/// Everyone who answered (organisers only); everyone else sees the count.
#[utoipa::path(get, path = "/api/v1/staffroom/events/{id}/participants", tag = "events",
    params(("id" = String, Path, description = "The event's id"), ParticipantsQuery),
    responses((status = 200, body = Vec<EventParticipant>), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = ["read:statuses"])))]
pub async fn participants(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Query(q): Query<ParticipantsQuery>,
) -> AppResult<axum::Json<Vec<EventParticipant>>> {
    me.require_scope("read:statuses")?;
    let actor = &me.member.actor;
    let e = event_by_id(&state, Some(actor), &id).await?;
    let status = q.status.and_then(|s| {
        Rsvp::parse(match s {
            ParticipantStatus::Going => "going",
            ParticipantStatus::Maybe => "maybe",
            ParticipantStatus::NotGoing => "not_going",
            ParticipantStatus::Pending => "pending",
            ParticipantStatus::Waiting => "waiting",
            ParticipantStatus::Invited => "invited",
            ParticipantStatus::Rejected => "rejected",
        })
    });
    let list = calendar::participants(&state, actor, e.id, status).await?;
    Ok(axum::Json(
        list.into_iter()
            .map(|p| EventParticipant {
                account: entities::account(&state, &p.actor),
                status: p.row.status,
                message: p.row.message,
                updated_at: entities::iso(p.row.updated_at),
            })
            .collect(),
    ))
}

/// Approve or reject someone (organisers only).
#[utoipa::path(post, path = "/api/v1/staffroom/events/{id}/participants/{account_id}/{decision}", tag = "events",
    params(("id" = String, Path, description = "The event's id"),
        ("account_id" = String, Path, description = "The participant's account id"),
        ("decision" = String, Path, pattern = r"^(approve|reject)$", description = "`approve` (a request to join) or `reject` (a request, or someone on the list)")),
    responses((status = 200, body = EventParticipant), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:statuses"])))]
pub async fn decide(
    State(state): State<AppState>,
    me: ApiMember,
    Path((id, account_id, decision)): Path<(String, String, String)>,
) -> AppResult<axum::Json<EventParticipant>> {
    me.require_scope("write:statuses")?;
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::not_found()),
    };
    let actor = &me.member.actor;
    let e = event_by_id(&state, Some(actor), &id).await?;
    let who = crate::http::api::groups::account_by_id(&state, &account_id).await?;
    let (p, events) = calendar::decide_request(&state, actor, e.id, who.id, approve).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(EventParticipant {
        account: entities::account(&state, &who),
        status: p.status,
        message: p.message,
        updated_at: entities::iso(p.updated_at),
    }))
}

/// The caller's personal calendar feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeed {
    /// An iCalendar feed of the events the caller answered going or maybe
    /// to; secret: anyone with it can read the feed.
    pub url: String,
}

/// The secret URL of the caller's own calendar, for calendar programs.
#[utoipa::path(get, path = "/api/v1/staffroom/events/feed", tag = "events",
    responses((status = 200, body = CalendarFeed), (status = 401), (status = 403)),
    security(("bearer" = ["read:statuses"])))]
pub async fn feed(
    State(state): State<AppState>,
    me: ApiMember,
) -> AppResult<axum::Json<CalendarFeed>> {
    me.require_scope("read:statuses")?;
    let token = calendar::ics::feed_token(&state.db, me.member.actor.id).await?;
    Ok(axum::Json(CalendarFeed {
        url: format!("{}/calendar/feed/{token}", state.urls.base()),
    }))
}
