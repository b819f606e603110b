//! Federation through the web pages, between two instances in this process
//! (on loopback, which the test configuration allows): a member of A finds
//! `@bob@B` and one of his posts with the search box, follows him with the
//! button, sees what he posts next on her home timeline, replies from the
//! thread page, and bob sees the reply among his notifications on B.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, Browser, PASSWORD, Page, TestApp, extract_csrf};
use reqwest::StatusCode;
use staffroom::domain::accounts::Role;
use std::time::{Duration, Instant};

fn readable(mut p: Page) -> Page {
    // minijinja writes `/` in values as `&#x2f;`.
    p.body = p.body.replace("&#x2f;", "/");
    p
}

async fn get(b: &Browser, path: &str) -> Page {
    readable(b.get(path).await)
}

async fn logged_in(app: &TestApp, username: &str) -> (Browser, String) {
    let b = app.browser();
    let login = b.login(username, PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let token = extract_csrf(&b.get("/home").await.body).unwrap();
    (b, token)
}

/// Load `path` until `needle` appears (at most 30 s).
async fn wait_for(b: &Browser, path: &str, needle: &str) -> Page {
    let start = Instant::now();
    loop {
        let page = get(b, path).await;
        if page.body.contains(needle) {
            return page;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{needle:?} did not appear on {path} within 30 s; last page (status {}):\n{}",
            page.status,
            page.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The value of the first `attr="..."` after `marker`.
fn after<'a>(body: &'a str, marker: &str, attr: &str) -> &'a str {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in page:\n{body}"));
    let rest = &body[at..];
    let start = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    let end = rest[start..].find('"').unwrap() + start;
    &rest[start..end]
}

async fn follow_post_reply(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let b = TestApp::spawn(backend).await;
    a.member("alice", Role::Member).await;
    b.member("bob", Role::Member).await;
    let b_domain = b.state().urls.domain().to_string();
    let (alice, at) = logged_in(&a, "alice").await;
    let (bob, bt) = logged_in(&b, "bob").await;

    // Bob posts before anyone on A knows him.
    let r = bob
        .post_form(
            "/statuses",
            &bt,
            &[("status", "First post from B"), ("visibility", "public")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let first_id = r
        .location
        .unwrap()
        .rsplit_once("#post-")
        .unwrap()
        .1
        .to_string();

    // Alice finds him with the search box (WebFinger on B) ...
    let handle = format!("@bob@{b_domain}");
    let results = get(
        &alice,
        &format!(
            "/search?q={}",
            handle.replace('@', "%40").replace(':', "%3A")
        ),
    )
    .await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.body);
    let profile_path = format!("/@bob@{b_domain}");
    results.assert_contains(&format!("href=\"{profile_path}\""));
    // ... and his post by its address (fetched from B as ActivityPub).
    let url = format!("{}/@bob/{first_id}", b.base);
    let results = get(&alice, &format!("/search?q={}", urlencode(&url))).await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.body);
    results.assert_contains("First post from B");
    // Anonymous visitors may not make A fetch anything.
    let anon = get(
        &a.browser(),
        &format!("/search?q={}", urlencode(&format!("@nobody@{b_domain}"))),
    )
    .await;
    anon.assert_contains("Log in to look up people");

    // His profile on A: what A knows, a link to the original, the follow button.
    let profile = get(&alice, &profile_path).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.body);
    profile.assert_contains("bob display");
    profile.assert_contains(&format!("href=\"{}/@bob\"", b.base));
    profile.assert_contains("First post from B");
    let action = after(&profile.body, "action=\"/accounts/", "action").to_string();
    assert!(action.ends_with("/follow"), "{action}");
    let r = alice
        .post_form(&action, &at, &[("back", &profile_path)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(profile_path.as_str()));
    // B accepts at once (bob's profile is not locked): A shows "Unfollow".
    wait_for(&alice, &profile_path, ">Unfollow</button>").await;
    wait_for(&bob, "/notifications", "followed you").await;

    // Bob posts; it reaches alice's home timeline on A.
    let r = bob
        .post_form(
            "/statuses",
            &bt,
            &[
                ("status", "Who wants to swap **lesson plans**? #history"),
                ("visibility", "public"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let on_b = r
        .location
        .unwrap()
        .rsplit_once("#post-")
        .unwrap()
        .1
        .to_string();
    let home = wait_for(&alice, "/home", "swap <strong>lesson plans</strong>").await;
    // The post has a page on A, under bob's handle.
    let thread_path = after(&home.body, &format!("href=\"{profile_path}/"), "href").to_string();
    let thread = get(&alice, &thread_path).await;
    assert_eq!(thread.status, StatusCode::OK, "{}", thread.body);
    thread.assert_contains("swap <strong>lesson plans</strong>");
    thread.assert_contains("Open on its original server");
    thread.assert_contains(&format!("{handle} </textarea>"));
    let reply_to = after(&thread.body, "name=\"in_reply_to_id\"", "value").to_string();

    // Alice replies from the thread page.
    let r = alice
        .post_form(
            "/statuses",
            &at,
            &[
                (
                    "status",
                    &format!("{handle} Me! I have a unit on the Romans."),
                ),
                ("visibility", "public"),
                ("in_reply_to_id", &reply_to),
                ("back", &thread_path),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location.as_deref().unwrap().starts_with(&thread_path));
    get(&alice, &thread_path)
        .await
        .assert_contains("I have a unit on the Romans.");

    // Bob hears about it on B, and the reply sits under his post there.
    let n = wait_for(&bob, "/notifications", "I have a unit on the Romans.").await;
    n.assert_contains("replied to your post");
    n.assert_contains("alice display");
    let thread = get(&bob, &format!("/@bob/{on_b}")).await;
    thread.assert_contains("I have a unit on the Romans.");
    thread.assert_contains(&format!("@alice@{}", a.state().urls.domain()));
    a.stop().await;
    b.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|c| match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (c as char).to_string()
            }
            _ => format!("%{c:02X}"),
        })
        .collect()
}

db_test!(follow_post_reply);
