//! Files kept in S3-compatible storage (`storage.backend = "s3"`), checked
//! against an S3 server no one here wrote: moto's (PyPI `moto[server]`),
//! started on a loopback port. A resource's file goes into the bucket, not
//! the data dir, and comes back byte for byte; a file gone from the bucket
//! is a clean 404.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp, python_with};
use reqwest::{
    StatusCode,
    multipart::{Form, Part},
};
use serde_json::Value;
use staffroom::{config::StorageBackend, domain::accounts::Role};
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const BUCKET: &str = "staffroom-test";

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// moto's S3 server on a free port, with our bucket created.
async fn start_moto(py: &str) -> (Moto, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(py)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto.server");
    let moto = Moto(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if client.get(&endpoint).send().await.is_ok() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "moto did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let made = client
        .put(format!("{endpoint}/{BUCKET}"))
        .send()
        .await
        .unwrap();
    assert!(
        made.status().is_success(),
        "create bucket: {}",
        made.status()
    );
    (moto, endpoint)
}

/// The keys of the objects in the bucket (S3 ListObjectsV2, unsigned: moto
/// accepts it).
async fn bucket_keys(endpoint: &str) -> Vec<String> {
    let xml = reqwest::get(format!("{endpoint}/{BUCKET}?list-type=2"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_files_live_in_the_bucket() {
    let Some(py) = python_with("moto.server", "moto[server]") else {
        return;
    };
    let (_moto, endpoint) = start_moto(&py).await;
    let ep = endpoint.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, move |c| {
        c.storage.backend = StorageBackend::S3;
        c.storage.s3_bucket = BUCKET.into();
        c.storage.s3_region = "us-east-1".into();
        c.storage.s3_endpoint = ep;
        c.storage.s3_access_key_id = "testing".into();
        c.storage.s3_secret_access_key = "testing".into();
        c.storage.s3_allow_http = true;
    })
    .await;
    let alice = app.member("alice", Role::Member).await;
    let token = app.token(&alice).await;
    assert!(bucket_keys(&endpoint).await.is_empty());

    let form = Form::new()
        .text("title", "Fractions worksheet")
        .text("licence", "CC-BY-4.0")
        .text("subjects", "mathematics")
        .text("publish", "true")
        .part(
            "files",
            Part::bytes(PDF.to_vec())
                .file_name("fractions.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = app
        .api()
        .post(app.url("/api/v1/staffroom/resources"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let resource: Value = r.json().await.unwrap();
    let keys = bucket_keys(&endpoint).await;
    assert_eq!(keys.len(), 1, "one object in the bucket: {keys:?}");
    assert!(keys[0].starts_with("resources/"), "{keys:?}");
    let media_dir = app.state().config.data_dir.join("media").join("resources");
    assert!(
        !media_dir.exists() || std::fs::read_dir(&media_dir).unwrap().next().is_none(),
        "nothing written to the data dir"
    );

    // Downloading reads it back from the bucket.
    let url = resource["files"][0]["url"].as_str().unwrap();
    let got = app.api().get(url).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().as_ref(), PDF);

    // A file that is gone from the bucket is a 404, not a 500.
    reqwest::Client::new()
        .delete(format!("{endpoint}/{BUCKET}/{}", keys[0]))
        .send()
        .await
        .unwrap();
    let gone = app.api().get(url).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
