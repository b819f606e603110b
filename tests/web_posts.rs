//! Posts, timelines, following and notifications through the web pages, as
//! members and anonymous visitors see them: who sees which post, threads,
//! edits with their history, deleting, likes and boosts, locked profiles and
//! their follow requests, hashtags, the search box, refused input shown
//! again with its reason, and ActivityPub JSON at the same addresses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, Browser, PASSWORD, Page, TestApp, extract_csrf};
use reqwest::{StatusCode, header};
use staffroom::domain::accounts::Role;

/// A browser whose pages read as written: minijinja escapes `/` in values
/// as `&#x2f;`, which browsers decode and these tests do too.
struct Client(Browser);

fn readable(mut p: Page) -> Page {
    p.body = p.body.replace("&#x2f;", "/");
    p
}

impl Client {
    fn new(app: &TestApp) -> Self {
        Self(app.browser())
    }

    async fn get(&self, path: &str) -> Page {
        readable(self.0.get(path).await)
    }

    async fn post_form(&self, action: &str, token: &str, fields: &[(&str, &str)]) -> Page {
        readable(self.0.post_form(action, token, fields).await)
    }

    async fn login(&self, login: &str, password: &str) -> Page {
        self.0.login(login, password).await
    }
}

/// A logged-in browser and its CSRF token.
async fn logged_in(app: &TestApp, username: &str) -> (Client, String) {
    let b = Client::new(app);
    let login = b.login(username, PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let home = b.get("/home").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let token = extract_csrf(&home.body).unwrap();
    (b, token)
}

/// The id of the post a compose redirect points at (`...#post-ID`).
fn post_id(page: &Page) -> String {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.as_deref().unwrap();
    location
        .rsplit_once("#post-")
        .unwrap_or_else(|| panic!("no post id in {location}"))
        .1
        .to_string()
}

async fn compose(b: &Client, token: &str, fields: &[(&str, &str)]) -> Page {
    b.post_form("/statuses", token, fields).await
}

/// An actor's id, from the follow form on their profile page.
fn follow_action(profile: &Page) -> String {
    let body = &profile.body;
    let start = body
        .find("action=\"/accounts/")
        .unwrap_or_else(|| panic!("no follow form:\n{body}"))
        + "action=\"".len();
    let end = body[start..].find('"').unwrap() + start;
    body[start..end].to_string()
}

fn assert_lacks(page: &Page, needle: &str) {
    assert!(
        !page.body.contains(needle),
        "did not expect {needle:?} in page (status {}):\n{}",
        page.status,
        page.body
    );
}

async fn audiences_threads_edits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("alice", Role::Member).await;
    app.member("bob", Role::Member).await;
    app.member("carol", Role::Member).await;
    let (alice, at) = logged_in(&app, "alice").await;
    let (bob, bt) = logged_in(&app, "bob").await;
    let (carol, _ct) = logged_in(&app, "carol").await;
    let anon = Client::new(&app);

    // The landing page sends members to their home timeline.
    assert_eq!(alice.get("/").await.location.as_deref(), Some("/home"));

    // Bob follows alice with the button on her profile.
    let profile = bob.get("/@alice").await;
    profile.assert_contains(">Follow</button>");
    let action = follow_action(&profile);
    assert!(action.ends_with("/follow"), "{action}");
    let r = bob.post_form(&action, &bt, &[("back", "/@alice")]).await;
    assert_eq!(r.location.as_deref(), Some("/@alice"));
    let profile = bob.get("/@alice").await;
    profile.assert_contains("You are now following this account.");
    profile.assert_contains(">Unfollow</button>");
    alice.get("/@alice").await.assert_contains("One follower");

    // Alice writes for three audiences.
    let public = post_id(
        &compose(
            &alice,
            &at,
            &[
                ("status", "Fractions with **pizza** #maths"),
                ("visibility", "public"),
                ("back", "/home"),
            ],
        )
        .await,
    );
    let followers = post_id(
        &compose(
            &alice,
            &at,
            &[
                ("status", "Staff-room gossip for followers #maths"),
                ("visibility", "private"),
            ],
        )
        .await,
    );
    let direct = post_id(
        &compose(
            &alice,
            &at,
            &[
                ("status", "@bob the marking is due Friday"),
                ("visibility", "direct"),
                ("spoiler_text", "Marking"),
            ],
        )
        .await,
    );
    let home = alice.get("/home").await;
    home.assert_contains("Your post has been published.");
    home.assert_contains("<strong>pizza</strong>");
    home.assert_contains("Followers only");
    home.assert_contains("Mentioned people only");

    // Anonymous visitors and non-followers see the public post only.
    for (who, page) in [
        ("anonymous", anon.get("/@alice").await),
        ("carol", carol.get("/@alice").await),
        ("anonymous local", anon.get("/local").await),
        ("carol local", carol.get("/local").await),
    ] {
        assert_eq!(page.status, StatusCode::OK, "{who}");
        page.assert_contains("Fractions with");
        assert_lacks(&page, "Staff-room gossip");
        assert_lacks(&page, "marking is due");
    }
    for path in [format!("/@alice/{followers}"), format!("/@alice/{direct}")] {
        assert_eq!(
            anon.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            carol.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(bob.get(&path).await.status, StatusCode::OK, "{path}");
    }
    // Nothing of the private register appears on these pages.
    for path in ["/@alice", "/local", "/home"] {
        let page = bob.get(path).await;
        assert_lacks(&page, "@school.example");
    }
    // The follower sees all three on his home timeline, the warning closed.
    let home = bob.get("/home").await;
    home.assert_contains("Fractions with");
    home.assert_contains("Staff-room gossip");
    home.assert_contains("marking is due");
    home.assert_contains("<details class=\"cw\">");
    home.assert_contains("Marking <span class=\"cw-toggle\">");
    assert_lacks(&carol.get("/home").await, "Fractions with");
    // Posts of others show no edit link; the public one can be boosted, the others not.
    let thread = bob.get(&format!("/@alice/{followers}")).await;
    assert_lacks(&thread, "/edit\"");
    assert_lacks(&thread, &format!("/statuses/{followers}/reblog"));
    bob.get(&format!("/@alice/{public}"))
        .await
        .assert_contains(&format!("/statuses/{public}/reblog"));

    // Hashtag page: public posts only.
    let tag = anon.get("/tags/maths").await;
    assert_eq!(tag.status, StatusCode::OK);
    tag.assert_contains("#maths");
    tag.assert_contains("Fractions with");
    assert_lacks(&tag, "Staff-room gossip");
    assert_eq!(
        anon.get("/tags/no%20tag").await.status,
        StatusCode::NOT_FOUND
    );

    // Bob replies from the thread page; the thread shows it under the post.
    let thread = bob.get(&format!("/@alice/{public}")).await;
    thread.assert_contains("id=\"compose\"");
    thread.assert_contains("@alice </textarea>");
    let r = bob
        .post_form(
            "/statuses",
            &bt,
            &[
                ("status", "@alice I use chocolate bars instead"),
                ("visibility", "public"),
                ("in_reply_to_id", &public),
                ("back", &format!("/@alice/{public}")),
            ],
        )
        .await;
    let reply = post_id(&r);
    assert!(
        r.location
            .as_deref()
            .unwrap()
            .starts_with(&format!("/@alice/{public}#post-")),
        "{:?}",
        r.location
    );
    let thread = anon.get(&format!("/@alice/{public}")).await;
    thread.assert_contains("chocolate bars");
    thread.assert_contains("Replies");
    let reply_page = anon.get(&format!("/@bob/{reply}")).await;
    reply_page.assert_contains("Fractions with");
    reply_page.assert_contains("chocolate bars");
    // /statuses/{id} and a wrong handle lead to the canonical address.
    let r = anon.get(&format!("/statuses/{reply}")).await;
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/@bob/{reply}").as_str())
    );
    let r = anon.get(&format!("/@carol/{reply}")).await;
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/@bob/{reply}").as_str())
    );

    // Likes and boosts, counted on the page and notified.
    for action in ["favourite", "reblog", "bookmark"] {
        let r = bob
            .post_form(
                &format!("/statuses/{public}/{action}"),
                &bt,
                &[("back", &format!("/@alice/{public}"))],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
        assert_eq!(
            r.location.as_deref(),
            Some(format!("/@alice/{public}").as_str())
        );
    }
    let thread = bob.get(&format!("/@alice/{public}")).await;
    thread.assert_contains(&format!("/statuses/{public}/unfavourite"));
    thread.assert_contains(&format!("/statuses/{public}/unreblog"));
    thread.assert_contains(&format!("/statuses/{public}/unbookmark"));
    thread.assert_contains("1<span class=\"visually-hidden\"> like</span>");
    thread.assert_contains("1<span class=\"visually-hidden\"> boost</span>");
    thread.assert_contains("1<span class=\"visually-hidden\"> reply</span>");
    bob.get("/bookmarks")
        .await
        .assert_contains("Fractions with");
    // Carol sees bob's boost on her home once she follows bob.
    let carol_token = extract_csrf(&carol.get("/@bob").await.body).unwrap();
    let bob_profile = carol.get("/@bob").await;
    carol
        .post_form(&follow_action(&bob_profile), &carol_token, &[])
        .await;
    let home = carol.get("/home").await;
    home.assert_contains("Boosted by bob display");
    home.assert_contains("Fractions with");
    // Liking twice is harmless; unliking brings the count back.
    bob.post_form(&format!("/statuses/{public}/favourite"), &bt, &[])
        .await;
    bob.post_form(&format!("/statuses/{public}/unfavourite"), &bt, &[])
        .await;
    let thread = anon.get(&format!("/@alice/{public}")).await;
    thread.assert_contains("0<span class=\"visually-hidden\"> likes</span>");
    bob.post_form(&format!("/statuses/{public}/favourite"), &bt, &[])
        .await;
    // Boosting a followers-only post is refused with a reason.
    let r = bob
        .post_form(&format!("/statuses/{followers}/reblog"), &bt, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("cannot be boosted");

    // Alice's notifications: the follow, the reply, the like and the boost,
    // with the unread count in the navigation until she has seen them.
    let home = alice.get("/home").await;
    home.assert_contains("<span class=\"count-badge\">");
    let n = alice.get("/notifications").await;
    assert_eq!(n.status, StatusCode::OK);
    n.assert_contains("followed you");
    n.assert_contains("replied to your post");
    n.assert_contains("liked your post");
    n.assert_contains("boosted your post");
    n.assert_contains("chocolate bars");
    assert_lacks(&n, "<span class=\"count-badge\">");
    assert_lacks(&alice.get("/home").await, "<span class=\"count-badge\">");
    // Bob was mentioned in the direct post.
    let n = bob.get("/notifications").await;
    n.assert_contains("mentioned you");
    n.assert_contains("marking is due");

    // Alice edits the public post: marked as edited, with both versions in its history.
    let edit = alice.get(&format!("/@alice/{public}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK);
    edit.assert_contains("Fractions with **pizza** #maths</textarea>");
    assert_eq!(
        bob.get(&format!("/@alice/{public}/edit")).await.status,
        StatusCode::FORBIDDEN
    );
    let r = alice
        .post_form(
            &format!("/statuses/{public}/edit"),
            &at,
            &[
                ("status", "Fractions with **pie charts** #maths"),
                ("title", "Teaching fractions"),
                ("spoiler_text", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/@alice/{public}").as_str())
    );
    let thread = anon.get(&format!("/@alice/{public}")).await;
    thread.assert_contains("<strong>pie charts</strong>");
    thread.assert_contains("Teaching fractions");
    thread.assert_contains(&format!("href=\"/@alice/{public}/history\">Edited</a>"));
    let history = anon.get(&format!("/@alice/{public}/history")).await;
    assert_eq!(history.status, StatusCode::OK);
    history.assert_contains("<strong>pizza</strong>");
    history.assert_contains("<strong>pie charts</strong>");
    history.assert_contains("Original");
    history.assert_contains("Current version");
    // Bob boosted it, so he hears of the edit.
    bob.get("/notifications")
        .await
        .assert_contains("edited a post you boosted");
    // Nobody else may edit it.
    let r = bob
        .post_form(
            &format!("/statuses/{public}/edit"),
            &bt,
            &[("status", "hijacked")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Delete: gone for everyone, and the page sends its author home.
    let r = bob
        .post_form(&format!("/statuses/{followers}/delete"), &bt, &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = alice
        .post_form(
            &format!("/statuses/{followers}/delete"),
            &at,
            &[("back", &format!("/@alice/{followers}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/home"));
    alice
        .get("/home")
        .await
        .assert_contains("The post has been deleted.");
    assert_eq!(
        bob.get(&format!("/@alice/{followers}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_lacks(&bob.get("/home").await, "Staff-room gossip");

    // Search: a local account by name and by handle; a hashtag.
    let s = bob.get("/search?q=ali").await;
    assert_eq!(s.status, StatusCode::OK);
    s.assert_contains("href=\"/@alice\"");
    let s = anon.get("/search?q=%40alice%40localhost").await;
    assert_eq!(s.status, StatusCode::OK);
    let domain = app.state().urls.domain().to_string();
    let s = anon
        .get(&format!(
            "/search?q=%40alice%40{}",
            domain.replace(':', "%3A")
        ))
        .await;
    s.assert_contains("href=\"/@alice\"");
    anon.get("/search?q=%23maths")
        .await
        .assert_contains("href=\"/tags/maths\"");
    anon.get("/search?q=nobodyatall")
        .await
        .assert_contains("Nothing found.");

    // Unfollow: bob no longer sees followers-only posts of alice.
    let secret = post_id(
        &compose(
            &alice,
            &at,
            &[("status", "Second secret"), ("visibility", "private")],
        )
        .await,
    );
    assert_eq!(
        bob.get(&format!("/@alice/{secret}")).await.status,
        StatusCode::OK
    );
    let profile = bob.get("/@alice").await;
    let r = bob
        .post_form(&follow_action(&profile), &bt, &[("back", "/@alice")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    bob.get("/@alice")
        .await
        .assert_contains("You no longer follow this account.");
    assert_eq!(
        bob.get(&format!("/@alice/{secret}")).await.status,
        StatusCode::NOT_FOUND
    );

    // ActivityPub JSON at the web addresses.
    let api = app.api();
    for accept in [
        "application/activity+json",
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
    ] {
        let r = api
            .get(app.url("/@alice"))
            .header(header::ACCEPT, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/activity+json")
        );
        let doc: serde_json::Value = r.json().await.unwrap();
        assert_eq!(doc["type"], "Person");
        assert_eq!(doc["preferredUsername"], "alice");
    }
    let r = api
        .get(app.url(&format!("/@alice/{public}")))
        .header(header::ACCEPT, "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/activity+json")
    );
    let doc: serde_json::Value = r.json().await.unwrap();
    assert_eq!(doc["type"], "Article");
    assert!(doc["content"].as_str().unwrap().contains("pie charts"));
    let r = api
        .get(app.url(&format!("/@alice/{secret}")))
        .header(header::ACCEPT, "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = api
        .get(app.url(&format!("/@bob/{public}")))
        .header(header::ACCEPT, "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Browsers still get HTML there.
    let r = anon.get(&format!("/@alice/{public}")).await;
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    app.stop().await;
}
db_test!(audiences_threads_edits);

async fn locked_profile_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dora = app.member("dora", Role::Member).await;
    app.member("erin", Role::Member).await;
    app.member("frank", Role::Member).await;
    // Dora approves her followers herself.
    let (_, outbox) = staffroom::domain::profiles::update(
        app.state(),
        &dora,
        staffroom::domain::profiles::ProfileUpdate {
            locked: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    staffroom::federation::publish::publish(app.state(), outbox).await;
    let (d, dt) = logged_in(&app, "dora").await;
    let (e, et) = logged_in(&app, "erin").await;
    let (f, ft) = logged_in(&app, "frank").await;
    let secret = post_id(
        &compose(
            &d,
            &dt,
            &[
                ("status", "Only for approved followers"),
                ("visibility", "private"),
            ],
        )
        .await,
    );

    let profile = e.get("/@dora").await;
    profile.assert_contains("Approves followers");
    profile.assert_contains(">Ask to follow</button>");
    let r = e
        .post_form(&follow_action(&profile), &et, &[("back", "/@dora")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let profile = e.get("/@dora").await;
    profile.assert_contains("Your follow request has been sent.");
    profile.assert_contains("waiting for approval");
    profile.assert_contains(">Withdraw request</button>");
    assert_eq!(
        e.get(&format!("/@dora/{secret}")).await.status,
        StatusCode::NOT_FOUND
    );
    let profile = f.get("/@dora").await;
    f.post_form(&follow_action(&profile), &ft, &[]).await;

    // Dora sees the requests on her notifications and approval pages.
    let n = d.get("/notifications").await;
    n.assert_contains("asked to follow you");
    n.assert_contains("2 people are asking to follow you.");
    d.get("/@dora").await.assert_contains("2 follow requests");
    let requests = d.get("/follow-requests").await;
    assert_eq!(requests.status, StatusCode::OK);
    requests.assert_contains("@erin@");
    requests.assert_contains("@frank@");
    let erin_id = staffroom::db::queries::actors::local_by_username(&app.state().db, "erin")
        .await
        .unwrap()
        .unwrap()
        .id;
    let frank_id = staffroom::db::queries::actors::local_by_username(&app.state().db, "frank")
        .await
        .unwrap()
        .unwrap()
        .id;
    requests.assert_contains(&format!("/follow-requests/{erin_id}/authorize"));
    let r = d
        .post_form(&format!("/follow-requests/{erin_id}/authorize"), &dt, &[])
        .await;
    assert_eq!(r.location.as_deref(), Some("/follow-requests"));
    let r = d
        .post_form(&format!("/follow-requests/{frank_id}/reject"), &dt, &[])
        .await;
    assert_eq!(r.location.as_deref(), Some("/follow-requests"));
    let requests = d.get("/follow-requests").await;
    requests.assert_contains("The follow request was declined.");
    requests.assert_contains("No one is waiting for an answer.");
    // Deciding again is a clear 404, not an error page of ours.
    let r = d
        .post_form(&format!("/follow-requests/{erin_id}/authorize"), &dt, &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Erin now follows and sees the followers-only post; frank does not.
    e.get("/@dora").await.assert_contains(">Unfollow</button>");
    assert_eq!(
        e.get(&format!("/@dora/{secret}")).await.status,
        StatusCode::OK
    );
    f.get("/@dora")
        .await
        .assert_contains(">Ask to follow</button>");
    assert_eq!(
        f.get(&format!("/@dora/{secret}")).await.status,
        StatusCode::NOT_FOUND
    );
    d.get("/notifications")
        .await
        .assert_contains("followed you");
    // Following oneself is refused with a reason.
    let dora_id = dora.actor.id;
    let r = d
        .post_form(&format!("/accounts/{dora_id}/follow"), &dt, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("You cannot follow yourself.");
    // Anonymous visitors are sent to log in, not given an error.
    let anon = Client::new(&app);
    let r = anon.get("/notifications").await;
    assert!(r.location.unwrap().starts_with("/login?next="));
    let r = anon.get("/home").await;
    assert!(r.location.unwrap().starts_with("/login?next="));
    app.stop().await;
}
db_test!(locked_profile_requests);

async fn refused_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("gina", Role::Member).await;
    let (g, gt) = logged_in(&app, "gina").await;

    // Empty post: 422, the form again with the reason and what was typed.
    let r = compose(
        &g,
        &gt,
        &[("status", "   "), ("spoiler_text", "kept warning")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("A post needs some text or a title.");
    r.assert_contains("role=\"alert\"");
    r.assert_contains("value=\"kept warning\"");
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // Too long.
    let long = "x".repeat(5001);
    let r = compose(&g, &gt, &[("status", &long)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("is too long (at most 5000 characters)");
    r.assert_contains(&format!(">{long}</textarea>"));
    // A title that is too long.
    let r = compose(&g, &gt, &[("status", "ok"), ("title", &"t".repeat(301))]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("at most 300 characters");
    // A visibility that does not exist.
    let r = compose(&g, &gt, &[("status", "hello"), ("visibility", "everyone")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("“everyone” is not a visibility");
    r.assert_contains(">hello</textarea>");
    // Replying to something that does not exist.
    let r = compose(&g, &gt, &[("status", "hello"), ("in_reply_to_id", "12345")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = compose(&g, &gt, &[("status", "hello"), ("in_reply_to_id", "abc")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Messages in the member's language.
    let r = g
        .post_form("/locale", &gt, &[("locale", "fr"), ("next", "/home")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = compose(&g, &gt, &[("status", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("Nouvelle publication");
    r.assert_contains("Publier");
    g.post_form("/locale", &gt, &[("locale", "en"), ("next", "/home")])
        .await;

    // Editing to nothing is refused the same way.
    let id = post_id(&compose(&g, &gt, &[("status", "A fine post")]).await);
    let r = g
        .post_form(&format!("/statuses/{id}/edit"), &gt, &[("status", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("A post needs some text or a title.");
    r.assert_contains("Edit post");
    // Unknown actions and ids, bad pagination.
    let r = g
        .post_form(&format!("/statuses/{id}/explode"), &gt, &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = g.post_form("/statuses/notanid/favourite", &gt, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = g.get("/home?max_id=yesterday").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    r.assert_contains("not an id");
    assert_eq!(g.get("/@gina/999999").await.status, StatusCode::NOT_FOUND);
    assert_eq!(g.get("/@gina/abc").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        g.get(&format!("/@gina/{id}/nothing")).await.status,
        StatusCode::NOT_FOUND
    );
    // A remote account whose server cannot be reached: said so, not a 500.
    let r = g.get("/@nobody@localhost:1").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("could not be reached");
    assert_eq!(
        Client::new(&app).get("/@nobody@localhost:1").await.status,
        StatusCode::NOT_FOUND
    );
    let r = g.get(&format!("/search?q={}", "a".repeat(501))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("The search is too long");
    // Without the form's token nothing happens.
    let r = g
        .post_form("/statuses", "wrong-token", &[("status", "forged")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_lacks(&g.get("/home").await, "forged");
    // Pagination: 25 posts, the older page has the rest.
    for i in 0..25 {
        compose(&g, &gt, &[("status", &format!("Numbered post {i:02}."))]).await;
    }
    let first = g.get("/@gina").await;
    first.assert_contains("Numbered post 24.");
    assert_lacks(&first, "Numbered post 04.");
    let start = first.body.find("?max_id=").unwrap() + "?max_id=".len();
    let end = first.body[start..].find('"').unwrap() + start;
    let older = g
        .get(&format!("/@gina?max_id={}", &first.body[start..end]))
        .await;
    older.assert_contains("Numbered post 04.");
    older.assert_contains("A fine post");
    assert_lacks(&older, "Numbered post 24.");
    app.stop().await;
}
db_test!(refused_input);

/// What other servers send is shown, but never as a script: a remote
/// account and post whose addresses are `javascript:` URLs get no such links.
async fn hostile_remote_documents(backend: Backend) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
    use staffroom::{
        db::queries,
        domain::posts::{self, RemotePost, Visibility},
    };
    let app = TestApp::spawn(backend).await;
    let template = app.member("template", Role::Member).await;
    app.member("hana", Role::Member).await;
    let db = &app.state().db;
    // A remote actor, made from a local row with every field replaced.
    let mut a = template.actor.clone().into_active_model().reset_all();
    a.id = Set(staffroom::db::ids::next_id());
    a.ap_id = Set("https://evil.example/users/mallory".into());
    a.username = Set("mallory".into());
    a.domain = Set("evil.example".into());
    a.local = Set(false);
    a.account_id = Set(None);
    a.private_key_pem = Set(None);
    a.display_name = Set("<script>alert('name')</script>".into());
    a.url = Set(Some("javascript:alert('profile')".into()));
    a.avatar_url = Set(Some("javascript:alert('avatar')".into()));
    a.header_url = Set(Some("data:text/html,boom".into()));
    a.inbox_url = Set("https://evil.example/users/mallory/inbox".into());
    a.shared_inbox_url = Set(None);
    a.followers_url = Set(Some("https://evil.example/users/mallory/followers".into()));
    let mallory = queries::actors::insert(db, a).await.unwrap();
    let post = posts::upsert_remote(
        app.state(),
        RemotePost {
            ap_id: "https://evil.example/users/mallory/statuses/1".into(),
            url: Some("javascript:alert('post')".into()),
            author: mallory.clone(),
            kind: "Note".into(),
            title: None,
            content: "<p>Harmless words</p>".into(),
            spoiler_text: "<b>warning</b>".into(),
            sensitive: true,
            language: None,
            visibility: Visibility::Public,
            in_reply_to_ap_id: Some("javascript:alert('parent')".into()),
            in_reply_to: None,
            context: None,
            addressing: serde_json::json!({ "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [] }),
            mentions: Vec::new(),
            hashtags: Vec::new(),
            published: chrono::Utc::now(),
            updated: None,
            attachments: Vec::new(),
            poll: None,
            group_id: None,
        },
    )
    .await
    .unwrap();
    let (hana, _) = logged_in(&app, "hana").await;
    for path in [
        "/@mallory@evil.example".to_string(),
        format!("/@mallory@evil.example/{}", post.id),
        "/federated".to_string(),
    ] {
        let page = hana.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        page.assert_contains("Harmless words");
        page.assert_contains("&lt;script&gt;alert(");
        assert_lacks(&page, "<script>");
        assert_lacks(&page, "javascript:");
        assert_lacks(&page, "data:text");
        page.assert_contains("&lt;b&gt;warning&lt;/b&gt;");
    }
    // The address we do know for them (their id) is still offered.
    hana.get("/@mallory@evil.example")
        .await
        .assert_contains("href=\"https://evil.example/users/mallory\"");
    app.stop().await;
}
db_test!(hostile_remote_documents);

/// A poll made from a Mastodon app shows under its post on the web: members
/// who have not voted get the options, vote with the form and then see the
/// results; the author and anonymous readers see the results only; voting
/// twice or choosing nothing is refused with a reason.
async fn polls_on_the_web(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let asker = app.member("asker", Role::Member).await;
    app.member("voter", Role::Member).await;
    let token = app.token(&asker).await;
    let r = app
        .api()
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "status": "Which day for the staff meeting?",
            "visibility": "public",
            "poll": { "options": ["Monday", "Thursday"], "expires_in": 86400 },
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let post: serde_json::Value = r.json().await.unwrap();
    let id = post["id"].as_str().unwrap().to_string();

    let (voter, csrf) = logged_in(&app, "voter").await;
    let page = voter.get("/@asker").await;
    page.assert_contains(&format!("action=\"/statuses/{id}/vote\""));
    page.assert_contains("Thursday");
    let refused = voter
        .post_form(
            &format!("/statuses/{id}/vote"),
            &csrf,
            &[("back", "/@asker")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    refused.assert_contains("Choose one of the poll");
    let voted = voter
        .post_form(
            &format!("/statuses/{id}/vote"),
            &csrf,
            &[("back", "/@asker"), ("choices", "1")],
        )
        .await;
    assert_eq!(voted.status, StatusCode::SEE_OTHER, "{}", voted.body);
    let page = voter.get("/@asker").await;
    assert!(
        !page
            .body
            .contains(&format!("action=\"/statuses/{id}/vote\""))
    );
    page.assert_contains("Thursday: 100%");
    page.assert_contains("Monday: 0%");
    page.assert_contains("1 person voted");
    let again = voter
        .post_form(
            &format!("/statuses/{id}/vote"),
            &csrf,
            &[("back", "/@asker"), ("choices", "0")],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );

    let (author, _) = logged_in(&app, "asker").await;
    let page = author.get("/@asker").await;
    assert!(
        !page
            .body
            .contains(&format!("action=\"/statuses/{id}/vote\""))
    );
    page.assert_contains("Thursday: 100%");
    let page = Client::new(&app).get("/@asker").await;
    page.assert_contains("Thursday: 100%");
    let r = app
        .api()
        .get(app.url(&format!("/api/v1/statuses/{id}")))
        .send()
        .await
        .unwrap();
    let status: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status["poll"]["votes_count"], 1, "{status}");
    app.stop().await;
}

db_test!(polls_on_the_web);
