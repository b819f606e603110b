//! Reminders: a day before an event starts, everyone going (or maybe
//! going) who is a member here gets a notification. A background job
//! (`workers`) calls [`send_due`] every few minutes; each event is marked
//! reminded in the same transaction, so a reminder goes out once.

use super::{EventStatus, Rsvp};
use crate::{app::AppState, db::queries, domain::notifications, error::AppResult};
use sea_orm::{ActiveValue::Set, IntoActiveModel};

/// How long before the start the reminder goes.
pub const AHEAD: chrono::Duration = chrono::Duration::hours(24);

/// Send the reminders that are due; returns how many events were reminded.
pub async fn send_due(state: &AppState, now: chrono::DateTime<chrono::Utc>) -> AppResult<usize> {
    let due = queries::calendar::due_reminders(&state.db, now, now + AHEAD).await?;
    let mut sent = 0;
    for e in due {
        if EventStatus::of(&e) == EventStatus::Cancelled {
            continue;
        }
        let txn = crate::db::begin(&state.db).await?;
        let people = queries::calendar::participants(
            &txn,
            e.id,
            &[Rsvp::Going.as_str(), Rsvp::Maybe.as_str()],
        )
        .await?;
        for p in people {
            notifications::notify_id(
                &txn,
                p.actor_id,
                "event_reminder",
                e.organizer_id,
                Some(e.id),
            )
            .await?;
        }
        let mut a = e.into_active_model();
        a.reminded_at = Set(Some(now));
        queries::calendar::update(&txn, a).await?;
        txn.commit().await?;
        sent += 1;
    }
    Ok(sent)
}
