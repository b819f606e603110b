//! The member registry through the real web surface: sign-up under every
//! registration mode, approval, rejection, suspension, roles, invites,
//! passwords, deletion and the data export.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, PASSWORD, TestApp};
use reqwest::StatusCode;
use staffroom::{config::RegistrationMode, domain::accounts::Role};

fn signup_fields<'a>(
    username: &'a str,
    email: &'a str,
    reason: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("username", username),
        ("email", email),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
        ("display_name", "Ms Pseudonym"),
        ("real_name", "Marie Curie-Registry"),
        ("school", "Lycée Privé-Registry"),
        ("membership_number", "MEM-4242"),
        ("reason", reason),
    ]
}

async fn approval_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.member("headteacher", Role::Admin).await;
    let _ = admin;

    // Apply: the applicant lands on their status page, pending.
    let applicant = app.browser();
    let page = applicant
        .submit(
            "/signup",
            "/signup",
            &signup_fields("newteacher", "new@school.example", "I teach maths in Lyon"),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some("/account/status"));
    let status = applicant.get("/account/status").await;
    status.assert_contains("Waiting for approval");
    // A pending applicant cannot use member pages and has no public profile.
    let settings = applicant.get("/settings/profile").await;
    assert_eq!(settings.location.as_deref(), Some("/account/status"));
    assert_eq!(
        app.browser().get("/@newteacher").await.status,
        StatusCode::NOT_FOUND
    );

    // The admin sees the application with its reason and approves it.
    let staff = app.browser();
    assert_eq!(
        staff.login("headteacher", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let list = staff.get("/admin/accounts?status=pending").await;
    list.assert_contains("newteacher");
    list.assert_contains("I teach maths in Lyon");
    list.assert_contains("Marie Curie-Registry");
    let id = app.state().db.clone();
    let account = staffroom::db::queries::accounts::by_username(&id, "newteacher")
        .await
        .unwrap()
        .unwrap();
    let done = staff
        .submit(
            "/admin/accounts?status=pending",
            &format!("/admin/accounts/{}/decide", account.id),
            &[("action", "approve")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    staff
        .get("/admin/accounts?status=active")
        .await
        .assert_contains("newteacher");

    // The member logs in anew and edits the profile; the public page shows it.
    let member = app.browser();
    let login = member.login("new@school.example", PASSWORD).await;
    assert_eq!(login.location.as_deref(), Some("/"));
    let token = member.csrf("/settings/profile").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token.clone())
        .text("display_name", "Ms Pseudonym")
        .text("bio", "I teach **maths**.")
        .text("subjects", "maths, physics")
        .text("languages", "fr, en")
        .text("field_name_0", "Region")
        .text("field_value_0", "Auvergne-Rhône-Alpes");
    let r = member
        .client
        .post(app.url(&format!("/settings/profile?csrf_token={token}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let profile = app.browser().get("/@newteacher").await;
    assert_eq!(profile.status, StatusCode::OK);
    profile.assert_contains("<strong>maths</strong>");
    profile.assert_contains("physics");
    profile.assert_contains("Auvergne-Rhône-Alpes");
    profile.assert_contains("@newteacher@");
    app.stop().await;
}
db_test!(approval_flow);

async fn rejection_and_suspension(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("boss", Role::Admin).await;
    let moderator = app.member("moddy", Role::Moderator).await;
    let _ = moderator;
    let victim = app.member("troublemaker", Role::Member).await;
    let victim_token = app.token(&victim).await;

    let applicant = app.browser();
    applicant
        .submit(
            "/signup",
            "/signup",
            &signup_fields("spammer", "spam@example.org", "buy stuff"),
        )
        .await;

    // A moderator rejects the application and suspends a member.
    let m = app.browser();
    m.login("moddy", PASSWORD).await;
    let spam = staffroom::db::queries::accounts::by_username(&app.state().db, "spammer")
        .await
        .unwrap()
        .unwrap();
    let r = m
        .submit(
            "/admin/accounts",
            &format!("/admin/accounts/{}/decide", spam.id),
            &[("action", "reject")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    applicant
        .get("/account/status")
        .await
        .assert_contains("Not accepted");

    let member_browser = app.browser();
    member_browser.login("troublemaker", PASSWORD).await;
    let r = m
        .submit(
            "/admin/accounts",
            &format!("/admin/accounts/{}/decide", victim.account.id),
            &[("action", "suspend")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Signed out everywhere: the session is gone and the token no longer works.
    let after = member_browser.get("/settings/profile").await;
    assert!(after.location.unwrap().starts_with("/login"));
    let api = app.api();
    let r = api
        .get(app.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(&victim_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // And cannot log in again.
    let again = app.browser().login("troublemaker", PASSWORD).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    again.assert_contains("suspended");

    // A moderator may not change roles or suspend staff.
    let boss = staffroom::db::queries::accounts::by_username(&app.state().db, "boss")
        .await
        .unwrap()
        .unwrap();
    let r = m
        .submit(
            "/admin/accounts",
            &format!("/admin/accounts/{}/decide", boss.id),
            &[("action", "suspend")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = m
        .submit(
            "/admin/accounts",
            &format!("/admin/accounts/{}/role", victim.account.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Plain members see no admin pages.
    let plain = app.member("plain", Role::Member).await;
    let _ = plain;
    let p = app.browser();
    p.login("plain", PASSWORD).await;
    assert_eq!(p.get("/admin/accounts").await.status, StatusCode::FORBIDDEN);
    app.stop().await;
}
db_test!(rejection_and_suspension);

async fn registration_modes(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.registration.mode = RegistrationMode::Open).await;
    let admin = app.member("root_admin", Role::Admin).await;

    // Open: active at once, lands on profile settings.
    let b = app.browser();
    let r = b
        .submit(
            "/signup",
            "/signup",
            &signup_fields("opensesame", "open@example.org", ""),
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/settings/profile"),
        "{}",
        r.body
    );
    assert_eq!(b.get("/settings/profile").await.status, StatusCode::OK);

    // Approval mode needs a reason.
    let admin_b = app.browser();
    admin_b.login("root_admin", PASSWORD).await;
    let set = |mode: &'static str| {
        let admin_b = admin_b.clone();
        async move {
            let r = admin_b
                .submit(
                    "/admin/settings",
                    "/admin/settings",
                    &[
                        ("name", "Test Teachers"),
                        ("description", "d"),
                        ("contact_email", ""),
                        ("rules", "Be kind\nShare sources"),
                        ("registration_mode", mode),
                    ],
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        }
    };
    set("approval").await;
    let mut fields = signup_fields("noreason", "noreason@example.org", "");
    fields.push(("agreement", "1"));
    let r = app.browser().submit("/signup", "/signup", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("why you want to join");
    // Rules must be accepted once there are rules.
    let r = app
        .browser()
        .submit(
            "/signup",
            "/signup",
            &signup_fields("norules", "norules@example.org", "reason"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("accept the community");

    // Invite mode: no code, no entry; a code with one use works once and skips approval.
    set("invite").await;
    let mut fields = signup_fields("invited1", "invited1@example.org", "");
    fields.push(("agreement", "1"));
    let r = app.browser().submit("/signup", "/signup", &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = admin_b
        .submit(
            "/admin/invites",
            "/admin/invites",
            &[
                ("max_uses", "1"),
                ("expires_in_hours", "24"),
                ("comment", "for Jo"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let invites = staffroom::db::queries::invites::list(&app.state().db)
        .await
        .unwrap();
    let code = invites[0].code.clone();
    let invite_page = app.browser().get(&format!("/signup?invite={code}")).await;
    invite_page.assert_contains(&code);
    let mut fields = signup_fields("invited1", "invited1@example.org", "");
    fields.push(("agreement", "1"));
    fields.push(("invite_code", &code));
    let r = app.browser().submit("/signup", "/signup", &fields).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/settings/profile"),
        "{}",
        r.body
    );
    let mut fields = signup_fields("invited2", "invited2@example.org", "");
    fields.push(("agreement", "1"));
    fields.push(("invite_code", &code));
    let r = app.browser().submit("/signup", "/signup", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("invite code is not valid");
    // Revoked invites stop working.
    let r = admin_b
        .submit(
            "/admin/invites",
            "/admin/invites",
            &[("max_uses", ""), ("expires_in_hours", ""), ("comment", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let invites = staffroom::db::queries::invites::list(&app.state().db)
        .await
        .unwrap();
    let open_invite = invites
        .iter()
        .find(|i| i.max_uses.is_none())
        .unwrap()
        .clone();
    admin_b
        .submit(
            "/admin/invites",
            &format!("/admin/invites/{}/revoke", open_invite.id),
            &[],
        )
        .await;
    let mut fields = signup_fields("invited3", "invited3@example.org", "");
    fields.push(("agreement", "1"));
    fields.push(("invite_code", &open_invite.code));
    assert_eq!(
        app.browser()
            .submit("/signup", "/signup", &fields)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Closed: nobody joins.
    set("closed").await;
    let r = app
        .browser()
        .submit(
            "/signup",
            "/signup",
            &signup_fields("late", "late@example.org", "please"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    r.assert_contains("not accepting new members");
    let _ = admin;
    app.stop().await;
}
db_test!(registration_modes);

async fn passwords_deletion_export(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.member("chief", Role::Admin).await;
    let _ = admin;
    let alice = app.member("alice", Role::Member).await;

    // Change password: wrong current password refused; right one works and other sessions end.
    let phone = app.browser();
    phone.login("alice", PASSWORD).await;
    let laptop = app.browser();
    laptop.login("alice", PASSWORD).await;
    let r = laptop
        .submit(
            "/settings/account",
            "/settings/password",
            &[
                ("current_password", "nope"),
                ("password", "a brand new secret"),
                ("password_confirmation", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("current password is not correct");
    let r = laptop
        .submit(
            "/settings/account",
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("password", "a brand new secret"),
                ("password_confirmation", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(laptop.get("/settings/account").await.status, StatusCode::OK);
    assert!(
        phone
            .get("/settings/account")
            .await
            .location
            .unwrap()
            .starts_with("/login")
    );
    assert_eq!(
        app.browser().login("alice", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Admin-initiated reset: a one-time link.
    let boss = app.browser();
    boss.login("chief", PASSWORD).await;
    let r = boss
        .submit(
            &format!("/admin/accounts/{}", alice.account.id),
            &format!("/admin/accounts/{}/reset-password", alice.account.id),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // minijinja escapes "/" in HTML.
    let body = r.body.replace("&#x2f;", "/");
    let start = body.find("/reset-password/").expect("reset link shown");
    let link: String = body[start..]
        .chars()
        .take_while(|c| *c != '<' && *c != '"')
        .collect();
    let form = app.browser();
    let p = form.get(&link).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let r = form
        .submit(
            &link,
            &link,
            &[
                ("password", "reset via link ok"),
                ("password_confirmation", "reset via link ok"),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/login"), "{}", r.body);
    assert_eq!(app.browser().get(&link).await.status, StatusCode::GONE);
    assert_eq!(
        app.browser()
            .login("alice", "reset via link ok")
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // Export: everything about me, as JSON.
    let me = app.browser();
    me.login("alice", "reset via link ok").await;
    let r = me
        .client
        .get(app.url("/settings/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let data: serde_json::Value = r.json().await.unwrap();
    assert_eq!(data["registry"]["email"], "alice@school.example");
    assert_eq!(data["profile"]["display_name"], "alice display");

    // Deletion: needs the username typed and the password; leaves a tombstone.
    let r = me
        .submit(
            "/settings/account",
            "/settings/delete",
            &[("confirm_username", "alice"), ("password", "wrong")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = me
        .submit(
            "/settings/account",
            "/settings/delete",
            &[
                ("confirm_username", "alice"),
                ("password", "reset via link ok"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        staffroom::db::queries::accounts::by_username(&app.state().db, "alice")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(app.browser().get("/@alice").await.status, StatusCode::GONE);
    // The handle is never handed out again.
    let r = app
        .browser()
        .submit(
            "/signup",
            "/signup",
            &signup_fields("alice", "alice2@example.org", "again"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The last admin cannot delete themselves.
    let r = boss
        .submit(
            "/settings/account",
            "/settings/delete",
            &[("confirm_username", "chief"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    app.stop().await;
}
db_test!(passwords_deletion_export);

async fn login_rate_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("target", Role::Member).await;
    let b = app.browser();
    let mut limited = None;
    for i in 0..15 {
        let r = b.login("target", "guess").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((i, r));
            break;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let (i, r) = limited.expect("login attempts are limited");
    assert!(i >= 5, "limited too early, after {i}");
    r.assert_contains("Too many login attempts");
    assert!(r.headers.contains_key("retry-after"));
    app.stop().await;
}
db_test!(login_rate_limit);

async fn translated_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = reqwest::Client::new();
    for (lang, expected) in [
        ("fr", "Créer votre compte"),
        ("de", "Konto anlegen"),
        ("en", "Create your account"),
        ("es,de;q=0.8", "Konto anlegen"),
    ] {
        let body = client
            .get(app.url("/signup"))
            .header("accept-language", lang)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains(expected), "{lang}: {body}");
        assert!(
            body.contains(&format!("lang=\"{}\"", &expected_lang(lang))),
            "{lang}"
        );
    }
    // The language switch sticks in a cookie; a member's choice follows them.
    let b = app.browser();
    let r = b
        .submit("/", "/locale", &[("locale", "de"), ("next", "/about")])
        .await;
    assert_eq!(r.location.as_deref(), Some("/about"));
    b.get("/about")
        .await
        .assert_contains("Über diese Gemeinschaft");
    // Domain errors are translated too.
    let r = b
        .submit("/signup", "/signup", &signup_fields("x y", "bad", "reason"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("Benutzernamen dürfen nur");
    app.stop().await;
}
db_test!(translated_pages);

fn expected_lang(header: &str) -> &'static str {
    if header.starts_with("fr") {
        "fr"
    } else if header.contains("de") {
        "de"
    } else {
        "en"
    }
}
