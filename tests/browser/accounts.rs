//! An applicant signs up in approval mode, an admin approves them with the
//! buttons of the register page, the member logs in and edits their profile
//! (with an avatar upload), and the public profile shows it.

use crate::common::{Backend, PASSWORD, TestApp};
use crate::harness::*;
use fantoccini::Locator;
use staffroom::domain::accounts::Role;

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
        include_bytes!("../../src/http/web/static/avatar.png"),
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
