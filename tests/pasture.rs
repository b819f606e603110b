//! Conformance check by software nobody here wrote: fediverse-pasture's
//! `verify_actor` (PyPI) fetches one of our actors with six test actors of its
//! own (unsigned and signed fetches, actors that demand signed fetches, actors
//! without `preferredUsername`) and posts a signed and an unsigned activity to
//! the inbox; it also checks the WebFinger round trip.
//!
//! Needs a Python with `fediverse-pasture` (see `common::python_with`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use std::{
    process::Command,
    time::{Duration, Instant},
};

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fediverse_pasture_verify_actor() {
    let Some(py) = common::python_with("fediverse_pasture.verify_actor", "fediverse-pasture")
    else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.member("teacher", staffroom::domain::accounts::Role::Member)
        .await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(dir.path().join("pasture.log")).unwrap();
    let _pasture = Child(
        Command::new(&py)
            .args([
                "-m",
                "fediverse_pasture.verify_actor",
                "--port",
                &port.to_string(),
                "--domain",
                &format!("localhost:{port}"),
            ])
            .current_dir(dir.path())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start verify_actor"),
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let start = Instant::now();
    while client
        .get(format!("http://localhost:{port}/"))
        .send()
        .await
        .is_err()
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "verify_actor did not start"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let handle = format!("teacher@{}", app.state().urls.domain());
    let r = client
        .get(format!("http://localhost:{port}/"))
        .query(&[("actor_uri", handle.as_str())])
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let report: serde_json::Value = r.json().await.unwrap();
    let result = &report["result"];
    eprintln!(
        "fediverse-pasture verify_actor reported:\n{}",
        serde_json::to_string_pretty(result).unwrap()
    );
    let log = std::fs::read_to_string(dir.path().join("pasture.log")).unwrap_or_default();
    let context = format!(
        "{}\n--- messages ---\n{}\n--- log tail ---\n{}",
        result,
        report["messages"].as_str().unwrap_or(""),
        log.lines().rev().take(40).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(result["webfinger"], true, "WebFinger round trip\n{context}");
    // Everyone may read the actor, whether they sign or not.
    for name in ["alice", "bob", "claire", "dean", "emily", "frank"] {
        assert_eq!(
            result[name]["get_actor"], true,
            "{name} could not fetch the actor\n{context}"
        );
    }
    // Signed posts are taken; unsigned ones refused.
    for name in ["bob", "claire", "emily", "frank"] {
        assert_eq!(
            result[name]["post_inbox"], true,
            "{name}'s signed post was refused\n{context}"
        );
    }
    for name in ["alice", "dean"] {
        assert_eq!(
            result[name]["post_inbox"], false,
            "{name}'s unsigned post was accepted\n{context}"
        );
    }
    app.stop().await;
}
