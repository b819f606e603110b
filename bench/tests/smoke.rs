//! Keeps the bench tool working: every scenario in smoke mode (tiny sizes)
//! against the debug server, on SQLite and, when STAFFROOM_TEST_POSTGRES_URL
//! is set, PostgreSQL. The run fails on any error (a set-up that does not
//! complete, a server that dies); missed targets are expected at these sizes
//! and in debug builds, so they are printed, not asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{path::PathBuf, process::Command};

/// STAFFROOM_BIN, else target/debug/staffroom, built if missing (as after
/// `cargo test -p staffroom-bench` on a fresh checkout).
fn debug_server() -> PathBuf {
    if let Some(bin) = std::env::var_os("STAFFROOM_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let bin = target.join("debug").join("staffroom");
    if bin.is_file() {
        // `cargo test --workspace` has just built it with the server's tests.
        return bin;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-p", "staffroom", "--bin", "staffroom"])
        .current_dir(&workspace)
        .status()
        .expect("run cargo build -p staffroom");
    assert!(status.success(), "cargo build -p staffroom failed");
    bin
}

fn run(backend: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_staffroom-bench"))
        .args(["all", "--smoke", "--backend", backend])
        .env("STAFFROOM_BIN", debug_server())
        .output()
        .expect("run staffroom-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "staffroom-bench failed on {backend}");
    for n in 1..=12 {
        assert!(
            stdout.contains(&format!("\n== {n}-")),
            "scenario {n} printed no report on {backend}"
        );
    }
}

/// One test, so the two backends do not run at once on a small machine
/// (about 80 s each against the debug server).
#[test]
fn every_scenario_runs_in_smoke_mode() {
    run("sqlite");
    match std::env::var("STAFFROOM_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => run("postgres"),
        _ => {
            // Under CI nothing is skipped: the PostgreSQL run is required.
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !ci,
                "CI must run the PostgreSQL smoke: set STAFFROOM_TEST_POSTGRES_URL"
            );
            eprintln!("skipped: STAFFROOM_TEST_POSTGRES_URL is not set")
        }
    }
}
