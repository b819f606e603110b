//! A table of malformed requests against the real HTTP server: every one must
//! get a 4xx with a clear message (HTML for browsers, JSON otherwise), never a
//! 500 or a dropped connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, PASSWORD, TestApp};
use reqwest::{Method, StatusCode};
use staffroom::domain::accounts::Role;

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    /// Add the CSRF cookie's token as a form field.
    with_csrf: bool,
    bearer: bool,
    html: bool,
    status: StatusCode,
    message: &'static str,
}

fn case(
    name: &'static str,
    method: Method,
    path: &str,
    status: StatusCode,
    message: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.to_string(),
        content_type: None,
        body: Vec::new(),
        with_csrf: false,
        bearer: false,
        html: false,
        status,
        message,
    }
}

impl Case {
    fn form(mut self, body: &str) -> Self {
        self.content_type = Some("application/x-www-form-urlencoded");
        self.body = body.as_bytes().to_vec();
        self.with_csrf = true;
        self.html = true;
        self
    }
    fn json(mut self, body: &[u8]) -> Self {
        self.content_type = Some("application/json");
        self.body = body.to_vec();
        self
    }
    fn raw(mut self, ct: &'static str, body: Vec<u8>) -> Self {
        self.content_type = Some(ct);
        self.body = body;
        self
    }
    fn html(mut self) -> Self {
        self.html = true;
        self
    }
    fn bearer(mut self) -> Self {
        self.bearer = true;
        self
    }
    fn no_csrf(mut self) -> Self {
        self.with_csrf = false;
        self
    }
}

async fn bad_input_table(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.member("taken", Role::Admin).await;
    let token = app.token(&admin).await;
    let long = "x".repeat(5000);
    let signup = |extra: &str| {
        format!(
            "username=fresh&email=fresh%40example.org&password={PASSWORD}&password_confirmation={PASSWORD}&reason=teach{extra}"
        )
    };
    use StatusCode as S;
    let cases = vec![
        case("duplicate username", Method::POST, "/signup", S::CONFLICT, "is not available")
            .form(&format!("username=taken&email=other%40example.org&password={PASSWORD}&password_confirmation={PASSWORD}&reason=x")),
        case("duplicate email", Method::POST, "/signup", S::CONFLICT, "already exists")
            .form(&format!("username=other&email=taken%40school.example&password={PASSWORD}&password_confirmation={PASSWORD}&reason=x")),
        case("invalid email", Method::POST, "/signup", S::UNPROCESSABLE_ENTITY, "not a valid e-mail")
            .form(&format!("username=fresh&email=not-an-email&password={PASSWORD}&password_confirmation={PASSWORD}&reason=x")),
        case("username too long", Method::POST, "/signup", S::UNPROCESSABLE_ENTITY, "too long")
            .form(&signup("").replace("username=fresh", &format!("username={}", "a".repeat(31)))),
        case("display name too long", Method::POST, "/signup", S::UNPROCESSABLE_ENTITY, "too long")
            .form(&signup(&format!("&display_name={long}"))),
        case("reason too long", Method::POST, "/signup", S::UNPROCESSABLE_ENTITY, "too long")
            .form(&signup("").replace("reason=teach", &format!("reason={long}"))),
        case("username with spaces", Method::POST, "/signup", S::UNPROCESSABLE_ENTITY, "may only contain")
            .form(&signup("").replace("username=fresh", "username=a+b")),
        case("short password", Method::POST, "/signup", S::UNPROCESSABLE_ENTITY, "at least")
            .form("username=fresh&email=f%40example.org&password=short&password_confirmation=short&reason=x"),
        case("passwords differ", Method::POST, "/signup", S::UNPROCESSABLE_ENTITY, "do not match")
            .form(&format!("username=fresh&email=f%40example.org&password={PASSWORD}&password_confirmation=other&reason=x")),
        case("control characters", Method::POST, "/signup", S::UNPROCESSABLE_ENTITY, "control characters")
            .form(&signup("&real_name=a%07b")),
        case("wrong password", Method::POST, "/login", S::UNAUTHORIZED, "Wrong username")
            .form(&format!("login=taken&password=wrong{PASSWORD}")),
        case("unknown account", Method::POST, "/login", S::UNAUTHORIZED, "Wrong username")
            .form("login=nobody&password=whatever"),
        case("form without csrf token", Method::POST, "/login", S::FORBIDDEN, "form expired")
            .form("login=taken&password=x")
            .no_csrf(),
        case("form with a wrong content type", Method::POST, "/login", S::BAD_REQUEST, "unsupported type")
            .raw("text/plain", b"login=taken".to_vec())
            .html(),
        case("unknown locale", Method::POST, "/locale", S::UNPROCESSABLE_ENTITY, "not an available language")
            .form("locale=tlh"),
        case("unknown page (HTML)", Method::GET, "/no/such/page", S::NOT_FOUND, "does not exist").html(),
        case("unknown profile", Method::GET, "/@nobody", S::NOT_FOUND, "does not exist").html(),
        case("path without @", Method::GET, "/nobody", S::NOT_FOUND, "does not exist").html(),
        case("bad registry filter", Method::GET, "/admin/accounts?status=bogus", S::SEE_OTHER, ""),
        case("unknown reset link", Method::GET, "/reset-password/nonsense", S::GONE, "not valid").html(),
        case("wrong method", Method::DELETE, "/login", S::METHOD_NOT_ALLOWED, "does not accept").html(),
        // JSON API
        case("unknown API endpoint", Method::GET, "/api/v1/nonexistent", S::NOT_FOUND, "does not exist"),
        case("API without token", Method::GET, "/api/v1/accounts/verify_credentials", S::UNAUTHORIZED, "token is invalid"),
        case("API with a bad token", Method::GET, "/api/v1/accounts/verify_credentials", S::UNAUTHORIZED, "token is invalid"),
        case("account id not a number", Method::GET, "/api/v1/accounts/abc", S::NOT_FOUND, "does not exist"),
        case("unknown account id", Method::GET, "/api/v1/accounts/123456789", S::NOT_FOUND, "does not exist"),
        case("lookup without acct", Method::GET, "/api/v1/accounts/lookup", S::BAD_REQUEST, "acct"),
        case("lookup of nobody", Method::GET, "/api/v1/accounts/lookup?acct=nobody", S::NOT_FOUND, "does not exist"),
        case("malformed JSON", Method::POST, "/api/v1/staffroom/invites", S::BAD_REQUEST, "could not be read")
            .json(b"{\"max_uses\": ")
            .bearer(),
        case("JSON of the wrong shape", Method::POST, "/api/v1/staffroom/invites", S::UNPROCESSABLE_ENTITY, "could not be read")
            .json(b"{\"max_uses\": \"many\"}")
            .bearer(),
        case("JSON out of range", Method::POST, "/api/v1/staffroom/invites", S::UNPROCESSABLE_ENTITY, "between 1 and 10000")
            .json(b"{\"max_uses\": 0}")
            .bearer(),
        case("JSON with the wrong content type", Method::POST, "/api/v1/staffroom/invites", S::BAD_REQUEST, "unsupported type")
            .raw("text/plain", b"{}".to_vec())
            .bearer(),
        case("bad settings mode", Method::PUT, "/api/v1/staffroom/settings", S::UNPROCESSABLE_ENTITY, "not a joining mode")
            .json(br#"{"name":"n","description":"","contact_email":"","rules":"","registration_mode":"sometimes"}"#)
            .bearer(),
        case("bad admin filter", Method::GET, "/api/v1/admin/accounts?status=bogus", S::BAD_REQUEST, "invalid parameter").bearer(),
        case("bad admin action", Method::POST, "/api/v1/admin/accounts/1/action", S::NOT_FOUND, "does not exist")
            .json(br#"{"type":"suspend"}"#)
            .bearer(),
        case("bad limit type", Method::GET, "/api/v1/admin/accounts?limit=lots", S::BAD_REQUEST, "invalid parameter").bearer(),
        case("revoke unknown invite", Method::DELETE, "/api/v1/staffroom/invites/42", S::NOT_FOUND, "does not exist").bearer(),
        case("wrong method on API", Method::DELETE, "/api/v1/instance", S::METHOD_NOT_ALLOWED, "does not accept"),
        case("unknown media", Method::GET, "/media/1.png", S::NOT_FOUND, "does not exist"),
        case("traversal in media", Method::GET, "/media/..%2F..%2Fetc%2Fpasswd", S::NOT_FOUND, "does not exist"),
    ];

    let browser = app.browser();
    let csrf = browser.csrf("/signup").await;
    let mut failures = Vec::new();
    for c in cases {
        let mut body = c.body.clone();
        if c.with_csrf {
            let mut b = format!("csrf_token={csrf}&").into_bytes();
            b.extend_from_slice(&body);
            body = b;
        }
        let mut req = browser
            .client
            .request(c.method.clone(), app.url(&c.path))
            .body(body);
        req = req.header(
            "accept",
            if c.html {
                "text/html"
            } else {
                "application/json"
            },
        );
        if let Some(ct) = c.content_type {
            req = req.header("content-type", ct);
        }
        if c.bearer {
            req = req.bearer_auth(&token);
        } else if c.name == "API with a bad token" {
            req = req.bearer_auth("not-a-token");
        }
        let r = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: request failed: {e}", c.name));
                continue;
            }
        };
        let status = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let text = r
            .text()
            .await
            .unwrap_or_default()
            .replace("&#x2f;", "/")
            .replace("&#x27;", "'");
        if status != c.status {
            failures.push(format!(
                "{}: expected {}, got {status}: {}",
                c.name,
                c.status,
                text.chars().take(300).collect::<String>()
            ));
            continue;
        }
        if c.message.is_empty() {
            continue;
        }
        if c.html {
            if !ct.starts_with("text/html") {
                failures.push(format!("{}: expected an HTML page, got {ct}", c.name));
            }
        } else {
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) if v["error"].is_string() => {}
                _ => failures.push(format!(
                    "{}: expected {{\"error\": ...}}, got {ct}: {text}",
                    c.name
                )),
            }
        }
        if !text.contains(c.message) {
            failures.push(format!(
                "{}: message {:?} missing from: {}",
                c.name,
                c.message,
                text.chars().take(400).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Oversized bodies are refused from Content-Length alone: the server answers
    // before the body is sent (a client still writing would see a reset, so
    // this speaks HTTP by hand and never sends the body).
    for (path, ct, accept, expect_html) in [
        (
            "/signup",
            "application/x-www-form-urlencoded",
            "text/html",
            true,
        ),
        (
            "/api/v1/staffroom/invites",
            "application/json",
            "application/json",
            false,
        ),
        (
            "/settings/profile?csrf_token=x",
            "multipart/form-data; boundary=x",
            "text/html",
            true,
        ),
    ] {
        let (status, body) = common::raw_request(
            app.running.addr,
            &format!("POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {ct}\r\nAccept: {accept}\r\nContent-Length: 104857600\r\nConnection: close\r\n\r\n", app.state().urls.domain()),
        )
        .await;
        assert_eq!(status, 413, "{path}: {body}");
        assert!(body.contains("too large"), "{path}: {body}");
        assert_eq!(
            body.contains("<!doctype html>"),
            expect_html,
            "{path}: {body}"
        );
    }

    // Staff pages with malformed paths and forms.
    let staff = app.browser();
    staff.login("taken", PASSWORD).await;
    for (path, status) in [
        ("/admin/accounts/not-a-number", S::NOT_FOUND),
        ("/admin/accounts/999999", S::NOT_FOUND),
        ("/admin/accounts?status=bogus", S::BAD_REQUEST),
        ("/admin/accounts?max_id=abc", S::BAD_REQUEST),
    ] {
        let p = staff.get(path).await;
        assert_eq!(p.status, status, "{path}: {}", p.body);
        assert!(
            p.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
    }
    let p = staff
        .submit("/admin/invites", "/admin/invites", &[("max_uses", "many")])
        .await;
    assert_eq!(p.status, S::UNPROCESSABLE_ENTITY);
    p.assert_contains("must be a whole number");
    let p = staff
        .submit(
            "/admin/invites",
            &format!("/admin/accounts/{}/decide", admin.account.id),
            &[("action", "explode")],
        )
        .await;
    assert_eq!(p.status, S::UNPROCESSABLE_ENTITY);
    let p = staff
        .submit(
            "/admin/invites",
            &format!("/admin/accounts/{}/decide", admin.account.id),
            &[("action", "suspend")],
        )
        .await;
    assert_eq!(p.status, S::CONFLICT, "cannot suspend oneself");
    let p = staff
        .submit(
            "/admin/invites",
            &format!("/admin/accounts/{}/role", admin.account.id),
            &[("role", "member")],
        )
        .await;
    assert_eq!(p.status, S::CONFLICT, "the last admin stays");
    p.assert_contains("at least one administrator");
    // The server is still healthy after all of that.
    assert_eq!(
        app.api()
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}
db_test!(bad_input_table);
