//! Test harness for federation between real Staffroom processes.
//!
//! Each [`Instance`] is a `staffroom serve` child process on its own loopback
//! port, with its own data directory and database, named `localhost:PORT`
//! (activitypub_federation refuses bare IP hosts). Accounts and tokens come
//! from the `staffroom admin` command line, and [`Api`] speaks the
//! Mastodon-compatible client API. [`peer::Peer`] is an in-process server that
//! behaves like a Mastodon instance on the wire, for interoperability and
//! signature tests that a second Staffroom could not exercise (it would share
//! our own bugs).
//!
//! The binary under test is not built by this crate: it is taken from
//! `STAFFROOM_BIN`, or `<workspace>/target/debug/staffroom` (what
//! `cargo build -p staffroom` and `cargo test --workspace` produce).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod instance;
pub mod peer;
mod wait;

pub use api::{Api, Reply, Visibility};
pub use instance::{Instance, InstanceBuilder, PASSWORD, User, staffroom_binary};
pub use wait::{Attempt, WAIT, settle, wait_for, wait_until};

use serde_json::Value;

/// A port that was free a moment ago. The listener is dropped before the
/// server binds it, which leaves a small race window; tests tolerate it
/// because each machine runs few of them at once.
pub fn free_port() -> u16 {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local address").port()
}

/// A marker unlikely to appear by accident, so assertions on content cannot
/// match leftovers from another post.
pub fn marker(label: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{label}{n}x{nanos:x}")
}

/// The statuses in `list` whose HTML content contains `needle`.
pub fn with_content<'a>(list: &'a [Value], needle: &str) -> Vec<&'a Value> {
    list.iter()
        .filter(|s| str_field(s, "content").contains(needle))
        .collect()
}

/// A string field, or "" when absent or not a string; keeps assertions short.
pub fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The `acct` values of a list of accounts (or of the `account` inside
/// notifications and statuses).
pub fn accts(list: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = list
        .iter()
        .map(|v| {
            let account = v.get("account").unwrap_or(v);
            str_field(account, "acct").to_string()
        })
        .collect();
    out.sort();
    out
}
