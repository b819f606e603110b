//! What a hostile server may send. HTML delivered through the real inbox
//! with a valid signature: scripts, event handlers, `javascript:` links,
//! frames and styles must be gone by the time the post and the author's profile
//! reach a member's client, while ordinary formatting, links and mentions
//! survive. Reply chains that loop or never end must stop being followed
//! without losing the reply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{Instance, marker, peer::PUBLIC, peer::Peer, str_field, wait_for};
use serde_json::json;

/// What no sanitised HTML may contain.
const FORBIDDEN: [&str; 10] = [
    "<script",
    "alert(",
    "onerror",
    "onclick",
    "javascript:",
    "<iframe",
    "<style",
    "display:none",
    "<form",
    "style=",
];

fn assert_clean(what: &str, html: &str) {
    let lower = html.to_lowercase();
    for bad in FORBIDDEN {
        assert!(!lower.contains(bad), "{what} still holds {bad:?}: {html}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_html_is_sanitised_on_arrival() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);
    let mallory = peer
        .add_actor(
            "mallory",
            "Person",
            json!({
                "name": "Mallory",
                "summary": "<p>Teaches <b>chemistry</b><img src=x onerror=\"alert(4)\"></p><script>alert(5)</script>",
            }),
        )
        .await;

    let m = marker("hostile");
    let note_id = format!("{}/statuses/{m}", mallory.actor_id);
    let content = format!(
        concat!(
            "<p><span class=\"h-card\"><a href=\"{alice}\" class=\"u-url mention\">@<span>alice</span></a></span> {m} ",
            "<script>alert(1)</script><img src=\"x\" onerror=\"alert(2)\">",
            "<a href=\"javascript:alert(3)\">tricky</a> ",
            "<a href=\"https://ok.example/lesson\" onclick=\"alert(6)\" style=\"color:red\">safe link</a>",
            "<iframe src=\"https://evil.example/\"></iframe><style>body{{display:none}}</style>",
            "<form action=\"https://evil.example/\"><input name=\"p\"></form>",
            "<strong>bold</strong> <em>kept</em></p>"
        ),
        alice = alice.actor_id,
        m = m,
    );
    let note = json!({
        "id": note_id,
        "type": "Note",
        "attributedTo": mallory.actor_id,
        "content": content,
        "summary": "Spoiler<script>alert(7)</script>",
        "to": [PUBLIC],
        "cc": [alice.actor_id],
        "tag": [{"type": "Mention", "href": alice.actor_id, "name": format!("@{}", alice.acct)}],
        "published": chrono::Utc::now().to_rfc3339(),
        "url": note_id,
    });
    let mut create = peer.activity(&mallory, "Create", format!("{note_id}/activity"), note);
    create["to"] = json!([PUBLIC]);
    create["cc"] = json!([alice.actor_id]);
    peer.send_raw(&mallory, &format!("{}/inbox", alice.actor_id), &create)
        .await
        .assert_accepted();

    let mention = wait_for("alice is told of mallory's mention", async || {
        let list = alice_a.notifications_of("mention").await;
        list.into_iter()
            .find(|n| str_field(&n["status"], "content").contains(&m))
            .ok_or_else(|| "no mention yet".to_string())
    })
    .await;
    let status = &mention["status"];
    let html = str_field(status, "content");
    assert_clean("the post", html);
    for kept in [
        "https://ok.example/lesson",
        "safe link",
        "<strong>bold</strong>",
        "<em>kept</em>",
        "tricky",
    ] {
        assert!(html.contains(kept), "{kept:?} lost: {html}");
    }
    assert_clean("the content warning", str_field(status, "spoiler_text"));
    assert!(str_field(status, "spoiler_text").starts_with("Spoiler"));
    assert_eq!(
        status["mentions"][0]["acct"], alice.username,
        "the mention survives: {status}"
    );

    let author = &mention["account"];
    assert_clean("the profile", str_field(author, "note"));
    assert!(
        str_field(author, "note").contains("<b>chemistry</b>"),
        "{author}"
    );
}

/// A note by `author` on the peer, public, replying to `parent`.
fn reply_note(author: &str, id: &str, text: &str, parent: &str) -> serde_json::Value {
    json!({
        "id": id,
        "type": "Note",
        "attributedTo": author,
        "content": format!("<p>{text}</p>"),
        "inReplyTo": parent,
        "to": [PUBLIC],
        "published": chrono::Utc::now().to_rfc3339(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_cycles_and_endless_chains_end() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let alice = a.create_user("alice").await;
    let alice_a = a.api(&alice);
    let pat = peer.add_user("pat").await;
    let mention =
        json!([{"type": "Mention", "href": alice.actor_id, "name": format!("@{}", alice.acct)}]);
    let send = async |note: serde_json::Value| {
        let id = note["id"].as_str().unwrap().to_string();
        let mut create = peer.activity(&pat, "Create", format!("{id}/activity"), note);
        create["to"] = json!([PUBLIC]);
        create["cc"] = json!([alice.actor_id]);
        peer.send_raw(&pat, &format!("{}/inbox", alice.actor_id), &create)
            .await
            .assert_accepted();
    };
    let mentioned = async |needle: &str| {
        wait_for(&format!("alice is told of {needle}"), async || {
            let list = alice_a.notifications_of("mention").await;
            list.into_iter()
                .find(|n| str_field(&n["status"], "content").contains(needle))
                .ok_or_else(|| "not yet".to_string())
        })
        .await
    };

    // Two notes that answer each other: fetching parents must stop.
    let (x, y) = (
        format!("{}/statuses/cycle-x", pat.actor_id),
        format!("{}/statuses/cycle-y", pat.actor_id),
    );
    let cycle_m = marker("cycle");
    peer.serve(reply_note(&pat.actor_id, &y, "the other half", &x));
    let mut x_note = reply_note(&pat.actor_id, &x, &format!("@alice {cycle_m}"), &y);
    x_note["cc"] = json!([alice.actor_id]);
    x_note["tag"] = mention.clone();
    peer.serve(x_note.clone());
    send(x_note).await;
    let got = mentioned(&cycle_m).await;
    assert_eq!(got["status"]["uri"], x);

    // A chain far longer than any real thread: the reply still arrives.
    let chain: Vec<String> = (0..60)
        .map(|i| format!("{}/statuses/chain-{i}", pat.actor_id))
        .collect();
    peer.serve(json!({
        "id": chain[0], "type": "Note", "attributedTo": pat.actor_id,
        "content": "<p>the root</p>", "to": [PUBLIC],
        "published": chrono::Utc::now().to_rfc3339(),
    }));
    for i in 1..59 {
        peer.serve(reply_note(
            &pat.actor_id,
            &chain[i],
            &format!("link {i}"),
            &chain[i - 1],
        ));
    }
    let chain_m = marker("chain");
    let mut leaf = reply_note(
        &pat.actor_id,
        &chain[59],
        &format!("@alice {chain_m}"),
        &chain[58],
    );
    leaf["cc"] = json!([alice.actor_id]);
    leaf["tag"] = mention;
    peer.serve(leaf.clone());
    send(leaf).await;
    let got = mentioned(&chain_m).await;
    assert_eq!(got["status"]["uri"], chain[59]);
    // The server went on answering throughout.
    let instance = reqwest::get(a.url("/api/v1/instance")).await.unwrap();
    assert!(instance.status().is_success());
}
