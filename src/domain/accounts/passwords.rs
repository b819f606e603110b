//! Passwords: changing one's own, and resetting a forgotten one by a token
//! sent by email.

use super::*;

pub async fn change_password(
    state: &AppState,
    member: &Member,
    current: &str,
    new: &str,
    keep_session: Option<&str>,
) -> AppResult<()> {
    if !auth::verify_password(current, &member.account.password_hash).await {
        return Err(AppError::Unprocessable(msg!("error-current-password")));
    }
    set_password(state, member.account.id, new, keep_session).await
}

async fn set_password(
    state: &AppState,
    account_id: i64,
    new: &str,
    keep_session: Option<&str>,
) -> AppResult<()> {
    validate::password(new, state.config.registration.min_password_length)?;
    let hash = auth::hash_password(new).await?;
    let account = queries::accounts::by_id(&state.db, account_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let txn = crate::db::begin(&state.db).await?;
    let mut active = account.into_active_model();
    active.password_hash = Set(hash);
    active.updated_at = Set(chrono::Utc::now());
    queries::accounts::update(&txn, active).await?;
    // Other devices must log in again with the new password.
    let keep = keep_session.map(auth::sha256_hex);
    let sessions = queries::sessions::for_account(&txn, account_id).await?;
    for s in sessions {
        if Some(&s.id) != keep.as_ref() {
            queries::sessions::delete(&txn, &s.id).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// An admin creates a one-time link (valid 48 hours) for a member who lost
/// their password; the admin passes it on. Returns the secret token.
pub async fn create_password_reset(
    state: &AppState,
    admin: &Member,
    account_id: i64,
) -> AppResult<String> {
    if !admin.is_admin() {
        return Err(AppError::forbidden());
    }
    queries::accounts::by_id(&state.db, account_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let token = auth::random_token();
    let now = chrono::Utc::now();
    queries::password_resets::insert(
        &state.db,
        crate::db::entities::password_resets::ActiveModel {
            id: Set(ids::next_id()),
            token_hash: Set(auth::sha256_hex(&token)),
            account_id: Set(account_id),
            created_by: Set(Some(admin.account.id)),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::hours(48)),
            used_at: Set(None),
        },
    )
    .await?;
    Ok(token)
}

/// The account a reset link belongs to, if the link is still valid.
pub async fn check_password_reset(state: &AppState, token: &str) -> AppResult<accounts::Model> {
    let reset = queries::password_resets::by_hash(&state.db, &auth::sha256_hex(token))
        .await?
        .filter(|r| r.used_at.is_none() && r.expires_at > chrono::Utc::now())
        .ok_or_else(|| AppError::Gone(msg!("error-reset-invalid")))?;
    queries::accounts::by_id(&state.db, reset.account_id)
        .await?
        .ok_or_else(|| AppError::Gone(msg!("error-reset-invalid")))
}

pub async fn redeem_password_reset(
    state: &AppState,
    token: &str,
    new: &str,
) -> AppResult<accounts::Model> {
    validate::password(new, state.config.registration.min_password_length)?;
    let account = check_password_reset(state, token).await?;
    let reset = queries::password_resets::by_hash(&state.db, &auth::sha256_hex(token))
        .await?
        .ok_or_else(|| AppError::Gone(msg!("error-reset-invalid")))?;
    if !queries::password_resets::mark_used(&state.db, reset.id, chrono::Utc::now()).await? {
        return Err(AppError::Gone(msg!("error-reset-invalid")));
    }
    set_password(state, account.id, new, None).await?;
    Ok(account)
}
