//! Two instances in this process, federating over loopback through the
//! persistent delivery queue, used by one browser: a teacher on B follows a
//! colleague on A from B's pages, then takes part in what A publishes. Both
//! sites share the host `localhost`, so the browser's cookies for one are
//! sent to the other; each switch logs out first.

use crate::common::{PASSWORD, TestApp};
use crate::harness::*;
use fantoccini::{Client, Locator};
use serde_json::json;
use staffroom::domain::accounts::Role;
use std::time::{Duration, Instant};

/// Load `url` until its text contains `needle` (federation is asynchronous).
async fn wait_text(c: &Client, url: &str, needle: &str) -> String {
    let start = Instant::now();
    loop {
        c.goto(url).await.unwrap();
        let t = text(c).await;
        if t.contains(needle) {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{needle:?} did not appear on {url} within 30 s; last page:\n{t}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn encode(s: &str) -> String {
    s.replace('@', "%40").replace(':', "%3A")
}

/// From `b`, logged in, find `@username@a` with the search box and follow them.
async fn follow_from(c: &Client, b: &TestApp, a: &TestApp, username: &str, checks: &mut Checks) {
    let a_domain = a.state().urls.domain().to_string();
    let handle = format!("@{username}@{a_domain}");
    c.goto(&format!("{}/search?q={}", b.base, encode(&handle)))
        .await
        .unwrap();
    click(c, &format!("main a[href='/{handle}']")).await;
    checks.page(c, "remote profile").await;
    click(c, "main form[action$='/follow'] button").await;
    let profile = format!("{}/{handle}", b.base);
    wait_text(c, &profile, "Unfollow").await;
}

/// An organiser on A runs an event in the browser with a participant from
/// B: the event reaches B's calendar, the teacher on B asks to join with a
/// message, the organiser on A approves them on the participant page, B
/// shows the approval, and the cancellation reaches B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_with_a_participant_from_another_instance() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let a = TestApp::spawn(crate::common::Backend::Sqlite).await;
    let b = TestApp::spawn(crate::common::Backend::Sqlite).await;
    a.member("organiser", Role::Member).await;
    b.member("visitor", Role::Member).await;
    let b_domain = b.state().urls.domain().to_string();
    let mut checks = Checks::new();
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 1;

    log_in(&c, &b.base, "visitor", PASSWORD).await;
    follow_from(&c, &b, &a, "organiser", &mut checks).await;
    log_out(&c).await;

    // The organiser announces an event that needs approval.
    log_in(&c, &a.base, "organiser", PASSWORD).await;
    c.goto(&format!("{}/events/new", a.base)).await.unwrap();
    fill(&c, "title", "Regional science fair").await;
    fill(&c, "description", "Projects from **every** school.").await;
    set_value(&c, "start", &format!("{year}-03-20T14:00")).await;
    set_value(&c, "end", &format!("{year}-03-20T17:30")).await;
    fill(&c, "timezone", "Europe/Paris").await;
    fill(&c, "location_name", "Town hall").await;
    fill(&c, "capacity", "20").await;
    choose(&c, "select[name='join_mode'] option[value='approval']").await;
    click(&c, "main form button[type=submit]").await;
    assert!(text(&c).await.contains("The event is saved."));
    let a_event = c.current_url().await.unwrap().path().to_string();
    log_out(&c).await;

    // On B: in the calendar, with its time, and answered from its page.
    log_in(&c, &b.base, "visitor", PASSWORD).await;
    let t = wait_text(&c, &format!("{}/events", b.base), "Regional science fair").await;
    assert!(t.contains("Town hall"), "{t}");
    checks.page(&c, "calendar on B").await;
    c.find(Locator::LinkText("Regional science fair"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "You have not answered.").await;
    let t = text(&c).await;
    assert!(t.contains("14:00 – 17:30 (Europe/Paris)"), "{t}");
    let b_event = c.current_url().await.unwrap().as_str().to_string();
    checks.page(&c, "remote event page on B").await;
    fill(&c, "note", "I bring my class's robot").await;
    click(&c, "form[action$='/rsvp'] button[value='going']").await;
    let t = text(&c).await;
    assert!(t.contains("Waiting for the organisers"), "{t}");
    log_out(&c).await;

    // On A: the request from B, with its message; approved.
    log_in(&c, &a.base, "organiser", PASSWORD).await;
    let participants = format!("{}{a_event}/participants", a.base);
    let t = wait_text(&c, &participants, "I bring my class's robot").await;
    assert!(t.contains(&format!("visitor@{b_domain}")), "{t}");
    checks.page(&c, "participants with a remote request").await;
    click(&c, "main form[action$='/approve'] button").await;
    assert!(text(&c).await.contains("Going"));
    c.goto(&format!("{}{a_event}", a.base)).await.unwrap();
    assert!(text(&c).await.contains("One person going"));
    // ... and then cancelled.
    click(&c, "form[action$='/cancel'] button").await;
    assert!(text(&c).await.contains("The event is cancelled."));
    log_out(&c).await;

    // On B: the approval arrived, then the cancellation, with a notification.
    log_in(&c, &b.base, "visitor", PASSWORD).await;
    let t = wait_text(&c, &b_event, "Cancelled").await;
    assert!(
        t.contains("Going") && !t.contains("Waiting for the organisers"),
        "{t}"
    );
    checks.page(&c, "cancelled remote event on B").await;
    let t = wait_text(
        &c,
        &format!("{}/notifications", b.base),
        "Regional science fair",
    )
    .await;
    assert!(t.to_lowercase().contains("cancel"), "{t}");
    assert!(checks.pages >= 5);

    c.close().await.unwrap();
    drop(driver);
    a.stop().await;
    b.stop().await;
}

/// A teacher on A shares a PDF; a teacher on B finds it in B's library by
/// searching, with its licence, credit and origin, downloads the file from
/// A, and remixes it on B; A's page then lists the remix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_shared_found_remixed_and_downloaded_across_instances() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let a = TestApp::spawn(crate::common::Backend::Sqlite).await;
    let b = TestApp::spawn(crate::common::Backend::Sqlite).await;
    a.member("author", Role::Member).await;
    b.member("reader", Role::Member).await;
    let a_domain = a.state().urls.domain().to_string();
    let mut checks = Checks::new();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("tides.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    )
    .unwrap();

    log_in(&c, &b.base, "reader", PASSWORD).await;
    follow_from(&c, &b, &a, "author", &mut checks).await;
    log_out(&c).await;

    // Shared on A with the upload form.
    log_in(&c, &a.base, "author", PASSWORD).await;
    c.goto(&format!("{}/resources/new", a.base)).await.unwrap();
    fill(&c, "title", "Tides and the moon").await;
    fill(&c, "description", "Worksheet on **tides**.").await;
    attach(&c, "#f-files", &pdf).await;
    select(&c, "#f-licence", "CC-BY-4.0").await;
    fill(&c, "attribution", "Coastal schools network").await;
    choose(&c, "input[name='publish']").await;
    click(&c, "main form button[type=submit]").await;
    assert!(text(&c).await.contains("The resource has been saved."));
    let a_page = c.current_url().await.unwrap().as_str().to_string();
    log_out(&c).await;

    // Found on B by searching its library.
    log_in(&c, &b.base, "reader", PASSWORD).await;
    let t = wait_text(
        &c,
        &format!("{}/resources?q=tides", b.base),
        "Tides and the moon",
    )
    .await;
    assert!(t.contains("CC BY 4.0"), "{t}");
    checks.page(&c, "library search on B").await;
    click(&c, "main .resource-card h3 a").await;
    let t = text(&c).await;
    assert!(
        t.contains("Coastal schools network") && t.contains(&a_domain),
        "licence, credit and origin on B's page: {t}"
    );
    let b_page = c.current_url().await.unwrap().as_str().to_string();
    checks.page(&c, "remote resource page on B").await;

    // The file stays at its origin: the download link points to A.
    let href = download_href(&c).await;
    assert!(href.starts_with(&a.base), "{href}");
    // Fetched from A's own origin, as the browser's download would be.
    c.goto(&a_page).await.unwrap();
    let got = fetch_from_page(&c, &href).await;
    assert_eq!(got[0], json!(200), "{got}");
    assert_eq!(got[1], json!("application/pdf"));
    assert!(got[2].as_str().unwrap().starts_with("attachment;"), "{got}");
    assert_eq!(got[3], json!("%PDF-1.4"));

    // Remixed on B: a draft linked to its source, then published.
    c.goto(&b_page).await.unwrap();
    click(&c, "main form[action$='/remix'] button").await;
    let t = text(&c).await;
    assert!(t.contains("Your remix has been created as a draft"), "{t}");
    checks.page(&c, "remix draft form on B").await;
    fill(&c, "title", "Tides and the moon, for younger pupils").await;
    choose(&c, "input[name='publish']").await;
    click(&c, "main form button[type=submit]").await;
    let t = text(&c).await;
    assert!(t.contains("Tides and the moon, for younger pupils"), "{t}");
    assert!(t.contains("Tides and the moon"), "source named: {t}");
    log_out(&c).await;

    // A hears of the remix: its page lists it, and counts it as used by one.
    let t = wait_text(&c, &a_page, "for younger pupils").await;
    assert!(t.contains("1 download · used by 1 remix"), "{t}");
    checks.page(&c, "source with a remote remix on A").await;
    assert!(checks.pages >= 5);

    c.close().await.unwrap();
    drop(driver);
    a.stop().await;
    b.stop().await;
}

/// Wait for text on the current page (after a click that loads it).
async fn wait_for_text(c: &Client, needle: &str) {
    let start = Instant::now();
    while !text(c).await.contains(needle) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{needle:?} not on {}",
            c.current_url().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
