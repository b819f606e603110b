//! Every ActivityPub document captured from other servers under
//! `../shared/fixtures/activitypub` goes through the same parsers the inbox
//! and the fetcher use: activities we support pass the inbox's shape check and
//! their embedded posts and actors parse; standalone actors and posts parse;
//! everything else is refused with an error, never a panic. Skipped (with a
//! message) when the fixtures folder is not next to the checkout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use staffroom::federation::{
    actors::{ACTOR_TYPES, Person},
    inbox::check_shape,
    objects::{Note, POST_TYPES},
    protocol::type_of,
};
use std::path::{Path, PathBuf};

fn fixtures_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/activitypub");
    dir.is_dir().then_some(dir)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// Documents we deliberately do not take in (types outside what Staffroom
/// understands). Events (Invite) arrive with that feature.
const REFUSED: &[&str] = &[
    "pleroma/objects/chat_message.json",
    "lemmy/activities/create_or_update/create_private_message_0.19.json",
    "friendica/activities/dislike_page.json",
    "lemmy/activities/voting/dislike_page.json",
    "from-mobilizon-tests/mobilizon-invite-activity.json",
    "lemmy/activities/community/resolve_report_page.json",
    "lemmy/objects/tombstone.json",
    "lotide/objects/tombstone.json",
    "lemmy/activities/community/warn.json",
];

#[derive(Debug, PartialEq)]
enum Outcome {
    Accepted,
    Parsed,
    Refused(String),
    NotActivityPub,
}

fn classify(json: &Value) -> Outcome {
    let Some(kind) = type_of(json) else {
        return Outcome::NotActivityPub;
    };
    if kind.contains("Collection") {
        return Outcome::NotActivityPub;
    }
    if ACTOR_TYPES.contains(&kind.as_str()) {
        return match serde_json::from_value::<Person>(json.clone()) {
            Ok(p) => {
                assert!(!p.public_key.public_key_pem.is_empty(), "actor without key");
                Outcome::Parsed
            }
            Err(e) => Outcome::Refused(format!("actor: {e}")),
        };
    }
    if POST_TYPES.contains(&kind.as_str()) {
        return match serde_json::from_value::<Note>(json.clone()) {
            Ok(n) if n.author_id().is_some() => Outcome::Parsed,
            Ok(_) => Outcome::Refused("post without author".into()),
            Err(e) => Outcome::Refused(format!("post: {e}")),
        };
    }
    match check_shape(json.clone()) {
        Ok(envelope) => {
            let object = envelope
                .json()
                .get("object")
                .cloned()
                .unwrap_or(Value::Null);
            let inner = type_of(&object);
            if matches!(envelope.kind(), "Create" | "Update" | "Announce")
                && let Some(t) = inner.as_deref()
            {
                if POST_TYPES.contains(&t) {
                    if let Err(e) = serde_json::from_value::<Note>(object.clone()) {
                        return Outcome::Refused(format!("embedded post: {e}"));
                    }
                } else if ACTOR_TYPES.contains(&t)
                    && let Err(e) = serde_json::from_value::<Person>(object.clone())
                {
                    return Outcome::Refused(format!("embedded actor: {e}"));
                }
            }
            Outcome::Accepted
        }
        Err(e) => Outcome::Refused(e.to_string()),
    }
}

#[test]
fn every_fixture_parses_or_is_refused_cleanly() {
    let Some(dir) = fixtures_dir() else {
        eprintln!("skipped: ../shared/fixtures/activitypub is not next to the checkout");
        return;
    };
    let mut files = Vec::new();
    walk(&dir, &mut files);
    files.sort();
    assert!(
        files.len() > 150,
        "expected the full fixture set, found {}",
        files.len()
    );
    let mut wrong = Vec::new();
    let (mut accepted, mut parsed, mut refused, mut other) = (0, 0, 0, 0);
    for file in &files {
        let rel = file
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(file).unwrap();
        let json: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: not JSON: {e}"));
        // Never a panic, whatever the document.
        let outcome = std::panic::catch_unwind(|| classify(&json))
            .unwrap_or_else(|_| panic!("{rel}: parser panicked"));
        let should_refuse = REFUSED.contains(&rel.as_str());
        match (&outcome, should_refuse) {
            (Outcome::Refused(_), true) => refused += 1,
            (Outcome::Refused(e), false) => wrong.push(format!("{rel}: refused: {e}")),
            (_, true) => wrong.push(format!("{rel}: expected a refusal, got {outcome:?}")),
            (Outcome::Accepted, false) => accepted += 1,
            (Outcome::Parsed, false) => parsed += 1,
            (Outcome::NotActivityPub, false) => other += 1,
        }
    }
    assert!(
        wrong.is_empty(),
        "{} fixtures handled wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    eprintln!(
        "fixtures: {accepted} activities accepted, {parsed} objects parsed, {refused} refused, {other} not ActivityPub documents"
    );
    assert!(
        accepted >= 80 && parsed >= 55,
        "accepted {accepted}, parsed {parsed}"
    );
}

#[test]
fn a_spoofed_object_fails_origin_checks() {
    let Some(dir) = fixtures_dir() else {
        eprintln!("skipped: fixtures not available");
        return;
    };
    // The object's id is on one host, its author on another.
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.join("from-mobilizon-tests/https__info.pleroma.site_activity.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let note: Note = serde_json::from_value(json).unwrap();
    let author = note.author_id().unwrap();
    assert!(!staffroom::federation::protocol::same_origin(
        &note.id, &author
    ));
}

#[test]
fn synthetic_shapes_not_in_the_fixtures() {
    // A poll, `tag` as a single object, `sensitive` as a string, `as:Public`,
    // contentMap without content, several keys: all must parse.
    let question = serde_json::json!({
        "id": "https://x.example/q/1", "type": "Question", "attributedTo": "https://x.example/users/a",
        "to": "as:Public", "content": "Which day?", "oneOf": [{"type": "Note", "name": "Monday"}],
        "tag": {"type": "Hashtag", "name": "#maths"}, "sensitive": "false"
    });
    let n: Note = serde_json::from_value(question).unwrap();
    assert_eq!(n.to, vec!["as:Public"]);
    assert_eq!(n.tag.len(), 1);
    assert_eq!(n.sensitive, None);
    let map_only = serde_json::json!({
        "id": "https://x.example/n/1", "type": "Note", "attributedTo": {"type": "Person", "id": "https://x.example/users/a"},
        "contentMap": {"de": "Hallo"}
    });
    let n: Note = serde_json::from_value(map_only).unwrap();
    assert_eq!(n.body().as_deref(), Some("Hallo"));
    assert_eq!(n.language().as_deref(), Some("de"));
    let multi_key = serde_json::json!({
        "id": "https://x.example/users/a", "type": "Person", "inbox": "https://x.example/users/a/inbox",
        "publicKey": [{"id": "https://x.example/users/a#main-key", "owner": "https://x.example/users/a", "publicKeyPem": "PEM"}]
    });
    let p: Person = serde_json::from_value(multi_key).unwrap();
    assert_eq!(p.public_key.public_key_pem, "PEM");
    // Garbage is refused, not a panic.
    for bad in [
        serde_json::json!({}),
        serde_json::json!({"type": "Create"}),
        serde_json::json!([1, 2]),
        serde_json::json!({"id": "x", "type": "Follow", "actor": 5}),
    ] {
        assert!(check_shape(bad).is_err());
    }
}
