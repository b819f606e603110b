//! Groups on one instance, through the domain layer and the ActivityPub
//! surface: creation, the Group actor and its collections, joining under
//! each policy, the sub-group rule, posting rules, members-only visibility,
//! moderation (remove, lock, pin, ban) and its log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use staffroom::{
    db::queries::{self, Page},
    domain::{
        accounts::{Member, Role},
        follows,
        groups::{self, GroupInput, moderation},
        posts::{self, Compose, Visibility},
    },
    error::AppError,
};

fn compose(text: &str, group: Option<i64>, reply_to: Option<i64>) -> Compose {
    Compose {
        text: text.into(),
        title: None,
        spoiler_text: None,
        sensitive: false,
        visibility: Visibility::Public,
        in_reply_to_id: reply_to,
        language: None,
        media_ids: None,
        poll: None,
        group_id: group,
    }
}

async fn ap_get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = app
        .api()
        .get(app.url(path))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, who: &Member, c: Compose) -> Result<i64, AppError> {
    posts::create(app.state(), &who.actor, c, Vec::new())
        .await
        .map(|(s, _)| s.id)
}

async fn groups_on_one_instance(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let st = app.state();
    let owner = app.member("olga", Role::Member).await;
    let bea = app.member("bea", Role::Member).await;
    let carl = app.member("carl", Role::Member).await;

    // A public, open group with a members-only sub-group that needs approval.
    let maths = groups::create(
        st,
        &owner,
        "maths",
        None,
        GroupInput {
            display_name: Some("Maths teachers".into()),
            description: Some("Fractions, *proofs* and more".into()),
            subjects: Some(vec!["Mathematics".into()]),
            languages: Some(vec!["en".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let wg = groups::create(
        st,
        &owner,
        "maths_exam_wg",
        Some(maths.id()),
        GroupInput {
            members_only: Some(true),
            join_policy: Some("approval".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Handles are shared with people.
    assert!(matches!(
        groups::create(st, &owner, "bea", None, GroupInput::default()).await,
        Err(AppError::Conflict(_))
    ));
    // Only the parent's moderators make sub-groups.
    assert!(matches!(
        groups::create(st, &bea, "rogue", Some(maths.id()), GroupInput::default()).await,
        Err(AppError::Forbidden(_))
    ));

    // The Group actor, as Mastodon and Lemmy read it.
    let (status, doc) = ap_get(&app, "/groups/maths").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["type"], "Group");
    assert_eq!(doc["preferredUsername"], "maths");
    assert_eq!(doc["name"], "Maths teachers");
    assert!(doc["summary"].as_str().unwrap().contains("<em>proofs</em>"));
    assert_eq!(doc["postingRestrictedToMods"], false);
    assert_eq!(doc["membersOnly"], false);
    assert_eq!(doc["manuallyApprovesFollowers"], false);
    assert!(
        doc["attributedTo"]
            .as_str()
            .unwrap()
            .ends_with("/groups/maths/moderators")
    );
    assert!(
        doc["inbox"]
            .as_str()
            .unwrap()
            .ends_with("/groups/maths/inbox")
    );
    let (_, wg_doc) = ap_get(&app, "/groups/maths_exam_wg").await;
    assert_eq!(wg_doc["membersOnly"], true);
    assert_eq!(wg_doc["joinPolicy"], "approval");
    assert_eq!(wg_doc["parentGroup"], doc["id"]);
    let (_, mods) = ap_get(&app, "/groups/maths/moderators").await;
    assert_eq!(mods["orderedItems"][0], owner.actor.ap_id.as_str());
    // WebFinger finds the group.
    let wf: Value = app
        .api()
        .get(app.url(&format!(
            "/.well-known/webfinger?resource=acct:maths@{}",
            st.urls.domain()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        wf["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["href"] == doc["id"])
    );

    // Joining: open group at once; the members-only sub-group needs the parent.
    let (_, outbox) = follows::follow(st, &bea.actor, &maths.actor).await.unwrap();
    staffroom::federation::publish::publish(st, outbox).await;
    assert!(
        groups::is_member(&st.db, &maths, bea.actor.id)
            .await
            .unwrap()
    );
    let err = follows::follow(st, &carl.actor, &wg.actor)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
    let (_, outbox) = follows::follow(st, &bea.actor, &wg.actor).await.unwrap();
    staffroom::federation::publish::publish(st, outbox).await;
    assert!(!groups::is_member(&st.db, &wg, bea.actor.id).await.unwrap());
    let requests = groups::requests(
        st,
        &owner,
        &wg,
        Page {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(requests.len(), 1);
    // The owner is notified of the request.
    let notes = queries::notifications::list(
        &st.db,
        owner.actor.id,
        &[],
        &[],
        None,
        Page {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.kind == "group_request" && n.group_id == Some(wg.id()))
    );
    let outbox = groups::approve(st, &owner, &wg, bea.actor.id)
        .await
        .unwrap();
    staffroom::federation::publish::publish(st, outbox).await;
    assert!(groups::is_member(&st.db, &wg, bea.actor.id).await.unwrap());

    // Posting: members start threads; others may reply in a public group.
    let thread = post(
        &app,
        &bea,
        Compose {
            title: Some("Exam ideas".into()),
            ..compose("Let's collect exam ideas", Some(maths.id()), None)
        },
    )
    .await
    .unwrap();
    let err = post(&app, &carl, compose("Not a member", Some(maths.id()), None))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)));
    let reply = post(
        &app,
        &carl,
        compose("A reply from outside", None, Some(thread)),
    )
    .await
    .unwrap();
    let reply_row = queries::statuses::by_id(&st.db, reply)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reply_row.group_id,
        Some(maths.id()),
        "a reply joins its thread's group"
    );
    let (_, note) = ap_get(&app, &format!("/users/bea/statuses/{thread}")).await;
    assert_eq!(note["audience"], doc["id"]);
    assert!(
        note["to"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == &doc["id"])
    );
    assert!(
        note["tag"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "Mention" && t["href"] == doc["id"])
    );

    // Members-only: the post is private to members, even to a mentioned outsider.
    let secret = post(
        &app,
        &bea,
        compose("Draft exam, do not share @carl", Some(wg.id()), None),
    )
    .await
    .unwrap();
    let secret_row = queries::statuses::by_id(&st.db, secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secret_row.visibility, "private");
    assert!(
        !posts::can_view(st, Some(&carl.actor), &secret_row)
            .await
            .unwrap()
    );
    assert!(!posts::can_view(st, None, &secret_row).await.unwrap());
    assert!(
        posts::can_view(st, Some(&owner.actor), &secret_row)
            .await
            .unwrap()
    );
    let (status, _) = ap_get(&app, &format!("/users/bea/statuses/{secret}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "unsigned fetch of members-only content"
    );
    let (_, followers) = ap_get(&app, "/groups/maths_exam_wg/followers?page=true").await;
    assert!(
        followers.get("orderedItems").is_none(),
        "member list is for members"
    );
    assert_eq!(followers["totalItems"], 2);

    // Leaving the parent ends the members-only sub-group membership.
    let outbox = follows::unfollow(st, &bea.actor, &maths.actor)
        .await
        .unwrap();
    staffroom::federation::publish::publish(st, outbox).await;
    assert!(!groups::is_member(&st.db, &wg, bea.actor.id).await.unwrap());
    let (_, outbox) = follows::follow(st, &bea.actor, &maths.actor).await.unwrap();
    staffroom::federation::publish::publish(st, outbox).await;

    // Moderation: lock, pin, remove, ban; all in the log.
    let outbox = moderation::set_locked(st, &owner, &maths, thread, true)
        .await
        .unwrap();
    staffroom::federation::publish::publish(st, outbox).await;
    let err = post(&app, &carl, compose("Too late", None, Some(thread)))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)));
    let outbox = moderation::set_pinned(st, &owner, &maths, thread, true)
        .await
        .unwrap();
    staffroom::federation::publish::publish(st, outbox).await;
    let (_, featured) = ap_get(&app, "/groups/maths/collections/featured").await;
    assert_eq!(featured["orderedItems"][0]["id"], note["id"]);
    assert!(matches!(
        moderation::remove_post(st, &bea, &maths, reply, Some("no")).await,
        Err(AppError::Forbidden(_))
    ));
    let outbox = moderation::remove_post(st, &owner, &maths, reply, Some("off topic"))
        .await
        .unwrap();
    staffroom::federation::publish::publish(st, outbox).await;
    let reply_row = queries::statuses::by_id(&st.db, reply)
        .await
        .unwrap()
        .unwrap();
    assert!(reply_row.deleted_at.is_some());
    let outbox = moderation::ban(st, &owner, &maths, bea.actor.id, Some("spam"))
        .await
        .unwrap();
    staffroom::federation::publish::publish(st, outbox).await;
    assert!(
        !groups::is_member(&st.db, &maths, bea.actor.id)
            .await
            .unwrap()
    );
    assert!(matches!(
        follows::follow(st, &bea.actor, &maths.actor).await,
        Err(AppError::Forbidden(_))
    ));
    let log = groups::log(
        st,
        &owner.actor,
        &maths,
        Page {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = log.iter().map(|l| l.action.as_str()).collect();
    for a in ["create", "lock", "pin", "remove", "ban"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(
        log.iter()
            .any(|l| l.action == "remove" && l.reason == "off topic")
    );

    // The directory filters by subject and text.
    let found = groups::directory(
        st,
        &groups::DirectoryFilter {
            subject: Some("mathematics".into()),
            top_level_only: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].actor.username, "maths");
    app.stop().await;
}
db_test!(groups_on_one_instance);
