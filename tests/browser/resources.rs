//! A resource uploaded, found in the library search and downloaded.

use crate::common::{Backend, PASSWORD, TestApp};
use crate::harness::*;
use serde_json::json;
use staffroom::domain::accounts::Role;

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
    attach(&c, "#f-files", &pdf).await;
    select(&c, "#f-licence", "CC-BY-SA-4.0").await;
    fill(&c, "attribution", "Geography team").await;
    choose(&c, "input[name='subjects'][value='geography']").await;
    choose(&c, "input[name='publish']").await;
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
    let href = download_href(&c).await;
    let got = fetch_from_page(&c, &href).await;
    assert_eq!(got[0], json!(200), "{got}");
    assert_eq!(got[1], json!("application/pdf"));
    assert!(got[2].as_str().unwrap().starts_with("attachment;"), "{got}");
    assert_eq!(got[3], json!("%PDF-1.4"));
    c.refresh().await.unwrap();
    assert!(text(&c).await.contains("1 download ·"));

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
