//! Teaching resources through the JSON API on one instance: uploading with
//! a licence, editing into revisions and their diff, remixing, download
//! counts and headers, visibility (public, instance, group, drafts), licence
//! validation, and bad uploads that are refused with a clear 4xx without
//! leaving anything behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use reqwest::{
    StatusCode,
    multipart::{Form, Part},
};
use serde_json::Value;
use staffroom::domain::accounts::Role;

const BASE: &str = "/api/v1/staffroom/resources";
pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] = include_bytes!("../src/http/web/static/avatar.png");

/// A ZIP archive with one stored entry (what `lesson.pdf` really is below).
fn zip_bytes() -> Vec<u8> {
    let name = b"notes.txt";
    let mut out = Vec::new();
    out.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name);
    let cd = out.len() as u32;
    out.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02]);
    out.extend_from_slice(&[0; 24]);
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(name);
    let cd_len = out.len() as u32 - cd;
    out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0]);
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn file(name: &str, bytes: &[u8], mime: &str) -> Part {
    Part::bytes(bytes.to_vec())
        .file_name(name.to_string())
        .mime_str(mime)
        .unwrap()
}

async fn send(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    form: Form,
) -> (StatusCode, Value) {
    let r = app
        .api()
        .request(method, app.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn create(app: &TestApp, token: &str, form: Form) -> (StatusCode, Value) {
    send(app, token, reqwest::Method::POST, BASE, form).await
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> (StatusCode, Value) {
    let mut req = app.api().get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn fractions(title: &str) -> Form {
    fractions_with(title, &[])
}

/// The form of a typical resource, with some fields replaced.
fn fractions_with(title: &str, changes: &[(&str, String)]) -> Form {
    let mut fields: Vec<(&str, String)> = vec![
        ("title", title.to_string()),
        (
            "description",
            "Exercises on **fractions**.\nWith solutions.".into(),
        ),
        ("licence", "CC-BY-SA-4.0".into()),
        ("attribution", "Collège Jean Moulin maths team".into()),
        ("authors", "Alice Martin".into()),
        ("subjects", "mathematics".into()),
        ("levels", "isced-2".into()),
        ("languages", "fr".into()),
        ("publish", "true".into()),
    ];
    for (k, v) in changes {
        fields.retain(|(f, _)| f != k);
        fields.push((k, v.clone()));
    }
    let mut form = Form::new()
        .text("tags", "fractions")
        .text("tags", "worksheet");
    for (k, v) in fields {
        form = form.text(k.to_string(), v);
    }
    form.part("files", file("fractions.pdf", PDF, "application/pdf"))
}

/// Files under the resources prefix of the store.
fn stored_files(app: &TestApp) -> usize {
    let dir = app.state().config.data_dir.join("media").join("resources");
    walk(&dir)
}

fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk(&e.path())
            } else {
                1
            }
        })
        .sum()
}

async fn upload_edit_remix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.member("alice", Role::Member).await;
    let bob = app.member("bob", Role::Member).await;
    let (ta, tb) = (app.token(&alice).await, app.token(&bob).await);

    let (status, r) = create(&app, &ta, fractions("Fractions worksheet")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["licence"]["id"], "CC-BY-SA-4.0");
    assert_eq!(
        r["licence"]["url"],
        "https://creativecommons.org/licenses/by-sa/4.0/"
    );
    assert_eq!(r["state"], "published");
    assert_eq!(r["subjects"][0], "mathematics");
    assert_eq!(r["tags"], serde_json::json!(["fractions", "worksheet"]));
    assert_eq!(r["revision"], 1);
    let f = &r["files"][0];
    assert_eq!(f["content_type"], "application/pdf");
    assert_eq!(f["name"], "fractions.pdf");

    // Found in the library by a word, by filters, and not by others.
    let (_, list) = get(&app, None, &format!("{BASE}?q=fractions")).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (_, list) = get(
        &app,
        None,
        &format!("{BASE}?subject=mathematics&level=isced-2&licence=CC-BY-SA-4.0&language=fr"),
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (_, list) = get(&app, None, &format!("{BASE}?subject=history")).await;
    assert!(list.as_array().unwrap().is_empty());
    let (status, _) = get(&app, None, &format!("{BASE}?sort=sideways")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Download: the file itself, never ActivityPub, with safe headers; counted.
    let url = f["url"].as_str().unwrap();
    let r = app
        .api()
        .get(url)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    let (_, shown) = get(&app, None, &format!("{BASE}/{id}")).await;
    assert_eq!(shown["download_count"], 1);

    // An edit is a new revision; the diff names what changed.
    let form = Form::new()
        .text("title", "Fractions worksheet, year 7")
        .text(
            "description",
            "Exercises on **fractions**.\nWith solutions and a key.",
        )
        .text("note", "Year 7 version")
        .part("files", file("key.txt", b"1) 1/2\n2) 3/4\n", "text/plain"));
    let (status, r2) = send(
        &app,
        &ta,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id}"),
        form,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r2}");
    assert_eq!(r2["revision"], 2);
    assert_eq!(r2["files"].as_array().unwrap().len(), 2);
    assert_eq!(
        r2["licence"]["id"], "CC-BY-SA-4.0",
        "fields left out keep their value"
    );
    let (_, revs) = get(&app, None, &format!("{BASE}/{id}/revisions")).await;
    assert_eq!(revs.as_array().unwrap().len(), 2);
    assert_eq!(revs[0]["note"], "Year 7 version");
    let (_, d) = get(&app, None, &format!("{BASE}/{id}/diff?from=1&to=2")).await;
    assert_eq!(d["fields"][0]["field"], "title", "{d}");
    assert_eq!(d["fields"][0]["after"], "Fractions worksheet, year 7");
    assert!(
        d["description"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["op"] == "added" && l["text"] == "With solutions and a key."),
        "{d}"
    );
    assert_eq!(d["files"][0]["op"], "added");
    assert_eq!(d["files"][0]["name"], "key.txt");
    let (status, _) = get(&app, None, &format!("{BASE}/{id}/diff?from=1&to=9")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Only the owner and co-editors edit.
    let (status, _) = send(
        &app,
        &tb,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id}"),
        Form::new().text("title", "Mine now"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Remix: a draft of Bob's linked to its source, files copied, counted.
    let (status, remix) = send(
        &app,
        &tb,
        reqwest::Method::POST,
        &format!("{BASE}/{id}/remix"),
        Form::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{remix}");
    assert_eq!(remix["state"], "draft");
    assert_eq!(remix["owner"]["username"], "bob");
    assert_eq!(remix["derived_from"]["id"], id.as_str());
    assert!(
        remix["attribution"]
            .as_str()
            .unwrap()
            .contains("Based on “Fractions worksheet, year 7”")
    );
    assert_eq!(remix["files"].as_array().unwrap().len(), 2);
    let remix_id = remix["id"].as_str().unwrap().to_string();
    // A draft is its editors' only, and not yet a remix anyone sees.
    let (status, _) = get(&app, Some(&ta), &format!("{BASE}/{remix_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, src) = get(&app, None, &format!("{BASE}/{id}")).await;
    assert_eq!(src["remix_count"], 0, "a draft is not counted as used");
    let (status, _) = send(
        &app,
        &tb,
        reqwest::Method::POST,
        &format!("{BASE}/{remix_id}/publish"),
        Form::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, src) = get(&app, None, &format!("{BASE}/{id}")).await;
    assert_eq!(src["remix_count"], 1);
    let (_, remixes) = get(&app, None, &format!("{BASE}/{id}/remixes")).await;
    assert_eq!(remixes[0]["id"], remix_id.as_str());
    let (_, sorted) = get(&app, None, &format!("{BASE}?sort=remixes")).await;
    assert_eq!(sorted[0]["id"], id.as_str());
    // The source was downloaded once, the remix never; the remix is newer.
    let (_, sorted) = get(&app, None, &format!("{BASE}?sort=downloads")).await;
    assert_eq!(sorted[0]["id"], id.as_str(), "{sorted}");
    assert_eq!(sorted[1]["id"], remix_id.as_str(), "{sorted}");
    let (_, sorted) = get(&app, None, &format!("{BASE}?sort=newest")).await;
    assert_eq!(sorted[0]["id"], remix_id.as_str(), "{sorted}");
    assert_eq!(sorted[1]["id"], id.as_str(), "{sorted}");

    // No derivatives: remixing is refused with the reason.
    let nd = fractions_with("Exam paper", &[("licence", "CC-BY-ND-4.0".to_string())]);
    let (_, nd) = create(&app, &ta, nd).await;
    let nd_id = nd["id"].as_str().unwrap();
    // "Exam paper" has "worksheet" only as a tag, "solutions" only in its
    // description and "Moulin" only in its attribution: each word finds it.
    for word in ["worksheet", "solutions", "moulin"] {
        let (_, hits) = get(&app, None, &format!("{BASE}?q={word}")).await;
        assert!(
            hits.as_array().unwrap().iter().any(|h| h["id"] == nd_id),
            "{word}: {hits}"
        );
    }
    let (_, hits) = get(&app, None, &format!("{BASE}?q=volcanoes")).await;
    assert!(hits.as_array().unwrap().is_empty(), "{hits}");
    let (status, body) = send(
        &app,
        &tb,
        reqwest::Method::POST,
        &format!("{BASE}/{}/remix", nd["id"].as_str().unwrap()),
        Form::new(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"].as_str().unwrap().contains("CC BY-ND 4.0"),
        "{body}"
    );

    // Deleting takes the resource and its files away.
    let before = stored_files(&app);
    let r = app
        .api()
        .delete(app.url(&format!("{BASE}/{id}")))
        .bearer_auth(&ta)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, _) = get(&app, None, &format!("{BASE}/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(stored_files(&app), before - 2);
    let (_, remixed) = get(&app, None, &format!("{BASE}/{remix_id}")).await;
    assert_eq!(
        remixed["files"].as_array().unwrap().len(),
        2,
        "a remix keeps its own copies"
    );
    app.stop().await;
}
db_test!(upload_edit_remix);

async fn licences_and_visibility(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.member("alice", Role::Member).await;
    let bob = app.member("bob", Role::Member).await;
    let (ta, tb) = (app.token(&alice).await, app.token(&bob).await);

    let (status, body) = create(
        &app,
        &ta,
        fractions_with("GPL", &[("licence", "GPL-3.0".to_string())]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let msg = body["error"].as_str().unwrap();
    assert!(
        msg.contains("GPL-3.0") && msg.contains("CC-BY-4.0"),
        "{msg}"
    );
    let form = Form::new()
        .text("title", "No licence")
        .part("files", file("a.pdf", PDF, "application/pdf"));
    let (status, body) = create(&app, &ta, form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"].as_str().unwrap().contains("licence"),
        "{body}"
    );
    let (status, r) = create(
        &app,
        &ta,
        fractions_with(
            "By URI",
            &[(
                "licence",
                "https://creativecommons.org/publicdomain/zero/1.0/".to_string(),
            )],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["licence"]["id"], "CC0-1.0");
    let (status, r) = create(
        &app,
        &ta,
        fractions_with("Mine", &[("licence", "all rights reserved".to_string())]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["licence"]["id"], "all-rights-reserved");
    assert!(r["licence"]["url"].is_null());
    // The non-commercial licences: their deed, and remixing only without ND.
    for (id, url, remix) in [
        (
            "CC-BY-NC-SA-4.0",
            "https://creativecommons.org/licenses/by-nc-sa/4.0/",
            StatusCode::OK,
        ),
        (
            "CC-BY-NC-ND-4.0",
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("all-rights-reserved", "", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, r) = create(
            &app,
            &ta,
            fractions_with(id, &[("licence", id.to_string())]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["licence"]["id"], id);
        if !url.is_empty() {
            assert_eq!(r["licence"]["url"], url);
        }
        let (status, body) = send(
            &app,
            &tb,
            reqwest::Method::POST,
            &format!("{BASE}/{}/remix", r["id"].as_str().unwrap()),
            Form::new(),
        )
        .await;
        assert_eq!(status, remix, "{id}: {body}");
    }
    let (status, body) = create(
        &app,
        &ta,
        fractions_with("Bad subject", &[("subjects", "astrology".to_string())]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"].as_str().unwrap().contains("astrology"));

    // Members of the instance only.
    let (_, inst) = create(
        &app,
        &ta,
        fractions_with("Staff only", &[("visibility", "instance".to_string())]),
    )
    .await;
    let inst = inst["id"].as_str().unwrap().to_string();
    assert_eq!(
        get(&app, None, &format!("{BASE}/{inst}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, Some(&tb), &format!("{BASE}/{inst}")).await.0,
        StatusCode::OK
    );
    let (_, anon) = get(&app, None, &format!("{BASE}?q=staff")).await;
    assert!(anon.as_array().unwrap().is_empty());
    let (_, member) = get(&app, Some(&tb), &format!("{BASE}?q=staff")).await;
    assert_eq!(member.as_array().unwrap().len(), 1);

    // Group members only.
    let group = staffroom::domain::groups::create(
        app.state(),
        &alice,
        "maths",
        None,
        staffroom::domain::groups::GroupInput::default(),
    )
    .await
    .unwrap();
    let gid = group.id().to_string();
    let (status, g) = create(
        &app,
        &ta,
        fractions_with(
            "Group only",
            &[
                ("visibility", "group".to_string()),
                ("group_id", gid.clone()),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{g}");
    let gr = g["id"].as_str().unwrap().to_string();
    assert_eq!(g["group"]["username"], "maths");
    assert_eq!(
        get(&app, Some(&tb), &format!("{BASE}/{gr}")).await.0,
        StatusCode::NOT_FOUND
    );
    let join = app
        .api()
        .post(app.url(&format!("/api/v1/staffroom/groups/{gid}/join")))
        .bearer_auth(&tb)
        .send()
        .await
        .unwrap();
    assert!(join.status().is_success(), "{}", join.text().await.unwrap());
    assert_eq!(
        get(&app, Some(&tb), &format!("{BASE}/{gr}")).await.0,
        StatusCode::OK
    );
    let (_, list) = get(&app, Some(&tb), &format!("{BASE}?group_id={gid}")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _) = create(
        &app,
        &ta,
        fractions_with(
            "Group without group",
            &[("visibility", "group".to_string())],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Drafts: their editors only; co-editors may edit.
    let (_, d) = create(
        &app,
        &ta,
        fractions_with(
            "Draft",
            &[
                ("publish", "false".to_string()),
                ("editors", "bob".to_string()),
            ],
        ),
    )
    .await;
    let did = d["id"].as_str().unwrap().to_string();
    assert_eq!(
        get(&app, None, &format!("{BASE}/{did}")).await.0,
        StatusCode::NOT_FOUND
    );
    let carol = app.member("carol", Role::Member).await;
    let tc = app.token(&carol).await;
    assert_eq!(
        get(&app, Some(&tc), &format!("{BASE}/{did}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, e) = send(
        &app,
        &tb,
        reqwest::Method::PATCH,
        &format!("{BASE}/{did}"),
        Form::new().text("title", "Draft, improved"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["revision"], 2);
    let (_, mine) = get(&app, Some(&ta), &format!("{BASE}?mine=true")).await;
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == did.as_str())
    );
    app.stop().await;
}
db_test!(licences_and_visibility);

async fn bad_uploads(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.resources.max_file_bytes = 64 * 1024).await;
    let alice = app.member("alice", Role::Member).await;
    let ta = app.token(&alice).await;
    let form = |name: &str, bytes: &[u8], mime: &str| {
        Form::new()
            .text("title", "Bad")
            .text("licence", "CC-BY-4.0")
            .text("publish", "true")
            .part("files", file(name, bytes, mime))
    };
    let cases: Vec<(&str, Vec<u8>, &str, StatusCode, &str)> = vec![
        (
            "big.pdf",
            [PDF, &vec![b' '; 70 * 1024]].concat(),
            "application/pdf",
            StatusCode::PAYLOAD_TOO_LARGE,
            "too large",
        ),
        (
            "program.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec(),
            "application/pdf",
            StatusCode::UNPROCESSABLE_ENTITY,
            "program.pdf",
        ),
        (
            "notes.txt",
            PNG.to_vec(),
            "text/plain",
            StatusCode::UNPROCESSABLE_ENTITY,
            "really a PNG",
        ),
        (
            "empty.pdf",
            Vec::new(),
            "application/pdf",
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty",
        ),
        (
            "lesson.pdf",
            zip_bytes(),
            "application/pdf",
            StatusCode::UNPROCESSABLE_ENTITY,
            "really a ZIP",
        ),
        (
            "lesson.bin",
            zip_bytes(),
            "application/pdf",
            StatusCode::UNPROCESSABLE_ENTITY,
            "really a ZIP",
        ),
        (
            "../../../etc/passwd.pdf",
            PDF.to_vec(),
            "application/pdf",
            StatusCode::UNPROCESSABLE_ENTITY,
            "contains a path",
        ),
        (
            "..\\..\\boot.ini",
            b"[boot]\nx=1\n".to_vec(),
            "text/plain",
            StatusCode::UNPROCESSABLE_ENTITY,
            "contains a path",
        ),
    ];
    for (name, bytes, mime, expected, words) in cases {
        // A good file first: refusing the second must not keep the first.
        let f = form("good.pdf", PDF, "application/pdf").part("files", file(name, &bytes, mime));
        let (status, body) = create(&app, &ta, f).await;
        assert_eq!(status, expected, "{name}: {body}");
        let msg = body["error"].as_str().unwrap_or_default();
        assert!(msg.contains(words), "{name}: {msg}");
    }
    assert_eq!(stored_files(&app), 0, "nothing half-stored");
    let (_, mine) = get(&app, Some(&ta), &format!("{BASE}?mine=true")).await;
    assert!(mine.as_array().unwrap().is_empty(), "{mine}");

    // An image, a ZIP called what it is, and a preview.
    let (status, r) = create(&app, &ta, form("photo.png", PNG, "image/png")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["files"][0]["content_type"], "image/png");
    let preview = app
        .api()
        .get(format!(
            "{}?preview=1",
            r["files"][0]["url"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), StatusCode::OK, "{:?}", preview.headers());
    assert!(
        preview.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    let (status, r) = create(
        &app,
        &ta,
        form("package.zip", &zip_bytes(), "application/zip"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["files"][0]["content_type"], "application/zip");
    assert_eq!(stored_files(&app), 2);

    // A bad file in an edit refuses the whole edit: no new revision, no file.
    let id = r["id"].as_str().unwrap().to_string();
    let (status, body) = send(
        &app,
        &ta,
        reqwest::Method::PATCH,
        &format!("{BASE}/{id}"),
        Form::new()
            .text("title", "Renamed package")
            .part("files", file("extra.txt", b"fine\n", "text/plain"))
            .part("files", file("sheet.pdf", PNG, "application/pdf")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("really a PNG"),
        "{body}"
    );
    let (_, now) = get(&app, Some(&ta), &format!("{BASE}/{id}")).await;
    assert_eq!(now["revision"], 1, "{now}");
    assert_ne!(now["title"], "Renamed package");
    assert_eq!(now["files"].as_array().unwrap().len(), 1);
    assert_eq!(stored_files(&app), 2, "nothing half-stored by the edit");
    app.stop().await;
}
db_test!(bad_uploads);
