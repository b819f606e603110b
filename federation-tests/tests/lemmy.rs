//! Lemmy communities, with Lemmy's own activities: the peer plays a Lemmy
//! server whose community is followed by a Staffroom member, and sends the
//! activities captured from Lemmy (`fixtures/lemmy`, rewritten to the
//! peer's host and signed by the peer's actors): a post and a comment
//! announced by the community, a moderator's lock, pin and removal, a
//! renamed community, and a ban.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Instance, marker,
    peer::{Peer, PeerUser},
    settle, str_field, wait_for, with_content,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A captured Lemmy document with its hosts and actors moved to the peer.
struct Lemmy<'a> {
    peer: &'a Peer,
    community: &'a PeerUser,
    alpha: &'a PeerUser,
    beta: &'a PeerUser,
}

impl Lemmy<'_> {
    fn load(&self, name: &str) -> Value {
        let path = format!("{}/fixtures/lemmy/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for host in [
            "enterprise.lemmy.ml",
            "ds9.lemmy.ml",
            "lemmy-alpha:8541",
            "lemmy-alpha",
        ] {
            for scheme in ["http", "https"] {
                let origin = format!("{scheme}://{host}");
                for (path, actor) in [
                    (
                        "/c/main/featured",
                        format!("{}/collections/featured", self.community.actor_id),
                    ),
                    (
                        "/c/main/moderators",
                        format!("{}/moderators", self.community.actor_id),
                    ),
                    ("/c/main/followers", self.community.followers.clone()),
                    ("/c/main", self.community.actor_id.clone()),
                    ("/u/main", self.community.actor_id.clone()),
                    ("/u/lemmy_alpha", self.alpha.actor_id.clone()),
                    ("/u/lemmy_aplha", self.alpha.actor_id.clone()),
                    ("/u/lemmy_beta", self.beta.actor_id.clone()),
                ] {
                    text = text.replace(&format!("\"{origin}{path}\""), &format!("\"{actor}\""));
                }
                text = text.replace(&origin, self.peer.base_url());
            }
        }
        serde_json::from_str(&text).unwrap()
    }

    /// The fixture with a fresh id (and object id when `fresh_object`), so
    /// that one capture can be sent more than once.
    fn fresh(&self, name: &str) -> Value {
        let mut v = self.load(name);
        v["id"] = json!(format!(
            "{}/activities/{}",
            self.peer.base_url(),
            marker("a")
        ));
        v
    }

    /// Wrap an activity in the community's Announce, as Lemmy distributes it.
    fn announce(&self, inner: Value) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/announce/{}", self.peer.base_url(), marker("an")),
            "type": "Announce",
            "actor": self.community.actor_id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [self.community.followers],
            "object": inner,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staffroom_member_in_a_lemmy_community() {
    let (a, peer) = tokio::join!(Instance::start("a"), Peer::start());
    let olga = a.create_user("olga").await;
    let api = a.api(&olga);
    let community = peer.add_group("main").await;
    let alpha = peer.add_user("lemmy_alpha").await;
    let beta = peer.add_user("lemmy_beta").await;
    let lemmy = Lemmy {
        peer: &peer,
        community: &community,
        alpha: &alpha,
        beta: &beta,
    };
    let inbox = a.url("/inbox");

    // Olga finds the community (a Group account) and joins it.
    let group = api.resolve_account(&community.acct).await;
    assert_eq!(
        group["group"], true,
        "a community is a group account: {group}"
    );
    let group_id = str_field(&group, "id").to_string();
    api.follow(&group_id).await;
    wait_for("olga's membership is accepted", async || {
        let r = api.relationship(&group_id).await;
        if r["following"] == true {
            Ok(())
        } else {
            Err(r.to_string())
        }
    })
    .await;
    assert!(
        peer.followers_of(&community).contains(&olga.actor_id),
        "the community lists olga as a follower"
    );

    // A post (Page) by lemmy_beta, announced by the community.
    let post_text = marker("lemmypost");
    let mut create_page = lemmy.load("announce_create_page.json")["object"].clone();
    create_page["object"]["content"] = json!(format!("<p>{post_text}</p>"));
    create_page["object"]["audience"] = json!(community.actor_id);
    let page = create_page["object"].clone();
    let page_id = str_field(&page, "id").to_string();
    peer.serve(page.clone());
    peer.send_raw(&community, &inbox, &lemmy.announce(create_page))
        .await
        .assert_accepted();
    let seen = wait_for("the community's post reaches olga's home", async || {
        let home = api.home().await;
        with_content(&home, &post_text)
            .first()
            .map(|s| (*s).clone())
            .ok_or_else(|| format!("{} statuses", home.len()))
    })
    .await;
    assert_eq!(seen["uri"], page_id);
    assert!(
        seen["reblog"].is_null(),
        "group distribution, not a boost: {seen}"
    );
    let post_id = str_field(&seen, "id").to_string();

    // A comment (Note) by lemmy_alpha on that post, also announced.
    let comment_text = marker("lemmycomment");
    let mut create_comment = lemmy.load("create_comment.json");
    create_comment["object"]["inReplyTo"] = json!(page_id);
    create_comment["object"]["content"] = json!(format!("<p>{comment_text}</p>"));
    let comment = create_comment["object"].clone();
    let comment_id = str_field(&comment, "id").to_string();
    peer.serve(comment);
    peer.send_raw(&community, &inbox, &lemmy.announce(create_comment))
        .await
        .assert_accepted();
    let local_comment = wait_for("the comment is threaded under the post", async || {
        let ctx = api.context(&post_id).await;
        ctx["descendants"]
            .as_array()
            .and_then(|d| d.iter().find(|s| s["uri"] == comment_id.as_str()).cloned())
            .ok_or_else(|| ctx.to_string())
    })
    .await;
    assert!(str_field(&local_comment, "content").contains(&comment_text));
    let comment_local_id = str_field(&local_comment, "id").to_string();

    // Olga replies; the reply goes to the community too.
    let reply = api
        .post_status_with(
            &json!({ "status": "Thanks for the worksheet", "in_reply_to_id": post_id }),
        )
        .await;
    let reply_uri = str_field(&reply, "uri").to_string();
    let to_group = peer
        .wait_for_activity("Create", |r| r.object_id() == reply_uri)
        .await;
    assert_eq!(to_group.object()["audience"], community.actor_id.as_str());

    // The moderator locks the post: olga can no longer reply.
    let mut lock = lemmy.fresh("lock_page.json");
    lock["object"] = json!(page_id);
    peer.send_raw(&community, &inbox, &lemmy.announce(lock))
        .await
        .assert_accepted();
    wait_for("the locked thread refuses olga's reply", async || {
        let r = api
            .request(
                Method::POST,
                "/api/v1/statuses",
                &[],
                Some(&json!({ "status": "one more", "in_reply_to_id": post_id })),
            )
            .await;
        if r.status == StatusCode::FORBIDDEN {
            Ok(())
        } else {
            Err(format!("{} {}", r.status, r.text))
        }
    })
    .await;

    // The moderator removes the comment (Lemmy's Delete with a reason).
    let mut remove = lemmy.fresh("remove_note.json");
    remove["object"] = json!(comment_id);
    peer.send_raw(&community, &inbox, &lemmy.announce(remove))
        .await
        .assert_accepted();
    wait_for("the removed comment is gone on A", async || {
        let r = api.try_status(&comment_local_id).await;
        if r.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(r.status.to_string())
        }
    })
    .await;

    // The community is renamed (Update by a moderator, announced).
    peer.update_actor(&community, json!({ "name": "The Updated Community" }));
    let mut update = lemmy.fresh("update_community.json");
    update["object"]["id"] = json!(community.actor_id);
    peer.send_raw(&community, &inbox, &lemmy.announce(update))
        .await
        .assert_accepted();
    wait_for("the new name shows on A", async || {
        let g = api.account(&group_id).await;
        if g["display_name"] == "The Updated Community" {
            Ok(())
        } else {
            Err(g["display_name"].to_string())
        }
    })
    .await;

    // Olga is banned from the community: her membership ends here.
    let mut ban = lemmy.fresh("block_user.json");
    ban["object"] = json!(olga.actor_id);
    ban["target"] = json!(community.actor_id);
    peer.send_raw(&community, &inbox, &lemmy.announce(ban))
        .await
        .assert_accepted();
    wait_for("olga no longer follows the community", async || {
        let r = api.relationship(&group_id).await;
        if r["following"] == false {
            Ok(())
        } else {
            Err(r.to_string())
        }
    })
    .await;

    // A forged removal: the community's Announce of a Delete of a post that
    // is not in it changes nothing.
    let outsider = peer.add_user("outsider").await;
    let other = peer
        .send_note(
            &outsider,
            federation_tests::peer::NoteSpec::public(marker("unrelated"))
                .mention(olga.actor_id.clone()),
        )
        .await;
    let other_uri = other.object_id().to_string();
    let local_other = wait_for("the unrelated mention arrives", async || {
        api.notifications()
            .await
            .into_iter()
            .find(|n| n["status"]["uri"] == other_uri.as_str())
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    // The community first claims it (an Announce of its Create): a post that
    // neither addresses the community nor answers one of its threads does
    // not become the community's.
    let mut claim = lemmy.fresh("create_page.json");
    claim["object"] = json!(other_uri);
    peer.send_raw(&community, &inbox, &lemmy.announce(claim))
        .await
        .assert_accepted();
    let mut forged = lemmy.fresh("remove_note.json");
    forged["object"] = json!(other_uri);
    peer.send_raw(&community, &inbox, &lemmy.announce(forged))
        .await;
    settle().await;
    let still = api
        .try_status(str_field(&local_other["status"], "id"))
        .await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "a group cannot remove what is not in it"
    );
}
