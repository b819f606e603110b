//! A national portal's pages: the national feed, its search and the
//! directory of member instances; a moderator hides an item from the feed,
//! an admin (and only an admin) suspends a member instance.

use crate::common::{Backend, PASSWORD, TestApp};
use crate::harness::*;
use fantoccini::Locator;
use sea_orm::ActiveValue::Set;
use serde_json::json;
use staffroom::{
    config::InstanceRole,
    db::{
        entities::{actors, follows},
        ids, queries,
    },
    domain::accounts::Role,
};

/// A member instance as the portal records it: its instance actor follows
/// the portal actor (accepted), and its NodeInfo was read.
async fn add_member(app: &TestApp, domain: &str) {
    let state = app.state();
    let portal = staffroom::federation::portal::ensure_actor(state)
        .await
        .unwrap()
        .expect("a portal has a portal actor");
    let now = chrono::Utc::now();
    let ap_id = format!("https://{domain}/actor");
    let member = queries::actors::insert(
        &state.db,
        actors::ActiveModel {
            id: Set(ids::next_id()),
            ap_id: Set(ap_id.clone()),
            kind: Set("Application".into()),
            username: Set(domain.into()),
            domain: Set(domain.into()),
            local: Set(false),
            display_name: Set("Maths teachers' association".into()),
            summary: Set(String::new()),
            summary_source: Set(None),
            url: Set(None),
            inbox_url: Set(format!("{ap_id}/inbox")),
            shared_inbox_url: Set(Some(format!("https://{domain}/inbox"))),
            outbox_url: Set(None),
            followers_url: Set(None),
            following_url: Set(None),
            featured_url: Set(None),
            avatar_url: Set(None),
            header_url: Set(None),
            avatar_media_id: Set(None),
            header_media_id: Set(None),
            public_key_pem: Set(String::new()),
            private_key_pem: Set(None),
            manually_approves_followers: Set(true),
            discoverable: Set(false),
            indexable: Set(false),
            bot: Set(true),
            fields: Set(json!([])),
            subjects: Set(json!([])),
            languages: Set(json!([])),
            account_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            last_refreshed_at: Set(Some(now)),
            deleted_at: Set(None),
        },
    )
    .await
    .unwrap();
    queries::follows::insert(
        &state.db,
        follows::ActiveModel {
            id: Set(ids::next_id()),
            follower_id: Set(member.id),
            followee_id: Set(portal.id),
            ap_id: Set(Some(format!("{ap_id}#follows/1"))),
            state: Set("accepted".into()),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await
    .unwrap();
    queries::portal::set_nodeinfo(
        &state.db,
        domain,
        &json!({
            "software": { "name": "staffroom" },
            "usage": { "users": { "total": 42 }, "localPosts": 314 },
            "metadata": {
                "nodeName": "Maths teachers' association",
                "nodeDescription": "Teachers of mathematics in the north.",
                "languages": ["fr", "nl"],
                "maintainer": { "email": "board@maths.example" },
            },
        }),
        now,
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn national_feed_search_and_directory() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.instance.role = InstanceRole::Portal;
    })
    .await;
    let teacher = app.member("teacher", Role::Member).await;
    app.member("moderator", Role::Moderator).await;
    app.member("ada", Role::Admin).await;
    add_member(&app, "maths.example").await;
    let token = app.token(&teacher).await;
    for text in [
        "Fractions with pizzas, a lesson plan",
        "Spam that the moderators will hide",
    ] {
        let r = app
            .api()
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&token)
            .json(&json!({ "status": text, "visibility": "public" }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    let soon = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    for (title, tag, days) in [
        ("Geometry workshop", "maths", 5),
        ("Archive visit", "history", 8),
    ] {
        let r = app
            .api()
            .post(app.url("/api/v1/staffroom/events"))
            .bearer_auth(&token)
            .json(&json!({
                "title": title,
                "start_time": soon(days),
                "timezone": "Europe/Paris",
                "tags": [tag],
                "visibility": "public",
            }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    let base = app.base.clone();
    let mut checks = Checks::new();

    // Anyone reads the national feed, its Atom version and the directory.
    c.goto(&format!("{base}/national")).await.unwrap();
    let t = text(&c).await;
    assert!(t.contains("National feed"), "{t}");
    assert!(t.contains("Fractions with pizzas"), "{t}");
    checks.page(&c, "national feed").await;
    let atom = app
        .api()
        .get(app.url("/national/feed.atom"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(atom.contains("Fractions with pizzas"), "{atom}");

    click(&c, "nav.tabs a[href='/national/search']").await;
    fill(&c, "q", "pizzas").await;
    click(&c, "main form[role=search] button[type=submit]").await;
    let t = text(&c).await;
    assert!(t.contains("Fractions with pizzas"), "{t}");
    assert!(!t.contains("Spam that"), "{t}");
    checks.page(&c, "national search").await;

    // The national calendar, all subjects and one.
    click(&c, "nav.tabs a[href='/national/calendar']").await;
    let t = text(&c).await;
    assert!(
        t.contains("Geometry workshop") && t.contains("Archive visit"),
        "{t}"
    );
    assert!(
        t.find("Geometry workshop") < t.find("Archive visit"),
        "soonest first: {t}"
    );
    fill(&c, "tag", "#maths").await;
    click(
        &c,
        "main form[action='/national/calendar'] button[type=submit]",
    )
    .await;
    let t = text(&c).await;
    assert!(t.contains("Geometry workshop"), "{t}");
    assert!(!t.contains("Archive visit"), "{t}");
    checks.page(&c, "national calendar").await;

    click(&c, "nav.tabs a[href='/national/directory']").await;
    let t = text(&c).await;
    assert!(t.contains("maths.example"), "{t}");
    assert!(t.contains("Maths teachers' association"), "{t}");
    assert!(t.contains("42"), "users from NodeInfo: {t}");
    assert!(
        t.contains("board@maths.example"),
        "contact from NodeInfo: {t}"
    );
    assert!(t.contains("fr, nl"), "languages from NodeInfo: {t}");
    checks.page(&c, "national directory").await;

    // A moderator hides an item: gone from the feed for everyone.
    log_in(&c, &base, "moderator", PASSWORD).await;
    c.goto(&format!("{base}/national")).await.unwrap();
    let hide_buttons = c
        .find_all(Locator::Css("form[action='/national/hide'] button"))
        .await
        .unwrap();
    // One per item in the feed (the two posts and the two events).
    let items = c.find_all(Locator::Css("ol.posts > li")).await.unwrap();
    assert!(items.len() >= 4, "{}", items.len());
    assert_eq!(hide_buttons.len(), items.len());
    checks.page(&c, "national feed (moderator)").await;
    let spam = c
        .find(Locator::XPath(
            "//li[.//*[contains(., 'Spam that')]]//form[@action='/national/hide']//button",
        ))
        .await
        .unwrap();
    click_element(&c, spam, "the hide button of the spam").await;
    let t = text(&c).await;
    assert!(t.contains("The change was saved."), "{t}");
    assert!(!t.contains("Spam that"), "{t}");
    assert!(t.contains("Fractions with pizzas"), "{t}");
    log_out(&c).await;
    c.goto(&format!("{base}/national")).await.unwrap();
    assert!(!text(&c).await.contains("Spam that"));
    // Hidden from every aggregated feed: the Atom feed and the public
    // timeline Mastodon apps read too.
    for path in ["/national/feed.atom", "/api/v1/timelines/public"] {
        let body = app
            .api()
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("Fractions with pizzas"), "{path}: {body}");
        assert!(!body.contains("Spam that"), "{path}: {body}");
    }
    // Nor does a member's search find it.
    for (q, found) in [("pizzas", true), ("spam moderators", false)] {
        let body: serde_json::Value = app
            .api()
            .get(app.url("/api/v2/search"))
            .query(&[("q", q), ("type", "statuses")])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            !body["statuses"].as_array().unwrap().is_empty(),
            found,
            "search {q}: {body}"
        );
    }

    // Who belongs to the network is the admins' call: a moderator gets no
    // membership buttons; an admin suspends the member from the directory.
    log_in(&c, &base, "moderator", PASSWORD).await;
    c.goto(&format!("{base}/national/directory")).await.unwrap();
    assert!(
        c.find_all(Locator::Css("form[action='/national/members']"))
            .await
            .unwrap()
            .is_empty(),
        "a moderator is offered to suspend members"
    );
    log_out(&c).await;
    log_in(&c, &base, "ada", PASSWORD).await;
    c.goto(&format!("{base}/national/directory")).await.unwrap();
    checks.page(&c, "national directory (admin)").await;
    click(&c, "form[action='/national/members'] button[value=suspend]").await;
    let t = text(&c).await;
    assert!(t.contains("The change was saved."), "{t}");
    // Off the member list, onto the admins' list of suspended instances.
    let members = c
        .find(Locator::Css("#members-heading"))
        .await
        .unwrap()
        .find(Locator::XPath(".."))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!members.contains("maths.example"), "suspended: {members}");
    let suspended = c
        .find(Locator::Css("ul.suspended"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(suspended.contains("maths.example"), "{suspended}");
    checks
        .page(&c, "national directory (a suspended instance)")
        .await;
    // Its new application is refused while the suspension holds.
    let state = app.state();
    let instance = queries::actors::by_ap_id(&state.db, "https://maths.example/actor")
        .await
        .unwrap()
        .unwrap();
    let portal = staffroom::federation::portal::ensure_actor(state)
        .await
        .unwrap()
        .unwrap();
    let refused = staffroom::domain::follows::receive_follow(
        state,
        &instance,
        &portal,
        "https://maths.example/actor#follows/2",
    )
    .await
    .unwrap();
    assert!(
        matches!(
            refused.events().collect::<Vec<_>>().as_slice(),
            [staffroom::domain::events::Event::FollowRejected(_)]
        ),
        "{refused:?}"
    );
    staffroom::federation::publish::publish(state, refused).await;
    // Nobody else sees who was suspended.
    log_out(&c).await;
    c.goto(&format!("{base}/national/directory")).await.unwrap();
    assert!(!text(&c).await.contains("maths.example"));
    // The admin lifts the suspension.
    log_in(&c, &base, "ada", PASSWORD).await;
    c.goto(&format!("{base}/national/directory")).await.unwrap();
    click(&c, "ul.suspended button[value=lift]").await;
    assert!(
        c.find_all(Locator::Css("ul.suspended"))
            .await
            .unwrap()
            .is_empty()
    );
    log_out(&c).await;

    assert!(checks.pages >= 4);
    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}
