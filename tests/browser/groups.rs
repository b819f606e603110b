//! A group from creation to moderation, in the browser.

use crate::common::{Backend, PASSWORD, TestApp};
use crate::harness::*;
use fantoccini::Locator;
use staffroom::domain::accounts::Role;

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
    let (_, outbox) = staffroom::domain::follows::follow(st, &troll.actor, &g.actor)
        .await
        .unwrap();
    staffroom::federation::publish::publish(st, outbox).await;
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
