//! Composing, threads, likes, replies, edits and notifications in the browser.

use crate::common::{Backend, PASSWORD, TestApp};
use crate::harness::*;
use serde_json::Value;
use staffroom::domain::accounts::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_thread_like_reply_edit_notifications() {
    let Some((driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let writer = app.member("writer", Role::Member).await;
    let reader = app.member("reader", Role::Member).await;
    // Someone follows the writer, so the notifications page has something to show.
    let (_, outbox) = staffroom::domain::follows::follow(app.state(), &reader.actor, &writer.actor)
        .await
        .unwrap();
    staffroom::federation::publish::publish(app.state(), outbox).await;
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
    let (_, outbox) = staffroom::domain::interactions::favourite(app.state(), &reader.actor, id)
        .await
        .unwrap();
    staffroom::federation::publish::publish(app.state(), outbox).await;
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
