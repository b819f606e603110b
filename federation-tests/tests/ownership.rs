//! Only an object's author changes it: an Update or Delete that another
//! actor sends (from the author's own server or from another) changes
//! nothing, whether the object is a remote note the instance stored or one of
//! its own posts; the author's own Update still applies, so the checks are
//! not simply refusing every Update.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Instance, Visibility, marker,
    peer::{NoteSpec, Peer, PeerUser},
    settle, str_field, wait_for,
};
use serde_json::{Value, json};

async fn send(peer: &Peer, from: &PeerUser, inbox: &str, kind: &str, object: Value) {
    let id = format!("{}/forged/{}", peer.base_url(), marker(kind));
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": kind,
        "actor": from.actor_id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": object,
    });
    let d = peer.send_raw(from, inbox, &activity).await;
    assert!(
        !d.status.is_server_error(),
        "{kind} from {}: {} {}",
        from.actor_id,
        d.status,
        d.response
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_deletes_of_others_objects_change_nothing() {
    let (a, peer, other) = tokio::join!(Instance::start("a"), Peer::start(), Peer::start());
    let alice = a.create_user("alice").await;
    let api = a.api(&alice);
    let (pat, mallory, eve) = tokio::join!(
        peer.add_user("pat"),
        peer.add_user("mallory"),
        other.add_user("eve")
    );
    let inbox = a.url("/inbox");

    // A note by pat, which A stores (it mentions alice), and one of alice's.
    let pats_text = marker("pat-original-");
    let sent = peer
        .send_note(
            &pat,
            NoteSpec::public(pats_text.clone()).mention(alice.actor_id.clone()),
        )
        .await;
    sent.assert_accepted();
    let pats_note = sent.object_id().to_string();
    let stored = wait_for("A stores pat's note", async || {
        api.try_resolve_status(&pats_note)
            .await
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    let alices_text = marker("alice-original-");
    let own = api.post_status(&alices_text, Visibility::Public).await;
    let alices_note = str_field(&own, "uri").to_string();
    let pats_doc = sent.activity["object"].clone();
    let alices_doc = peer.fetch(&alices_note).await.unwrap();
    let forged = |doc: &Value, text: &str| {
        let mut doc = doc.clone();
        doc.as_object_mut().unwrap().remove("@context");
        doc["content"] = json!(format!("<p>{text}</p>"));
        doc["contentMap"] = json!({ "en": format!("<p>{text}</p>") });
        doc["updated"] = json!(chrono::Utc::now().to_rfc3339());
        doc
    };

    // Forgeries: from the author's own server, from another server, and
    // against A's own post.
    send(
        &peer,
        &mallory,
        &inbox,
        "Update",
        forged(&pats_doc, "forged by mallory"),
    )
    .await;
    send(
        &other,
        &eve,
        &inbox,
        "Update",
        forged(&pats_doc, "forged by eve"),
    )
    .await;
    send(
        &peer,
        &mallory,
        &inbox,
        "Update",
        forged(&alices_doc, "forged alice"),
    )
    .await;
    send(&peer, &mallory, &inbox, "Delete", json!(pats_note)).await;
    send(&other, &eve, &inbox, "Delete", json!(pats_note)).await;
    send(&peer, &mallory, &inbox, "Delete", json!(alices_note)).await;
    settle().await;

    let pat_now = api.status(str_field(&stored, "id")).await;
    assert!(
        str_field(&pat_now, "content").contains(&pats_text),
        "{pat_now}"
    );
    assert!(pat_now["edited_at"].is_null(), "{pat_now}");
    let alice_now = api.status(str_field(&own, "id")).await;
    assert!(
        str_field(&alice_now, "content").contains(&alices_text),
        "{alice_now}"
    );
    assert!(alice_now["edited_at"].is_null(), "{alice_now}");

    // The author's own Update goes through.
    let edited = marker("pat-edited-");
    send(&peer, &pat, &inbox, "Update", forged(&pats_doc, &edited)).await;
    wait_for("pat's own edit applies", async || {
        let s = api.status(str_field(&stored, "id")).await;
        if str_field(&s, "content").contains(&edited) {
            Ok(())
        } else {
            Err(s.to_string())
        }
    })
    .await;
}
