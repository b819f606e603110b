//! Browser tests in a real headless Chromium driven through ChromeDriver:
//! an applicant signs up in approval mode, an admin approves them with the
//! buttons of the register page, the member logs in and edits their profile
//! (with an avatar upload), and the public profile shows it. Every page visited
//! is checked for console errors, a skip link reachable by keyboard, a layout
//! that fits a phone screen, and (when axe-core is available) accessibility
//! violations.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`. Without them
//! the test is skipped with a message, except under CI (`CI=true`), where it
//! fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, PASSWORD, TestApp};
use fantoccini::{Client, ClientBuilder, Locator, wd::WebDriverCompatibleCommand};
use serde_json::{Value, json};
use staffroom::domain::accounts::Role;
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

fn chromedriver_path() -> Option<String> {
    if let Ok(p) = std::env::var("CHROMEDRIVER") {
        return Some(p);
    }
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

struct Driver {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Option<(Driver, Client)> {
    let Some(path) = chromedriver_path() else {
        assert!(
            !in_ci(),
            "CI must run the browser tests: install chromium and chromium-driver"
        );
        eprintln!("skipped: chromedriver not found (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let profile = tempfile::tempdir().unwrap();
    let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .copied()
        .unwrap_or("/usr/bin/chromium");
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": binary,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-GB",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let start = Instant::now();
    let client = loop {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) => {
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "cannot start a browser session: {e}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    Some((
        Driver {
            child,
            _profile: profile,
        },
        client,
    ))
}

/// ChromeDriver's browser log (console messages, failed loads, CSP reports).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}

struct Checks {
    axe: Option<String>,
    pages: usize,
}

impl Checks {
    fn new() -> Self {
        let axe = std::env::var("AXE_CORE_PATH")
            .ok()
            .and_then(|p| std::fs::read_to_string(p).ok());
        if axe.is_none() {
            assert!(!in_ci(), "CI must provide axe-core (AXE_CORE_PATH)");
            eprintln!("note: AXE_CORE_PATH not set, accessibility rules not checked");
        }
        Self { axe, pages: 0 }
    }

    /// Checks every page must pass.
    async fn page(&mut self, c: &Client, what: &str) {
        self.pages += 1;
        // No console errors (JavaScript errors, failed resources, CSP violations).
        let logs = c
            .issue_cmd(BrowserLog)
            .await
            .unwrap_or(Value::Array(vec![]));
        let errors: Vec<&Value> = logs
            .as_array()
            .map(|a| a.iter().filter(|e| e["level"] == "SEVERE").collect())
            .unwrap_or_default();
        assert!(errors.is_empty(), "{what}: console errors: {errors:?}");
        // Keyboard: the first Tab lands on the skip link.
        c.execute(
            "document.activeElement && document.activeElement.blur(); window.scrollTo(0,0);",
            vec![],
        )
        .await
        .unwrap();
        let body = c.find(Locator::Css("body")).await.unwrap();
        body.send_keys("\u{E004}").await.unwrap();
        let focused = c
            .execute("return document.activeElement.className", vec![])
            .await
            .unwrap();
        assert_eq!(
            focused, "skip-link",
            "{what}: first Tab should reach the skip link"
        );
        // Every form control has a label.
        let unlabelled = c
            .execute(
                "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                   .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                   .map(e => e.name)",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(unlabelled, json!([]), "{what}: unlabelled form fields");
        // Fits a phone screen without sideways scrolling.
        c.set_window_size(375, 800).await.unwrap();
        let overflow = c
            .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![])
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap_or(1) <= 0,
            "{what}: wider than a phone screen by {overflow}px"
        );
        c.set_window_size(1280, 900).await.unwrap();
        // axe-core's rules, when available.
        if let Some(axe) = &self.axe {
            c.execute(axe, vec![]).await.unwrap();
            let loaded = c
                .execute("return typeof axe === 'object' && typeof axe.run", vec![])
                .await
                .unwrap();
            assert_eq!(loaded, json!("function"), "axe-core did not load");
            let result = c
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     axe.run(document, { resultTypes: ['violations'] })
                        .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                                          .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                        .catch(e => done(['axe failed: ' + e]));",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(result, json!([]), "{what}: accessibility violations");
        }
    }
}

async fn fill(c: &Client, name: &str, value: &str) {
    let e = c
        .find(Locator::Css(&format!("[name='{name}']")))
        .await
        .unwrap_or_else(|_| panic!("field {name}"));
    e.clear().await.ok();
    e.send_keys(value).await.unwrap();
}

/// Click something that loads a new page, and wait until that page is there
/// (a marker set on the old document disappears and the new one is loaded).
async fn click(c: &Client, css: &str) {
    c.execute("window.__old_page = true;", vec![])
        .await
        .unwrap();
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("element {css}"))
        .click()
        .await
        .unwrap();
    let start = Instant::now();
    loop {
        let ready = c
            .execute(
                "return !window.__old_page && document.readyState === 'complete';",
                vec![],
            )
            .await
            .map(|v| v == json!(true))
            .unwrap_or(false);
        if ready {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no new page after clicking {css}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn log_in(c: &Client, base: &str, login: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "login", login).await;
    fill(c, "password", password).await;
    click(c, "main form button[type=submit]").await;
}

async fn log_out(c: &Client) {
    click(c, "header form[action='/logout'] button").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_approval_login_profile() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.member("headadmin", Role::Admin).await;
    let base = app.base.clone();
    let mut checks = Checks::new();

    // Landing page, then sign up in approval mode.
    c.goto(&base).await.unwrap();
    assert!(text(&c).await.contains("Test Teachers"));
    checks.page(&c, "landing").await;
    c.goto(&format!("{base}/signup")).await.unwrap();
    checks.page(&c, "signup").await;
    fill(&c, "username", "browser_teacher").await;
    fill(&c, "display_name", "Browser Teacher").await;
    fill(&c, "email", "browser@school.example").await;
    fill(&c, "real_name", "Real Name Hidden").await;
    fill(&c, "school", "Collège Jean Moulin").await;
    fill(&c, "password", PASSWORD).await;
    fill(&c, "password_confirmation", PASSWORD).await;
    fill(
        &c,
        "reason",
        "I teach history and want to share lesson plans.",
    )
    .await;
    click(&c, "main form button[type=submit]").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/account/status")
    );
    let t = text(&c).await;
    assert!(t.contains("Waiting for approval"), "{t}");
    checks.page(&c, "status").await;
    log_out(&c).await;

    // The admin approves with the button on the register page.
    log_in(&c, &base, "headadmin", PASSWORD).await;
    c.goto(&format!("{base}/admin/accounts?status=pending"))
        .await
        .unwrap();
    let t = text(&c).await;
    assert!(
        t.contains("browser_teacher") && t.contains("share lesson plans"),
        "{t}"
    );
    checks.page(&c, "register").await;
    click(&c, "button[value=approve]").await;
    let t = text(&c).await;
    assert!(
        t.contains("The application was approved."),
        "{}: {t}",
        c.current_url().await.unwrap()
    );
    c.goto(&format!("{base}/admin/accounts?status=active"))
        .await
        .unwrap();
    assert!(text(&c).await.contains("browser_teacher"));
    log_out(&c).await;

    // The member logs in and edits the profile, with an avatar.
    log_in(&c, &base, "browser@school.example", PASSWORD).await;
    c.goto(&format!("{base}/settings/profile")).await.unwrap();
    checks.page(&c, "profile settings").await;
    fill(&c, "bio", "History teacher. I like **primary sources**.").await;
    fill(&c, "subjects", "history, geography").await;
    fill(&c, "field_name_0", "Region").await;
    fill(&c, "field_value_0", "Bretagne").await;
    let avatar = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(
        avatar.path(),
        include_bytes!("../src/http/web/static/avatar.png"),
    )
    .unwrap();
    c.find(Locator::Css("input[name=avatar]"))
        .await
        .unwrap()
        .send_keys(avatar.path().to_str().unwrap())
        .await
        .unwrap();
    click(&c, "main form button[type=submit]").await;
    let t = text(&c).await;
    assert!(t.contains("Your profile has been saved."), "{t}");
    c.goto(&format!("{base}/settings/account")).await.unwrap();
    checks.page(&c, "account settings").await;

    // The public profile shows it, and nothing of the registry.
    c.goto(&format!("{base}/@browser_teacher")).await.unwrap();
    let t = text(&c).await;
    assert!(
        t.contains("Browser Teacher") && t.contains("primary sources") && t.contains("Bretagne"),
        "{t}"
    );
    assert!(!t.contains("Real Name Hidden") && !t.contains("Jean Moulin"));
    let avatar_src = c
        .find(Locator::Css(".profile-head img.avatar"))
        .await
        .unwrap()
        .attr("src")
        .await
        .unwrap()
        .unwrap();
    assert!(avatar_src.contains("/media/"), "{avatar_src}");
    let loaded = c
        .execute(
            "return document.querySelector('.profile-head img.avatar').naturalWidth",
            vec![],
        )
        .await
        .unwrap();
    assert!(loaded.as_i64().unwrap() > 0, "avatar image loads");
    checks.page(&c, "public profile").await;

    // The language switch in the footer.
    c.find(Locator::Css("#locale-select"))
        .await
        .unwrap()
        .select_by_value("fr")
        .await
        .unwrap();
    click(&c, ".locale-form button").await;
    assert!(text(&c).await.contains("Enseigne"));
    c.goto(&format!("{base}/about")).await.unwrap();
    checks.page(&c, "about (fr)").await;
    assert!(checks.pages >= 8);

    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}

/// The `aria-pressed` state of the button in the form posting to `action_suffix`.
async fn pressed(c: &Client, action_suffix: &str) -> Option<String> {
    c.find(Locator::Css(&format!(
        "main form[action$='{action_suffix}'] button[aria-pressed]"
    )))
    .await
    .ok()?
    .attr("aria-pressed")
    .await
    .ok()?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_thread_like_reply_edit_notifications() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let writer = app.member("writer", Role::Member).await;
    let reader = app.member("reader", Role::Member).await;
    // Someone follows the writer, so the notifications page has something to show.
    staffroom::domain::follows::follow(app.state(), &reader.actor, &writer.actor)
        .await
        .unwrap();
    let base = app.base.clone();
    let mut checks = Checks::new();

    // Logging in leads to the home timeline with its composer.
    log_in(&c, &base, "writer", PASSWORD).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/home");
    assert!(text(&c).await.contains("Nothing here yet"));
    checks.page(&c, "empty home").await;
    let badge = text(&c).await;
    assert!(badge.contains("Notifications 1"), "{badge}");

    // A post with a content warning: only the warning shows until opened.
    fill(&c, "spoiler_text", "Exam answers").await;
    fill(&c, "status", "The answer to question 3 is **42**. #maths").await;
    click(&c, "#compose button[type=submit]").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/home");
    let t = text(&c).await;
    assert!(t.contains("Your post has been published."), "{t}");
    assert!(t.contains("Exam answers"), "{t}");
    assert!(!t.contains("question 3"), "the warning hides the text: {t}");
    at_top(&c).await;
    checks.page(&c, "home with a post").await;
    click_summary(&c, "details.cw summary").await;
    assert!(text(&c).await.contains("The answer to question 3 is 42."));

    // The thread page, reached from the post's date link.
    click(&c, "article.post .post-meta a").await;
    let thread_path = c.current_url().await.unwrap().path().to_string();
    assert!(thread_path.starts_with("/@writer/"), "{thread_path}");
    checks.page(&c, "thread").await;

    // Like it: the button shows its new state.
    assert_eq!(pressed(&c, "/favourite").await.as_deref(), Some("false"));
    click(&c, "main form[action$='/favourite'] button").await;
    assert_eq!(pressed(&c, "/unfavourite").await.as_deref(), Some("true"));
    assert_eq!(c.current_url().await.unwrap().path(), thread_path);

    // Reply from the thread page: the reply keeps the warning.
    fill(&c, "status", "Question 4 follows tomorrow.").await;
    click(&c, "#compose button[type=submit]").await;
    assert_eq!(c.current_url().await.unwrap().path(), thread_path);
    click_summary(&c, ".thread-replies details.cw summary").await;
    let t = text(&c).await;
    assert!(t.contains("Question 4 follows tomorrow."), "{t}");
    at_top(&c).await;
    checks.page(&c, "thread with a reply").await;

    // Edit it, then read its history.
    c.goto(&format!("{base}{thread_path}/edit")).await.unwrap();
    checks.page(&c, "edit").await;
    fill(
        &c,
        "status",
        "The answer to question 3 is **41**, sorry. #maths",
    )
    .await;
    click(&c, "main form button[type=submit]").await;
    assert_eq!(c.current_url().await.unwrap().path(), thread_path);
    assert!(text(&c).await.contains("Your changes have been saved."));
    click(&c, "article.post.focus a.edited").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        format!("{thread_path}/history")
    );
    let t = text(&c).await;
    assert!(t.contains("is 42.") && t.contains("is 41, sorry."), "{t}");
    checks.page(&c, "history").await;

    // The reader likes it too; the writer's notifications show it, then
    // the count in the navigation is gone.
    let id: i64 = thread_path.rsplit('/').next().unwrap().parse().unwrap();
    staffroom::domain::interactions::favourite(app.state(), &reader.actor, id)
        .await
        .unwrap();
    c.goto(&format!("{base}/notifications")).await.unwrap();
    let t = text(&c).await;
    assert!(
        t.contains("followed you") && t.contains("liked your post"),
        "{t}"
    );
    checks.page(&c, "notifications").await;
    c.goto(&format!("{base}/home")).await.unwrap();
    assert!(!text(&c).await.contains("Notifications 1"));

    // The other pages of this part: profile, public timeline, hashtag,
    // search, bookmarks, follow requests, and a refused post.
    for (path, what) in [
        ("/@writer", "profile with posts"),
        ("/local", "local timeline"),
        ("/tags/maths", "hashtag"),
        ("/search?q=read", "search"),
        ("/bookmarks", "bookmarks"),
        ("/follow-requests", "follow requests"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        checks.page(&c, what).await;
    }
    assert!(text(&c).await.contains("No one is waiting"));
    c.goto(&format!("{base}/home")).await.unwrap();
    click(&c, "#compose button[type=submit]").await;
    let t = text(&c).await;
    assert!(t.contains("A post needs some text or a title."), "{t}");
    // The form comes back with status 422, which Chrome logs as a failed
    // load; that entry, and only that one, is expected.
    let logs = c.issue_cmd(BrowserLog).await.unwrap();
    let severe: Vec<&Value> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect();
    assert!(
        severe.len() == 1
            && severe[0]["message"].as_str().unwrap().contains(
                "/statuses - Failed to load resource: the server responded with a status of 422"
            ),
        "{severe:?}"
    );
    checks.page(&c, "refused post").await;

    // Anonymous visitors see the thread and the profile, without buttons.
    log_out(&c).await;
    c.goto(&format!("{base}{thread_path}")).await.unwrap();
    assert!(text(&c).await.contains("Exam answers"));
    assert!(pressed(&c, "/favourite").await.is_none());
    checks.page(&c, "thread (anonymous)").await;
    assert!(checks.pages >= 14);

    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}

/// After an action the page comes back at the post acted on (`#post-ID`),
/// where browsers also start keyboard navigation. The keyboard check wants
/// the page from its top: load the same page without the fragment.
async fn at_top(c: &Client) {
    let mut url = c.current_url().await.unwrap();
    url.set_fragment(None);
    c.goto(url.as_str()).await.unwrap();
}

/// Open a `<details>` disclosure (no page load).
async fn click_summary(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("element {css}"))
        .click()
        .await
        .unwrap();
}

/// Open every moderation disclosure on the page (no page load).
async fn open_group_tools(c: &Client) {
    c.execute(
        "document.querySelectorAll('details.group-mod').forEach(d => d.open = true);",
        vec![],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_end_to_end() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let st = app.state();
    app.member("gowner", Role::Member).await;
    app.member("gmember", Role::Member).await;
    let troll = app.member("troll", Role::Member).await;
    let base = app.base.clone();
    let mut checks = Checks::new();

    // The owner finds the directory in the navigation and creates a group
    // that needs approval.
    log_in(&c, &base, "gowner", PASSWORD).await;
    click(&c, "header a[href='/groups']").await;
    assert!(text(&c).await.contains("There are no groups here yet."));
    checks.page(&c, "group directory (empty)").await;
    click(&c, "main a[href='/groups/new']").await;
    checks.page(&c, "create a group").await;
    fill(&c, "name", "history").await;
    fill(&c, "display_name", "History teachers").await;
    fill(&c, "description", "Sources, *timelines* and trips.").await;
    fill(&c, "subjects", "History").await;
    c.find(Locator::Css("#f-join_policy"))
        .await
        .unwrap()
        .select_by_value("approval")
        .await
        .unwrap();
    click(&c, "main form button[type=submit]").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/groups/history");
    let t = text(&c).await;
    assert!(t.contains("Your group has been created."), "{t}");
    checks.page(&c, "new group").await;
    // Someone who will misbehave gets in through the domain layer.
    let g = staffroom::domain::groups::by_name(st, "history")
        .await
        .unwrap();
    staffroom::domain::follows::follow(st, &troll.actor, &g.actor)
        .await
        .unwrap();
    log_out(&c).await;

    // A second teacher asks to join.
    log_in(&c, &base, "gmember", PASSWORD).await;
    c.goto(&format!("{base}/groups/history")).await.unwrap();
    click(&c, "main form[action$='/join'] button").await;
    let t = text(&c).await;
    assert!(t.contains("sent to the moderators"), "{t}");
    checks.page(&c, "request sent").await;
    log_out(&c).await;

    // The owner approves both requests from the moderation tab.
    log_in(&c, &base, "gowner", PASSWORD).await;
    c.goto(&format!("{base}/groups/history/moderation"))
        .await
        .unwrap();
    checks.page(&c, "group moderation").await;
    click(&c, "main form[action$='/approve'] button").await;
    click(&c, "main form[action$='/approve'] button").await;
    let t = text(&c).await;
    assert!(
        t.contains("The request was approved") && t.contains("No one is waiting to join."),
        "{t}"
    );
    log_out(&c).await;

    // The member starts a discussion.
    log_in(&c, &base, "gmember", PASSWORD).await;
    c.goto(&format!("{base}/groups/history/discussions"))
        .await
        .unwrap();
    checks.page(&c, "discussions (empty)").await;
    fill(&c, "title", "Field trip to the castle").await;
    fill(&c, "status", "Who has been to the castle with a class?").await;
    click(&c, "#compose button[type=submit]").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/groups/history/discussions"
    );
    assert!(text(&c).await.contains("Field trip to the castle"));
    at_top(&c).await;
    checks.page(&c, "discussions").await;
    log_out(&c).await;

    // The owner pins and locks it, then bans the troll with a reason.
    log_in(&c, &base, "gowner", PASSWORD).await;
    c.goto(&format!("{base}/groups/history/discussions"))
        .await
        .unwrap();
    open_group_tools(&c).await;
    click(&c, "main form[action$='/pin'] button").await;
    assert!(text(&c).await.contains("The thread is pinned."));
    open_group_tools(&c).await;
    click(&c, "main form[action$='/lock'] button").await;
    let t = text(&c).await;
    assert!(
        t.contains("The thread is locked.") && t.contains("Locked"),
        "{t}"
    );
    checks.page(&c, "pinned and locked").await;
    c.goto(&format!("{base}/groups/history/members"))
        .await
        .unwrap();
    checks.page(&c, "members").await;
    open_group_tools(&c).await;
    let reason = c
        .find(Locator::Css(&format!("#ban-reason-{}", troll.actor.id)))
        .await
        .unwrap();
    reason.send_keys("Insults in the staff room").await.unwrap();
    click(
        &c,
        &format!(
            "main form[action$='/members/{}/ban'] button",
            troll.actor.id
        ),
    )
    .await;
    let t = text(&c).await;
    assert!(t.contains("They have been banned from the group."), "{t}");

    // The log shows it all.
    c.goto(&format!("{base}/groups/history/log")).await.unwrap();
    let t = text(&c).await;
    for needle in [
        "created the group",
        "approved the request of",
        "pinned a thread by",
        "locked a thread by",
        "banned",
        "Insults in the staff room",
    ] {
        assert!(t.contains(needle), "{needle}: {t}");
    }
    checks.page(&c, "moderation log").await;
    for (path, what) in [
        ("/groups/history/about", "about"),
        ("/groups/history/settings", "settings"),
        ("/groups/history/subgroups", "sub-groups"),
        ("/groups/history/resources", "resources"),
        ("/groups", "directory"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        checks.page(&c, what).await;
    }
    log_out(&c).await;
    c.goto(&format!("{base}/groups/history")).await.unwrap();
    assert!(text(&c).await.contains("Field trip to the castle"));
    checks.page(&c, "group (anonymous)").await;
    assert!(checks.pages >= 14);

    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}

/// Set a field's value directly (date and time pickers take typed keys
/// differently in each locale).
async fn set_value(c: &Client, name: &str, value: &str) {
    c.execute(
        "document.querySelector(`[name='${arguments[0]}']`).value = arguments[1];",
        vec![json!(name), json!(value)],
    )
    .await
    .unwrap();
}

/// An organiser runs an event: creates it with the form, sees it in the
/// calendar, a colleague asks to join, the organiser approves them on the
/// participant page, changes the event and cancels it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organiser_runs_an_event() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.member("organiser", Role::Member).await;
    let colleague = app.member("colleague", Role::Member).await;
    let base = app.base.clone();
    let mut checks = Checks::new();
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 1;

    log_in(&c, &base, "organiser", PASSWORD).await;
    c.goto(&format!("{base}/events")).await.unwrap();
    assert!(text(&c).await.contains("No upcoming events."));
    checks.page(&c, "empty calendar").await;
    click(&c, "a[href='/events/new']").await;
    checks.page(&c, "new event form").await;
    fill(&c, "title", "Science fair").await;
    fill(&c, "description", "Projects from **every** class.").await;
    set_value(&c, "start", &format!("{year}-03-20T14:00")).await;
    set_value(&c, "end", &format!("{year}-03-20T17:30")).await;
    fill(&c, "timezone", "Europe/Paris").await;
    fill(&c, "location_name", "School hall").await;
    fill(&c, "capacity", "30").await;
    c.find(Locator::Css(
        "select[name='join_mode'] option[value='approval']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    fill(&c, "tags", "science").await;
    click(&c, "main form button[type=submit]").await;
    let t = text(&c).await;
    assert!(t.contains("The event is saved."), "{t}");
    assert!(
        t.contains(&format!(
            "Friday 20 March {year}, 14:00 – 17:30 (Europe/Paris)"
        )) || t.contains("14:00 – 17:30 (Europe/Paris)"),
        "{t}"
    );
    assert!(t.contains("School hall"), "{t}");
    let event_path = c.current_url().await.unwrap().path().to_string();
    let id: i64 = event_path.trim_start_matches("/events/").parse().unwrap();
    checks.page(&c, "event page (organiser)").await;

    // In the calendar, as a list and as a month.
    c.goto(&format!("{base}/events")).await.unwrap();
    assert!(text(&c).await.contains("Science fair"));
    c.goto(&format!("{base}/events?view=month&month={year}-03"))
        .await
        .unwrap();
    assert!(text(&c).await.contains("14:00 Science fair"));
    checks.page(&c, "month calendar").await;

    // A colleague asks to join; the organiser approves on the participant page.
    let (p, _) = staffroom::domain::calendar::answer(
        app.state(),
        &colleague.actor,
        id,
        staffroom::domain::calendar::Rsvp::Going,
        Some("I bring the volcano"),
    )
    .await
    .unwrap();
    assert_eq!(p.status, "pending");
    c.goto(&format!("{base}{event_path}")).await.unwrap();
    click(&c, &format!("a[href='/events/{id}/participants']")).await;
    let t = text(&c).await;
    assert!(
        t.contains("I bring the volcano") && t.contains("Waiting for the organisers"),
        "{t}"
    );
    checks.page(&c, "participants").await;
    click(
        &c,
        &format!(
            "form[action='/events/{id}/participants/{}/approve'] button",
            colleague.actor.id
        ),
    )
    .await;
    assert!(text(&c).await.contains("Going"));
    c.goto(&format!("{base}{event_path}")).await.unwrap();
    assert!(text(&c).await.contains("One person going"));

    // Change it, then cancel it.
    click(&c, &format!("a[href='/events/{id}/edit']")).await;
    checks.page(&c, "edit form").await;
    fill(&c, "title", "Science fair 2.0").await;
    click(&c, "main form button[type=submit]").await;
    assert!(text(&c).await.contains("Science fair 2.0"));
    click(&c, &format!("form[action='/events/{id}/cancel'] button")).await;
    let t = text(&c).await;
    assert!(
        t.contains("The event is cancelled.") && t.contains("Cancelled"),
        "{t}"
    );
    checks.page(&c, "cancelled event").await;

    // The colleague answers from the page too: a cancelled event offers no buttons.
    log_out(&c).await;
    log_in(&c, &base, "colleague", PASSWORD).await;
    c.goto(&format!("{base}{event_path}")).await.unwrap();
    let t = text(&c).await;
    assert!(t.contains("Going") && !t.contains("Can't go"), "{t}");
    checks.page(&c, "event page (participant)").await;
    assert!(checks.pages >= 8);
    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}

/// A teacher shares a PDF with a licence through the upload form, finds it
/// in the library by searching, opens it and downloads the file; the
/// library, the form, the resource page and the diff page pass every check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_upload_search_download() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.member("teacher", Role::Member).await;
    let base = app.base.clone();
    let mut checks = Checks::new();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("volcanoes.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    )
    .unwrap();

    log_in(&c, &base, "teacher", PASSWORD).await;
    click(&c, "header a[href='/resources']").await;
    assert!(
        text(&c)
            .await
            .contains("No resources have been shared yet.")
    );
    checks.page(&c, "library (empty)").await;
    click(&c, "main a[href='/resources/new']").await;
    checks.page(&c, "upload form").await;
    fill(&c, "title", "Volcanoes of Europe").await;
    fill(&c, "description", "A map and **questions** on volcanoes.").await;
    c.find(Locator::Css("#f-files"))
        .await
        .unwrap()
        .send_keys(pdf.to_str().unwrap())
        .await
        .unwrap();
    c.find(Locator::Css("#f-licence"))
        .await
        .unwrap()
        .select_by_value("CC-BY-SA-4.0")
        .await
        .unwrap();
    fill(&c, "attribution", "Geography team").await;
    c.find(Locator::Css("input[name='subjects'][value='geography']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("input[name='publish']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, "main form button[type=submit]").await;
    let t = text(&c).await;
    assert!(t.contains("The resource has been saved."), "{t}");
    assert!(
        t.contains("CC BY-SA 4.0") && t.contains("Geography team"),
        "{t}"
    );
    checks.page(&c, "resource page").await;
    let page = c.current_url().await.unwrap();

    // Found by searching the library.
    click(&c, "header a[href='/resources']").await;
    fill(&c, "q", "volcano").await;
    click(&c, "main form[role=search] button[type=submit]").await;
    let t = text(&c).await;
    assert!(
        t.contains("Volcanoes of Europe") && t.contains("One resource"),
        "{t}"
    );
    checks.page(&c, "library search").await;
    click(&c, "main .resource-card h3 a").await;
    assert_eq!(c.current_url().await.unwrap(), page);

    // The download button gives the file, as a download.
    let href = c
        .find(Locator::Css("main a[download]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let got = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(async r => done([r.status, r.headers.get('content-type'),
                 r.headers.get('content-disposition'), (await r.text()).slice(0, 8)]))
               .catch(e => done(['failed', String(e)]));",
            vec![json!(href)],
        )
        .await
        .unwrap();
    assert_eq!(got[0], json!(200), "{got}");
    assert_eq!(got[1], json!("application/pdf"));
    assert!(got[2].as_str().unwrap().starts_with("attachment;"), "{got}");
    assert_eq!(got[3], json!("%PDF-1.4"));
    c.refresh().await.unwrap();
    assert!(text(&c).await.contains("1 downloads"));

    // An edit, and the page of its changes.
    click(&c, "main a[href$='/edit']").await;
    checks.page(&c, "edit form").await;
    fill(&c, "title", "Volcanoes of Europe and Africa").await;
    fill(&c, "note", "Added Africa").await;
    click(&c, "main form button[type=submit]").await;
    assert!(text(&c).await.contains("Revision 2"));
    click(&c, "main a[href*='/diff?']").await;
    let t = text(&c).await;
    assert!(t.contains("Volcanoes of Europe and Africa"), "{t}");
    checks.page(&c, "revision diff").await;
    log_out(&c).await;
    c.goto(&format!("{base}/resources")).await.unwrap();
    checks.page(&c, "library (anonymous)").await;
    assert!(checks.pages >= 7);

    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}
