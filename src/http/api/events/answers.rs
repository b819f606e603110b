//! Answering events, and the organisers' participant list with approval.

use super::*;
use crate::{
    domain::calendar::Rsvp,
    federation::publish,
    http::extract::{ApiMember, Json},
};
use activitypub_federation::config::Data;

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

/// Documents the query; read strictly by `strict_choice`.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
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

impl ParticipantStatus {
    fn rsvp(self) -> Rsvp {
        match self {
            Self::Going => Rsvp::Going,
            Self::Maybe => Rsvp::Maybe,
            Self::NotGoing => Rsvp::NotGoing,
            Self::Pending => Rsvp::Pending,
            Self::Waiting => Rsvp::Waiting,
            Self::Invited => Rsvp::Invited,
            Self::Rejected => Rsvp::Rejected,
        }
    }
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
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> AppResult<axum::Json<Vec<EventParticipant>>> {
    me.require_scope("read:statuses")?;
    let actor = &me.member.actor;
    let e = event_by_id(&state, Some(actor), &id).await?;
    let status =
        crate::http::api::params::strict_choice::<ParticipantStatus>(uri.query(), "status")?
            .map(ParticipantStatus::rsvp);
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

/// Whom to invite.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EventInvitee {
    /// An account id, or a handle: `name` here, `name@server` elsewhere.
    #[schema(min_length = 1, max_length = 300, pattern = r"^\S+$")]
    pub account: String,
}

/// Invite someone, here or on another server (organisers only). Needed to
/// answer an invitation-mode event; local invitees get a notification,
/// remote ones a direct post with the event's link.
#[utoipa::path(post, path = "/api/v1/staffroom/events/{id}/invite", tag = "events", request_body = EventInvitee,
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventParticipant), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:statuses"])))]
pub async fn invite(
    data: Data<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<EventInvitee>,
) -> AppResult<axum::Json<EventParticipant>> {
    me.require_scope("write:statuses")?;
    let actor = &me.member.actor;
    let e = event_by_id(&data, Some(actor), &id).await?;
    let who = crate::http::api::groups::account_or_handle(&data, &body.account).await?;
    let (p, events) = calendar::outreach::invite(&data, actor, e.id, &who).await?;
    publish::publish(&data, events).await;
    Ok(axum::Json(EventParticipant {
        account: entities::account(&data, &who),
        status: p.status,
        message: p.message,
        updated_at: entities::iso(p.updated_at),
    }))
}

/// A message from the organisers to the participants.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ParticipantsMessage {
    /// The message (Markdown, like a post); the event's link is added.
    #[schema(min_length = 1, max_length = 4000, pattern = r"\S")]
    pub text: String,
    /// Who gets it, by their answer (default: going, maybe and waiting).
    #[schema(max_items = 7)]
    pub to: Option<Vec<ParticipantStatus>>,
}

/// The direct post that carried a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageSent {
    /// The post's id (`/api/v1/statuses/:id`).
    pub status_id: String,
    pub uri: String,
}

/// Write to the participants (organisers only): a direct post mentioning
/// each of them, delivered to their servers like any private mention.
#[utoipa::path(post, path = "/api/v1/staffroom/events/{id}/message", tag = "events", request_body = ParticipantsMessage,
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = MessageSent), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:statuses"])))]
pub async fn message(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<ParticipantsMessage>,
) -> AppResult<axum::Json<MessageSent>> {
    me.require_scope("write:statuses")?;
    let actor = &me.member.actor;
    let e = event_by_id(&state, Some(actor), &id).await?;
    let audience: Vec<Rsvp> = match &body.to {
        Some(list) => list.iter().map(|s| s.rsvp()).collect(),
        None => calendar::outreach::DEFAULT_AUDIENCE.to_vec(),
    };
    let (post, events) =
        calendar::outreach::message_participants(&state, actor, e.id, &body.text, &audience)
            .await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(MessageSent {
        status_id: post.id.to_string(),
        uri: post.ap_id,
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
