//! The command line contract, run as a real process: help texts, config
//! errors naming the key, account and token commands, `serve` with health,
//! readiness and metrics endpoints, and graceful shutdown on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_staffroom");

fn run(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("STAFFROOM__DATA_DIR", dir)
        .env("STAFFROOM__LOG__LEVEL", "warn")
        .env_remove("STAFFROOM__DATABASE__URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn help_and_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let help = run(dir.path(), &["--help"], &[]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for word in ["serve", "migrate", "admin", "--config"] {
        assert!(text.contains(word), "{word} missing from --help");
    }
    let sub = run(dir.path(), &["admin", "create-account", "--help"], &[]);
    let text = String::from_utf8_lossy(&sub.stdout);
    for word in ["--username", "--email", "--password", "--role"] {
        assert!(text.contains(word), "{word} missing");
    }
    for (args, words) in [
        (&["admin", "token", "--help"][..], &["--username"][..]),
        (&["serve", "--help"][..], &["--config"][..]),
        (&["migrate", "--help"][..], &["--config"][..]),
    ] {
        let o = run(dir.path(), args, &[]);
        assert!(o.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        for word in words {
            assert!(text.contains(word), "{args:?}: {word} missing: {text}");
        }
    }

    // Unknown key from the environment: stops, names the key, one line.
    let o = run(dir.path(), &["migrate"], &[("STAFFROOM__HTTP__BINDD", "x")]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("http.bindd"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    // A bad value.
    let o = run(
        dir.path(),
        &["migrate"],
        &[("STAFFROOM__INSTANCE__ROLE", "emperor")],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("instance.role"));
    let o = run(
        dir.path(),
        &["migrate"],
        &[("STAFFROOM__DATABASE__URL", "ftp://nope")],
    );
    assert!(stderr(&o).contains("database.url"));
    // An unreadable file.
    let o = run(
        dir.path(),
        &["--config", "/does/not/exist.toml", "migrate"],
        &[],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("/does/not/exist.toml"));
    // An unknown key in a file.
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[instance]\nnaem = \"typo\"\n").unwrap();
    let o = run(
        dir.path(),
        &["--config", file.to_str().unwrap(), "migrate"],
        &[],
    );
    assert!(stderr(&o).contains("instance.naem"), "{}", stderr(&o));
    // A bad subcommand argument.
    let o = run(
        dir.path(),
        &["admin", "create-account", "--username", "x"],
        &[],
    );
    assert!(!o.status.success());
}

#[test]
fn accounts_tokens_serve_and_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let domain = format!("localhost:{port}");
    let env = [
        ("STAFFROOM__HTTP__BIND", bind.as_str()),
        ("STAFFROOM__INSTANCE__DOMAIN", domain.as_str()),
        ("STAFFROOM__FEDERATION__ALLOW_INSECURE_LOOPBACK", "true"),
    ];
    let o = run(dir.path(), &["migrate"], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        dir.path().join("staffroom.db").exists(),
        "SQLite file created in data_dir"
    );

    let o = run(
        dir.path(),
        &[
            "admin",
            "create-account",
            "--username",
            "admin",
            "--email",
            "admin@example.org",
            "--password",
            "a long password",
            "--role",
            "admin",
        ],
        &env,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The same again: a clear one-line error and a non-zero status.
    let o = run(
        dir.path(),
        &[
            "admin",
            "create-account",
            "--username",
            "admin",
            "--email",
            "x@example.org",
            "--password",
            "a long password",
        ],
        &env,
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("not available"), "{e}");
    let o = run(
        dir.path(),
        &[
            "admin",
            "create-account",
            "--username",
            "weak",
            "--email",
            "w@example.org",
            "--password",
            "short",
        ],
        &env,
    );
    assert!(stderr(&o).contains("at least"));
    let o = run(dir.path(), &["admin", "token", "--username", "ghost"], &env);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("ghost"));
    let o = run(dir.path(), &["admin", "token", "--username", "admin"], &env);
    assert!(o.status.success());
    let token = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        token.lines().count(),
        1,
        "only the token on stdout: {token:?}"
    );
    let token = token.trim().to_string();

    let mut child = Command::new(BIN)
        .arg("serve")
        .env("STAFFROOM__DATA_DIR", dir.path())
        .env("STAFFROOM__LOG__LEVEL", "info")
        .env("STAFFROOM__LOG__FORMAT", "json")
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://{bind}");
    let client = reqwest::blocking::Client::new();
    let start = Instant::now();
    while client.get(format!("{base}/healthz")).send().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .unwrap()
            .status(),
        200
    );
    let me: serde_json::Value = client
        .get(format!("{base}/api/v1/accounts/verify_credentials"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["url"], format!("http://{domain}/@admin"));
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("staffroom_http_requests_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("route=\"/api/v1/accounts/verify_credentials\""),
        "{metrics}"
    );
    assert!(metrics.contains("staffroom_http_request_duration_seconds_bucket"));

    // SIGTERM: a request in flight when the signal arrives still gets its
    // answer, then the server exits cleanly. The request's body is held back
    // until after the signal, so the handler is certainly running.
    use std::io::{Read, Write};
    let body = br#"{"client_name":"Late app","redirect_uris":"urn:ietf:wg:oauth:2.0:oob"}"#;
    let mut in_flight = std::net::TcpStream::connect(&bind).unwrap();
    in_flight
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    write!(
        in_flight,
        "POST /api/v1/apps HTTP/1.1\r\nHost: {domain}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    in_flight.write_all(&body[..10]).unwrap();
    in_flight.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server quit with a request in flight"
    );
    in_flight.write_all(&body[10..]).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("client_id"), "{answer}");
    // A new connection is no longer served.
    assert!(
        client.get(format!("{base}/healthz")).send().is_err(),
        "new requests are refused during shutdown"
    );
    let start = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no graceful shutdown"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit}");
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    let first = logs
        .lines()
        .find(|l| l.contains("listening"))
        .expect("start-up log line");
    let parsed: serde_json::Value = serde_json::from_str(first).expect("JSON logs");
    assert_eq!(parsed["level"], "INFO");
    assert!(logs.contains("shutting down"));
}

#[test]
fn portal_commands_explain_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &["admin", "portal", "join", "--portal", "portal.example"],
        &[],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a handle"), "{}", stderr(&o));
    let o = run(
        dir.path(),
        &["admin", "portal", "approve", "--domain", "a.example"],
        &[],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a portal"), "{}", stderr(&o));
    let portal = [("STAFFROOM__INSTANCE__ROLE", "portal")];
    for verb in ["approve", "suspend"] {
        let o = run(
            dir.path(),
            &["admin", "portal", verb, "--domain", "a.example"],
            &portal,
        );
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("no instance at a.example"),
            "{}",
            stderr(&o)
        );
    }
    // Portal mode without a portal is a configuration error naming the key.
    let o = run(
        dir.path(),
        &["migrate"],
        &[("STAFFROOM__FEDERATION__MODE", "portal")],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("federation.portal"), "{}", stderr(&o));
}
