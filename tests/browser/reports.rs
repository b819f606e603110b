//! A member votes in a poll and reports a post with the "Report" link
//! under it; a moderator reads the report on the admin page and resolves it.

use crate::common::{Backend, PASSWORD, TestApp};
use crate::harness::*;
use fantoccini::Locator;
use serde_json::json;
use staffroom::domain::accounts::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_a_post_and_resolve_it() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let author = app.member("author", Role::Member).await;
    app.member("reader", Role::Member).await;
    app.member("moderator", Role::Moderator).await;
    let token = app.token(&author).await;
    let r = app
        .api()
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&token)
        .json(&json!({ "status": "Selling last year's exam papers", "visibility": "public" }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let r = app
        .api()
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&token)
        .json(&json!({
            "status": "Which day suits the parents' evening?",
            "visibility": "public",
            "poll": { "options": ["Tuesday", "Friday"], "expires_in": 86400 },
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let base = app.base.clone();
    let mut checks = Checks::new();

    // The reader finds the post on the author's profile and reports it.
    log_in(&c, &base, "reader", PASSWORD).await;
    c.goto(&format!("{base}/@author")).await.unwrap();
    checks.page(&c, "profile with a poll").await;
    c.find(Locator::Css(".poll label[for$='-1']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&c, ".poll form button[type=submit]").await;
    let t = text(&c).await;
    assert!(t.contains("Friday: 100%"), "{t}");
    assert!(t.contains("1 person voted"), "{t}");
    c.find(Locator::XPath(
        "//article[contains(., 'Selling last year')]//a[starts-with(@href, '/report?status=')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let t = text(&c).await;
    assert!(t.contains("Report to the moderators"), "{t}");
    assert!(t.contains("Selling last year"), "{t}");
    checks.page(&c, "report form").await;
    c.find(Locator::Css(
        "select[name=category] option[value=violation]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    fill(&c, "comment", "Exam papers are confidential").await;
    click(&c, "main form[action='/report'] button[type=submit]").await;
    let t = text(&c).await;
    assert!(t.contains("the moderators have your report"), "{t}");
    log_out(&c).await;

    // The moderator reads it and resolves it.
    log_in(&c, &base, "moderator", PASSWORD).await;
    c.goto(&format!("{base}/admin/reports")).await.unwrap();
    let t = text(&c).await;
    assert!(t.contains("Exam papers are confidential"), "{t}");
    assert!(t.contains("Breaks the instance's rules"), "{t}");
    assert!(t.contains("Selling last year"), "{t}");
    checks.page(&c, "admin reports").await;
    click(&c, "form[action$='/resolve'] button").await;
    let t = text(&c).await;
    assert!(t.contains("The report is resolved."), "{t}");
    assert!(t.contains("No reports here."), "{t}");
    c.goto(&format!("{base}/admin/reports?resolved=1"))
        .await
        .unwrap();
    let t = text(&c).await;
    assert!(t.contains("Exam papers are confidential"), "{t}");
    checks.page(&c, "resolved reports").await;

    assert!(checks.pages >= 4);
    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}
