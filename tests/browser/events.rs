//! An organiser creates an event, members answer, the calendar shows it.

use crate::common::{Backend, PASSWORD, TestApp};
use crate::harness::*;
use staffroom::domain::accounts::Role;

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
    choose(&c, "select[name='join_mode'] option[value='approval']").await;
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

    // A colleague asks to join from the event page, with a message; the
    // organiser approves on the participant page.
    log_out(&c).await;
    log_in(&c, &base, "colleague", PASSWORD).await;
    c.goto(&format!("{base}{event_path}")).await.unwrap();
    assert!(text(&c).await.contains("You have not answered."));
    checks
        .page(&c, "event page (colleague, before answering)")
        .await;
    fill(&c, "note", "I bring the volcano").await;
    click(&c, "form[action$='/rsvp'] button[value='going']").await;
    let t = text(&c).await;
    assert!(t.contains("Waiting for the organisers"), "{t}");
    log_out(&c).await;
    log_in(&c, &base, "organiser", PASSWORD).await;
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
    assert!(checks.pages >= 9);
    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}

/// The calendar's filters (group, subject, online or in person) narrow the
/// list and the month, and the month's previous / next links keep them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_filters_narrow_list_and_month() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let olga = app.member("olga", Role::Member).await;
    let token = app.token(&olga).await;
    let base = app.base.clone();
    let api = |path: &str, body: serde_json::Value| {
        let req = app
            .api()
            .post(app.url(path))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            let v: serde_json::Value = r.json().await.unwrap();
            assert!(status.is_success(), "{status}: {v}");
            v
        }
    };
    let group = api(
        "/api/v1/staffroom/groups",
        serde_json::json!({"username": "history", "display_name": "History teachers", "join_policy": "open"}),
    )
    .await;
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let at = |day: u32| format!("{year}-05-{day:02}T16:00:00Z");
    for (title, day, extra) in [
        (
            "Fractions webinar",
            4,
            serde_json::json!({"online_url": "https://meet.example/fractions", "tags": ["maths"]}),
        ),
        (
            "Castle walk",
            12,
            serde_json::json!({"location_name": "Old town", "tags": ["history"], "group_id": group["id"]}),
        ),
        (
            "Science fair",
            20,
            serde_json::json!({"location_name": "School hall", "tags": ["science"]}),
        ),
    ] {
        let mut body =
            serde_json::json!({"title": title, "start_time": at(day), "timezone": "UTC"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        api("/api/v1/staffroom/events", body).await;
    }
    let mut checks = Checks::new();
    let shows = async |c: &fantoccini::Client, wanted: &[&str]| {
        let t = text(c).await;
        let all = ["Fractions webinar", "Castle walk", "Science fair"];
        let shown: Vec<&str> = all.into_iter().filter(|e| t.contains(e)).collect();
        assert_eq!(shown, wanted, "{t}");
    };

    log_in(&c, &base, "olga", PASSWORD).await;
    c.goto(&format!("{base}/events")).await.unwrap();
    shows(&c, &["Fractions webinar", "Castle walk", "Science fair"]).await;

    select(&c, "#f-mode", "online").await;
    click(&c, "form.filters button[type=submit]").await;
    shows(&c, &["Fractions webinar"]).await;
    checks.page(&c, "calendar filtered: online").await;

    select(&c, "#f-mode", "in_person").await;
    click(&c, "form.filters button[type=submit]").await;
    shows(&c, &["Castle walk", "Science fair"]).await;

    select(&c, "#f-mode", "").await;
    select(&c, "#f-group", "history").await;
    click(&c, "form.filters button[type=submit]").await;
    shows(&c, &["Castle walk"]).await;
    let url = c.current_url().await.unwrap();
    assert!(url.query().unwrap_or("").contains("group=history"), "{url}");

    select(&c, "#f-group", "").await;
    fill(&c, "tag", "science").await;
    click(&c, "form.filters button[type=submit]").await;
    shows(&c, &["Science fair"]).await;

    // The month of the events, filtered by subject, then a month on and back.
    c.goto(&format!(
        "{base}/events?view=month&month={year}-05&tag=maths"
    ))
    .await
    .unwrap();
    shows(&c, &["Fractions webinar"]).await;
    checks.page(&c, "month filtered by subject").await;
    click(&c, "nav.month-nav a:last-of-type").await;
    shows(&c, &[]).await;
    click(&c, "nav.month-nav a:first-of-type").await;
    shows(&c, &["Fractions webinar"]).await;
    let tag = c
        .find(fantoccini::Locator::Css("#f-tag"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(tag.as_deref(), Some("maths"));

    // A filter that matches nothing says so.
    fill(&c, "tag", "astronomy").await;
    click(&c, "form.filters button[type=submit]").await;
    shows(&c, &[]).await;
    c.goto(&format!("{base}/events?tag=astronomy"))
        .await
        .unwrap();
    assert!(text(&c).await.contains("No upcoming events."));
    assert_eq!(checks.pages, 2);
    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}
