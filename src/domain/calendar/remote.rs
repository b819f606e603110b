//! Events from other servers (Staffroom, Mobilizon, Gancio...): the post is
//! stored by `posts::upsert_remote`; this keeps the event row beside it in
//! step with what the latest version of the object says.

use super::{EventStatus, EventVisibility, JoinMode, time};
use crate::{
    app::AppState,
    db::{
        entities::{calendar_events, statuses},
        queries,
    },
    domain::{notifications, posts::Visibility},
    error::AppResult,
};
use sea_orm::{ActiveModelTrait, IntoActiveModel};
use serde_json::json;

/// What the federation layer read from an Event object.
#[derive(Debug, Clone, Default)]
pub struct RemoteEvent {
    pub starts_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ends_at: Option<chrono::DateTime<chrono::Utc>>,
    pub timezone: Option<String>,
    pub all_day: bool,
    pub location_name: Option<String>,
    pub location_address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub online_url: Option<String>,
    pub capacity: Option<i32>,
    pub join_mode: Option<String>,
    pub status: Option<String>,
    pub participant_count: Option<i32>,
    pub tags: Vec<String>,
    /// The address of the event's Going / Maybe / Can't go poll, when its
    /// server (Staffroom) sends one.
    pub rsvp_poll: Option<String>,
}

fn join_mode(raw: Option<&str>) -> JoinMode {
    match raw.map(|s| s.trim().to_lowercase()).as_deref() {
        Some("restricted" | "approval" | "moderated") => JoinMode::Approval,
        Some("invite" | "invitation" | "invite_only") => JoinMode::Invitation,
        _ => JoinMode::Free,
    }
}

fn status(raw: Option<&str>) -> EventStatus {
    match raw.map(|s| s.trim().to_lowercase()).as_deref() {
        Some("cancelled" | "canceled") => EventStatus::Cancelled,
        Some("tentative") => EventStatus::Tentative,
        _ => EventStatus::Confirmed,
    }
}

/// Store (or refresh) the event row of a remote `Event` post. Objects
/// without a usable start are kept as posts only.
/// Store or refresh another server's event; `poll` is the status id of its
/// RSVP poll when known.
pub async fn upsert(
    state: &AppState,
    s: &statuses::Model,
    r: RemoteEvent,
    poll: Option<i64>,
) -> AppResult<()> {
    let Some(start) = r.starts_at else {
        return Ok(());
    };
    let end = r
        .ends_at
        .filter(|e| *e > start)
        .unwrap_or(start + chrono::Duration::hours(1));
    let tz = r
        .timezone
        .as_deref()
        .and_then(|z| time::zone(z).ok())
        .map(|z| z.name().to_string())
        .unwrap_or_else(|| "UTC".into());
    let visibility = match (Visibility::of(s), s.group_id) {
        (Visibility::Public | Visibility::Unlisted, _) => EventVisibility::Public,
        // Followers-only elsewhere: shown to the organiser's group, or to no one.
        _ => EventVisibility::Group,
    };
    let now = chrono::Utc::now();
    let clip = |v: Option<String>, n: usize| {
        v.map(|v| v.trim().chars().take(n).collect::<String>())
            .filter(|v| !v.is_empty())
    };
    let existing = queries::calendar::by_id(&state.db, s.id).await?;
    let new_status = status(r.status.as_deref());
    let row = calendar_events::Model {
        id: s.id,
        organizer_id: s.actor_id,
        group_id: s.group_id,
        title: s
            .title
            .clone()
            .unwrap_or_default()
            .chars()
            .take(super::TITLE_MAX)
            .collect(),
        description_source: None,
        description: super::description_of(&s.content).to_string(),
        starts_at: start,
        ends_at: end.min(start + chrono::Duration::days(366)),
        timezone: tz,
        all_day: r.all_day,
        location_name: clip(r.location_name, super::PLACE_MAX),
        location_address: clip(r.location_address, super::ADDRESS_MAX),
        latitude: r.latitude.filter(|l| (-90.0..=90.0).contains(l)),
        longitude: r.longitude.filter(|l| (-180.0..=180.0).contains(l)),
        online_url: clip(r.online_url, super::URL_MAX),
        online_participants_only: false,
        capacity: r.capacity.filter(|c| *c > 0),
        waiting_list: false,
        join_mode: join_mode(r.join_mode.as_deref()).as_str().into(),
        event_status: new_status.as_str().into(),
        tags: json!(r.tags.into_iter().take(super::MAX_TAGS).collect::<Vec<_>>()),
        language: s.language.clone(),
        visibility: visibility.as_str().into(),
        going_count: existing.as_ref().map(|e| e.going_count).unwrap_or(0),
        remote_participant_count: r.participant_count.filter(|n| *n >= 0),
        poll_status_id: poll.or(existing.as_ref().and_then(|e| e.poll_status_id)),
        local: false,
        reminded_at: existing.as_ref().and_then(|e| e.reminded_at),
        created_at: existing.as_ref().map(|e| e.created_at).unwrap_or(now),
        updated_at: now,
    };
    let txn = crate::db::begin(&state.db).await?;
    match &existing {
        Some(old) => {
            let changed = old.starts_at != row.starts_at
                || old.ends_at != row.ends_at
                || old.location_name != row.location_name
                || old.event_status != row.event_status;
            let mut a = row.clone().into_active_model().reset_all();
            a.id = sea_orm::ActiveValue::Unchanged(row.id);
            queries::calendar::update(&txn, a).await?;
            if changed {
                let kind = if new_status == EventStatus::Cancelled
                    && EventStatus::of(old) != EventStatus::Cancelled
                {
                    "event_cancelled"
                } else {
                    "event_update"
                };
                for p in queries::calendar::participants(
                    &txn,
                    s.id,
                    &[
                        super::Rsvp::Going.as_str(),
                        super::Rsvp::Maybe.as_str(),
                        super::Rsvp::Pending.as_str(),
                    ],
                )
                .await?
                {
                    notifications::notify_id(&txn, p.actor_id, kind, s.actor_id, Some(s.id))
                        .await?;
                }
            }
        }
        None => {
            queries::calendar::insert(&txn, row.into_active_model().reset_all()).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}
