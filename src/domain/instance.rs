//! Instance-wide settings an admin edits in the web UI. The configuration file
//! gives the starting values; once an admin saves a setting, the database value
//! wins (so operators are not surprised by a restart undoing their edit).

use crate::{
    app::AppState,
    config::RegistrationMode,
    db::queries::settings,
    domain::validate,
    error::{AppError, AppResult},
    msg,
};
use serde::Serialize;

const NAME: &str = "instance.name";
const DESCRIPTION: &str = "instance.description";
const CONTACT: &str = "instance.contact_email";
const RULES: &str = "instance.rules";
const REGISTRATION_MODE: &str = "registration.mode";
const GROUP_CREATION: &str = "groups.creation";

/// Who may create groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum GroupCreation {
    /// Every active member.
    #[default]
    Members,
    /// Moderators and admins only.
    Staff,
    /// Admins only.
    Admins,
}

impl GroupCreation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Members => "members",
            Self::Staff => "staff",
            Self::Admins => "admins",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "members" => Some(Self::Members),
            "staff" => Some(Self::Staff),
            "admins" => Some(Self::Admins),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub name: String,
    pub description: String,
    pub contact_email: String,
    /// One rule per line.
    pub rules: String,
    pub registration_mode: RegistrationMode,
    pub group_creation: GroupCreation,
}

impl Settings {
    pub fn rules_list(&self) -> Vec<String> {
        self.rules
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

pub async fn load(state: &AppState) -> AppResult<Settings> {
    let mut s = Settings {
        name: state.config.instance.name.clone(),
        description: state.config.instance.description.clone(),
        contact_email: state.config.instance.contact_email.clone(),
        rules: String::new(),
        registration_mode: state.config.registration.mode,
        group_creation: GroupCreation::default(),
    };
    for (key, value) in settings::all(&state.db).await? {
        match key.as_str() {
            NAME => s.name = value,
            DESCRIPTION => s.description = value,
            CONTACT => s.contact_email = value,
            RULES => s.rules = value,
            REGISTRATION_MODE => {
                if let Some(m) = RegistrationMode::parse(&value) {
                    s.registration_mode = m;
                }
            }
            GROUP_CREATION => {
                if let Some(g) = GroupCreation::parse(&value) {
                    s.group_creation = g;
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

pub struct SettingsUpdate {
    pub name: String,
    pub description: String,
    pub contact_email: String,
    pub rules: String,
    pub registration_mode: String,
    /// Unchanged when absent.
    pub group_creation: Option<String>,
}

pub async fn update(state: &AppState, input: SettingsUpdate) -> AppResult<Settings> {
    let name = validate::optional("name", Some(&input.name), 100)?
        .ok_or_else(|| AppError::Unprocessable(msg!("error-field-required", field = "name")))?;
    let description =
        validate::optional("description", Some(&input.description), 2000)?.unwrap_or_default();
    let contact = match validate::optional("contact_email", Some(&input.contact_email), 254)? {
        Some(e) => validate::email(&e)?,
        None => String::new(),
    };
    let rules = validate::optional("rules", Some(&input.rules), 5000)?.unwrap_or_default();
    let mode = RegistrationMode::parse(input.registration_mode.trim()).ok_or_else(|| {
        AppError::Unprocessable(msg!(
            "error-registration-mode",
            mode = input.registration_mode.clone()
        ))
    })?;
    let group_creation = match input.group_creation.as_deref() {
        Some(g) => Some(GroupCreation::parse(g).ok_or_else(|| {
            AppError::Unprocessable(msg!("error-group-creation-setting", value = g))
        })?),
        None => None,
    };
    let txn = crate::db::TransactionTrait::begin(&state.db).await?;
    if let Some(g) = group_creation {
        settings::set(&txn, GROUP_CREATION, g.as_str()).await?;
    }
    settings::set(&txn, NAME, &name).await?;
    settings::set(&txn, DESCRIPTION, &description).await?;
    settings::set(&txn, CONTACT, &contact).await?;
    settings::set(&txn, RULES, &rules).await?;
    settings::set(&txn, REGISTRATION_MODE, mode.as_str()).await?;
    txn.commit().await?;
    load(state).await
}
