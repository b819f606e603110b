//! The public profile a member edits: display name, bio, subjects taught,
//! languages, profile fields, avatar and header, and whether follows need
//! approval. Everything here may be shown to anyone and federated.

use crate::domain::{events::Event, outbox::Outbox};
use crate::{
    app::AppState,
    db::{entities::actors, queries},
    domain::{accounts::Member, media, text, validate},
    error::{AppError, AppResult},
    msg,
};
use sea_orm::{ActiveValue::Set, IntoActiveModel};
use serde::{Deserialize, Serialize};

pub const MAX_FIELDS: usize = 4;
pub const FIELD_MAX: usize = 255;
pub const MAX_SUBJECTS: usize = 20;
pub const SUBJECT_MAX: usize = 60;
pub const MAX_LANGUAGES: usize = 10;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    /// Comma- or newline-separated when it comes from a form.
    pub subjects: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub fields: Option<Vec<Field>>,
    pub locked: Option<bool>,
    pub discoverable: Option<bool>,
    pub avatar: Option<bytes::Bytes>,
    pub header: Option<bytes::Bytes>,
}

/// Split "maths, physics\nchemistry" into clean items.
pub fn split_list(raw: &str) -> Vec<String> {
    raw.split([',', '\n', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn update(
    state: &AppState,
    member: &Member,
    input: ProfileUpdate,
) -> AppResult<(actors::Model, Outbox)> {
    let mut actor = member.actor.clone().into_active_model();
    if let Some(name) = input.display_name {
        actor.display_name =
            Set(
                validate::optional("display_name", Some(&name), validate::DISPLAY_NAME_MAX)?
                    .unwrap_or_default(),
            );
    }
    if let Some(bio) = input.bio {
        let bio = validate::optional("bio", Some(&bio), validate::BIO_MAX)?.unwrap_or_default();
        actor.summary = Set(text::markdown_to_html(&bio));
        actor.summary_source = Set(Some(bio));
    }
    if let Some(subjects) = input.subjects {
        actor.subjects = Set(serde_json::json!(clean_subjects(subjects)?));
    }
    if let Some(languages) = input.languages {
        actor.languages = Set(serde_json::json!(clean_languages(languages)?));
    }
    if let Some(fields) = input.fields {
        let mut clean = Vec::new();
        for f in fields {
            let name = validate::optional("fields", Some(&f.name), FIELD_MAX)?;
            let value = validate::optional("fields", Some(&f.value), FIELD_MAX)?;
            match (name, value) {
                (None, None) => {}
                (Some(name), value) => clean.push(Field {
                    name,
                    value: value.unwrap_or_default(),
                }),
                (None, Some(_)) => {
                    return Err(AppError::Unprocessable(msg!("error-field-name-missing")));
                }
            }
        }
        if clean.len() > MAX_FIELDS {
            return Err(AppError::Unprocessable(msg!(
                "error-too-many",
                field = "fields",
                max = MAX_FIELDS
            )));
        }
        actor.fields = Set(serde_json::to_value(clean).map_err(AppError::internal)?);
    }
    if let Some(locked) = input.locked {
        actor.manually_approves_followers = Set(locked);
    }
    if let Some(d) = input.discoverable {
        actor.discoverable = Set(d);
        actor.indexable = Set(d);
    }
    let mut replaced = Vec::new();
    if let Some(bytes) = input.avatar {
        let (url, id) = store_image(state, member.account.id, bytes).await?;
        actor.avatar_url = Set(Some(url));
        actor.avatar_media_id = Set(Some(id));
        replaced.extend(member.actor.avatar_media_id);
    }
    if let Some(bytes) = input.header {
        let (url, id) = store_image(state, member.account.id, bytes).await?;
        actor.header_url = Set(Some(url));
        actor.header_media_id = Set(Some(id));
        replaced.extend(member.actor.header_media_id);
    }
    actor.updated_at = Set(chrono::Utc::now());
    let txn = crate::db::begin(&state.db).await?;
    let updated = queries::actors::update(&txn, actor).await?;
    let outbox = Outbox::commit(txn, vec![Event::ProfileUpdated(updated.id)]).await?;
    discard_media(state, replaced).await?;
    Ok((updated, outbox))
}

/// Subjects as entered: trimmed, without duplicates (ignoring case), bounded.
pub fn clean_subjects(subjects: Vec<String>) -> AppResult<Vec<String>> {
    let mut clean: Vec<String> = Vec::new();
    for s in subjects {
        if let Some(s) = validate::optional("subjects", Some(&s), SUBJECT_MAX)?
            && !clean.iter().any(|c| c.eq_ignore_ascii_case(&s))
        {
            clean.push(s);
        }
    }
    if clean.len() > MAX_SUBJECTS {
        return Err(AppError::Unprocessable(msg!(
            "error-too-many",
            field = "subjects",
            max = MAX_SUBJECTS
        )));
    }
    Ok(clean)
}

/// ISO 639-1 or 639-3 codes, optionally with a region ("pt-br"), lower case.
pub fn clean_languages(languages: Vec<String>) -> AppResult<Vec<String>> {
    let mut clean: Vec<String> = Vec::new();
    for l in languages {
        let l = l.trim().to_lowercase();
        if l.is_empty() {
            continue;
        }
        let valid = l.split('-').next().is_some_and(|p| {
            (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase())
        }) && l.len() <= 10
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(AppError::Unprocessable(msg!(
                "error-language-code",
                code = l
            )));
        }
        if !clean.contains(&l) {
            clean.push(l);
        }
    }
    if clean.len() > MAX_LANGUAGES {
        return Err(AppError::Unprocessable(msg!(
            "error-too-many",
            field = "languages",
            max = MAX_LANGUAGES
        )));
    }
    Ok(clean)
}

/// Store an avatar or banner uploaded by `account_id`: its URL and media id.
pub async fn store_image(
    state: &AppState,
    account_id: i64,
    bytes: bytes::Bytes,
) -> AppResult<(String, i64)> {
    let m = media::store(
        state,
        Some(account_id),
        bytes,
        media::Purpose::ProfileImage,
        None,
    )
    .await?;
    Ok((media::url(state, &m), m.id))
}

/// Remove images that were replaced; a file that cannot be deleted is logged.
pub async fn discard_media(state: &AppState, ids: Vec<i64>) -> AppResult<()> {
    for id in ids {
        if let Some(old) = queries::media::by_id(&state.db, id).await? {
            queries::media::delete(&state.db, id).await?;
            if let Err(e) = state.media.delete(&old.storage_key).await {
                tracing::warn!(error = %e, key = old.storage_key, "could not delete replaced file");
            }
        }
    }
    Ok(())
}

/// Fields of an actor as a list.
pub fn fields(actor: &actors::Model) -> Vec<Field> {
    serde_json::from_value(actor.fields.clone()).unwrap_or_default()
}

/// A JSON array of strings as a list.
pub fn string_list(v: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}
