//! OAuth 2 for Mastodon clients: registering apps, authorisation codes (with
//! PKCE), tokens for members and for apps, refresh and revocation, and the
//! list of apps a member has authorised.

use crate::{
    app::AppState,
    db::{
        entities::{access_tokens, oauth_apps, oauth_codes},
        ids, queries,
    },
    domain::{accounts::Member, auth, sessions, validate},
    error::{AppError, AppResult},
    msg,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::ActiveValue::Set;
use sha2::{Digest, Sha256};

pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Every scope Mastodon defines (clients ask for any of them).
pub const SCOPES: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read",
    "admin:write",
    "admin:read:accounts",
    "admin:write:accounts",
    "admin:read:reports",
    "admin:write:reports",
    "admin:read:domain_blocks",
    "admin:write:domain_blocks",
];

/// Split and check a scope string ("read write", "read+write"); empty means `read`.
pub fn parse_scopes(raw: Option<&str>) -> AppResult<Vec<String>> {
    let raw = raw.unwrap_or("").replace('+', " ");
    let mut out: Vec<String> = Vec::new();
    for s in raw.split_whitespace() {
        if !SCOPES.contains(&s) {
            return Err(AppError::BadRequest(msg!("error-scope-unknown", scope = s)));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        out.push("read".into());
    }
    Ok(out)
}

/// Are all of `asked` covered by `granted` (a parent covers its children)?
pub fn covers(granted: &[String], asked: &[String]) -> bool {
    asked.iter().all(|a| {
        granted
            .iter()
            .any(|g| g == a || a.rsplit_once(':').is_some_and(|(parent, _)| g == parent))
    })
}

fn valid_redirect(uri: &str) -> bool {
    if uri == OOB {
        return true;
    }
    match url::Url::parse(uri) {
        Ok(u) => {
            !matches!(u.scheme(), "javascript" | "data" | "vbscript") && u.fragment().is_none()
        }
        Err(_) => false,
    }
}

pub struct NewApp {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Option<String>,
    pub website: Option<String>,
}

pub async fn register_app(state: &AppState, input: NewApp) -> AppResult<oauth_apps::Model> {
    let name = validate::optional("client_name", Some(&input.name), 200)?.ok_or_else(|| {
        AppError::Unprocessable(msg!("error-field-required", field = "client_name"))
    })?;
    let uris: Vec<String> = input
        .redirect_uris
        .iter()
        .flat_map(|u| u.split('\n'))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    if uris.is_empty() {
        return Err(AppError::Unprocessable(msg!(
            "error-field-required",
            field = "redirect_uris"
        )));
    }
    if let Some(bad) = uris.iter().find(|u| !valid_redirect(u)) {
        return Err(AppError::Unprocessable(msg!(
            "error-redirect-uri",
            uri = bad
        )));
    }
    let scopes = parse_scopes(input.scopes.as_deref())
        .map_err(|e| AppError::Unprocessable(e.public_message()))?;
    let website = validate::optional("website", input.website.as_deref(), 500)?;
    Ok(queries::oauth::insert_app(
        &state.db,
        oauth_apps::ActiveModel {
            id: Set(ids::next_id()),
            client_id: Set(auth::random_token()),
            client_secret: Set(auth::random_token()),
            name: Set(name),
            website: Set(website),
            redirect_uris: Set(uris.join("\n")),
            scopes: Set(scopes.join(" ")),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?)
}

pub fn app_redirect_uris(app: &oauth_apps::Model) -> Vec<String> {
    app.redirect_uris.lines().map(str::to_string).collect()
}

/// What an authorisation request asks for, checked against the app.
pub struct AuthRequest {
    pub app: oauth_apps::Model,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

pub async fn check_request(
    state: &AppState,
    client_id: &str,
    redirect_uri: &str,
    scope: Option<&str>,
    response_type: Option<&str>,
    code_challenge: Option<&str>,
    code_challenge_method: Option<&str>,
) -> AppResult<AuthRequest> {
    let app = queries::oauth::app_by_client_id(&state.db, client_id)
        .await?
        .ok_or_else(|| AppError::BadRequest(msg!("error-oauth-client")))?;
    if response_type.is_some_and(|r| r != "code") {
        return Err(AppError::BadRequest(msg!("error-oauth-response-type")));
    }
    if !app_redirect_uris(&app).iter().any(|u| u == redirect_uri) {
        return Err(AppError::BadRequest(msg!(
            "error-redirect-uri",
            uri = redirect_uri
        )));
    }
    let scopes = parse_scopes(scope)?;
    let app_scopes: Vec<String> = app.scopes.split_whitespace().map(str::to_string).collect();
    if !covers(&app_scopes, &scopes) {
        return Err(AppError::BadRequest(msg!(
            "error-scope-unknown",
            scope = scopes.join(" ")
        )));
    }
    let method = code_challenge.map(|_| code_challenge_method.unwrap_or("plain").to_string());
    if method
        .as_deref()
        .is_some_and(|m| m != "S256" && m != "plain")
    {
        return Err(AppError::BadRequest(msg!("error-oauth-pkce")));
    }
    Ok(AuthRequest {
        app,
        redirect_uri: redirect_uri.to_string(),
        scopes,
        code_challenge: code_challenge.map(str::to_string),
        code_challenge_method: method,
    })
}

/// The member said yes: a code valid for 10 minutes.
pub async fn grant_code(state: &AppState, member: &Member, req: &AuthRequest) -> AppResult<String> {
    let code = auth::random_token();
    let now = chrono::Utc::now();
    queries::oauth::insert_code(
        &state.db,
        oauth_codes::ActiveModel {
            id: Set(ids::next_id()),
            code_hash: Set(auth::sha256_hex(&code)),
            app_id: Set(req.app.id),
            account_id: Set(member.account.id),
            redirect_uri: Set(req.redirect_uri.clone()),
            scopes: Set(req.scopes.join(" ")),
            code_challenge: Set(req.code_challenge.clone()),
            code_challenge_method: Set(req.code_challenge_method.clone()),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::minutes(10)),
            used_at: Set(None),
        },
    )
    .await?;
    Ok(code)
}

/// An OAuth error in RFC 6749's form.
#[derive(Debug)]
pub struct OauthError {
    pub error: &'static str,
    pub description: String,
    pub status: u16,
}

impl OauthError {
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new("invalid_client", description)
    }

    fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" { 401 } else { 400 };
        Self {
            error,
            description: description.into(),
            status,
        }
    }
}

impl From<AppError> for OauthError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Internal(_) | AppError::Unavailable(_) => Self {
                error: "server_error",
                description: e.public_message().to_string(),
                status: 503,
            },
            other => Self::new("invalid_request", other.public_message().to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for OauthError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::from(e).into()
    }
}

pub struct TokenRequest {
    pub grant_type: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

pub struct Token {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scopes: String,
    pub created_at: i64,
}

async fn client(state: &AppState, req: &TokenRequest) -> Result<oauth_apps::Model, OauthError> {
    let id = req
        .client_id
        .as_deref()
        .ok_or_else(|| OauthError::new("invalid_client", "client_id is missing"))?;
    let app = queries::oauth::app_by_client_id(&state.db, id)
        .await?
        .ok_or_else(|| OauthError::new("invalid_client", "unknown client"))?;
    Ok(app)
}

fn check_secret(app: &oauth_apps::Model, secret: Option<&str>) -> Result<(), OauthError> {
    match secret {
        Some(s) if auth::constant_time_eq(s, &app.client_secret) => Ok(()),
        _ => Err(OauthError::new(
            "invalid_client",
            "client authentication failed",
        )),
    }
}

fn pkce_ok(code: &oauth_codes::Model, verifier: Option<&str>) -> bool {
    match (&code.code_challenge, verifier) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(challenge), Some(v)) => match code.code_challenge_method.as_deref() {
            Some("S256") => auth::constant_time_eq(
                &URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())),
                challenge,
            ),
            _ => auth::constant_time_eq(v, challenge),
        },
    }
}

pub async fn token(state: &AppState, req: TokenRequest) -> Result<Token, OauthError> {
    let app = client(state, &req).await?;
    let now = chrono::Utc::now();
    match req.grant_type.as_str() {
        "authorization_code" => {
            let code = req
                .code
                .as_deref()
                .ok_or_else(|| OauthError::new("invalid_request", "code is missing"))?;
            let row = queries::oauth::code_by_hash(&state.db, &auth::sha256_hex(code))
                .await?
                .filter(|c| c.app_id == app.id && c.used_at.is_none() && c.expires_at > now)
                .ok_or_else(|| {
                    OauthError::new("invalid_grant", "the code is invalid, expired or used")
                })?;
            // A PKCE verifier stands in for the secret (public clients).
            let public = row.code_challenge.is_some() && req.client_secret.is_none();
            if !public {
                check_secret(&app, req.client_secret.as_deref())?;
            }
            if !pkce_ok(&row, req.code_verifier.as_deref()) {
                return Err(OauthError::new(
                    "invalid_grant",
                    "code_verifier does not match",
                ));
            }
            if req
                .redirect_uri
                .as_deref()
                .is_some_and(|r| r != row.redirect_uri)
            {
                return Err(OauthError::new(
                    "invalid_grant",
                    "redirect_uri does not match",
                ));
            }
            if !queries::oauth::use_code(&state.db, row.id, now).await? {
                return Err(OauthError::new(
                    "invalid_grant",
                    "the code was used already",
                ));
            }
            let member = crate::domain::accounts::member_by_account_id(state, row.account_id)
                .await?
                .filter(Member::is_active)
                .ok_or_else(|| OauthError::new("invalid_grant", "the account is not active"))?;
            let (token, refresh, t) = sessions::issue_token(
                state,
                Some(member.account.id),
                Some(app.id),
                &row.scopes,
                // Refreshing needs the secret, which a public client does
                // not hold; its token does not expire, so it needs none.
                !public,
            )
            .await?;
            Ok(Token {
                access_token: token,
                refresh_token: refresh,
                scopes: t.scopes,
                created_at: t.created_at.timestamp(),
            })
        }
        "client_credentials" => {
            check_secret(&app, req.client_secret.as_deref())?;
            let asked = parse_scopes(req.scope.as_deref())
                .map_err(|e| OauthError::new("invalid_scope", e.public_message().to_string()))?;
            let app_scopes: Vec<String> =
                app.scopes.split_whitespace().map(str::to_string).collect();
            if !covers(&app_scopes, &asked) {
                return Err(OauthError::new(
                    "invalid_scope",
                    "the app may not ask for these scopes",
                ));
            }
            let (token, _, t) =
                sessions::issue_token(state, None, Some(app.id), &asked.join(" "), false).await?;
            Ok(Token {
                access_token: token,
                refresh_token: None,
                scopes: t.scopes,
                created_at: t.created_at.timestamp(),
            })
        }
        "refresh_token" => {
            check_secret(&app, req.client_secret.as_deref())?;
            let refresh = req
                .refresh_token
                .as_deref()
                .ok_or_else(|| OauthError::new("invalid_request", "refresh_token is missing"))?;
            let old = queries::tokens::by_refresh_hash(&state.db, &auth::sha256_hex(refresh))
                .await?
                .filter(|t| t.app_id == Some(app.id) && t.revoked_at.is_none())
                .ok_or_else(|| OauthError::new("invalid_grant", "the refresh token is invalid"))?;
            queries::tokens::revoke(&state.db, old.id, now).await?;
            let (token, refresh, t) =
                sessions::issue_token(state, old.account_id, Some(app.id), &old.scopes, true)
                    .await?;
            Ok(Token {
                access_token: token,
                refresh_token: refresh,
                scopes: t.scopes,
                created_at: t.created_at.timestamp(),
            })
        }
        "password" => Err(OauthError::new(
            "unsupported_grant_type",
            "the password grant is not supported; use the authorization code flow",
        )),
        other => Err(OauthError::new(
            "unsupported_grant_type",
            format!("unknown grant_type {other}"),
        )),
    }
}

/// Revoke a token of this app (RFC 7009: unknown tokens are not an error).
pub async fn revoke(
    state: &AppState,
    client_id: &str,
    client_secret: &str,
    token: &str,
) -> Result<(), OauthError> {
    let app = queries::oauth::app_by_client_id(&state.db, client_id)
        .await?
        .ok_or_else(|| OauthError::new("invalid_client", "unknown client"))?;
    check_secret(&app, Some(client_secret))?;
    let hash = auth::sha256_hex(token);
    let row = match queries::tokens::by_hash(&state.db, &hash).await? {
        Some(t) => Some(t),
        None => queries::tokens::by_refresh_hash(&state.db, &hash).await?,
    };
    if let Some(t) = row.filter(|t| t.app_id == Some(app.id)) {
        queries::tokens::revoke(&state.db, t.id, chrono::Utc::now()).await?;
    }
    Ok(())
}

/// Apps a member has authorised, with when and with which scopes.
pub struct AuthorisedApp {
    pub app: oauth_apps::Model,
    pub scopes: String,
    pub since: chrono::DateTime<chrono::Utc>,
    pub last_used: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn authorised_apps(state: &AppState, member: &Member) -> AppResult<Vec<AuthorisedApp>> {
    let tokens: Vec<access_tokens::Model> =
        queries::oauth::member_app_tokens(&state.db, member.account.id).await?;
    let mut out: Vec<AuthorisedApp> = Vec::new();
    for t in tokens {
        let Some(app_id) = t.app_id else { continue };
        if let Some(existing) = out.iter_mut().find(|a| a.app.id == app_id) {
            existing.since = existing.since.min(t.created_at);
            existing.last_used = existing.last_used.max(t.last_used_at);
            continue;
        }
        if let Some(app) = queries::oauth::app(&state.db, app_id).await? {
            out.push(AuthorisedApp {
                app,
                scopes: t.scopes.clone(),
                since: t.created_at,
                last_used: t.last_used_at,
            });
        }
    }
    Ok(out)
}

pub async fn revoke_app(state: &AppState, member: &Member, app_id: i64) -> AppResult<()> {
    if queries::oauth::revoke_app_for_member(
        &state.db,
        member.account.id,
        app_id,
        chrono::Utc::now(),
    )
    .await?
        == 0
    {
        return Err(AppError::not_found());
    }
    Ok(())
}
