//! `staffroom-bench`: starts a real `staffroom serve` (release build unless
//! told otherwise) and synthetic ActivityPub peers on loopback, drives one of
//! the twelve scenarios of issue 9 at it, and prints a table of throughput,
//! latency percentiles and server memory (also written as JSON under
//! `target/bench/`). Figures are measurements, not tests: only errors (a
//! set-up that fails, a server that dies) make the exit status non-zero,
//! never a missed target. See BENCHMARKS.md.
//!
//! The harness reads the binary and the database from the environment
//! (`STAFFROOM_BIN`, `STAFFROOM_TEST_POSTGRES_URL`), and this crate forbids
//! `unsafe` (which `set_var` needs), so the tool re-executes itself once with
//! the environment the chosen options call for.

mod load;
mod peers;
mod report;
mod scenarios;
mod server;

use anyhow::{Context, Result, bail};
use std::{path::PathBuf, process::Command};

const USAGE: &str = "usage: staffroom-bench SCENARIO... [--backend sqlite|postgres] [--smoke]

SCENARIO is a number (1-12), a name, or `all`:
  1 ingest  2 duplicates  3 cold-keys  4 fanout  5 shared-inbox  6 drain
  7 hung  8 backlog  9 crash  10 reads  11 memory  12 oversized

The server binary is STAFFROOM_BIN, else target/release/staffroom (built
with `cargo build --release -p staffroom` first). PostgreSQL needs
STAFFROOM_TEST_POSTGRES_URL (a database is created per run and dropped).";

struct Options {
    scenarios: Vec<String>,
    backend: String,
    smoke: bool,
}

fn parse_args() -> Result<Options> {
    let mut opts = Options {
        scenarios: Vec::new(),
        backend: "sqlite".into(),
        smoke: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => opts.smoke = true,
            "--backend" => opts.backend = args.next().context("--backend needs a value")?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            s if s.starts_with("--") => bail!("unknown option {s}\n{USAGE}"),
            s => opts.scenarios.push(s.to_string()),
        }
    }
    if !["sqlite", "postgres"].contains(&opts.backend.as_str()) {
        bail!("--backend is sqlite or postgres, not {}", opts.backend);
    }
    if opts.scenarios.is_empty() {
        bail!("{USAGE}");
    }
    if opts.scenarios.iter().any(|s| s == "all") {
        opts.scenarios = scenarios::ALL.iter().map(|s| s.to_string()).collect();
    }
    Ok(opts)
}

fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The server binary: STAFFROOM_BIN, else a release build made now.
fn server_binary() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("STAFFROOM_BIN").filter(|b| !b.is_empty()) {
        return Ok(PathBuf::from(bin));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "staffroom",
            "--bin",
            "staffroom",
        ])
        .current_dir(workspace_dir())
        .status()
        .context("run cargo build for the server")?;
    if !status.success() {
        bail!("building the staffroom release binary failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target"));
    Ok(target.join("release").join("staffroom"))
}

/// Runs this program again with the environment the options need.
fn reexec(opts: &Options) -> Result<i32> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(std::env::args_os().skip(1))
        .env("STAFFROOM_BENCH_CHILD", "1")
        .env("STAFFROOM_BIN", server_binary()?);
    if opts.backend == "postgres" {
        match std::env::var("STAFFROOM_TEST_POSTGRES_URL") {
            Ok(u) if !u.is_empty() => {}
            _ => {
                println!(
                    "skipped: --backend postgres needs STAFFROOM_TEST_POSTGRES_URL \
                     (e.g. postgres://postgres@127.0.0.1:5432/postgres)"
                );
                return Ok(0);
            }
        }
    } else {
        cmd.env_remove("STAFFROOM_TEST_POSTGRES_URL");
    }
    let status = cmd.status().context("re-run the bench")?;
    Ok(status.code().unwrap_or(1))
}

#[tokio::main]
async fn main() -> Result<()> {
    let opts = parse_args()?;
    if std::env::var_os("STAFFROOM_BENCH_CHILD").is_none() {
        std::process::exit(reexec(&opts)?);
    }
    let ctx = scenarios::Ctx {
        smoke: opts.smoke,
        backend: opts.backend.clone(),
    };
    let mut failed = Vec::new();
    for name in &opts.scenarios {
        match scenarios::run(name, &ctx).await {
            Ok(report) => {
                report.print();
                match report.save() {
                    Ok(path) => println!("  json: {}", path.display()),
                    Err(e) => println!("  could not write the JSON report: {e:#}"),
                }
            }
            Err(e) => {
                println!("\n== {name} FAILED: {e:#}");
                failed.push(name.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!("scenarios failed: {}", failed.join(", "));
    }
    Ok(())
}
