//! Image previews of resource files: a large image is shown (and listed in
//! the API as `preview_url`) as a reduced copy made once and kept; a small
//! one is its own preview; other files have none; previews do not count as
//! downloads and leave the store with their resource.
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
const SMALL_PNG: &[u8] = include_bytes!("../src/http/web/static/avatar.png");
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A 1600 × 1200 photo-like PNG (a gradient, so it compresses like one).
fn large_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1600, 1200, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = Vec::new();
    image::DynamicImage::from(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn part(name: &str, bytes: &[u8], mime: &str) -> Part {
    Part::bytes(bytes.to_vec())
        .file_name(name.to_string())
        .mime_str(mime)
        .unwrap()
}

fn stored(app: &TestApp) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), out);
            } else {
                out.push(e.path().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &app.state().config.data_dir.join("media").join("resources"),
        &mut out,
    );
    out.sort();
    out
}

async fn fetch(app: &TestApp, url: &str) -> reqwest::Response {
    app.api().get(url).send().await.unwrap()
}

async fn large_images_are_previewed_by_a_kept_reduced_copy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.member("alice", Role::Member).await;
    let token = app.token(&alice).await;
    let big = large_png();
    let form = Form::new()
        .text("title", "Map of Europe")
        .text("licence", "CC-BY-4.0")
        .text("publish", "true")
        .part("files", part("europe.png", &big, "image/png"))
        .part("files", part("key.png", SMALL_PNG, "image/png"))
        .part("files", part("notes.pdf", PDF, "application/pdf"));
    let r = app
        .api()
        .post(app.url(BASE))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let resource: Value = r.json().await.unwrap();
    let files = resource["files"].as_array().unwrap();
    let [large, small, pdf] = [&files[0], &files[1], &files[2]];
    assert_eq!(
        (large["width"].as_i64(), large["height"].as_i64()),
        (Some(1600), Some(1200))
    );
    assert!(pdf["preview_url"].is_null(), "{pdf}");
    let before = stored(&app);
    assert_eq!(before.len(), 3, "{before:?}");

    // The large image: a JPEG at most 640 pixels wide, shown inline.
    let url = large["preview_url"].as_str().unwrap();
    let first = fetch(&app, url).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["content-type"], "image/jpeg");
    assert!(
        first.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline"),
        "{:?}",
        first.headers()
    );
    assert_eq!(first.headers()["x-content-type-options"], "nosniff");
    let bytes = first.bytes().await.unwrap();
    let size = imagesize::blob_size(&bytes).unwrap();
    assert_eq!((size.width, size.height), (640, 480));
    assert!(
        bytes.len() < big.len() / 4,
        "{} of {}",
        bytes.len(),
        big.len()
    );

    // Made once: kept in the store and served again from there.
    let after = stored(&app);
    assert_eq!(after.len(), 4, "{after:?}");
    assert!(after.iter().any(|p| p.ends_with(".preview")), "{after:?}");
    assert_eq!(fetch(&app, url).await.bytes().await.unwrap(), bytes);
    assert_eq!(stored(&app).len(), 4);

    // The small image is its own preview; the download is the original.
    let shown = fetch(&app, small["preview_url"].as_str().unwrap()).await;
    assert_eq!(shown.headers()["content-type"], "image/png");
    assert_eq!(shown.bytes().await.unwrap().as_ref(), SMALL_PNG);
    let original = fetch(&app, large["url"].as_str().unwrap()).await;
    assert_eq!(original.headers()["content-type"], "image/png");
    assert!(
        original.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(original.bytes().await.unwrap().as_ref(), big.as_slice());

    // A document asked for as a preview is still a download.
    let doc = fetch(&app, &format!("{}?preview=1", pdf["url"].as_str().unwrap())).await;
    assert!(
        doc.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );

    // Previews are not downloads: only the original counted.
    let id = resource["id"].as_str().unwrap();
    let shown: Value = app
        .api()
        .get(app.url(&format!("{BASE}/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["download_count"], 1, "{shown}");

    // The library page shows the preview, not the original.
    let page = app
        .api()
        .get(app.url(&format!("/resources/{id}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .replace("&#x2f;", "/");
    let path = url.strip_prefix(app.base.as_str()).unwrap();
    assert!(page.contains(&format!("src=\"{path}\"")), "{page}");

    // Deleting the resource takes the preview with the files.
    let gone = app
        .api()
        .delete(app.url(&format!("{BASE}/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(gone.status().is_success(), "{}", gone.status());
    assert!(stored(&app).is_empty(), "{:?}", stored(&app));
    app.stop().await;
}
db_test!(large_images_are_previewed_by_a_kept_reduced_copy);

/// Post attachments: Mastodon apps show `preview_url` in timelines, so a
/// large image's is its reduced copy, sized in `meta.small`.
async fn post_media_have_reduced_previews(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.member("alice", Role::Member).await;
    let token = app.token(&alice).await;
    let upload = |bytes: Vec<u8>| {
        let app = &app;
        let token = &token;
        async move {
            let form = Form::new()
                .part("file", part("photo.png", &bytes, "image/png"))
                .text("description", "Seed trays on the windowsill");
            let r = app
                .api()
                .post(app.url("/api/v2/media"))
                .bearer_auth(token)
                .multipart(form)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            r.json::<Value>().await.unwrap()
        }
    };
    let big = upload(large_png()).await;
    let url = big["url"].as_str().unwrap();
    let preview_url = big["preview_url"].as_str().unwrap();
    assert_eq!(preview_url, format!("{url}?preview=1"));
    assert_eq!(big["meta"]["original"]["width"], 1600);
    assert_eq!(big["meta"]["small"]["width"], 640);
    assert_eq!(big["meta"]["small"]["height"], 480);
    let shown = fetch(&app, preview_url).await;
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(shown.headers()["content-type"], "image/jpeg");
    let size = imagesize::blob_size(&shown.bytes().await.unwrap()).unwrap();
    assert_eq!((size.width, size.height), (640, 480));
    let original = fetch(&app, url).await.bytes().await.unwrap();
    assert_eq!(imagesize::blob_size(&original).unwrap().width, 1600);

    let small = upload(SMALL_PNG.to_vec()).await;
    assert_eq!(small["preview_url"], small["url"]);
    assert_eq!(small["meta"]["small"], small["meta"]["original"]);
    app.stop().await;
}
db_test!(post_media_have_reduced_previews);
