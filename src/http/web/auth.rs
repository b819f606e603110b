//! Joining and signing in: sign-up under each registration mode, log in and
//! out, the page where applicants see their state, password reset links, and
//! the language switch.

use super::{Ctx, LOCALE_COOKIE, SESSION_COOKIE_DAYS, clear_cookie, safe_next, set_cookie};
use crate::{
    app::AppState,
    config::RegistrationMode,
    domain::{accounts, instance, sessions},
    error::AppError,
    http::extract::{Form, Path, Query, SESSION_COOKIE, client_ip},
    i18n::Locale,
    msg,
};
use axum::{
    Router,
    extract::{ConnectInfo, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use minijinja::context;
use serde::Deserialize;
use std::net::SocketAddr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_form).post(signup))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/account/status", get(status))
        .route("/reset-password/{token}", get(reset_form).post(reset))
        .route("/locale", post(set_locale))
}

#[derive(Deserialize, Default)]
struct SignupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
    display_name: Option<String>,
    real_name: Option<String>,
    school: Option<String>,
    membership_number: Option<String>,
    reason: Option<String>,
    invite_code: Option<String>,
    agreement: Option<String>,
}

#[derive(Deserialize, Default)]
struct InviteQuery {
    invite: Option<String>,
}

async fn signup_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<InviteQuery>,
) -> Result<Response, AppError> {
    if ctx.member().is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let settings = instance::load(&state).await?;
    let form = SignupForm {
        invite_code: q.invite,
        ..Default::default()
    };
    Ok(render_signup(
        &state,
        &ctx,
        &settings,
        &form,
        StatusCode::OK,
        None,
    ))
}

fn render_signup(
    state: &AppState,
    ctx: &Ctx,
    settings: &instance::Settings,
    form: &SignupForm,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "signup.html",
        context! {
            mode => settings.registration_mode.as_str(),
            rules => settings.rules_list(),
            error => error,
            min_password => state.config.registration.min_password_length,
            form => context! {
                username => form.username.clone(),
                email => form.email.clone(),
                display_name => form.display_name.clone(),
                real_name => form.real_name.clone(),
                school => form.school.clone(),
                membership_number => form.membership_number.clone(),
                reason => form.reason.clone(),
                invite_code => form.invite_code.clone(),
            },
        },
    )
}

async fn signup(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(form): Form<SignupForm>,
) -> Result<Response, AppError> {
    let settings = instance::load(&state).await?;
    if settings.registration_mode == RegistrationMode::Closed {
        return Err(AppError::Forbidden(msg!("error-registrations-closed")));
    }
    let fail = |e: AppError| {
        let text = e.public_message().render(ctx.locale);
        render_signup(&state, &ctx, &settings, &form, e.status(), Some(text))
    };
    if form.password != form.password_confirmation {
        return Ok(fail(AppError::Unprocessable(msg!(
            "error-password-mismatch"
        ))));
    }
    if !settings.rules_list().is_empty() && form.agreement.is_none() {
        return Ok(fail(AppError::Unprocessable(msg!(
            "error-agreement-required"
        ))));
    }
    let input = accounts::SignUp {
        username: form.username.clone(),
        email: form.email.clone(),
        password: form.password.clone(),
        display_name: form.display_name.clone(),
        real_name: form.real_name.clone(),
        school: form.school.clone(),
        membership_number: form.membership_number.clone(),
        reason: form.reason.clone(),
        invite_code: form.invite_code.clone(),
        locale: Some(ctx.locale.code().to_string()),
    };
    let member = match accounts::sign_up(&state, input).await {
        Ok(m) => m,
        Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
        Err(e) => return Ok(fail(e)),
    };
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let token = sessions::start(&state, &member, ua).await?;
    let (to, flash) = if member.is_active() {
        ("/settings/profile", "flash-welcome")
    } else {
        ("/account/status", "flash-application-received")
    };
    let mut res = ctx.redirect_with(&state, to, flash);
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, token, Some(SESSION_COOKIE_DAYS)),
    );
    Ok(res)
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Response {
    if ctx.member().is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    render_login(&state, &ctx, "", q.next.as_deref(), StatusCode::OK, None)
}

fn render_login(
    state: &AppState,
    ctx: &Ctx,
    login: &str,
    next: Option<&str>,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "login.html",
        context! { login => login, next => safe_next(next), error => error },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let ip = client_ip(&headers, addr, state.config.http.trust_proxy);
    if let Err(wait) = state.limits.login_attempt(ip, &form.login) {
        let e = AppError::TooManyRequests(msg!("error-login-rate-limited", seconds = wait), wait);
        let text = e.public_message().render(ctx.locale);
        let mut res = render_login(
            &state,
            &ctx,
            &form.login,
            form.next.as_deref(),
            StatusCode::TOO_MANY_REQUESTS,
            Some(text),
        );
        if let Ok(v) = wait.to_string().parse() {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(res);
    }
    let member = match accounts::authenticate(&state, &form.login, &form.password).await {
        Ok(m) => m,
        Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
        Err(e) => {
            let text = e.public_message().render(ctx.locale);
            return Ok(render_login(
                &state,
                &ctx,
                &form.login,
                form.next.as_deref(),
                e.status(),
                Some(text),
            ));
        }
    };
    if member.status() == accounts::Status::Suspended {
        let text = msg!("error-account-suspended").render(ctx.locale);
        return Ok(render_login(
            &state,
            &ctx,
            &form.login,
            form.next.as_deref(),
            StatusCode::FORBIDDEN,
            Some(text),
        ));
    }
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let token = sessions::start(&state, &member, ua).await?;
    let to = if member.is_active() {
        safe_next(form.next.as_deref())
    } else {
        "/account/status".to_string()
    };
    let mut res = Redirect::to(&to).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, token, Some(SESSION_COOKIE_DAYS)),
    );
    // The member's own language follows them to every device.
    if let Some(l) = member.account.locale.clone() {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, LOCALE_COOKIE, l, Some(365)),
        );
    }
    Ok(res)
}

async fn logout(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if let Some(cookie) = ctx.session_cookie() {
        sessions::end(&state, cookie).await?;
    }
    let mut res = ctx.redirect_with(&state, "/", "flash-logged-out");
    res.headers_mut()
        .append(header::SET_COOKIE, clear_cookie(&state, SESSION_COOKIE));
    Ok(res)
}

async fn status(State(state): State<AppState>, ctx: Ctx) -> Response {
    let Some(member) = ctx.member() else {
        return Redirect::to("/login?next=%2Faccount%2Fstatus").into_response();
    };
    if member.is_active() {
        return Redirect::to("/").into_response();
    }
    let status = member.account.status.clone();
    ctx.render(
        &state,
        StatusCode::OK,
        "account_status.html",
        context! { status => status },
    )
}

async fn reset_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let account = accounts::check_password_reset(&state, &token).await?;
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "reset_password.html",
        context! { username => account.username, token => token, error => None::<String>, min_password => state.config.registration.min_password_length },
    ))
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, AppError> {
    let account = accounts::check_password_reset(&state, &token).await?;
    let result = if form.password != form.password_confirmation {
        Err(AppError::Unprocessable(msg!("error-password-mismatch")))
    } else {
        accounts::redeem_password_reset(&state, &token, &form.password).await
    };
    match result {
        Ok(_) => Ok(ctx.redirect_with(&state, "/login", "flash-password-reset")),
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let text = e.public_message().render(ctx.locale);
            Ok(ctx.render(
                &state,
                e.status(),
                "reset_password.html",
                context! { username => account.username, token => token, error => text, min_password => state.config.registration.min_password_length },
            ))
        }
    }
}

#[derive(Deserialize)]
struct LocaleForm {
    #[serde(default)]
    locale: String,
    next: Option<String>,
}

async fn set_locale(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LocaleForm>,
) -> Result<Response, AppError> {
    let locale = Locale::parse(&form.locale).ok_or_else(|| {
        AppError::Unprocessable(msg!("error-locale-unknown", locale = form.locale.clone()))
    })?;
    if let Some(member) = ctx.member() {
        accounts::set_locale(&state, member, locale.code()).await?;
    }
    let mut res = Redirect::to(&safe_next(form.next.as_deref())).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, LOCALE_COOKIE, locale.code().to_string(), Some(365)),
    );
    Ok(res)
}
