//! The member registry: signing up under each registration mode, approval,
//! suspension, roles, passwords, deletion and the personal data export.
//!
//! A member is two rows: the private `accounts` record (email, real name,
//! school, role, status...) and the public `actors` profile. Only the second
//! is ever shown to anyone but the member and the instance's staff.

use crate::{
    app::AppState,
    config::RegistrationMode,
    db::{
        entities::{accounts, actors},
        ids,
        queries::{self, Page},
    },
    domain::{auth, instance, validate},
    error::{AppError, AppResult},
    federation::keys,
    msg,
};
use sea_orm::{ActiveValue::Set, DbErr, IntoActiveModel, SqlErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Moderator => "moderator",
            Self::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "admin" => Some(Self::Admin),
            "moderator" => Some(Self::Moderator),
            "member" => Some(Self::Member),
            _ => None,
        }
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Self::Admin | Self::Moderator)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Active,
    Suspended,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// A signed-in person: the private record and the public profile together.
#[derive(Debug, Clone)]
pub struct Member {
    pub account: accounts::Model,
    pub actor: actors::Model,
}

impl Member {
    pub fn role(&self) -> Role {
        Role::parse(&self.account.role).unwrap_or(Role::Member)
    }

    pub fn status(&self) -> Status {
        Status::parse(&self.account.status).unwrap_or(Status::Pending)
    }

    pub fn is_active(&self) -> bool {
        self.status() == Status::Active
    }

    pub fn is_staff(&self) -> bool {
        self.is_active() && self.role().is_staff()
    }

    pub fn is_admin(&self) -> bool {
        self.is_active() && self.role() == Role::Admin
    }
}

/// What someone fills in to join.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SignUp {
    pub username: String,
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
    pub real_name: Option<String>,
    pub school: Option<String>,
    pub membership_number: Option<String>,
    pub reason: Option<String>,
    pub invite_code: Option<String>,
    pub locale: Option<String>,
}

/// Sign up under the instance's registration mode. Returns the new account,
/// active or pending.
pub async fn sign_up(state: &AppState, input: SignUp) -> AppResult<Member> {
    let settings = instance::load(state).await?;
    let invite = match input
        .invite_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(code) => Some(
            queries::invites::by_code(&state.db, code)
                .await?
                .ok_or_else(|| AppError::Unprocessable(msg!("error-invite-invalid")))?,
        ),
        None => None,
    };
    let status = match (settings.registration_mode, &invite) {
        (RegistrationMode::Closed, _) => {
            return Err(AppError::Forbidden(msg!("error-registrations-closed")));
        }
        (RegistrationMode::Invite, None) => {
            return Err(AppError::Forbidden(msg!("error-invite-required")));
        }
        // An invitation vouches for the person, as on Mastodon: no approval wait.
        (_, Some(_)) | (RegistrationMode::Open, None) => Status::Active,
        (RegistrationMode::Approval, None) => Status::Pending,
    };
    if status == Status::Pending
        && input
            .reason
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .is_empty()
    {
        return Err(AppError::Unprocessable(msg!("error-reason-required")));
    }
    create(
        state,
        input,
        Role::Member,
        status,
        invite.map(|i| i.id),
        None,
        false,
    )
    .await
}

/// Create an account directly (CLI, admins): active at once, whatever the mode.
pub async fn create_active(
    state: &AppState,
    input: SignUp,
    role: Role,
    created_by: Option<i64>,
) -> AppResult<Member> {
    create(state, input, role, Status::Active, None, created_by, true).await
}

async fn create(
    state: &AppState,
    input: SignUp,
    role: Role,
    status: Status,
    invite_id: Option<i64>,
    approved_by: Option<i64>,
    by_operator: bool,
) -> AppResult<Member> {
    let username = validate::username(&input.username, by_operator)?;
    let email = validate::email(&input.email)?;
    validate::password(
        &input.password,
        state.config.registration.min_password_length,
    )?;
    let display_name = validate::optional(
        "display_name",
        input.display_name.as_deref(),
        validate::DISPLAY_NAME_MAX,
    )?;
    let real_name = validate::optional(
        "real_name",
        input.real_name.as_deref(),
        validate::REGISTRY_FIELD_MAX,
    )?;
    let school = validate::optional(
        "school",
        input.school.as_deref(),
        validate::REGISTRY_FIELD_MAX,
    )?;
    let membership_number = validate::optional(
        "membership_number",
        input.membership_number.as_deref(),
        validate::MEMBERSHIP_NUMBER_MAX,
    )?;
    let reason = validate::optional("reason", input.reason.as_deref(), validate::REASON_MAX)?;
    let locale = input
        .locale
        .as_deref()
        .and_then(crate::i18n::Locale::parse)
        .map(|l| l.code().to_string());

    // Early, friendly answers; the unique indexes remain the real guard.
    if queries::actors::local_by_username(&state.db, &username)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(msg!(
            "error-username-taken",
            username = username
        )));
    }
    if queries::accounts::by_email(&state.db, &email)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(msg!("error-email-taken")));
    }

    let password_hash = auth::hash_password(&input.password).await?;
    let keys = keys::generate().await?;
    let now = chrono::Utc::now();
    let actor_id = ids::next_id();
    let account_id = ids::next_id();
    let ap_id = state.urls.person(&username);

    let txn = crate::db::begin(&state.db).await?;
    if let Some(invite_id) = invite_id
        && !queries::invites::consume(&txn, invite_id, now).await?
    {
        return Err(AppError::Unprocessable(msg!("error-invite-invalid")));
    }
    let actor = queries::actors::insert(
        &txn,
        actors::ActiveModel {
            id: Set(actor_id),
            ap_id: Set(ap_id.clone()),
            kind: Set("Person".into()),
            username: Set(username.clone()),
            domain: Set(state.urls.domain().to_string()),
            local: Set(true),
            display_name: Set(display_name.unwrap_or_default()),
            summary: Set(String::new()),
            summary_source: Set(Some(String::new())),
            url: Set(Some(state.urls.profile_page(&username))),
            inbox_url: Set(state.urls.inbox(&ap_id)),
            shared_inbox_url: Set(Some(state.urls.shared_inbox())),
            outbox_url: Set(Some(state.urls.outbox(&ap_id))),
            followers_url: Set(Some(state.urls.followers(&ap_id))),
            following_url: Set(Some(state.urls.following(&ap_id))),
            featured_url: Set(Some(state.urls.featured(&ap_id))),
            avatar_url: Set(None),
            header_url: Set(None),
            avatar_media_id: Set(None),
            header_media_id: Set(None),
            public_key_pem: Set(keys.public_pem),
            private_key_pem: Set(Some(keys.private_pem)),
            manually_approves_followers: Set(false),
            discoverable: Set(true),
            indexable: Set(true),
            bot: Set(false),
            fields: Set(serde_json::json!([])),
            subjects: Set(serde_json::json!([])),
            languages: Set(serde_json::json!([])),
            account_id: Set(Some(account_id)),
            created_at: Set(now),
            updated_at: Set(now),
            last_refreshed_at: Set(Some(now)),
            deleted_at: Set(None),
        },
    )
    .await
    .map_err(|e| unique_to_conflict(e, &username))?;
    let account = queries::accounts::insert(
        &txn,
        accounts::ActiveModel {
            id: Set(account_id),
            actor_id: Set(actor_id),
            username: Set(username.clone()),
            email: Set(email),
            password_hash: Set(password_hash),
            real_name: Set(real_name),
            school: Set(school),
            membership_number: Set(membership_number),
            role: Set(role.as_str().into()),
            status: Set(status.as_str().into()),
            locale: Set(locale),
            signup_reason: Set(reason),
            invite_id: Set(invite_id),
            approved_by: Set(approved_by.filter(|_| status == Status::Active)),
            approved_at: Set((status == Status::Active).then_some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            last_seen_at: Set(None),
        },
    )
    .await
    .map_err(|e| unique_to_conflict(e, &username))?;
    txn.commit().await?;
    tracing::info!(username = %account.username, status = status.as_str(), "account created");
    Ok(Member { account, actor })
}

fn unique_to_conflict(e: DbErr, username: &str) -> AppError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(detail)) => {
            if detail.contains("email") {
                AppError::Conflict(msg!("error-email-taken"))
            } else {
                AppError::Conflict(msg!("error-username-taken", username = username))
            }
        }
        _ => e.into(),
    }
}

pub async fn member_by_account_id(state: &AppState, account_id: i64) -> AppResult<Option<Member>> {
    let Some(account) = queries::accounts::by_id(&state.db, account_id).await? else {
        return Ok(None);
    };
    let actor = queries::actors::by_id(&state.db, account.actor_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("account {account_id} has no actor")))?;
    Ok(Some(Member { account, actor }))
}

pub async fn member_by_username(state: &AppState, username: &str) -> AppResult<Option<Member>> {
    match queries::accounts::by_username(&state.db, username).await? {
        Some(a) => member_by_account_id(state, a.id).await,
        None => Ok(None),
    }
}

/// Check a login. Pending, rejected and suspended members may log in (to see
/// their state); the caller decides what they may do.
pub async fn authenticate(state: &AppState, login: &str, password: &str) -> AppResult<Member> {
    let login = login.trim().to_lowercase();
    let account = if login.contains('@') {
        queries::accounts::by_email(&state.db, &login).await?
    } else {
        queries::accounts::by_username(&state.db, &login).await?
    };
    let Some(account) = account else {
        auth::dummy_verify(password).await;
        return Err(AppError::Unauthorized(msg!("error-login-failed")));
    };
    if !auth::verify_password(password, &account.password_hash).await {
        return Err(AppError::Unauthorized(msg!("error-login-failed")));
    }
    member_by_account_id(state, account.id)
        .await?
        .ok_or_else(|| AppError::Unauthorized(msg!("error-login-failed")))
}

/// Staff decisions on an application or a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Suspend,
    Unsuspend,
}

pub async fn decide(
    state: &AppState,
    staff: &Member,
    account_id: i64,
    decision: Decision,
) -> AppResult<accounts::Model> {
    if !staff.is_staff() {
        return Err(AppError::forbidden());
    }
    let account = queries::accounts::by_id(&state.db, account_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let current = Status::parse(&account.status).unwrap_or(Status::Pending);
    let target_role = Role::parse(&account.role).unwrap_or(Role::Member);
    // Moderators handle members; only admins act on staff.
    if target_role.is_staff() && !staff.is_admin() {
        return Err(AppError::forbidden());
    }
    if account.id == staff.account.id && matches!(decision, Decision::Suspend | Decision::Reject) {
        return Err(AppError::Conflict(msg!("error-cannot-act-on-self")));
    }
    let next = match (decision, current) {
        (Decision::Approve, Status::Pending | Status::Rejected) => Status::Active,
        (Decision::Reject, Status::Pending) => Status::Rejected,
        (Decision::Suspend, Status::Active) => Status::Suspended,
        (Decision::Unsuspend, Status::Suspended) => Status::Active,
        _ => {
            return Err(AppError::Conflict(msg!(
                "error-status-transition",
                status = current.as_str()
            )));
        }
    };
    let now = chrono::Utc::now();
    let txn = crate::db::begin(&state.db).await?;
    let mut active = account.into_active_model();
    active.status = Set(next.as_str().into());
    active.updated_at = Set(now);
    if decision == Decision::Approve {
        active.approved_by = Set(Some(staff.account.id));
        active.approved_at = Set(Some(now));
    }
    let updated = queries::accounts::update(&txn, active).await?;
    if next == Status::Suspended {
        // A suspended member is signed out everywhere at once.
        queries::sessions::delete_for_account(&txn, updated.id).await?;
        queries::tokens::revoke_for_account(&txn, updated.id, now).await?;
    }
    txn.commit().await?;
    tracing::info!(
        account = updated.id,
        by = staff.account.id,
        status = next.as_str(),
        "registry decision"
    );
    Ok(updated)
}

pub async fn set_role(
    state: &AppState,
    admin: &Member,
    account_id: i64,
    role: Role,
) -> AppResult<accounts::Model> {
    if !admin.is_admin() {
        return Err(AppError::forbidden());
    }
    let account = queries::accounts::by_id(&state.db, account_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if account.role == "admin"
        && role != Role::Admin
        && queries::accounts::count_admins(&state.db).await? <= 1
    {
        return Err(AppError::Conflict(msg!("error-last-admin")));
    }
    let mut active = account.into_active_model();
    active.role = Set(role.as_str().into());
    active.updated_at = Set(chrono::Utc::now());
    Ok(queries::accounts::update(&state.db, active).await?)
}

pub async fn list(state: &AppState, status: Option<Status>, page: Page) -> AppResult<Vec<Member>> {
    let accounts = queries::accounts::list(&state.db, status.map(Status::as_str), page).await?;
    let mut out = Vec::with_capacity(accounts.len());
    for account in accounts {
        if let Some(actor) = queries::actors::by_id(&state.db, account.actor_id).await? {
            out.push(Member { account, actor });
        }
    }
    Ok(out)
}

mod passwords;
mod personal;

pub use passwords::*;
pub use personal::*;
