//! Groups through the web pages with a cookie-keeping client: creating a
//! group, the directory's search and filters, joining an open group,
//! requesting to join and approval, members-only groups hidden from
//! outsiders, invitations accepted and declined, moderation (pin, lock,
//! remove, ban, roles) and its log, and refused input shown as clear 4xx
//! pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, Browser, PASSWORD, Page, TestApp, extract_csrf};
use reqwest::StatusCode;
use staffroom::domain::{accounts::Role, groups};

/// A browser whose pages read as written (minijinja escapes `/` as `&#x2f;`).
struct Client(Browser);

fn readable(mut p: Page) -> Page {
    p.body = p.body.replace("&#x2f;", "/").replace("&#x27;", "'");
    p
}

impl Client {
    async fn get(&self, path: &str) -> Page {
        readable(self.0.get(path).await)
    }

    async fn post(&self, action: &str, token: &str, fields: &[(&str, &str)]) -> Page {
        readable(self.0.post_form(action, token, fields).await)
    }
}

async fn logged_in(app: &TestApp, username: &str) -> (Client, String) {
    let b = Client(app.browser());
    let login = b.0.login(username, PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let home = b.get("/home").await;
    let token = extract_csrf(&home.body).unwrap();
    (b, token)
}

fn assert_lacks(page: &Page, needle: &str) {
    assert!(
        !page.body.contains(needle),
        "did not expect {needle:?} in page (status {}):\n{}",
        page.status,
        page.body
    );
}

/// A redirect after a form, and the page it leads to.
async fn followed(b: &Client, r: Page) -> Page {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    b.get(r.location.as_deref().unwrap()).await
}

async fn create(b: &Client, token: &str, fields: &[(&str, &str)]) -> Page {
    b.post("/groups", token, fields).await
}

fn post_id(page: &Page) -> String {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.as_deref().unwrap();
    location.rsplit_once("#post-").unwrap().1.to_string()
}

async fn group_id(app: &TestApp, name: &str) -> String {
    groups::by_name(app.state(), name)
        .await
        .unwrap()
        .id()
        .to_string()
}

async fn create_search_join(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("olga", Role::Member).await;
    let bea = app.member("bea", Role::Member).await;
    let (olga, ot) = logged_in(&app, "olga").await;
    let (bea_b, bt) = logged_in(&app, "bea").await;
    let anon = Client(app.browser());

    // The navigation leads to the directory, which offers to create a group.
    let dir = olga.get("/groups").await;
    assert_eq!(dir.status, StatusCode::OK);
    dir.assert_contains(r#"<a href="/groups" aria-current="page">Groups</a>"#);
    dir.assert_contains(r#"href="/groups/new""#);
    dir.assert_contains("There are no groups here yet.");
    assert_eq!(olga.get("/groups/new").await.status, StatusCode::OK);
    assert_lacks(&anon.get("/groups").await, r#"href="/groups/new""#);

    let page = followed(
        &olga,
        create(
            &olga,
            &ot,
            &[
                ("name", "maths"),
                ("display_name", "Maths teachers"),
                ("description", "Fractions, *proofs* and more"),
                ("subjects", "Mathematics"),
                ("languages", "en"),
                ("join_policy", "open"),
                ("posting_policy", "members"),
            ],
        )
        .await,
    )
    .await;
    page.assert_contains("Your group has been created.");
    page.assert_contains("<h1>Maths teachers</h1>");
    page.assert_contains("Leave the group");
    page.assert_contains(">Owner<");
    let page = followed(
        &olga,
        create(
            &olga,
            &ot,
            &[
                ("name", "physique"),
                ("display_name", "Physique-chimie"),
                ("description", "Optique et mécanique"),
                ("subjects", "Physics"),
                ("languages", "fr"),
                ("join_policy", "approval"),
            ],
        )
        .await,
    )
    .await;
    page.assert_contains("Physique-chimie");

    // Bad input: clear 4xx pages, the form shown again.
    let r = create(&olga, &ot, &[("name", ""), ("display_name", "Nameless")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("is required");
    r.assert_contains(r#"value="Nameless""#);
    let r = create(&olga, &ot, &[("name", "maths")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    r.assert_contains("is not available");
    let r = create(&olga, &ot, &[("name", "new")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = create(&olga, &ot, &[("name", "bad name!")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = create(&olga, &ot, &[("name", "x1"), ("join_policy", "sometimes")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("is not a join policy");
    let r = anon.get("/groups/nosuchgroup").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    r.assert_contains("<html");
    assert_eq!(
        anon.get("/groups/maths/nosuchtab").await.status,
        StatusCode::NOT_FOUND
    );

    // The directory: search by words of the description, filter by subject
    // and language.
    let d = anon.get("/groups?q=fractions").await;
    d.assert_contains("Maths teachers");
    assert_lacks(&d, "Physique-chimie");
    d.assert_contains("One group");
    let d = anon.get("/groups?subject=Physics").await;
    d.assert_contains("Physique-chimie");
    assert_lacks(&d, "Maths teachers");
    let d = anon.get("/groups?language=en").await;
    d.assert_contains("Maths teachers");
    assert_lacks(&d, "Physique-chimie");
    let d = anon.get("/groups?q=nothing-like-this").await;
    d.assert_contains("No group matches this search.");
    let d = anon.get("/groups").await;
    d.assert_contains("Anyone can join");
    d.assert_contains("Joining needs approval");
    d.assert_contains(r#"<option value="Physics""#);

    // Bea joins the open group at once, and it is listed as hers.
    let g = bea_b.get("/groups/maths").await;
    g.assert_contains(">Join</button>");
    let page = followed(&bea_b, bea_b.post("/groups/maths/join", &bt, &[]).await).await;
    page.assert_contains("You have joined the group.");
    page.assert_contains("2 members");
    let mine = bea_b.get("/groups").await;
    let mine_section = mine.body.split_once(r#"id="mine-heading""#).unwrap().1;
    let mine_section = mine_section.split_once("directory-heading").unwrap().0;
    assert!(mine_section.contains("Maths teachers"), "{}", mine.body);

    // She posts in it from the group's composer: the post is on the
    // group's page and links to the group in timelines.
    let maths_id = group_id(&app, "maths").await;
    bea_b
        .get("/groups/maths")
        .await
        .assert_contains(&format!(r#"name="group_id" value="{maths_id}""#));
    let r = bea_b
        .post(
            "/statuses",
            &bt,
            &[
                ("status", "Who has a good fractions worksheet?"),
                ("group_id", &maths_id),
                ("back", "/groups/maths"),
            ],
        )
        .await;
    let id = post_id(&r);
    assert!(r.location.as_deref().unwrap().starts_with("/groups/maths#"));
    let g = anon.get("/groups/maths").await;
    g.assert_contains("good fractions worksheet");
    g.assert_contains(&format!("post-{id}"));
    let local = anon.get("/local").await;
    local.assert_contains("good fractions worksheet");
    local.assert_contains(r#"In the group <a href="/groups/maths">Maths teachers</a>"#);
    // Not titled: not a discussion.
    assert_lacks(
        &anon.get("/groups/maths/discussions").await,
        "good fractions worksheet",
    );

    // Someone outside cannot start a thread there.
    let r = olga.get("/groups/physique").await;
    r.assert_contains("Nothing has been posted");
    app.member("carl", Role::Member).await;
    let (carl, ct) = logged_in(&app, "carl").await;
    assert_lacks(&carl.get("/groups/maths").await, r#"name="group_id""#);
    let r = carl
        .post(
            "/statuses",
            &ct,
            &[("status", "Let me in"), ("group_id", &maths_id)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    r.assert_contains("Join the group to start a thread in it.");

    // Approval group: bea asks, sees her request, the owner approves.
    let g = bea_b.get("/groups/physique").await;
    g.assert_contains("Request to join");
    let page = followed(&bea_b, bea_b.post("/groups/physique/join", &bt, &[]).await).await;
    page.assert_contains("Your request to join has been sent to the moderators.");
    page.assert_contains("Withdraw the request");
    // Withdraw, then ask again.
    let page = followed(&bea_b, bea_b.post("/groups/physique/leave", &bt, &[]).await).await;
    page.assert_contains("Your request to join was withdrawn.");
    bea_b.post("/groups/physique/join", &bt, &[]).await;
    assert_eq!(
        bea_b.get("/groups/physique/moderation").await.status,
        StatusCode::FORBIDDEN
    );
    let n = olga.get("/notifications").await;
    n.assert_contains("asked to join the group");
    n.assert_contains(r#"<a href="/groups/physique/moderation">Physique-chimie</a>"#);
    let m = olga.get("/groups/physique/moderation").await;
    m.assert_contains("bea display");
    let r = olga
        .post(
            &format!("/groups/physique/requests/{}/approve", bea.actor.id),
            &ot,
            &[],
        )
        .await;
    let page = followed(&olga, r).await;
    page.assert_contains("The request was approved");
    page.assert_contains("No one is waiting to join.");
    let g = bea_b.get("/groups/physique").await;
    g.assert_contains("Leave the group");
    let members = bea_b.get("/groups/physique/members").await;
    assert_eq!(members.status, StatusCode::OK);
    members.assert_contains("bea display");
    members.assert_contains(">Owner<");
    // Leaving.
    let page = followed(&bea_b, bea_b.post("/groups/physique/leave", &bt, &[]).await).await;
    page.assert_contains("You have left the group.");
    // The last owner cannot leave.
    let r = olga.post("/groups/physique/leave", &ot, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    r.assert_contains("at least one owner");
    app.stop().await;
}
db_test!(create_search_join);

async fn members_only_invitations_moderation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.member("olga", Role::Member).await;
    let bea = app.member("bea", Role::Member).await;
    let carl = app.member("carl", Role::Member).await;
    let (olga, ot) = logged_in(&app, "olga").await;
    let (bea_b, bt) = logged_in(&app, "bea").await;
    let (carl_b, ct) = logged_in(&app, "carl").await;
    let anon = Client(app.browser());

    // A members-only group that takes members by invitation.
    create(
        &olga,
        &ot,
        &[
            ("name", "council"),
            ("display_name", "Staff council"),
            ("description", "Our private *agenda*"),
            ("members_only", "1"),
            ("join_policy", "invite"),
        ],
    )
    .await;
    let council = group_id(&app, "council").await;
    let r = olga
        .post(
            "/statuses",
            &ot,
            &[
                ("title", "Budget for next year"),
                ("status", "The secret budget figures"),
                ("group_id", &council),
                ("back", "/groups/council/discussions"),
            ],
        )
        .await;
    let budget = post_id(&r);
    let d = olga.get("/groups/council/discussions").await;
    d.assert_contains("Budget for next year");
    d.assert_contains("Group members only");

    // Outsiders see what the group is, never its posts.
    for (who, page) in [
        ("anonymous", anon.get("/groups/council").await),
        ("carl", carl_b.get("/groups/council").await),
    ] {
        assert_eq!(page.status, StatusCode::OK, "{who}");
        page.assert_contains("Only members of this group can see this.");
        page.assert_contains("Our private");
        page.assert_contains("By invitation only");
        assert_lacks(&page, "secret budget");
        assert_lacks(&page, "Budget for next year");
    }
    for tab in ["discussions", "members", "log"] {
        let page = carl_b.get(&format!("/groups/council/{tab}")).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{tab}");
        page.assert_contains("Only members of this group can see this.");
        assert_lacks(&page, "secret budget");
    }
    assert_eq!(
        anon.get(&format!("/@olga/{budget}")).await.status,
        StatusCode::NOT_FOUND
    );
    // Joining is refused without an invitation.
    let r = carl_b.post("/groups/council/join", &ct, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    r.assert_contains("only be joined by invitation");

    // Invitations: an unknown handle is refused; bea accepts, carl declines.
    let r = olga
        .post("/groups/council/invite", &ot, &[("handle", "nobody_here")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    r.assert_contains("No account was found for “nobody_here”.");
    let r = olga
        .post("/groups/council/invite", &ot, &[("handle", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for who in ["bea", "carl"] {
        let page = followed(
            &olga,
            olga.post(
                "/groups/council/invite",
                &ot,
                &[("handle", who), ("back", "/groups/council/members")],
            )
            .await,
        )
        .await;
        page.assert_contains("The invitation has been sent.");
    }
    olga.get("/groups/council/moderation")
        .await
        .assert_contains("carl display");
    let n = bea_b.get("/notifications").await;
    n.assert_contains("invited you to join the group");
    n.assert_contains(r#"<a href="/groups/council">Staff council</a>"#);
    let dir = bea_b.get("/groups").await;
    dir.assert_contains("Your invitations");
    dir.assert_contains("Staff council");
    bea_b
        .get("/groups/council")
        .await
        .assert_contains("You are invited to join this group.");
    let page = followed(&bea_b, bea_b.post("/groups/council/accept", &bt, &[]).await).await;
    page.assert_contains("You have joined the group.");
    page.assert_contains("secret budget");
    page.assert_contains("Group members only");
    assert_lacks(&bea_b.get("/groups").await, "Your invitations");
    let page = followed(
        &carl_b,
        carl_b
            .post("/groups/council/decline", &ct, &[("back", "/groups")])
            .await,
    )
    .await;
    page.assert_contains("The invitation was declined.");
    assert_lacks(&page, "Your invitations");
    assert_lacks(&carl_b.get("/groups/council").await, "You are invited");

    // Moderation in a public group.
    create(
        &olga,
        &ot,
        &[("name", "history"), ("display_name", "History")],
    )
    .await;
    let history = group_id(&app, "history").await;
    bea_b.post("/groups/history/join", &bt, &[]).await;
    carl_b.post("/groups/history/join", &ct, &[]).await;
    let thread = post_id(
        &bea_b
            .post(
                "/statuses",
                &bt,
                &[
                    ("title", "Primary sources"),
                    ("status", "Where do you find primary sources?"),
                    ("group_id", &history),
                ],
            )
            .await,
    );
    let spam = post_id(
        &carl_b
            .post(
                "/statuses",
                &ct,
                &[("status", "Buy my worksheets"), ("group_id", &history)],
            )
            .await,
    );
    // Members do not get the moderators' tools.
    assert_lacks(&bea_b.get("/groups/history").await, "/posts/");
    let r = bea_b
        .post(&format!("/groups/history/posts/{spam}/remove"), &bt, &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    r.assert_contains("Only the group's moderators can do this.");

    let page = followed(
        &olga,
        olga.post(
            &format!("/groups/history/posts/{thread}/pin"),
            &ot,
            &[("back", "/groups/history/discussions")],
        )
        .await,
    )
    .await;
    page.assert_contains("The thread is pinned.");
    page.assert_contains(">Unpin</button>");
    let page = followed(
        &olga,
        olga.post(&format!("/groups/history/posts/{thread}/lock"), &ot, &[])
            .await,
    )
    .await;
    page.assert_contains("The thread is locked.");
    page.assert_contains(r#"<span class="badge">Locked</span>"#);
    // A locked thread takes no replies from members.
    let r = carl_b
        .post(
            "/statuses",
            &ct,
            &[("status", "Me too"), ("in_reply_to_id", &thread)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    r.assert_contains("This thread is locked");
    let page = followed(
        &olga,
        olga.post(
            &format!("/groups/history/posts/{spam}/remove"),
            &ot,
            &[("reason", "Advertising")],
        )
        .await,
    )
    .await;
    page.assert_contains("The post was removed.");
    assert_lacks(&page, "Buy my worksheets");
    let page = followed(
        &olga,
        olga.post(
            &format!("/groups/history/members/{}/ban", carl.actor.id),
            &ot,
            &[("reason", "Repeated spam")],
        )
        .await,
    )
    .await;
    page.assert_contains("They have been banned from the group.");
    assert_lacks(&page, "carl display");
    let page = carl_b.get("/groups/history").await;
    page.assert_contains("You have been banned from this group.");
    let r = carl_b.post("/groups/history/join", &ct, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Roles: the owner makes bea a moderator; bea cannot ban the owner.
    let page = followed(
        &olga,
        olga.post(
            &format!("/groups/history/members/{}/role", bea.actor.id),
            &ot,
            &[("role", "moderator")],
        )
        .await,
    )
    .await;
    page.assert_contains("The role was changed.");
    let r = olga
        .post(
            &format!("/groups/history/members/{}/role", bea.actor.id),
            &ot,
            &[("role", "emperor")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let olga_id = groups::moderators(
        &app.state().db,
        &groups::by_name(app.state(), "history").await.unwrap(),
    )
    .await
    .unwrap()[0]
        .id;
    let r = bea_b
        .post(&format!("/groups/history/members/{olga_id}/ban"), &bt, &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Bea, now a moderator, lifts the ban from the moderation page.
    let m = bea_b.get("/groups/history/moderation").await;
    m.assert_contains("Repeated spam");
    let page = followed(
        &bea_b,
        bea_b
            .post(
                &format!("/groups/history/members/{}/unban", carl.actor.id),
                &bt,
                &[("back", "/groups/history/moderation")],
            )
            .await,
    )
    .await;
    page.assert_contains("The ban was lifted.");
    page.assert_contains("No one is banned.");

    // The log, readable by members, tells it all.
    let log = bea_b.get("/groups/history/log").await;
    assert_eq!(log.status, StatusCode::OK);
    for needle in [
        "created the group",
        "pinned a thread by",
        "locked a thread by",
        "removed a post by",
        "Advertising",
        "banned",
        "Repeated spam",
        "changed the role of",
        "lifted the ban of",
    ] {
        log.assert_contains(needle);
    }
    assert_eq!(
        anon.get("/groups/history/log").await.status,
        StatusCode::FORBIDDEN
    );
    // Settings are for moderators.
    assert_eq!(
        carl_b.get("/groups/history/settings").await.status,
        StatusCode::FORBIDDEN
    );
    let s = olga.get("/groups/history/settings").await;
    assert_eq!(s.status, StatusCode::OK);
    s.assert_contains(r#"enctype="multipart/form-data""#);
    app.stop().await;
}
db_test!(members_only_invitations_moderation);

/// A group's Events tab lists the events organised in it, soonest first,
/// and its members are offered to organise one there.
async fn group_events_tab(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let olga_m = app.member("olga", Role::Member).await;
    let (olga, ot) = logged_in(&app, "olga").await;
    let anon = Client(app.browser());
    followed(
        &olga,
        create(
            &olga,
            &ot,
            &[
                ("name", "maths"),
                ("display_name", "Maths teachers"),
                ("join_policy", "open"),
            ],
        )
        .await,
    )
    .await;
    let empty = olga.get("/groups/maths/events").await;
    assert_eq!(empty.status, StatusCode::OK);
    empty.assert_contains("No events have been shared in this group yet.");
    empty.assert_contains(r#"href="/events/new?group=maths""#);
    // The link opens the form with the group chosen.
    let form = olga.get("/events/new?group=maths").await;
    assert_eq!(form.status, StatusCode::OK);
    form.assert_contains(r#"<option value="maths" selected>"#);

    let token = app.token(&olga_m).await;
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let gid = group_id(&app, "maths").await;
    for (title, month) in [("Later workshop", "05"), ("Sooner workshop", "03")] {
        let r = app
            .api()
            .post(app.url("/api/v1/staffroom/events"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "title": title,
                "description": "Geometry with paper folding.",
                "start_time": format!("{year}-{month}-12T14:00:00+01:00"),
                "end_time": format!("{year}-{month}-12T16:00:00+01:00"),
                "timezone": "Europe/Paris",
                "group_id": gid,
            }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    // An event outside the group stays off its tab.
    let r = app
        .api()
        .post(app.url("/api/v1/staffroom/events"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "title": "Unrelated meeting",
            "start_time": format!("{year}-04-01T10:00:00+02:00"),
            "end_time": format!("{year}-04-01T11:00:00+02:00"),
            "timezone": "Europe/Paris",
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let tab = anon.get("/groups/maths/events").await;
    assert_eq!(tab.status, StatusCode::OK);
    let sooner = tab.body.find("Sooner workshop").expect("sooner listed");
    let later = tab.body.find("Later workshop").expect("later listed");
    assert!(sooner < later, "soonest first");
    assert_lacks(&tab, "Unrelated meeting");
    assert_lacks(&tab, "No events have been shared");
    // Outsiders are not offered to organise one.
    assert_lacks(&tab, "/events/new?group=maths");
    app.stop().await;
}
db_test!(group_events_tab);
