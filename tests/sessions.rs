//! Sessions and forms against the real HTTP server: logging out ends the
//! session on the server (a copied cookie stops working), CSRF tokens and the
//! Origin check refuse forged forms, expired invites are refused, an admin
//! changes a member's role in the web UI, and /readyz reports a lost database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, PASSWORD, TestApp};
use reqwest::{StatusCode, header};
use staffroom::domain::accounts::Role;

fn cookie_header(app: &TestApp, jar: &reqwest::cookie::Jar) -> String {
    use reqwest::cookie::CookieStore;
    let url: reqwest::Url = app.url("/").parse().unwrap();
    jar.cookies(&url)
        .expect("cookies set")
        .to_str()
        .unwrap()
        .to_string()
}

async fn logout_ends_the_session_on_the_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("sam", Role::Member).await;
    let (b, jar) = app.browser_with_jar();
    let r = b.login("sam", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let copied = cookie_header(&app, &jar);
    assert!(copied.contains("staffroom_session="), "{copied}");

    // The copied cookie works from another client while the session lives.
    let other = app.api();
    let settings = |cookies: String| {
        let other = other.clone();
        let url = app.url("/settings/profile");
        async move {
            other
                .get(url)
                .header(header::COOKIE, cookies)
                .header(header::ACCEPT, "text/html")
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(settings(copied.clone()).await.status(), StatusCode::OK);

    let r = b.submit("/settings/profile", "/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The browser forgot its cookie, and the server forgot the session: the
    // copy now lands on the login page.
    let after = b.get("/settings/profile").await;
    assert!(after.location.unwrap().starts_with("/login"));
    let replay = settings(copied).await;
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert!(
        replay.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    app.stop().await;
}
db_test!(logout_ends_the_session_on_the_server);

async fn forged_forms_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("sam", Role::Member).await;
    let (b, jar) = app.browser_with_jar();
    b.login("sam", PASSWORD).await;
    let token = b.csrf("/compose").await;
    let cookies = cookie_header(&app, &jar);
    let client = app.api();
    let post = |token: String, origin: Option<&'static str>| {
        let mut req = client
            .post(app.url("/statuses"))
            .header(header::COOKIE, cookies.clone())
            .header(header::ACCEPT, "text/html")
            .form(&[
                ("csrf_token", token.as_str()),
                ("status", "Forged post"),
                ("visibility", "public"),
            ]);
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        req.send()
    };

    // A token that is not the cookie's.
    let wrong = "x".repeat(token.len());
    let r = post(wrong, None).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("The form expired"));
    // The right token, sent from another site.
    let r = post(token.clone(), Some("https://evil.example"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nothing was posted.
    let count = |app: &TestApp| {
        let db = app.state().db.clone();
        async move {
            staffroom::db::queries::statuses::count_local(&db, false)
                .await
                .unwrap()
        }
    };
    assert_eq!(count(&app).await, 0);
    // The same form from the instance's own origin goes through.
    let own: &'static str = Box::leak(app.base_url().to_string().into_boxed_str());
    let r = post(token, Some(own)).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(count(&app).await, 1);
    app.stop().await;
}
db_test!(forged_forms_are_refused);

async fn invites_expire(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.registration.mode = staffroom::config::RegistrationMode::Invite
    })
    .await;
    let admin = app.member("root_admin", Role::Admin).await;
    let invite = staffroom::domain::invites::create(
        app.state(),
        &admin,
        staffroom::domain::invites::NewInvite {
            max_uses: None,
            expires_in_hours: Some(1),
            comment: None,
        },
    )
    .await
    .unwrap();
    // Two hours later the code is spent.
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        use staffroom::db::entities::invites;
        invites::Entity::update_many()
            .col_expr(
                invites::Column::ExpiresAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
            )
            .filter(invites::Column::Id.eq(invite.id))
            .exec(&app.state().db)
            .await
            .unwrap();
    }
    let fields = [
        ("username", "latecomer"),
        ("email", "late@example.org"),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
        ("reason", ""),
        ("agreement", "1"),
        ("invite_code", invite.code.as_str()),
    ];
    let r = app.browser().submit("/signup", "/signup", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    r.assert_contains("invite code is not valid");
    // The admin list shows it as expired.
    let b = app.browser();
    b.login("root_admin", PASSWORD).await;
    b.get("/admin/invites")
        .await
        .assert_contains("Used up or expired");
    app.stop().await;
}
db_test!(invites_expire);

async fn admin_changes_a_role_in_the_web_ui(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("root_admin", Role::Admin).await;
    let jo = app.member("jo", Role::Member).await;
    let jo_b = app.browser();
    jo_b.login("jo", PASSWORD).await;
    assert_eq!(
        jo_b.get("/admin/accounts").await.status,
        StatusCode::FORBIDDEN
    );

    let admin_b = app.browser();
    admin_b.login("root_admin", PASSWORD).await;
    let detail = format!("/admin/accounts/{}", jo.account.id);
    let r = admin_b
        .submit(&detail, &format!("{detail}/role"), &[("role", "moderator")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(detail.as_str()));
    let page = admin_b.get(&detail).await;
    page.assert_contains("The role was changed.");
    // Jo is now staff, in the same session.
    assert_eq!(jo_b.get("/admin/accounts").await.status, StatusCode::OK);
    // A made-up role is refused with a message.
    let r = admin_b
        .submit(&detail, &format!("{detail}/role"), &[("role", "emperor")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("emperor");
    app.stop().await;
}
db_test!(admin_changes_a_role_in_the_web_ui);

async fn readyz_reports_a_lost_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.api();
    let r = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.state().db.close_by_ref().await.unwrap();
    let r = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = r.text().await.unwrap();
    assert!(body.contains("database unreachable"), "{body}");
    // The process is still up.
    let r = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}
db_test!(readyz_reports_a_lost_database);
