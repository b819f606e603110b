//! What members do with their own registry record: deleting their account,
//! exporting their data, correcting their registry details, choosing a
//! language.

use super::*;
use crate::domain::{events::Event, outbox::Outbox};

/// Delete one's own account. The registry record goes entirely; the public
/// profile becomes a tombstone so the handle is never reused by someone else
/// (other servers may still hold posts under it).
pub async fn delete_own(
    state: &AppState,
    member: &Member,
    password: &str,
) -> AppResult<(actors::Model, Outbox)> {
    if !auth::verify_password(password, &member.account.password_hash).await {
        return Err(AppError::Unprocessable(msg!("error-current-password")));
    }
    if member.is_admin() && queries::accounts::count_admins(&state.db).await? <= 1 {
        return Err(AppError::Conflict(msg!("error-last-admin")));
    }
    let now = chrono::Utc::now();
    let txn = crate::db::begin(&state.db).await?;
    let mut actor = member.actor.clone().into_active_model();
    actor.display_name = Set(String::new());
    actor.summary = Set(String::new());
    actor.summary_source = Set(None);
    actor.avatar_media_id = Set(None);
    actor.header_media_id = Set(None);
    actor.fields = Set(serde_json::json!([]));
    actor.subjects = Set(serde_json::json!([]));
    actor.languages = Set(serde_json::json!([]));
    actor.account_id = Set(None);
    actor.deleted_at = Set(Some(now));
    actor.updated_at = Set(now);
    let actor = queries::actors::update(&txn, actor).await?;
    // Sessions, tokens and resets go with the account (ON DELETE CASCADE).
    queries::accounts::delete(&txn, member.account.id).await?;
    let outbox = Outbox::commit(txn, vec![Event::AccountDeleted(Box::new(actor.clone()))]).await?;
    tracing::info!(actor = actor.id, "account deleted");
    Ok((actor, outbox))
}

/// Everything the instance holds about a member, for them to download.
#[derive(Debug, Serialize)]
pub struct Export {
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub instance: String,
    pub registry: RegistryExport,
    pub profile: ProfileExport,
}

#[derive(Debug, Serialize)]
pub struct RegistryExport {
    pub username: String,
    pub email: String,
    pub real_name: Option<String>,
    pub school: Option<String>,
    pub membership_number: Option<String>,
    pub role: String,
    pub status: String,
    pub locale: Option<String>,
    pub signup_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize)]
pub struct ProfileExport {
    pub id: String,
    pub display_name: String,
    pub bio_markdown: Option<String>,
    pub bio_html: String,
    pub subjects: serde_json::Value,
    pub languages: serde_json::Value,
    pub fields: serde_json::Value,
    pub locked: bool,
    pub discoverable: bool,
}

pub fn export(state: &AppState, member: &Member) -> Export {
    let a = &member.account;
    let p = &member.actor;
    Export {
        exported_at: chrono::Utc::now(),
        instance: state.urls.base().to_string(),
        registry: RegistryExport {
            username: a.username.clone(),
            email: a.email.clone(),
            real_name: a.real_name.clone(),
            school: a.school.clone(),
            membership_number: a.membership_number.clone(),
            role: a.role.clone(),
            status: a.status.clone(),
            locale: a.locale.clone(),
            signup_reason: a.signup_reason.clone(),
            created_at: a.created_at,
            approved_at: a.approved_at,
            last_seen_at: a.last_seen_at,
        },
        profile: ProfileExport {
            id: p.ap_id.clone(),
            display_name: p.display_name.clone(),
            bio_markdown: p.summary_source.clone(),
            bio_html: p.summary.clone(),
            subjects: p.subjects.clone(),
            languages: p.languages.clone(),
            fields: p.fields.clone(),
            locked: p.manually_approves_followers,
            discoverable: p.discoverable,
        },
    }
}

/// Registry fields an admin may correct.
pub struct RegistryUpdate {
    pub real_name: Option<String>,
    pub school: Option<String>,
    pub membership_number: Option<String>,
}

pub async fn update_registry(
    state: &AppState,
    staff: &Member,
    account_id: i64,
    input: RegistryUpdate,
) -> AppResult<accounts::Model> {
    if !staff.is_staff() && staff.account.id != account_id {
        return Err(AppError::forbidden());
    }
    let account = queries::accounts::by_id(&state.db, account_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut active = account.into_active_model();
    active.real_name = Set(validate::optional(
        "real_name",
        input.real_name.as_deref(),
        validate::REGISTRY_FIELD_MAX,
    )?);
    active.school = Set(validate::optional(
        "school",
        input.school.as_deref(),
        validate::REGISTRY_FIELD_MAX,
    )?);
    active.membership_number = Set(validate::optional(
        "membership_number",
        input.membership_number.as_deref(),
        validate::MEMBERSHIP_NUMBER_MAX,
    )?);
    active.updated_at = Set(chrono::Utc::now());
    Ok(queries::accounts::update(&state.db, active).await?)
}

pub async fn set_locale(state: &AppState, member: &Member, locale: &str) -> AppResult<()> {
    let locale = crate::i18n::Locale::parse(locale)
        .ok_or_else(|| AppError::Unprocessable(msg!("error-locale-unknown", locale = locale)))?;
    let mut active = member.account.clone().into_active_model();
    active.locale = Set(Some(locale.code().into()));
    active.updated_at = Set(chrono::Utc::now());
    queries::accounts::update(&state.db, active).await?;
    Ok(())
}
