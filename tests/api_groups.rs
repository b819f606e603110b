//! The groups JSON API on one instance: the directory and its filters,
//! creating and configuring groups and sub-groups, joining under each
//! policy, invitations, roles, the group's posts, moderation, bans and the
//! log, and the clear errors bad requests get.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use staffroom::domain::accounts::Role;

const GROUPS: &str = "/api/v1/staffroom/groups";

struct Caller<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl Caller<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.app.api().request(method, self.app.url(path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// A successful call's body; anything else fails the test.
    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method.clone(), path, body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {v}");
        v
    }
}

fn error_of(v: &Value) -> &str {
    v["error"].as_str().unwrap_or_default()
}

async fn groups_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (olga, bea, carl) = (
        app.member("olga", Role::Member).await,
        app.member("bea", Role::Member).await,
        app.member("carl", Role::Member).await,
    );
    let olga = Caller {
        app: &app,
        token: Some(app.token(&olga).await),
    };
    let bea_id = bea.actor.id.to_string();
    let carl_id = carl.actor.id.to_string();
    let bea = Caller {
        app: &app,
        token: Some(app.token(&bea).await),
    };
    let carl = Caller {
        app: &app,
        token: Some(app.token(&carl).await),
    };
    let anon = Caller {
        app: &app,
        token: None,
    };

    // Creating: the creator owns it; bad values are refused clearly.
    let maths = olga
        .ok(
            Method::POST,
            GROUPS,
            Some(json!({
                "username": "maths", "display_name": "Maths teachers",
                "note": "For **maths** teachers", "subjects": ["Mathematics"],
                "languages": ["en"], "join_policy": "open"
            })),
        )
        .await;
    let maths_id = maths["id"].as_str().unwrap().to_string();
    assert_eq!(maths["member_count"], 1);
    assert_eq!(maths["relationship"]["role"], "owner");
    assert!(
        maths["note"]
            .as_str()
            .unwrap()
            .contains("<strong>maths</strong>")
    );
    let (status, v) = olga.post(GROUPS, json!({ "username": "maths" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let (status, v) = olga.post(GROUPS, json!({ "username": "two words" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(!error_of(&v).is_empty());
    let (status, v) = olga
        .post(
            GROUPS,
            json!({ "username": "x", "join_policy": "sometimes" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (status, v) = olga
        .post(GROUPS, json!({ "username": "x", "languages": ["English"] }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (status, _) = anon.post(GROUPS, json!({ "username": "x" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A members-only, approval sub-group, created by the parent's owner only.
    let (status, v) = bea
        .post(
            GROUPS,
            json!({ "username": "algebra", "parent_id": maths_id, "members_only": true }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let algebra = olga
        .ok(
            Method::POST,
            GROUPS,
            Some(json!({
                "username": "algebra", "parent_id": maths_id,
                "members_only": true, "join_policy": "approval"
            })),
        )
        .await;
    let algebra_id = algebra["id"].as_str().unwrap().to_string();
    assert_eq!(algebra["parent_id"], maths_id.as_str());

    // The directory: top-level groups, filters, and "mine".
    let (_, list) = anon.get(GROUPS).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["maths"]);
    let (_, list) = anon
        .get(&format!("{GROUPS}?subject=Mathematics&language=en"))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = anon.get(&format!("{GROUPS}?q=physics")).await;
    assert_eq!(list.as_array().unwrap().len(), 0);
    let (_, list) = anon.get(&format!("{GROUPS}?all=true")).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (_, subs) = olga.get(&format!("{GROUPS}/{maths_id}/subgroups")).await;
    assert_eq!(subs.as_array().unwrap().len(), 1);
    let (_, subs) = anon.get(&format!("{GROUPS}/{maths_id}/subgroups")).await;
    assert_eq!(
        subs.as_array().unwrap().len(),
        0,
        "a members-only sub-group is listed to its members only"
    );

    // Joining: open at once; the sub-group refuses outsiders of its parent.
    let (status, v) = carl
        .post(&format!("{GROUPS}/{algebra_id}/join"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert!(error_of(&v).contains("Maths teachers"), "{v}");
    let joined = bea
        .ok(Method::POST, &format!("{GROUPS}/{maths_id}/join"), None)
        .await;
    assert_eq!(joined["relationship"]["role"], "member");
    assert_eq!(joined["member_count"], 2);
    let asked = bea
        .ok(Method::POST, &format!("{GROUPS}/{algebra_id}/join"), None)
        .await;
    assert_eq!(asked["relationship"]["requested"], true);
    let (_, requests) = olga.get(&format!("{GROUPS}/{algebra_id}/requests")).await;
    assert_eq!(requests[0]["id"], bea_id.as_str());
    let (status, _) = bea.get(&format!("{GROUPS}/{algebra_id}/requests")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    olga.ok(
        Method::POST,
        &format!("{GROUPS}/{algebra_id}/requests/{bea_id}/authorize"),
        None,
    )
    .await;
    let (_, v) = bea.get(&format!("{GROUPS}/{algebra_id}")).await;
    assert_eq!(v["relationship"]["role"], "member");

    // Members-only content: bea posts; carl and anonymous callers cannot read.
    let post = bea
        .ok(
            Method::POST,
            "/api/v1/statuses",
            Some(json!({ "status": "Algebra plan", "group_id": algebra_id, "title": "Plan" })),
        )
        .await;
    assert_eq!(post["visibility"], "private");
    let post_id = post["id"].as_str().unwrap().to_string();
    let (_, posts) = olga.get(&format!("{GROUPS}/{algebra_id}/statuses")).await;
    assert_eq!(posts[0]["id"], post_id.as_str());
    let (_, threads) = olga
        .get(&format!("{GROUPS}/{algebra_id}/statuses?only=discussions"))
        .await;
    assert_eq!(threads.as_array().unwrap().len(), 1);
    let (status, v) = olga
        .get(&format!("{GROUPS}/{algebra_id}/statuses?only=everything"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    for outsider in [&carl, &anon] {
        let (status, _) = outsider
            .get(&format!("{GROUPS}/{algebra_id}/statuses"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = outsider.get(&format!("/api/v1/statuses/{post_id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = carl.get(&format!("{GROUPS}/{algebra_id}/members")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, members) = bea.get(&format!("{GROUPS}/{algebra_id}/members")).await;
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["account"]["username"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(roles.contains(&("olga", "owner")) && roles.contains(&("bea", "member")));

    // Roles: owners only; the last owner cannot leave.
    let (status, _) = bea
        .post(
            &format!("{GROUPS}/{maths_id}/members/{bea_id}/role"),
            json!({ "role": "moderator" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    olga.ok(
        Method::POST,
        &format!("{GROUPS}/{maths_id}/members/{bea_id}/role"),
        Some(json!({ "role": "moderator" })),
    )
    .await;
    let (status, v) = olga
        .post(&format!("{GROUPS}/{maths_id}/leave"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let (status, _) = olga
        .post(
            &format!("{GROUPS}/{maths_id}/members/{carl_id}/role"),
            json!({ "role": "moderator" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "carl is not a member");

    // Settings: moderators change them; the document says so.
    let changed = bea
        .ok(
            Method::PATCH,
            &format!("{GROUPS}/{maths_id}"),
            Some(json!({ "join_policy": "invite", "posting_policy": "moderators" })),
        )
        .await;
    assert_eq!(changed["join_policy"], "invite");
    assert_eq!(changed["posting_policy"], "moderators");
    let (status, _) = carl
        .call(
            Method::PATCH,
            &format!("{GROUPS}/{maths_id}"),
            Some(json!({ "display_name": "Mine" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Invitation only: carl cannot join until invited by handle.
    let (status, v) = carl
        .post(&format!("{GROUPS}/{maths_id}/join"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, _) = olga
        .post(
            &format!("{GROUPS}/{maths_id}/invite"),
            json!({ "account": "nobody" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    olga.ok(
        Method::POST,
        &format!("{GROUPS}/{maths_id}/invite"),
        Some(json!({ "account": "carl" })),
    )
    .await;
    let (_, invitations) = carl.get(&format!("{GROUPS}/invitations")).await;
    assert_eq!(invitations[0]["group"]["id"], maths_id.as_str());
    let joined = carl
        .ok(Method::POST, &format!("{GROUPS}/{maths_id}/join"), None)
        .await;
    assert_eq!(joined["relationship"]["role"], "member");
    let (_, invitations) = carl.get(&format!("{GROUPS}/invitations")).await;
    assert_eq!(invitations.as_array().unwrap().len(), 0, "used up");

    // Posting policy: only moderators start threads now; members reply.
    let (status, v) = carl
        .post(
            "/api/v1/statuses",
            json!({ "status": "My thread", "group_id": maths_id }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let thread = bea
        .ok(
            Method::POST,
            "/api/v1/statuses",
            Some(json!({ "status": "Welcome", "group_id": maths_id })),
        )
        .await;
    let thread_id = thread["id"].as_str().unwrap().to_string();
    let reply = carl
        .ok(
            Method::POST,
            "/api/v1/statuses",
            Some(json!({ "status": "Spam spam", "in_reply_to_id": thread_id })),
        )
        .await;
    let reply_id = reply["id"].as_str().unwrap().to_string();

    // Moderation: pin, lock, remove, ban; all in the log.
    for action in ["pin", "lock"] {
        bea.ok(
            Method::POST,
            &format!("{GROUPS}/{maths_id}/statuses/{thread_id}/{action}"),
            None,
        )
        .await;
    }
    let (_, pinned) = anon.get(&format!("{GROUPS}/{maths_id}/pinned")).await;
    assert_eq!(pinned[0]["id"], thread_id.as_str());
    let (status, v) = carl
        .post(
            "/api/v1/statuses",
            json!({ "status": "Late", "in_reply_to_id": thread_id }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "locked: {v}");
    let (status, _) = carl
        .post(
            &format!("{GROUPS}/{maths_id}/statuses/{thread_id}/unlock"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = bea
        .post(
            &format!("{GROUPS}/{maths_id}/statuses/{thread_id}/explode"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    bea.ok(
        Method::POST,
        &format!("{GROUPS}/{maths_id}/statuses/{reply_id}/remove"),
        Some(json!({ "reason": "spam" })),
    )
    .await;
    let (status, _) = olga.get(&format!("/api/v1/statuses/{reply_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = bea
        .post(
            &format!("{GROUPS}/{maths_id}/bans"),
            json!({ "account_id": "0" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    bea.ok(
        Method::POST,
        &format!("{GROUPS}/{maths_id}/bans"),
        Some(json!({ "account_id": carl_id, "reason": "spam" })),
    )
    .await;
    let (_, bans) = bea.get(&format!("{GROUPS}/{maths_id}/bans")).await;
    assert_eq!(bans[0]["account"]["id"], carl_id.as_str());
    assert_eq!(bans[0]["reason"], "spam");
    let (_, v) = carl.get(&format!("{GROUPS}/{maths_id}")).await;
    assert_eq!(v["relationship"]["banned"], true);
    assert!(v["relationship"]["role"].is_null());
    let (status, v) = carl
        .post(&format!("{GROUPS}/{maths_id}/join"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, _) = bea
        .call(
            Method::DELETE,
            &format!("{GROUPS}/{maths_id}/bans/{carl_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, log) = bea.get(&format!("{GROUPS}/{maths_id}/log")).await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    for a in [
        "create", "role", "settings", "invite", "pin", "lock", "remove", "ban", "unban",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let removal = log
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == "remove")
        .unwrap();
    assert_eq!(removal["reason"], "spam");
    assert_eq!(removal["moderator"]["username"], "bea");
    let (status, _) = carl.get(&format!("{GROUPS}/{maths_id}/log")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "carl is no longer a member");

    // Leaving the parent ends the members-only sub-group membership.
    bea.ok(Method::POST, &format!("{GROUPS}/{maths_id}/leave"), None)
        .await;
    let (_, v) = bea.get(&format!("{GROUPS}/{algebra_id}")).await;
    assert!(v["relationship"]["role"].is_null(), "{v}");

    // Unknown ids and ids that are not groups are 404s with a message.
    for path in [
        format!("{GROUPS}/12345"),
        format!("{GROUPS}/not-a-number"),
        format!("{GROUPS}/{bea_id}"),
    ] {
        let (status, v) = olga.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!error_of(&v).is_empty());
    }
    app.stop().await;
}
db_test!(groups_api);

/// Who may create groups is an instance setting: every member, moderators
/// and admins, or admins only; a bad value is refused by name.
async fn who_may_create_groups(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.member("ada", Role::Admin).await;
    let moderator = app.member("mo", Role::Moderator).await;
    let member = app.member("mel", Role::Member).await;
    let admin = Caller {
        app: &app,
        token: Some(app.token(&admin).await),
    };
    let moderator = Caller {
        app: &app,
        token: Some(app.token(&moderator).await),
    };
    let member = Caller {
        app: &app,
        token: Some(app.token(&member).await),
    };
    let set = async |value: &str| {
        let mut s = admin
            .ok(Method::GET, "/api/v1/staffroom/settings", None)
            .await;
        s["group_creation"] = json!(value);
        admin
            .call(Method::PUT, "/api/v1/staffroom/settings", Some(s))
            .await
    };
    let mut n = 0;
    let mut try_create = async |who: &Caller<'_>| {
        n += 1;
        who.post(
            GROUPS,
            json!({ "username": format!("group{n}"), "display_name": "A group" }),
        )
        .await
        .0
    };
    assert_eq!(try_create(&member).await, StatusCode::OK);
    let (status, v) = set("staff").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["group_creation"], "staff");
    assert_eq!(try_create(&member).await, StatusCode::FORBIDDEN);
    assert_eq!(try_create(&moderator).await, StatusCode::OK);
    let (status, v) = set("admins").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["group_creation"], "admins");
    assert_eq!(try_create(&moderator).await, StatusCode::FORBIDDEN);
    assert_eq!(try_create(&member).await, StatusCode::FORBIDDEN);
    assert_eq!(try_create(&admin).await, StatusCode::OK);
    let (status, v) = set("owners").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(error_of(&v).contains("owners"), "{v}");
    app.stop().await;
}
db_test!(who_may_create_groups);

/// A group's avatar and banner through the API (multipart, as Mastodon's
/// update_credentials): its moderators only, images only.
async fn group_images(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga = app.member("olga", Role::Member).await;
    let bea = app.member("bea", Role::Member).await;
    let olga = Caller {
        app: &app,
        token: Some(app.token(&olga).await),
    };
    let bea_token = app.token(&bea).await;
    let g = olga
        .ok(
            Method::POST,
            GROUPS,
            Some(json!({ "username": "art", "display_name": "Art teachers" })),
        )
        .await;
    let id = g["id"].as_str().unwrap().to_string();
    let png: &[u8] = include_bytes!("../src/http/web/static/avatar.png");
    let send = async |token: &str, form: reqwest::multipart::Form| {
        let r = app
            .api()
            .patch(app.url(&format!("{GROUPS}/{id}/images")))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let image = |name: &'static str| {
        reqwest::multipart::Form::new().part(
            name,
            reqwest::multipart::Part::bytes(png.to_vec())
                .file_name("image.png")
                .mime_str("image/png")
                .unwrap(),
        )
    };
    let olga_token = olga.token.clone().unwrap();
    let (status, v) = send(&olga_token, image("avatar")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_ne!(v["avatar"], g["avatar"], "{v}");
    assert_eq!(v["header"], g["header"], "only the avatar changed: {v}");
    assert_eq!(v["display_name"], "Art teachers", "nothing else changed");
    let (status, h) = send(&olga_token, image("header")).await;
    assert_eq!(status, StatusCode::OK, "{h}");
    assert_ne!(h["header"], g["header"]);
    assert_eq!(h["avatar"], v["avatar"]);
    // The avatar is served.
    let r = app
        .api()
        .get(h["avatar"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Not a moderator: refused; not an image, or nothing: a clear 422.
    let (status, _) = send(&bea_token, image("avatar")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, e) = send(
        &olga_token,
        reqwest::multipart::Form::new().part(
            "avatar",
            reqwest::multipart::Part::bytes(b"not an image".to_vec()).file_name("a.png"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(!error_of(&e).is_empty());
    let (status, e) = send(
        &olga_token,
        reqwest::multipart::Form::new().text("banner", "x"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(error_of(&e).contains("banner"), "{e}");
    app.stop().await;
}
db_test!(group_images);
