//! Groups across instances (FEP-1b12): a group on A with members on B, C
//! and a Mastodon-like peer; approval and the sub-group rule across
//! servers; a members-only group whose content never leaves its members.
//! Groups are created and moderated through Staffroom's JSON API
//! (`/api/v1/staffroom/groups`); people join by following, as from any
//! server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use federation_tests::{
    Api, Instance, User, marker,
    peer::{NoteSpec, Peer},
    settle, str_field, wait_for, with_content,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const GROUPS: &str = "/api/v1/staffroom/groups";

async fn create_group(api: &Api, username: &str, extra: Value) -> Value {
    let mut body = json!({ "username": username, "display_name": format!("{username} group") });
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    api.post(GROUPS, &body).await
}

/// `api`'s account id of the group `name@domain`, after resolving it.
async fn group_on(api: &Api, name: &str, home: &Instance) -> String {
    api.account_id_of(&format!("{name}@{}", home.domain()))
        .await
}

async fn wait_relationship(api: &Api, id: &str, key: &str, expected: bool, what: &str) {
    wait_for(what, async || {
        let r = api.relationship(id).await;
        if r[key] == expected {
            Ok(())
        } else {
            Err(r.to_string())
        }
    })
    .await;
}

async fn join(api: &Api, group_id: &str, what: &str) {
    api.follow(group_id).await;
    wait_relationship(api, group_id, "following", true, what).await;
}

async fn wait_home(api: &Api, needle: &str, who: &str) -> Value {
    wait_for(&format!("{who} sees {needle} at home"), async || {
        let home = api.home().await;
        with_content(&home, needle)
            .first()
            .map(|s| (*s).clone())
            .ok_or_else(|| format!("{} statuses", home.len()))
    })
    .await
}

async fn wait_gone(api: &Api, status_id: &str, what: &str) {
    wait_for(what, async || {
        let r = api.try_status(status_id).await;
        if r.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(r.status.to_string())
        }
    })
    .await;
}

fn id(v: &Value) -> String {
    str_field(v, "id").to_string()
}

/// A public group on A; members on B and C and on a Mastodon-like peer.
/// Posts and replies from anywhere reach every member through the group's
/// Announces; a moderator's removal reaches every copy; a banned member's
/// later posts are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_with_members_on_three_servers_and_mastodon() {
    let (a, b, c, peer) = tokio::join!(
        Instance::start("a"),
        Instance::start("b"),
        Instance::start("c"),
        Peer::start()
    );
    let (olga, bea, carl) = tokio::join!(
        a.create_user("olga"),
        b.create_user("bea"),
        c.create_user("carl")
    );
    let (olga_a, bea_b, carl_c) = (a.api(&olga), b.api(&bea), c.api(&carl));
    let pat = peer.add_user("pat").await;

    let group = create_group(&olga_a, "maths", json!({ "note": "Maths teachers" })).await;
    let group_a = id(&group);
    let group_actor = str_field(&group, "uri").to_string();

    let group_b = group_on(&bea_b, "maths", &a).await;
    let group_c = group_on(&carl_c, "maths", &a).await;
    assert_eq!(bea_b.account(&group_b).await["group"], true);
    join(&bea_b, &group_b, "bea joins the group").await;
    join(&carl_c, &group_c, "carl joins the group").await;
    let follow = peer.send_follow(&pat, &group_actor).await;
    follow.assert_accepted();
    peer.wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;
    let members: Value = olga_a.get(&format!("{GROUPS}/{group_a}")).await;
    assert_eq!(
        members["member_count"], 4,
        "olga, bea, carl and pat: {members}"
    );

    // Bea posts into the group from B.
    let text = marker("groupthread");
    let thread = bea_b
        .post_status_with(&json!({ "status": text, "group_id": group_b, "title": "Fractions" }))
        .await;
    let thread_uri = str_field(&thread, "uri").to_string();
    let on_c = wait_home(&carl_c, &text, "carl on C").await;
    assert!(
        on_c["reblog"].is_null(),
        "a member sees the post, not a boost: {on_c}"
    );
    assert_eq!(on_c["uri"], thread_uri.as_str());
    let on_a = wait_home(&olga_a, &text, "olga on A").await;
    // The peer gets the FEP-1b12 Announce and, for Mastodon, a boost.
    let wrapped = peer
        .wait_for_activity("Announce", |r| {
            r.object()["type"] == "Create" && r.object()["object"]["id"] == thread_uri.as_str()
        })
        .await;
    assert_eq!(wrapped.actor, group_actor);
    assert_eq!(wrapped.key_id, format!("{group_actor}#main-key"));
    peer.wait_for_activity("Announce", |r| r.object_id() == thread_uri)
        .await;

    // Carl replies on C; the reply lands in the thread everywhere.
    let reply_text = marker("groupreply");
    let reply = carl_c
        .reply(
            &id(&on_c),
            &reply_text,
            federation_tests::Visibility::Public,
        )
        .await;
    let reply_uri = str_field(&reply, "uri").to_string();
    let bea_thread = id(&thread);
    wait_for("carl's reply is under bea's post on B", async || {
        let ctx = bea_b.context(&bea_thread).await;
        ctx["descendants"]
            .as_array()
            .and_then(|d| d.iter().find(|s| s["uri"] == reply_uri.as_str()).cloned())
            .ok_or_else(|| ctx.to_string())
    })
    .await;
    peer.wait_for_activity("Announce", |r| {
        r.object()["type"] == "Create" && r.object()["object"]["id"] == reply_uri.as_str()
    })
    .await;

    // Pat first answers the thread privately, to olga alone (a direct
    // message that names the group): it is no post of the group's, so the
    // group neither lists it nor passes it on.
    let secret = marker("directreply");
    peer.send_note(
        &pat,
        NoteSpec::new(secret.clone(), federation_tests::Visibility::Direct)
            .reply_to(thread_uri.clone())
            .mention(olga.actor_id.clone())
            .mention(group_actor.clone()),
    )
    .await
    .assert_accepted();

    // Pat (Mastodon) replies, addressing the group as Mastodon's composer does.
    let pat_text = marker("mastodonreply");
    let pat_reply = peer
        .send_note(
            &pat,
            NoteSpec::public(pat_text.clone())
                .reply_to(thread_uri.clone())
                .mention(group_actor.clone()),
        )
        .await;
    pat_reply.assert_accepted();
    let on_c_id = id(&on_c);
    wait_for("pat's reply reaches C through the group", async || {
        let ctx = carl_c.context(&on_c_id).await;
        ctx["descendants"]
            .as_array()
            .and_then(|d| {
                d.iter()
                    .find(|s| str_field(s, "content").contains(&pat_text))
                    .cloned()
            })
            .ok_or_else(|| ctx.to_string())
    })
    .await;
    let ctx_c = carl_c.context(&on_c_id).await;
    assert!(
        !ctx_c.to_string().contains(&secret),
        "a direct answer is not relayed by the group: {ctx_c}"
    );
    assert!(
        peer.received_of_type("Announce")
            .iter()
            .all(|r| !r.object().to_string().contains(&secret)),
        "the group announced a direct message"
    );
    wait_for("olga has pat's direct answer", async || {
        let n = olga_a.notifications().await;
        n.iter()
            .any(|n| {
                n["status"]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains(&secret))
            })
            .then_some(())
            .ok_or_else(|| format!("{} notifications", n.len()))
    })
    .await;
    let listed: Value = olga_a.get(&format!("{GROUPS}/{group_a}/statuses")).await;
    assert!(
        !listed.to_string().contains(&secret),
        "the group page lists a direct message: {listed}"
    );
    let outsider_view = a
        .anonymous()
        .get(&format!("{GROUPS}/{group_a}/statuses"))
        .await;
    assert!(
        !outsider_view.to_string().contains(&secret),
        "the public group page lists a direct message"
    );

    // Olga (the owner) removes carl's reply: it disappears on A, B and C.
    let reply_on_a = wait_for("carl's reply is on A", async || {
        let ctx = olga_a.context(&id(&on_a)).await;
        ctx["descendants"]
            .as_array()
            .and_then(|d| d.iter().find(|s| s["uri"] == reply_uri.as_str()).cloned())
            .ok_or_else(|| ctx.to_string())
    })
    .await;
    let reply_on_b = wait_for("carl's reply is on B", async || {
        let ctx = bea_b.context(&bea_thread).await;
        ctx["descendants"]
            .as_array()
            .and_then(|d| d.iter().find(|s| s["uri"] == reply_uri.as_str()).cloned())
            .ok_or_else(|| ctx.to_string())
    })
    .await;
    olga_a
        .post(
            &format!("{GROUPS}/{group_a}/statuses/{}/remove", id(&reply_on_a)),
            &json!({ "reason": "off topic" }),
        )
        .await;
    wait_gone(&bea_b, &id(&reply_on_b), "the removed reply is gone on B").await;
    wait_gone(
        &carl_c,
        &id(&reply),
        "the removed reply is gone on C, its origin's copy",
    )
    .await;
    let log: Value = olga_a.get(&format!("{GROUPS}/{group_a}/log")).await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|l| l["action"] == "remove" && l["reason"] == "off topic"),
        "{log}"
    );

    // Carl is banned; his next reply is refused by the group and reaches no one.
    let carl_on_a = olga_a.account_id_of(&carl.acct).await;
    olga_a
        .post(
            &format!("{GROUPS}/{group_a}/bans"),
            &json!({ "account_id": carl_on_a, "reason": "spam" }),
        )
        .await;
    wait_relationship(
        &carl_c,
        &group_c,
        "following",
        false,
        "carl's membership ends on C",
    )
    .await;
    let late = marker("bannedreply");
    carl_c
        .reply(&on_c_id, &late, federation_tests::Visibility::Public)
        .await;
    // Bea's own later reply goes through the group, so the channel works
    // (C no longer has a member, so the group sends it to A's and the
    // peer's members only).
    let later = marker("laterreply");
    let later_reply = bea_b
        .reply(&bea_thread, &later, federation_tests::Visibility::Public)
        .await;
    let later_uri = str_field(&later_reply, "uri").to_string();
    wait_for("bea's later reply reaches A", async || {
        let ctx = olga_a.context(&id(&on_a)).await;
        if ctx.to_string().contains(&later) {
            Ok(())
        } else {
            Err(ctx.to_string())
        }
    })
    .await;
    peer.wait_for_activity("Announce", |r| {
        r.object()["type"] == "Create" && r.object()["object"]["id"] == later_uri.as_str()
    })
    .await;
    settle().await;
    let ctx_a = olga_a.context(&id(&on_a)).await;
    assert!(
        !ctx_a.to_string().contains(&late),
        "A refused the banned member's reply"
    );
    let ctx_b = bea_b.context(&bea_thread).await;
    assert!(!ctx_b.to_string().contains(&late), "B never got it");
}

/// Approval across servers, and the rule that a members-only sub-group is
/// for members of its parent: refused without it, ended when leaving it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_and_subgroup_rule_across_servers() {
    let (a, b, c) = tokio::join!(
        Instance::start("a"),
        Instance::start("b"),
        Instance::start("c")
    );
    let (olga, bea, carl) = tokio::join!(
        a.create_user("olga"),
        b.create_user("bea"),
        c.create_user("carl")
    );
    let (olga_a, bea_b, carl_c) = (a.api(&olga), b.api(&bea), c.api(&carl));
    let parent = create_group(&olga_a, "science", json!({ "join_policy": "approval" })).await;
    let parent_a = id(&parent);
    let sub = create_group(
        &olga_a,
        "science_wg",
        json!({ "parent_id": parent_a, "members_only": true }),
    )
    .await;
    assert_eq!(sub["parent_id"], parent_a.as_str());

    // Bea asks to join; olga approves.
    let parent_b = group_on(&bea_b, "science", &a).await;
    bea_b.follow(&parent_b).await;
    wait_relationship(
        &bea_b,
        &parent_b,
        "requested",
        true,
        "bea's request is pending",
    )
    .await;
    let bea_on_a = olga_a.account_id_of(&bea.acct).await;
    wait_for("bea's request reaches the group's moderators", async || {
        let requests: Value = olga_a.get(&format!("{GROUPS}/{parent_a}/requests")).await;
        if requests.to_string().contains(&bea_on_a) {
            Ok(())
        } else {
            Err(requests.to_string())
        }
    })
    .await;
    olga_a
        .post(
            &format!("{GROUPS}/{parent_a}/requests/{bea_on_a}/authorize"),
            &json!({}),
        )
        .await;
    wait_relationship(&bea_b, &parent_b, "following", true, "bea is a member").await;

    // Carl is not a member of the parent: the sub-group refuses him.
    let sub_c = group_on(&carl_c, "science_wg", &a).await;
    carl_c.follow(&sub_c).await;
    wait_for("carl's request to the sub-group is refused", async || {
        let r = carl_c.relationship(&sub_c).await;
        if r["following"] == false && r["requested"] == false {
            Ok(())
        } else {
            Err(r.to_string())
        }
    })
    .await;

    // Bea is: she joins; leaving the parent ends that membership too.
    let sub_b = group_on(&bea_b, "science_wg", &a).await;
    join(&bea_b, &sub_b, "bea joins the sub-group").await;
    bea_b.unfollow(&parent_b).await;
    wait_relationship(
        &bea_b,
        &sub_b,
        "following",
        false,
        "leaving the parent ends the sub-group membership on B",
    )
    .await;
    let sub_members: Value = olga_a.get(&format!("{GROUPS}/{}", id(&sub))).await;
    assert_eq!(
        sub_members["member_count"], 1,
        "only olga is left: {sub_members}"
    );
}

/// A members-only group on A with a member on B: what is posted in it goes
/// to member servers only, and only insiders can fetch it — not a follower
/// of the author on C, not the Mastodon peer, not C after its member left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_only_group_content_stays_with_members() {
    let (a, b, c, peer) = tokio::join!(
        Instance::start("a"),
        Instance::start("b"),
        Instance::start("c"),
        Peer::start()
    );
    let (olga, bea, carl, dan) = tokio::join!(
        a.create_user("olga"),
        b.create_user("bea"),
        c.create_user("carl"),
        c.create_user("dan")
    );
    let (olga_a, bea_b, carl_c, dan_c) = (a.api(&olga), b.api(&bea), c.api(&carl), c.api(&dan));
    let pat = peer.add_user("pat").await;
    let council = create_group(
        &olga_a,
        "council",
        json!({ "members_only": true, "join_policy": "approval" }),
    )
    .await;
    let council_a = id(&council);
    let approve = async |api: &Api, who: &User, home: &Instance| {
        let gid = group_on(api, "council", &a).await;
        api.follow(&gid).await;
        wait_relationship(api, &gid, "requested", true, "the request is pending").await;
        let on_a = olga_a.account_id_of(&who.acct).await;
        wait_for("the request reaches the council's moderators", async || {
            let requests: Value = olga_a.get(&format!("{GROUPS}/{council_a}/requests")).await;
            if requests.to_string().contains(&on_a) {
                Ok(())
            } else {
                Err(requests.to_string())
            }
        })
        .await;
        olga_a
            .post(
                &format!("{GROUPS}/{council_a}/requests/{on_a}/authorize"),
                &json!({}),
            )
            .await;
        wait_relationship(
            api,
            &gid,
            "following",
            true,
            &format!("{} is a member", home.name()),
        )
        .await;
        gid
    };
    let council_b = approve(&bea_b, &bea, &b).await;

    // Carl (C) and pat (peer) follow bea, but are not in the council.
    let bea_on_c = carl_c.account_id_of(&bea.acct).await;
    carl_c.follow(&bea_on_c).await;
    wait_relationship(&carl_c, &bea_on_c, "following", true, "carl follows bea").await;
    let follow = peer.send_follow(&pat, &bea.actor_id).await;
    peer.wait_for_activity("Accept", |r| r.object_id() == follow.id())
        .await;

    let secret = marker("councilsecret");
    let post = bea_b
        .post_status_with(&json!({ "status": secret, "group_id": council_b }))
        .await;
    assert_eq!(post["visibility"], "private");
    let post_uri = str_field(&post, "uri").to_string();
    let on_a = wait_home(&olga_a, &secret, "olga on A").await;
    assert_eq!(on_a["visibility"], "private");
    // A public post from bea at the same time does reach her followers.
    let open = marker("openpost");
    bea_b
        .post_status(&open, federation_tests::Visibility::Public)
        .await;
    wait_home(&carl_c, &open, "carl (a follower of bea)").await;
    peer.wait_for_activity("Create", |r| {
        str_field(r.object(), "content").contains(&open)
    })
    .await;
    settle().await;
    assert!(
        with_content(&carl_c.home().await, &secret).is_empty(),
        "carl never gets it"
    );
    assert!(
        !peer
            .received()
            .iter()
            .any(|r| r.activity.to_string().contains(&secret)),
        "the peer never gets it"
    );
    // Nor can they fetch it: B refuses C's and the peer's signed fetches.
    assert!(
        carl_c.try_resolve_status(&post_uri).await.is_none(),
        "C cannot fetch it"
    );
    assert!(
        peer.fetch(&post_uri).await.is_err(),
        "the peer cannot fetch it"
    );
    let anonymous = reqwest::Client::new()
        .get(&post_uri)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::NOT_FOUND);

    // Dan on C joins: C now gets the council's posts, verified at B through
    // the group's member list.
    let council_c = approve(&dan_c, &dan, &c).await;
    let second = marker("councilsecond");
    bea_b
        .post_status_with(&json!({ "status": second, "group_id": council_b }))
        .await;
    let on_c = wait_home(&dan_c, &second, "dan on C").await;
    assert_eq!(on_c["visibility"], "private");
    assert!(
        with_content(&carl_c.home().await, &second).is_empty(),
        "carl, on the same server but not a member, does not see it"
    );
    let on_c_id = id(&on_c);
    let carl_view = carl_c
        .request(
            Method::GET,
            &format!("/api/v1/statuses/{on_c_id}"),
            &[],
            None,
        )
        .await;
    assert_eq!(carl_view.status, StatusCode::NOT_FOUND);

    // Dan leaves: C is an outsider again, for new posts and for fetches.
    dan_c.unfollow(&council_c).await;
    wait_for("A no longer counts dan", async || {
        let g: Value = olga_a.get(&format!("{GROUPS}/{council_a}")).await;
        if g["member_count"] == 2 {
            Ok(())
        } else {
            Err(g["member_count"].to_string())
        }
    })
    .await;
    let third = marker("councilthird");
    let third_post = bea_b
        .post_status_with(&json!({ "status": third, "group_id": council_b }))
        .await;
    wait_home(&olga_a, &third, "olga on A").await;
    settle().await;
    assert!(
        with_content(&dan_c.home().await, &third).is_empty(),
        "dan left before it"
    );
    assert!(
        dan_c
            .try_resolve_status(str_field(&third_post, "uri"))
            .await
            .is_none(),
        "C cannot fetch it any more"
    );
}
