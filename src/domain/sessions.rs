//! Browser sessions and bearer tokens: issuing them and resolving them back to
//! a member on each request.

use crate::{
    app::AppState,
    db::{entities::access_tokens, ids, queries},
    domain::{
        accounts::{self, Member},
        auth,
    },
    error::AppResult,
};
use sea_orm::ActiveValue::Set;

/// Sessions idle longer than this are forgotten.
pub const SESSION_IDLE_DAYS: i64 = 30;
/// `last_seen_at` is written at most this often, so page views stay read-only.
const TOUCH_EVERY_MINUTES: i64 = 5;

/// Start a session; returns the cookie value.
pub async fn start(
    state: &AppState,
    member: &Member,
    user_agent: Option<&str>,
) -> AppResult<String> {
    let token = auth::random_token();
    let ua = user_agent.map(|u| u.chars().take(300).collect::<String>());
    queries::sessions::insert(
        &state.db,
        auth::sha256_hex(&token),
        member.account.id,
        ua,
        chrono::Utc::now(),
    )
    .await?;
    Ok(token)
}

/// The member behind a session cookie, if the session is alive.
pub async fn resolve(state: &AppState, token: &str) -> AppResult<Option<Member>> {
    let id = auth::sha256_hex(token);
    let Some(session) = queries::sessions::by_id(&state.db, &id).await? else {
        return Ok(None);
    };
    let now = chrono::Utc::now();
    if now - session.last_seen_at > chrono::Duration::days(SESSION_IDLE_DAYS) {
        queries::sessions::delete(&state.db, &id).await?;
        return Ok(None);
    }
    let Some(member) = accounts::member_by_account_id(state, session.account_id).await? else {
        return Ok(None);
    };
    if now - session.last_seen_at > chrono::Duration::minutes(TOUCH_EVERY_MINUTES) {
        queries::sessions::touch(&state.db, &id, now).await?;
        queries::accounts::touch_last_seen(&state.db, member.account.id, now).await?;
    }
    Ok(Some(member))
}

pub async fn end(state: &AppState, token: &str) -> AppResult<()> {
    queries::sessions::delete(&state.db, &auth::sha256_hex(token)).await?;
    Ok(())
}

/// A bearer token for the JSON API. Returns the secret (shown once) and the row.
pub async fn issue_token(
    state: &AppState,
    account_id: Option<i64>,
    app_id: Option<i64>,
    scopes: &str,
    with_refresh: bool,
) -> AppResult<(String, Option<String>, access_tokens::Model)> {
    let token = auth::random_token();
    let refresh = with_refresh.then(auth::random_token);
    let row = queries::tokens::insert(
        &state.db,
        access_tokens::ActiveModel {
            id: Set(ids::next_id()),
            token_hash: Set(auth::sha256_hex(&token)),
            refresh_token_hash: Set(refresh.as_deref().map(auth::sha256_hex)),
            account_id: Set(account_id),
            app_id: Set(app_id),
            scopes: Set(scopes.to_string()),
            created_at: Set(chrono::Utc::now()),
            expires_at: Set(None),
            revoked_at: Set(None),
            last_used_at: Set(None),
        },
    )
    .await?;
    Ok((token, refresh, row))
}

/// A live token and its member (None for app-only tokens).
pub async fn resolve_token(
    state: &AppState,
    token: &str,
) -> AppResult<Option<(access_tokens::Model, Option<Member>)>> {
    let Some(row) = queries::tokens::by_hash(&state.db, &auth::sha256_hex(token)).await? else {
        return Ok(None);
    };
    let now = chrono::Utc::now();
    if row.revoked_at.is_some() || row.expires_at.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    let member = match row.account_id {
        Some(id) => match accounts::member_by_account_id(state, id).await? {
            Some(m) => Some(m),
            None => return Ok(None),
        },
        None => None,
    };
    if row
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(TOUCH_EVERY_MINUTES))
    {
        queries::tokens::touch(&state.db, row.id, now).await?;
        if let Some(m) = &member {
            queries::accounts::touch_last_seen(&state.db, m.account.id, now).await?;
        }
    }
    Ok(Some((row, member)))
}
