//! Group traffic arriving from other servers: what a remote group we follow
//! Announces (its content is fetched from its origin, never trusted from the
//! Announce), its featured posts, and its moderators' removals and locks.

use super::*;

/// An Announce from a remote group we follow. Returns false when it is not
/// group distribution (a group boosting something unrelated), which the
/// caller then treats as an ordinary boost.
pub async fn receive_announce(
    data: &Data<AppState>,
    group_actor: &actors::Model,
    object: &Value,
) -> Result<bool, FedError> {
    let Some(group) = groups::of_actor(&data.db, group_actor.clone()).await? else {
        return Ok(false);
    };
    if group.local() {
        return Ok(true);
    }
    let inner_type = type_of(object);
    let inner_target = object.get("object").and_then(id_of);
    match inner_type.as_deref() {
        Some("Update")
            if object
                .get("object")
                .and_then(type_of)
                .is_some_and(|t| crate::federation::actors::ACTOR_TYPES.contains(&t.as_str())) =>
        {
            // A moderator changed the group (Lemmy): its origin has the new document.
            if inner_target.as_ref().map(url::Url::as_str) == Some(group.actor.ap_id.as_str()) {
                ObjectId::<crate::federation::actors::ApubActor>::from(url::Url::parse(
                    &group.actor.ap_id,
                )?)
                .dereference_forced(data)
                .await?;
            }
            Ok(true)
        }
        Some("Create") | Some("Update") => {
            let Some(target) = inner_target else {
                return Err(FedError::invalid("Announce of an activity without object"));
            };
            // The origin, not the group, vouches for the content; and only
            // a post addressed to the group (or answering one of its
            // threads) becomes the group's, so a group cannot claim, and
            // later remove, someone else's post.
            let fetched = ObjectId::<ApubStatus>::from(target)
                .dereference_forced(data)
                .await?
                .model;
            if belongs_to(data, &fetched, &group).await? {
                adopt(data, &group, fetched).await?;
            } else {
                tracing::debug!(group = %group.actor.ap_id, post = %fetched.ap_id, "group announced a post not addressed to it");
            }
            Ok(true)
        }
        Some("Delete") => {
            let Some(target) = inner_target else {
                return Ok(true);
            };
            // A group decides what stays in it: its removal is honoured for
            // its own posts; anything else needs the author's own Delete.
            if let Some(s) = queries::statuses::by_ap_id(&data.db, target.as_str()).await?
                && s.group_id == Some(group.id())
                && s.deleted_at.is_none()
            {
                posts::tombstone(data, &s).await?;
            }
            Ok(true)
        }
        Some("Lock") | Some("Undo") => {
            let (locked, target) = if inner_type.as_deref() == Some("Lock") {
                (true, inner_target)
            } else {
                let inner = object.get("object").cloned().unwrap_or(Value::Null);
                if type_of(&inner).as_deref() != Some("Lock") {
                    return Ok(true);
                }
                (false, inner.get("object").and_then(id_of))
            };
            if let Some(t) = target
                && let Some(s) = queries::statuses::by_ap_id(&data.db, t.as_str()).await?
                && s.group_id == Some(group.id())
            {
                set_locked(data, &s, locked).await?;
            }
            Ok(true)
        }
        Some("Add") | Some("Remove") => {
            let featured = object
                .get("target")
                .and_then(id_of)
                .is_some_and(|t| group.actor.featured_url.as_deref() == Some(t.as_str()));
            if featured && let Some(t) = inner_target {
                let pinned = inner_type.as_deref() == Some("Add");
                apply_featured(data, &group, t.as_str(), pinned).await?;
            }
            Ok(true)
        }
        Some("Block") => {
            // One of our people banned from the group: the membership ends.
            let into_group = object
                .get("target")
                .and_then(id_of)
                .is_none_or(|t| t.as_str() == group.actor.ap_id);
            if into_group
                && let Some(t) = inner_target
                && let Some(member) = queries::actors::by_ap_id(&data.db, t.as_str()).await?
                && member.local
                && let Some(f) = queries::follows::get(&data.db, member.id, group.id()).await?
            {
                queries::follows::delete(&data.db, f.id).await?;
            }
            Ok(true)
        }
        Some(t) if crate::federation::objects::POST_TYPES.contains(&t) => {
            announced_post(data, &group, object).await
        }
        None if object.is_string() => announced_post(data, &group, object).await,
        // Likes, votes and other relayed activities carry nothing we show.
        _ => Ok(true),
    }
}

/// `Announce{Note}`: the group's own distribution when the post belongs to
/// it (stored, not shown as a boost), an ordinary boost otherwise.
async fn announced_post(
    data: &Data<AppState>,
    group: &Group,
    object: &Value,
) -> Result<bool, FedError> {
    let Some(id) = id_of(object) else {
        return Err(FedError::invalid("Announce without object"));
    };
    let s = ObjectId::<ApubStatus>::from(id)
        .dereference(data)
        .await?
        .model;
    if s.group_id == Some(group.id()) {
        return Ok(true);
    }
    if s.group_id.is_none() && addresses_group(&s, group) {
        adopt(data, group, s).await?;
        return Ok(true);
    }
    Ok(false)
}

fn addresses_group(s: &statuses::Model, group: &Group) -> bool {
    let (to, cc) = posts::addressed(s);
    to.iter().chain(&cc).any(|a| a == &group.actor.ap_id)
}

/// Is this post the group's to distribute: already filed under it, addressed
/// to it, or a reply in one of its threads?
async fn belongs_to(data: &Data<AppState>, s: &statuses::Model, group: &Group) -> AppResult<bool> {
    if s.group_id == Some(group.id()) || addresses_group(s, group) {
        return Ok(true);
    }
    let parent = match (s.in_reply_to_id, s.in_reply_to_ap_id.as_deref()) {
        (Some(id), _) => queries::statuses::by_id(&data.db, id).await?,
        (None, Some(ap)) => queries::statuses::by_ap_id(&data.db, ap).await?,
        (None, None) => None,
    };
    Ok(parent.is_some_and(|p| p.group_id == Some(group.id())))
}

/// A post the group distributed belongs to it here too.
async fn adopt(data: &Data<AppState>, group: &Group, s: statuses::Model) -> AppResult<()> {
    if s.group_id.is_some() || s.local {
        return Ok(());
    }
    let mut a: statuses::ActiveModel = s.into();
    a.group_id = sea_orm::ActiveValue::Set(Some(group.id()));
    if group.members_only() {
        a.visibility = sea_orm::ActiveValue::Set(Visibility::Private.as_str().into());
    }
    queries::statuses::update(&data.db, a).await?;
    Ok(())
}

/// Pin or unpin a thread of a group (its `featured` collection).
pub async fn apply_featured(
    data: &Data<AppState>,
    group: &Group,
    object_id: &str,
    pinned: bool,
) -> AppResult<()> {
    let Some(s) = queries::statuses::by_ap_id(&data.db, object_id).await? else {
        return Ok(());
    };
    if s.group_id != Some(group.id()) {
        return Ok(());
    }
    if !pinned {
        queries::groups::unpin(&data.db, group.id(), s.id).await?;
    } else if !queries::groups::pinned_ids(&data.db, group.id())
        .await?
        .contains(&s.id)
    {
        queries::groups::pin(
            &data.db,
            crate::db::entities::pins::ActiveModel {
                id: sea_orm::ActiveValue::Set(crate::db::ids::next_id()),
                actor_id: sea_orm::ActiveValue::Set(group.id()),
                status_id: sea_orm::ActiveValue::Set(s.id),
                created_at: sea_orm::ActiveValue::Set(chrono::Utc::now()),
            },
        )
        .await?;
    }
    Ok(())
}

/// A moderator on another server acting on a thread of one of our groups
/// (Lemmy sends Lock to the community): allowed for the group's staff.
pub async fn receive_moderation(
    data: &Data<AppState>,
    moderator: &actors::Model,
    activity: &Value,
    object_id: &str,
    locked: bool,
) -> Result<(), FedError> {
    let Some(s) = queries::statuses::by_ap_id(&data.db, object_id).await? else {
        return Ok(());
    };
    let Some(g) = s.group_id else {
        return Ok(());
    };
    let Some(group) = groups::load(&data.db, g).await?.filter(Group::local) else {
        return Ok(());
    };
    if !groups::role_of(&data.db, &group, moderator.id)
        .await?
        .is_some_and(groups::GroupRole::is_staff)
    {
        return Err(FedError::forbidden(
            "only the group's moderators can lock a thread",
        ));
    }
    let root = groups::thread_root(&data.db, &s).await?;
    set_locked(data, &root, locked).await?;
    groups::write_log(
        &data.db,
        group.id(),
        Some(moderator.id),
        if locked { "lock" } else { "unlock" },
        Some(root.actor_id),
        Some(root.id),
        "",
    )
    .await?;
    relay(data, &group, activity.clone(), None).await?;
    Ok(())
}

async fn set_locked(data: &Data<AppState>, s: &statuses::Model, locked: bool) -> AppResult<()> {
    let mut a: statuses::ActiveModel = s.clone().into();
    a.locked = sea_orm::ActiveValue::Set(locked);
    queries::statuses::update(&data.db, a).await?;
    Ok(())
}

/// Is `viewer` (a remote actor asking for one of our posts) an insider of a
/// remote members-only group: a member, or the server of one? Only the
/// group knows its members, so its member list is read, signed by our
/// instance actor (which the group lets in while one of our people belongs
/// to it). Read afresh each time, so someone who left is refused at once.
pub async fn remote_insider(
    data: &Data<AppState>,
    group: &Group,
    viewer: &actors::Model,
) -> Result<bool, FedError> {
    if group.local() || !group.members_only() || viewer.local {
        return Ok(false);
    }
    if viewer.id == group.id() {
        return Ok(true);
    }
    let Some(followers) = group.actor.followers_url.as_deref() else {
        return Ok(false);
    };
    let mut next = Some(url::Url::parse(&format!("{followers}?page=true"))?);
    for _ in 0..50 {
        let Some(url) = next.take() else {
            break;
        };
        let page = activitypub_federation::fetch::fetch_object_http::<AppState, Value>(&url, data)
            .await?
            .object;
        let items = page
            .get("orderedItems")
            .or_else(|| page.get("items"))
            .map(crate::federation::protocol::ids_of)
            .unwrap_or_default();
        for member in items {
            if member == viewer.ap_id {
                return Ok(true);
            }
            if viewer.kind == "Application"
                && url::Url::parse(&member)
                    .is_ok_and(|u| crate::federation::protocol::authority(&u) == viewer.domain)
            {
                return Ok(true);
            }
        }
        next = page.get("next").and_then(id_of);
    }
    Ok(false)
}
