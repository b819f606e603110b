//! Invite codes: created by admins with an optional expiry and use limit; a
//! valid code lets someone join in `invite` mode and skips approval.

use crate::{
    app::AppState,
    db::{entities::invites, ids, queries},
    domain::{accounts::Member, auth, validate},
    error::{AppError, AppResult},
    msg,
};
use sea_orm::ActiveValue::Set;

pub struct NewInvite {
    pub max_uses: Option<i32>,
    pub expires_in_hours: Option<i64>,
    pub comment: Option<String>,
}

pub async fn create(
    state: &AppState,
    admin: &Member,
    input: NewInvite,
) -> AppResult<invites::Model> {
    if !admin.is_admin() {
        return Err(AppError::forbidden());
    }
    if let Some(n) = input.max_uses
        && !(1..=10_000).contains(&n)
    {
        return Err(AppError::Unprocessable(msg!("error-invite-max-uses")));
    }
    if let Some(h) = input.expires_in_hours
        && !(1..=24 * 365).contains(&h)
    {
        return Err(AppError::Unprocessable(msg!("error-invite-expiry")));
    }
    let comment = validate::optional("comment", input.comment.as_deref(), 200)?;
    let now = chrono::Utc::now();
    Ok(queries::invites::insert(
        &state.db,
        invites::ActiveModel {
            id: Set(ids::next_id()),
            code: Set(auth::random_code()),
            created_by: Set(Some(admin.account.id)),
            comment: Set(comment),
            max_uses: Set(input.max_uses),
            uses: Set(0),
            expires_at: Set(input
                .expires_in_hours
                .map(|h| now + chrono::Duration::hours(h))),
            revoked_at: Set(None),
            created_at: Set(now),
        },
    )
    .await?)
}

pub async fn list(state: &AppState, admin: &Member) -> AppResult<Vec<invites::Model>> {
    if !admin.is_admin() {
        return Err(AppError::forbidden());
    }
    Ok(queries::invites::list(&state.db).await?)
}

pub async fn revoke(state: &AppState, admin: &Member, id: i64) -> AppResult<()> {
    if !admin.is_admin() {
        return Err(AppError::forbidden());
    }
    if queries::invites::by_id(&state.db, id).await?.is_none() {
        return Err(AppError::not_found());
    }
    queries::invites::revoke(&state.db, id, chrono::Utc::now()).await?;
    Ok(())
}

/// Is this invite usable right now? (For showing state in lists.)
pub fn is_valid(invite: &invites::Model, now: chrono::DateTime<chrono::Utc>) -> bool {
    invite.revoked_at.is_none()
        && invite.expires_at.is_none_or(|e| e > now)
        && invite.max_uses.is_none_or(|m| invite.uses < m)
}
