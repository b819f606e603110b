//! schemathesis (PyPI), a property-based API tester nobody here wrote, reads
//! `/api/openapi.json` and throws generated requests (valid and invalid) at
//! every operation it describes, with an admin token. Every check it has must
//! pass: no 500s, responses, status codes and headers as documented, invalid
//! input refused, valid input accepted, authentication not ignored.
//!
//! Needs a Python with `schemathesis` (see `common::python_with`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp, python_with};
use staffroom::domain::accounts::Role;
use std::process::Command;

/// Fixed so that a failure reproduces; bounded so that CI stays quick.
const SEED: &str = "20261123";
const MAX_EXAMPLES: &str = "40";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing() {
    let Some(py) = python_with("schemathesis", "schemathesis") else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.member("director", Role::Admin).await;
    app.member("colleague", Role::Member).await;
    let token = app.token(&admin).await;
    let schema = app.url("/api/openapi.json");
    let doc: serde_json::Value = reqwest::get(&schema).await.unwrap().json().await.unwrap();
    let operations = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().keys())
        .filter(|m| {
            ["get", "put", "post", "delete", "patch", "head", "options"].contains(&m.as_str())
        })
        .count();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(py)
            .args([
                "-c",
                "import sys; from schemathesis.cli import schemathesis; \
                 sys.argv[0] = 'schemathesis'; sys.exit(schemathesis())",
                "run",
                &schema,
                "--header",
                &format!("Authorization: Bearer {token}"),
                "--checks",
                "all",
                "--max-examples",
                MAX_EXAMPLES,
                "--seed",
                SEED,
                // One worker: hypothesis's lambda-source cache is not
                // thread-safe and fails at random with two.
                "--workers",
                "1",
                "--no-color",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{stderr}"
    );
    // It really ran every operation (a schema it could not read runs none).
    let tested = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Tested: "))
        .unwrap_or_default()
        .to_string();
    eprintln!("schemathesis tested {tested} of {operations} operations");
    assert_eq!(
        tested.parse::<usize>().ok(),
        Some(operations),
        "every documented operation must be tested, got {tested:?}:\n{stdout}"
    );
    app.stop().await;
}
