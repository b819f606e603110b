//! The private member registry never leaks: a seeded member with distinctive
//! registry values is looked for in every public and federated endpoint, as an
//! anonymous visitor, as another member and as another member's API token.
//! Every endpoint that serves public data must be listed here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, PASSWORD, TestApp};
use staffroom::domain::{
    accounts::{self, Role, SignUp},
    profiles,
};

const SECRETS: &[&str] = &[
    "secret-mail@registry.example",
    "Genevieve Registrywoman",
    "Ecole Secrete du Registre",
    "MEMBERSHIP-777-SECRET",
    "my very private application reason",
];

async fn registry_never_leaks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.member("admin", Role::Admin).await;
    let _ = admin;
    let seeded = accounts::create_active(
        app.state(),
        SignUp {
            username: "pseudonymous".into(),
            email: SECRETS[0].into(),
            password: PASSWORD.into(),
            display_name: Some("Ms Pseudonym".into()),
            real_name: Some(SECRETS[1].into()),
            school: Some(SECRETS[2].into()),
            membership_number: Some(SECRETS[3].into()),
            reason: Some(SECRETS[4].into()),
            ..Default::default()
        },
        Role::Member,
        None,
    )
    .await
    .unwrap();
    profiles::update(
        app.state(),
        &seeded,
        profiles::ProfileUpdate {
            bio: Some("Public bio".into()),
            subjects: Some(vec!["maths".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let other = app.member("other", Role::Member).await;
    let other_token = app.token(&other).await;
    let id = seeded.actor.id;

    let paths = [
        "/".to_string(),
        "/about".into(),
        "/@pseudonymous".into(),
        format!("/@pseudonymous@{}", app.state().urls.domain()),
        "/signup".into(),
        "/login".into(),
        "/api/v1/instance".into(),
        "/api/v2/instance".into(),
        "/api/v1/instance/rules".into(),
        "/api/v1/instance/peers".into(),
        format!("/api/v1/accounts/{id}"),
        "/api/v1/accounts/lookup?acct=pseudonymous".into(),
        format!(
            "/api/v1/accounts/lookup?acct=pseudonymous@{}",
            app.state().urls.domain()
        ),
        "/api/openapi.json".into(),
        "/metrics".into(),
        "/healthz".into(),
    ];
    let anonymous = app.api();
    let member_browser = app.browser();
    member_browser.login("other", PASSWORD).await;
    let accepts = [
        "text/html",
        "application/json",
        "application/activity+json",
        r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#,
    ];
    let mut checked = 0;
    for path in &paths {
        for accept in accepts {
            let responses = [
                anonymous
                    .get(app.url(path))
                    .header("accept", accept)
                    .send()
                    .await
                    .unwrap(),
                anonymous
                    .get(app.url(path))
                    .header("accept", accept)
                    .bearer_auth(&other_token)
                    .send()
                    .await
                    .unwrap(),
                member_browser
                    .client
                    .get(app.url(path))
                    .header("accept", accept)
                    .send()
                    .await
                    .unwrap(),
            ];
            for r in responses {
                let status = r.status();
                assert!(!status.is_server_error(), "{path} ({accept}): {status}");
                let body = r.text().await.unwrap();
                for secret in SECRETS {
                    assert!(
                        !body.contains(secret),
                        "{path} ({accept}) leaks {secret:?}:\n{body}"
                    );
                }
                checked += 1;
            }
        }
    }
    // The public profile itself is there, so the walk saw real content.
    let page = anonymous
        .get(app.url("/@pseudonymous"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Ms Pseudonym") && page.contains("Public bio"));
    let json: serde_json::Value = anonymous
        .get(app.url(&format!("/api/v1/accounts/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["display_name"], "Ms Pseudonym");
    assert_eq!(json["subjects"][0], "maths");
    assert!(checked >= paths.len() * accepts.len() * 3);

    // Staff see the registry; the member sees their own; others are refused.
    let admin_token = app
        .token(
            &staffroom::domain::accounts::member_by_username(app.state(), "admin")
                .await
                .unwrap()
                .unwrap(),
        )
        .await;
    let r: serde_json::Value = anonymous
        .get(app.url(&format!("/api/v1/admin/accounts/{id}")))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["email"], SECRETS[0]);
    assert_eq!(r["real_name"], SECRETS[1]);
    let r = anonymous
        .get(app.url(&format!("/api/v1/admin/accounts/{id}")))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let seeded_token = app.token(&seeded).await;
    let r: serde_json::Value = anonymous
        .get(app.url("/api/v1/staffroom/export"))
        .bearer_auth(&seeded_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["registry"]["school"], SECRETS[2]);
    app.stop().await;
}
db_test!(registry_never_leaks);
