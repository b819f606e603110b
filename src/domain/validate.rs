//! Field checks shared by every way in (forms, JSON, CLI), each failing with a
//! message that names the field and the rule.

use crate::{error::AppError, msg};

pub const USERNAME_MAX: usize = 30;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MAX: usize = 256;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const BIO_MAX: usize = 2000;
pub const REGISTRY_FIELD_MAX: usize = 200;
pub const MEMBERSHIP_NUMBER_MAX: usize = 64;
pub const REASON_MAX: usize = 2000;

/// Handles that would be confusing or that the instance needs for itself.
const RESERVED: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "staffroom",
    "instance",
    "portal",
    "relay",
    "system",
    "support",
    "help",
    "moderator",
    "mod",
    "postmaster",
    "webmaster",
    "abuse",
    "security",
    "api",
    "inbox",
    "outbox",
    "users",
    "groups",
    "settings",
    "about",
    "login",
    "logout",
    "signup",
    "static",
    "media",
    "well-known",
    "actor",
    "nodeinfo",
];

/// A handle for a new account. `allow_reserved` is for accounts made by the
/// operator (CLI, admins): only self sign-up is kept away from names like
/// "admin" that would let someone pose as the instance's staff.
pub fn username(raw: &str, allow_reserved: bool) -> Result<String, AppError> {
    let name = raw.trim().to_lowercase();
    if name.is_empty() {
        return Err(AppError::Unprocessable(msg!(
            "error-field-required",
            field = "username"
        )));
    }
    if name.chars().count() > USERNAME_MAX {
        return Err(too_long("username", USERNAME_MAX));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(AppError::Unprocessable(msg!("error-username-chars")));
    }
    if !allow_reserved && RESERVED.contains(&name.as_str()) {
        return Err(AppError::Conflict(msg!(
            "error-username-taken",
            username = name
        )));
    }
    Ok(name)
}

pub fn email(raw: &str) -> Result<String, AppError> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(AppError::Unprocessable(msg!(
            "error-field-required",
            field = "email"
        )));
    }
    if email.len() > EMAIL_MAX {
        return Err(too_long("email", EMAIL_MAX));
    }
    // The crate accepts quoted local parts and IP-literal domains; members type
    // ordinary addresses, so also insist on a dot in the domain.
    let valid = email_address::EmailAddress::parse_with_options(
        &email,
        email_address::Options::default().without_display_text(),
    )
    .is_ok_and(|e| e.domain().contains('.') && !e.domain().starts_with('['));
    if !valid {
        return Err(AppError::Unprocessable(msg!(
            "error-email-invalid",
            email = email
        )));
    }
    Ok(email)
}

pub fn password(raw: &str, min_len: usize) -> Result<(), AppError> {
    let len = raw.chars().count();
    if len < min_len {
        return Err(AppError::Unprocessable(msg!(
            "error-password-short",
            min = min_len
        )));
    }
    if len > PASSWORD_MAX {
        return Err(too_long("password", PASSWORD_MAX));
    }
    Ok(())
}

/// An optional free-text field: trimmed, empty becomes None, length-checked.
pub fn optional(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, AppError> {
    let Some(v) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(too_long(field, max));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(AppError::Unprocessable(msg!(
            "error-field-control-chars",
            field = field
        )));
    }
    Ok(Some(v.to_string()))
}

pub fn too_long(field: &'static str, max: usize) -> AppError {
    AppError::Unprocessable(msg!("error-field-too-long", field = field, max = max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username(" Alice_1 ", false).unwrap(), "alice_1");
        assert!(username("", false).is_err());
        assert!(username("a-b", false).is_err());
        assert!(username("admin", false).is_err());
        assert_eq!(username("admin", true).unwrap(), "admin");
        assert!(username(&"x".repeat(31), true).is_err());
        assert!(username("élodie", true).is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(email("A@Example.ORG").unwrap(), "a@example.org");
        for bad in [
            "",
            "nope",
            "a@b",
            "a@[127.0.0.1]",
            "two@@x.org",
            "Name <a@b.org>",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }
}
