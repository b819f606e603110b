//! The library in the browser (no JavaScript): sharing a resource through
//! the upload form, finding it with search and filters, its page with
//! licence, files, revisions and remixes, editing into a diff, a refused
//! upload shown again with its reason, the Atom feed, and a group's
//! resources tab.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, Browser, PASSWORD, TestApp, extract_csrf};
use reqwest::{
    StatusCode,
    multipart::{Form, Part},
};
use staffroom::domain::accounts::Role;

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn post_multipart(b: &Browser, form_page: &str, action: &str, form: Form) -> common::Page {
    let page = b.get(form_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = extract_csrf(&page.body).unwrap();
    let r = b
        .client
        .post(format!("{}{action}?csrf_token={token}", b.base))
        .multipart(form.text("csrf_token", token.clone()))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    common::Page {
        status,
        location,
        body: r.text().await.unwrap(),
        headers,
    }
}

/// How the templates write a URL in an attribute.
fn esc(s: &str) -> String {
    s.replace('/', "&#x2f;")
}

fn pdf(name: &str, bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec())
        .file_name(name.to_string())
        .mime_str("application/pdf")
        .unwrap()
}

async fn library_in_the_browser(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.member("alice", Role::Member).await;
    app.member("bob", Role::Member).await;
    let b = app.browser();
    assert!(b.login("alice", PASSWORD).await.status.is_redirection());
    b.get("/resources")
        .await
        .assert_contains("Share a resource");

    // A refused upload: the form again, with the reason and what was typed.
    let form = Form::new()
        .text("title", "Photosynthesis lab")
        .text("licence", "CC-BY-4.0")
        .part("files", pdf("lab.pdf", b"PK\x03\x04 not a pdf at all"));
    let page = post_multipart(&b, "/resources/new", "/resources/new", form).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    page.assert_contains("Photosynthesis lab");
    page.assert_contains("role=\"alert\"");

    let form = Form::new()
        .text("title", "Photosynthesis lab")
        .text("description", "A practical on *photosynthesis*.")
        .text("licence", "CC-BY-NC-4.0")
        .text("attribution", "Biology department")
        .text("subjects", "biology")
        .text("levels", "isced-3")
        .text("languages", "en")
        .text("tags", "lab")
        .text("links", "Simulation | https://phet.example/photosynthesis")
        .text("visibility", "public")
        .text("publish", "true")
        .part("files", pdf("lab.pdf", PDF));
    let page = post_multipart(&b, "/resources/new", "/resources/new", form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let path = page.location.unwrap();
    let page = b.get(&path).await;
    page.assert_contains("Photosynthesis lab");
    page.assert_contains(&esc("https://creativecommons.org/licenses/by-nc/4.0/"));
    page.assert_contains("Biology department");
    page.assert_contains("Download lab.pdf");
    page.assert_contains("Open Simulation");
    page.assert_contains("Biology");
    page.assert_contains("Upper secondary (ISCED 3)");
    page.assert_contains("Revision 1");

    // Found by search and by filters; not by others.
    b.get("/resources?q=photosynthesis")
        .await
        .assert_contains(&esc(&path));
    b.get("/resources?subject=biology&level=isced-3&licence=CC-BY-NC-4.0")
        .await
        .assert_contains(&esc(&path));
    let none = b.get("/resources?subject=music").await;
    assert!(!none.body.contains(&esc(&path)));
    let bad = b.get("/resources?licence=WTFPL").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    bad.assert_contains("WTFPL");

    // Edit: a new revision, and its diff.
    let form = Form::new()
        .text("title", "Photosynthesis lab, with worksheet")
        .text(
            "description",
            "A practical on *photosynthesis*.\nWorksheet included.",
        )
        .text("licence", "CC-BY-NC-4.0")
        .text("attribution", "Biology department")
        .text("subjects", "biology")
        .text("levels", "isced-3")
        .text("languages", "en")
        .text("tags", "lab")
        .text("links", "Simulation | https://phet.example/photosynthesis")
        .text("visibility", "public")
        .text("note", "Added the worksheet");
    let edit = format!("{path}/edit");
    let page = post_multipart(&b, &edit, &edit, form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = b.get(&path).await;
    page.assert_contains("Revision 2");
    page.assert_contains("Added the worksheet");
    let diff = b.get(&format!("{path}/diff?from=1&to=2")).await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.body);
    diff.assert_contains("<ins>Photosynthesis lab, with worksheet</ins>");
    diff.assert_contains("<ins>+ Worksheet included.</ins>");
    let bad = b.get(&format!("{path}/diff?from=x")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Download from the page's link.
    let file = page
        .body
        .split("href=\"&#x2f;files&#x2f;")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    let r = b
        .client
        .get(format!("{}/files/{file}", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    b.get(&path).await.assert_contains("1 download ·");

    // Bob remixes it; the source lists the remix.
    let bob = app.browser();
    bob.login("bob", PASSWORD).await;
    let token = bob.csrf(&path).await;
    let r = bob.post_form(&format!("{path}/remix"), &token, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let remix_edit = r.location.unwrap();
    assert!(remix_edit.ends_with("/edit"));
    let remix = remix_edit.trim_end_matches("/edit").to_string();
    let token = bob.csrf(&remix).await;
    let r = bob
        .post_form(&format!("{remix}/publish"), &token, &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = b.get(&path).await;
    page.assert_contains(&esc(&remix));
    page.assert_contains("used by 1 remix<");

    // The Atom feed of a view.
    let feed = app
        .api()
        .get(app.url("/resources/feed.atom?subject=biology"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        feed.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let xml = feed.text().await.unwrap();
    assert!(
        xml.contains("<title>Photosynthesis lab, with worksheet</title>"),
        "{xml}"
    );
    assert!(xml.contains("https://creativecommons.org/licenses/by-nc/4.0/"));
    // The view's page announces its feed to feed readers, filters included.
    let page = b.get("/resources?subject=biology").await;
    page.assert_contains("rel=\"alternate\" type=\"application/atom+xml\"");
    page.assert_contains(&esc("/resources/feed.atom?subject=biology"));
    // Search words, other filters and sorting apply to the feed as to the page.
    for (query, found) in [
        ("q=photosynthesis&sort=downloads", true),
        ("q=department", true),
        ("subject=history", false),
        ("q=volcanoes&sort=newest", false),
        ("licence=CC-BY-SA-4.0", false),
    ] {
        let xml = app
            .api()
            .get(app.url(&format!("/resources/feed.atom?{query}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(xml.starts_with("<?xml"), "{query}: {xml}");
        assert_eq!(
            xml.contains("<title>Photosynthesis lab, with worksheet</title>"),
            found,
            "{query}: {xml}"
        );
    }

    // A group's resources tab.
    staffroom::domain::groups::create(
        app.state(),
        &alice,
        "biology",
        None,
        staffroom::domain::groups::GroupInput::default(),
    )
    .await
    .unwrap();
    let group_id = staffroom::domain::groups::by_name(app.state(), "biology")
        .await
        .unwrap()
        .id();
    let form = Form::new()
        .text("title", "Cell diagram")
        .text("licence", "CC0-1.0")
        .text("group_id", group_id.to_string())
        .text("owner", "group")
        .text("visibility", "group")
        .text("publish", "true")
        .part("files", pdf("cell.pdf", PDF));
    b.get("/resources/new")
        .await
        .assert_contains(r#"name="owner" value="group""#);
    let page = post_multipart(&b, "/resources/new", "/resources/new", form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // Owned by the group, as the checkbox asked.
    let token = app.token(&alice).await;
    let found: serde_json::Value = app
        .api()
        .get(app.url("/api/v1/staffroom/resources?q=cell"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found[0]["owner"]["username"], "biology", "{found}");
    b.get("/groups/biology/resources")
        .await
        .assert_contains("Cell diagram");
    // The library filters by the member's groups.
    let library = b.get("/resources").await;
    library.assert_contains(&format!(r#"<option value="{group_id}">"#));
    assert!(library.body.contains("Photosynthesis lab"));
    let filtered = b.get(&format!("/resources?group_id={group_id}")).await;
    assert_eq!(filtered.status, StatusCode::OK);
    filtered.assert_contains("Cell diagram");
    filtered.assert_contains(&format!(r#"<option value="{group_id}" selected>"#));
    assert!(
        !filtered.body.contains("Photosynthesis lab"),
        "only the group's resources"
    );
    let anon = app.browser();
    let page = anon.get("/resources").await;
    assert!(!page.body.contains("Cell diagram"));
    assert!(!page.body.contains(r#"name="group_id""#));
    app.stop().await;
}
db_test!(library_in_the_browser);
