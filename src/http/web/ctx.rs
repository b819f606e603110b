//! What every page handler is given: the request's locale, signed-in member,
//! CSRF token and flash message (`Ctx`), and the extractors that require a
//! member (`MemberCtx`) or a moderator or admin (`StaffCtx`), answering with a
//! login redirect or a 403 page instead of reaching the handler.

use super::*;

/// Everything a page needs to know about the request.
pub struct Ctx {
    pub locale: Locale,
    pub auth: Auth,
    pub csrf: String,
    new_csrf: bool,
    flash: Option<String>,
    pub path: String,
    /// Path and query, to come back to after a form on this page.
    pub here: String,
    pub instance_name: String,
    /// Unread notifications of an active member (shown in the navigation).
    pub unread: u64,
}

impl Ctx {
    pub fn member(&self) -> Option<&Member> {
        match &self.auth {
            Auth::Session { member, .. } => Some(member),
            _ => None,
        }
    }

    pub fn session_cookie(&self) -> Option<&str> {
        match &self.auth {
            Auth::Session { cookie, .. } => Some(cookie),
            _ => None,
        }
    }

    pub fn t(&self, key: &str) -> String {
        i18n::t(self.locale, key, &[])
    }

    /// The signed-in member, when their account is active (only they may act).
    pub fn active_member(&self) -> Option<&Member> {
        self.member().filter(|m| m.is_active())
    }

    /// The public actor of the active member reading the page, if any.
    pub fn viewer_actor(&self) -> Option<&crate::db::entities::actors::Model> {
        self.active_member().map(|m| &m.actor)
    }

    fn common(&self) -> Value {
        let viewer = self.member().map(|m| {
            context! {
                username => m.account.username.clone(),
                display_name => if m.actor.display_name.is_empty() { m.account.username.clone() } else { m.actor.display_name.clone() },
                is_staff => m.is_staff(),
                is_admin => m.is_admin(),
                is_active => m.is_active(),
                status => m.account.status.clone(),
            }
        });
        let flash = self
            .flash
            .as_deref()
            .filter(|k| k.starts_with("flash-") && i18n::has_key(Locale::En, k))
            .map(|k| i18n::t(self.locale, k, &[]));
        context! {
            locale => self.locale.code(),
            locales => locales(),
            viewer => viewer,
            csrf => self.csrf.clone(),
            flash => flash,
            path => self.path.clone(),
            here => self.here.clone(),
            instance_name => self.instance_name.clone(),
            unread => self.unread,
        }
    }

    /// Render `template` with the page's own values merged over the common ones.
    pub fn render(
        &self,
        state: &AppState,
        status: StatusCode,
        template: &str,
        page: Value,
    ) -> Response {
        let ctx = context! { ..page, ..self.common() };
        match state.web.render(template, ctx) {
            Ok(html) => {
                let mut res = (
                    status,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    html,
                )
                    .into_response();
                self.attach_cookies(state, &mut res);
                res
            }
            Err(e) => e.into_response(),
        }
    }

    /// A page showing one message (and an optional link).
    pub fn message(
        &self,
        state: &AppState,
        status: StatusCode,
        title: &str,
        text: &str,
    ) -> Response {
        self.render(
            state,
            status,
            "message.html",
            context! { title => title, text => text },
        )
    }

    fn attach_cookies(&self, state: &AppState, res: &mut Response) {
        if self.new_csrf {
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(state, CSRF_COOKIE, self.csrf.clone(), None),
            );
        }
        if self.flash.is_some() {
            res.headers_mut()
                .append(header::SET_COOKIE, clear_cookie(state, FLASH_COOKIE));
        }
    }

    /// Redirect after a successful form, with a notice shown on the next page.
    pub fn redirect_with(&self, state: &AppState, to: &str, flash_key: &'static str) -> Response {
        let mut res = Redirect::to(to).into_response();
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(state, FLASH_COOKIE, flash_key.to_string(), None),
        );
        res
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        let member_locale = match &auth {
            Auth::Session { member, .. } => member.account.locale.clone(),
            _ => None,
        };
        let cookie_locale = cookie(parts, LOCALE_COOKIE);
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let locale = i18n::negotiate(
            member_locale.as_deref().or(cookie_locale.as_deref()),
            accept,
            &state.config.instance.default_locale,
        );
        let (csrf, new_csrf) = match cookie(parts, CSRF_COOKIE).filter(|c| c.len() >= 32) {
            Some(c) => (c, false),
            None => (random_token(), true),
        };
        let settings = crate::domain::instance::load(state).await?;
        let unread = match &auth {
            Auth::Session { member, .. } if member.is_active() => {
                crate::domain::notifications::unread(state, &member.actor).await?
            }
            _ => 0,
        };
        Ok(Ctx {
            locale,
            auth,
            csrf,
            new_csrf,
            flash: cookie(parts, FLASH_COOKIE),
            path: parts.uri.path().to_string(),
            // A form shown again after a POST has no address of its own to
            // come back to; handlers set a better one when they know it.
            here: if parts.method == Method::GET || parts.method == Method::HEAD {
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into())
            } else {
                "/home".into()
            },
            instance_name: settings.name,
            unread,
        })
    }
}

/// A page for active members only: others are sent to log in (or to the page
/// explaining their account's state).
pub struct MemberCtx(pub Ctx, pub Member);

impl FromRequestParts<AppState> for MemberCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ctx = Ctx::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match ctx.member().cloned() {
            Some(m) if m.is_active() => Ok(MemberCtx(ctx, m)),
            Some(_) => Err(Redirect::to("/account/status").into_response()),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                let to = format!(
                    "/login?next={}",
                    percent_encoding::utf8_percent_encode(
                        &next,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                );
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

/// A page for admins and moderators.
pub struct StaffCtx(pub Ctx, pub Member);

impl FromRequestParts<AppState> for StaffCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let MemberCtx(ctx, member) = MemberCtx::from_request_parts(parts, state).await?;
        if member.is_staff() {
            Ok(StaffCtx(ctx, member))
        } else {
            Err(AppError::forbidden().into_response())
        }
    }
}
