//! Reports: a member's complaint about an account and some of its posts, or
//! another server's (`Flag`), for this instance's moderators. They read the
//! open reports, resolve them (or reopen), and may forward a report about an
//! account of another server to that server, which is how the portal's
//! moderators pass on what they see in the national feed. A forwarded report
//! is sent by the instance actor, so the reporter's name never leaves.
//! Depends on `db` and the other domain modules; federation turns
//! [`Event::ReportForwarded`] into the `Flag`.

use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{actors, reports, statuses},
        ids, queries,
    },
    domain::{accounts::Member, events::Event, notifications, validate},
    error::{AppError, AppResult},
};
use sea_orm::{ActiveValue::Set, IntoActiveModel};

/// Longest comment kept, in characters (Mastodon's limit).
pub const COMMENT_MAX: usize = 1000;
/// Posts one report may name.
pub const STATUSES_MAX: usize = 20;
/// Mastodon's report categories.
pub const CATEGORIES: [&str; 4] = ["spam", "legal", "violation", "other"];
/// The notification the moderators get.
pub const NOTIFICATION: &str = "admin.report";

/// What a member fills in.
#[derive(Debug, Clone, Default)]
pub struct NewReport {
    pub target_id: i64,
    pub status_ids: Vec<i64>,
    pub comment: Option<String>,
    pub category: Option<String>,
    /// Also send it to the account's server (only for remote accounts).
    pub forward: bool,
}

/// The posts a report names.
pub fn status_ids(r: &reports::Model) -> Vec<i64> {
    serde_json::from_str(&r.status_ids).unwrap_or_default()
}

fn refuse(key: &'static str) -> AppError {
    AppError::Unprocessable(crate::i18n::Msg::new(key))
}

fn staff_only(me: &Member) -> AppResult<()> {
    if me.is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// A member reports an account (and some of its posts they can see).
pub async fn create(
    state: &AppState,
    me: &actors::Model,
    input: NewReport,
) -> AppResult<(reports::Model, Outbox)> {
    let target = queries::actors::by_id(&state.db, input.target_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if target.id == me.id {
        return Err(refuse("error-report-self"));
    }
    let comment = validate::optional("comment", input.comment.as_deref(), COMMENT_MAX)?;
    let category = match input.category.as_deref().map(str::trim) {
        None | Some("") => "other",
        Some(c) => CATEGORIES
            .iter()
            .find(|k| **k == c)
            .ok_or_else(|| refuse("error-report-category"))?,
    };
    let mut ids = input.status_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > STATUSES_MAX {
        return Err(refuse("error-report-statuses"));
    }
    for id in &ids {
        let s = queries::statuses::by_id(&state.db, *id).await?;
        let ok = match &s {
            Some(s) if s.actor_id == target.id && s.deleted_at.is_none() => {
                crate::domain::posts::can_view(state, Some(me), s).await?
            }
            _ => false,
        };
        if !ok {
            return Err(refuse("error-report-statuses"));
        }
    }
    let forward = input.forward && !target.local;
    store(
        state,
        me.id,
        &target,
        &ids,
        comment.unwrap_or_default(),
        category,
        Origin::Local { forward },
    )
    .await
}

/// Another server reports one of the accounts or posts we hold (a `Flag`
/// from `sender`, usually its instance actor). The same Flag twice is one
/// report.
pub async fn receive(
    state: &AppState,
    sender: &actors::Model,
    ap_id: &str,
    target: &actors::Model,
    statuses: &[statuses::Model],
    comment: &str,
) -> AppResult<reports::Model> {
    if let Some(existing) = queries::reports::by_ap_id(&state.db, ap_id).await? {
        return Ok(existing);
    }
    let ids: Vec<i64> = statuses
        .iter()
        .filter(|s| s.actor_id == target.id)
        .map(|s| s.id)
        .take(STATUSES_MAX)
        .collect();
    let comment: String = comment.trim().chars().take(COMMENT_MAX).collect();
    store(
        state,
        sender.id,
        target,
        &ids,
        comment,
        "other",
        Origin::Remote(ap_id.to_string()),
    )
    .await
    .map(|(report, _nothing_to_send)| report)
}

/// Where a report comes from: a member here (who may ask for it to be
/// forwarded to the reported account's server), or another server's Flag.
enum Origin {
    Local { forward: bool },
    Remote(String),
}

async fn store(
    state: &AppState,
    reporter: i64,
    target: &actors::Model,
    status_ids: &[i64],
    comment: String,
    category: &str,
    origin: Origin,
) -> AppResult<(reports::Model, Outbox)> {
    let (ap_id, forward) = match origin {
        Origin::Local { forward } => (None, forward),
        Origin::Remote(id) => (Some(id), false),
    };
    let now = chrono::Utc::now();
    let txn = crate::db::begin(&state.db).await?;
    let report = queries::reports::insert(
        &txn,
        reports::ActiveModel {
            id: Set(ids::next_id()),
            ap_id: Set(ap_id),
            reporter_id: Set(reporter),
            target_id: Set(target.id),
            status_ids: Set(serde_json::to_string(status_ids).map_err(AppError::internal)?),
            comment: Set(comment),
            category: Set(category.to_string()),
            forwarded_at: Set(None),
            resolved_at: Set(None),
            resolved_by: Set(None),
            created_at: Set(now),
        },
    )
    .await?;
    for staff in queries::accounts::staff_actor_ids(&txn).await? {
        notifications::notify_id(&txn, staff, NOTIFICATION, reporter, None).await?;
    }
    let events = if forward {
        vec![Event::ReportForwarded(report.id)]
    } else {
        Vec::new()
    };
    let outbox = Outbox::commit(txn, events).await?;
    Ok((report, outbox))
}

/// Reports for the moderators, open or resolved, newest first.
pub async fn list(
    state: &AppState,
    me: &Member,
    resolved: bool,
    max_id: Option<i64>,
    limit: u64,
) -> AppResult<Vec<reports::Model>> {
    staff_only(me)?;
    Ok(queries::reports::list(&state.db, resolved, max_id, limit).await?)
}

pub async fn get(state: &AppState, me: &Member, id: i64) -> AppResult<reports::Model> {
    staff_only(me)?;
    queries::reports::by_id(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Mark a report dealt with (`resolved`) or open it again.
pub async fn resolve(
    state: &AppState,
    me: &Member,
    id: i64,
    resolved: bool,
) -> AppResult<reports::Model> {
    let r = get(state, me, id).await?;
    if r.resolved_at.is_some() == resolved {
        return Ok(r);
    }
    let mut a = r.into_active_model();
    a.resolved_at = Set(resolved.then(chrono::Utc::now));
    a.resolved_by = Set(resolved.then_some(me.actor.id));
    Ok(queries::reports::update(&state.db, a).await?)
}

/// Send a report about another server's account to that server. Once is
/// enough: forwarding again changes nothing.
pub async fn forward(
    state: &AppState,
    me: &Member,
    id: i64,
) -> AppResult<(reports::Model, Outbox)> {
    let r = get(state, me, id).await?;
    let target = queries::actors::by_id(&state.db, r.target_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if target.local {
        return Err(refuse("error-report-local"));
    }
    if r.forwarded_at.is_some() {
        return Ok((r, Outbox::none()));
    }
    let outbox = Outbox::record(&state.db, vec![Event::ReportForwarded(r.id)]).await?;
    Ok((r, outbox))
}

/// Record that the Flag `ap_id` carried the report to its server.
pub async fn forwarded(state: &AppState, id: i64, ap_id: &str) -> AppResult<()> {
    if let Some(r) = queries::reports::by_id(&state.db, id).await? {
        let mut a = r.into_active_model();
        a.forwarded_at = Set(Some(chrono::Utc::now()));
        a.ap_id = Set(Some(ap_id.to_string()));
        queries::reports::update(&state.db, a).await?;
    }
    Ok(())
}
