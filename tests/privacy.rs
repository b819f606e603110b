//! The private member registry never leaks: a seeded member with distinctive
//! registry values is looked for in every public and federated endpoint, as an
//! anonymous visitor, as another member and as another member's API token:
//! pages, the client API, discovery (WebFinger, NodeInfo), the ActivityPub
//! documents, timelines and searches. Registry values are not searchable.
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
    let (_, outbox) = profiles::update(
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
    staffroom::federation::publish::publish(app.state(), outbox).await;
    let other = app.member("other", Role::Member).await;
    let other_token = app.token(&other).await;
    let id = seeded.actor.id;
    // The password hash is registry data too.
    let mut secrets: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    secrets.push(seeded.account.password_hash.clone());
    // The pseudonym posts, so that the endpoints serving posts have some.
    let seeded_token = app.token(&seeded).await;
    let post: serde_json::Value = app
        .api()
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&seeded_token)
        .json(&serde_json::json!({ "status": "A public post #fractions", "visibility": "public" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let post_id = post["id"].as_str().unwrap().to_string();
    let domain = app.state().urls.domain().to_string();

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
        // Discovery and the federated documents.
        format!("/.well-known/webfinger?resource=acct:pseudonymous@{domain}"),
        "/.well-known/host-meta".into(),
        "/.well-known/nodeinfo".into(),
        "/nodeinfo/2.1".into(),
        "/nodeinfo/2.0".into(),
        "/users/pseudonymous".into(),
        "/users/pseudonymous/outbox".into(),
        "/users/pseudonymous/outbox?page=true".into(),
        "/users/pseudonymous/followers".into(),
        "/users/pseudonymous/following".into(),
        "/users/pseudonymous/collections/featured".into(),
        format!("/users/pseudonymous/statuses/{post_id}"),
        "/actor".into(),
        // Posts, timelines, tags and searches.
        format!("/api/v1/statuses/{post_id}"),
        format!("/api/v1/accounts/{id}/statuses"),
        format!("/api/v1/accounts/{id}/followers"),
        "/api/v1/timelines/public".into(),
        "/api/v1/timelines/tag/fractions".into(),
        "/tags/fractions".into(),
        "/api/v1/accounts/search?q=pseudonymous".into(),
        "/api/v2/search?q=pseudonymous".into(),
        "/search?q=pseudonymous".into(),
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
                for secret in &secrets {
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
    // Registry values are not searchable either: a search for the real name
    // or the school finds nobody (the query itself is echoed, so it is not
    // in the walk above).
    let found: serde_json::Value = anonymous
        .get(app.url("/api/v2/search"))
        .query(&[("q", "pseudonymous"), ("type", "accounts")])
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["accounts"][0]["username"], "pseudonymous", "{found}");
    for q in [
        "Registrywoman",
        "Genevieve",
        "Ecole Secrete",
        "registry.example",
    ] {
        let found: serde_json::Value = anonymous
            .get(app.url("/api/v2/search"))
            .query(&[("q", q), ("type", "accounts")])
            .bearer_auth(&other_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found["accounts"], serde_json::json!([]), "{q}: {found}");
        let found: serde_json::Value = anonymous
            .get(app.url("/api/v1/accounts/search"))
            .query(&[("q", q)])
            .bearer_auth(&other_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found, serde_json::json!([]), "{q}");
    }
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
