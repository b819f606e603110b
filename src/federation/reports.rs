//! Reports as ActivityPub `Flag`s, both ways. Sending: the instance actor
//! flags the account and the posts, with the comment as `content`, to the
//! account's server (as Mastodon does, so the reporter stays unnamed).
//! Receiving: a `Flag` naming an account and/or posts we hold becomes a
//! report for our moderators; the objects we do not hold are ignored.

use crate::{
    app::AppState,
    db::queries,
    domain::reports,
    error::{AppError, AppResult},
    federation::{
        error::FedError,
        protocol::id_of,
        publish::{enqueue, inbox_of},
    },
};
use activitypub_federation::config::Data;
use serde_json::{Value, json};

/// Build and queue the Flag of a forwarded report.
pub async fn send_flag(state: &AppState, report_id: i64) -> AppResult<()> {
    let Some(r) = queries::reports::by_id(&state.db, report_id).await? else {
        return Ok(());
    };
    let target = queries::actors::by_id(&state.db, r.target_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let me = queries::actors::by_ap_id(&state.db, &state.urls.instance_actor())
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the instance actor is missing")))?;
    let mut objects = vec![json!(target.ap_id)];
    for id in reports::status_ids(&r) {
        if let Some(s) = queries::statuses::by_id(&state.db, id).await? {
            objects.push(json!(s.ap_id));
        }
    }
    let ap_id = format!("{}/reports/{}", state.urls.base(), r.id);
    let activity = json!({
        "id": ap_id,
        "type": "Flag",
        "actor": me.ap_id,
        "to": [target.ap_id],
        "object": objects,
        "content": r.comment,
    });
    enqueue(
        state,
        &me,
        "Flag",
        Some(&target.ap_id),
        activity,
        inbox_of(&target),
    )
    .await?;
    reports::forwarded(state, r.id, &ap_id).await
}

/// A `Flag` from `sender`.
pub async fn receive_flag(
    data: &Data<AppState>,
    sender: &crate::db::entities::actors::Model,
    activity: &Value,
) -> Result<(), FedError> {
    let id = activity
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| FedError::invalid("Flag without id"))?;
    let objects: Vec<String> = match activity.get("object") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(id_of)
            .map(|u| u.to_string())
            .collect(),
        Some(one) => id_of(one).map(|u| u.to_string()).into_iter().collect(),
        None => Vec::new(),
    };
    let mut target = None;
    let mut statuses = Vec::new();
    for object in objects.iter().take(reports::STATUSES_MAX + 1) {
        if let Some(a) = queries::actors::by_ap_id(&data.db, object).await? {
            target.get_or_insert(a);
        } else if let Some(s) = queries::statuses::by_ap_id(&data.db, object).await? {
            statuses.push(s);
        }
    }
    // Some servers flag only posts: the first post's author is the target.
    if target.is_none()
        && let Some(first) = statuses.first()
    {
        target = queries::actors::by_id(&data.db, first.actor_id).await?;
    }
    let Some(target) = target else {
        return Err(FedError::NotFound(
            "the Flag names nothing held here".into(),
        ));
    };
    // Mastodon writes the comment in `content`, Lemmy in `summary`.
    let comment = activity
        .get("content")
        .or_else(|| activity.get("summary"))
        .and_then(Value::as_str)
        .map(crate::domain::text::html_to_text)
        .unwrap_or_default();
    reports::receive(data, sender, id, &target, &statuses, &comment).await?;
    Ok(())
}
