//! Who belongs to a group: admission (bans, the parent rule, the join
//! policy), requests and their approval, leaving and its effect on
//! sub-groups, invitations, the member list and roles.

use super::*;
use crate::domain::outbox::Outbox;

/// The answer to someone asking to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Accept,
    Pending,
    Refuse(crate::i18n::Msg),
}

/// Who may join a local group: not banned; for a members-only sub-group,
/// members of the parent only; then the join policy (an invitation lets one
/// past approval and invitation-only).
pub async fn admission(
    db: &impl ConnectionTrait,
    group: &Group,
    candidate: &actors::Model,
) -> AppResult<Admission> {
    if queries::groups::ban(db, group.id(), candidate.id)
        .await?
        .is_some()
    {
        return Ok(Admission::Refuse(msg!("error-group-banned")));
    }
    if let Some(r) = queries::groups::role(db, group.id(), candidate.id).await?
        && GroupRole::parse(&r.role).is_some_and(GroupRole::is_staff)
    {
        return Ok(Admission::Accept);
    }
    if let Some(m) = parent_rule(db, group, candidate).await? {
        return Ok(Admission::Refuse(m));
    }
    let invited = queries::groups::invitation(db, group.id(), candidate.id)
        .await?
        .is_some();
    Ok(match group.join_policy() {
        JoinPolicy::Open => Admission::Accept,
        _ if invited => Admission::Accept,
        JoinPolicy::Approval => Admission::Pending,
        JoinPolicy::Invite => Admission::Refuse(msg!("error-group-invite-only")),
    })
}

/// A members-only sub-group is for members of its parent: the refusal when
/// `candidate` is not one.
pub(super) async fn parent_rule(
    db: &impl ConnectionTrait,
    group: &Group,
    candidate: &actors::Model,
) -> AppResult<Option<crate::i18n::Msg>> {
    if group.members_only()
        && let Some(parent_id) = group.settings.parent_id
        && let Some(parent) = load(db, parent_id).await?
        && !is_member(db, &parent, candidate.id).await?
    {
        return Ok(Some(msg!(
            "error-group-parent-required",
            group = parent.actor.display_name.clone()
        )));
    }
    Ok(None)
}

pub(super) async fn insert_membership(
    db: &impl ConnectionTrait,
    member: i64,
    group: i64,
    state: &str,
    ap_id: Option<String>,
) -> AppResult<follows::Model> {
    let now = chrono::Utc::now();
    Ok(queries::follows::insert(
        db,
        follows::ActiveModel {
            id: Set(ids::next_id()),
            follower_id: Set(member),
            followee_id: Set(group),
            ap_id: Set(ap_id),
            state: Set(state.into()),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?)
}

/// After someone was admitted or asked to join (inside the caller's
/// transaction): an invitation is used up; moderators hear of a request.
pub async fn after_request(
    db: &impl ConnectionTrait,
    group: &Group,
    candidate: i64,
    state: &str,
) -> AppResult<()> {
    if state == ACCEPTED {
        queries::groups::delete_invitation(db, group.id(), candidate).await?;
        return Ok(());
    }
    for s in queries::groups::staff(db, group.id()).await? {
        if let Some(m) = queries::actors::by_id(db, s.actor_id).await? {
            notifications::notify_about_group(db, &m, "group_request", candidate, group.id())
                .await?;
        }
    }
    Ok(())
}

/// Someone's membership of a local group ended (they left, were removed or
/// banned): requests to moderators go, and so do their memberships of the
/// members-only sub-groups. Returns the Rejects owed to remote members.
pub async fn after_leaving(
    db: &impl ConnectionTrait,
    group: &Group,
    member: &actors::Model,
) -> AppResult<Vec<Event>> {
    queries::notifications::delete_about(
        db,
        About {
            kind: Some("group_request"),
            from: Some(member.id),
            group: Some(group.id()),
            ..About::default()
        },
    )
    .await?;
    // A moderator who leaves stops moderating.
    queries::groups::delete_role(db, group.id(), member.id).await?;
    let mut events = Vec::new();
    for child in queries::groups::children(db, group.id()).await? {
        if !child.members_only {
            continue;
        }
        if let Some(f) = queries::follows::get(db, member.id, child.actor_id).await? {
            queries::follows::delete(db, f.id).await?;
            queries::groups::delete_role(db, child.actor_id, member.id).await?;
            write_log(
                db,
                child.actor_id,
                None,
                "left-parent",
                Some(member.id),
                None,
                "",
            )
            .await?;
            if !member.local {
                events.push(Event::FollowRejected(f));
            }
        }
    }
    Ok(events)
}

/// The last owner cannot leave: the group would have no one to run it.
pub async fn check_leave(db: &impl ConnectionTrait, group: &Group, member: i64) -> AppResult<()> {
    if role_of(db, group, member).await? == Some(GroupRole::Owner) {
        let owners = queries::groups::staff(db, group.id())
            .await?
            .into_iter()
            .filter(|s| s.role == GroupRole::Owner.as_str())
            .count();
        if owners <= 1 {
            return Err(AppError::Conflict(msg!("error-group-last-owner")));
        }
    }
    Ok(())
}

/// Approve a request to join (the group's moderators).
pub async fn approve(
    state: &AppState,
    me: &Member,
    group: &Group,
    candidate_id: i64,
) -> AppResult<Outbox> {
    require_staff(state, group, me).await?;
    let candidate = queries::actors::by_id(&state.db, candidate_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    // Bans and the parent rule may have changed since the request was made.
    if queries::groups::ban(&state.db, group.id(), candidate.id)
        .await?
        .is_some()
    {
        return Err(AppError::Forbidden(msg!("error-group-banned")));
    }
    if let Some(m) = parent_rule(&state.db, group, &candidate).await? {
        return Err(AppError::Forbidden(m));
    }
    let events = crate::domain::follows::authorize(state, &group.actor, candidate_id).await?;
    let txn = crate::db::begin(&state.db).await?;
    clear_requests(&txn, group, candidate_id).await?;
    queries::groups::delete_invitation(&txn, group.id(), candidate_id).await?;
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        "approve",
        Some(candidate_id),
        None,
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(events)
}

/// Decline a request to join.
pub async fn reject(
    state: &AppState,
    me: &Member,
    group: &Group,
    candidate_id: i64,
) -> AppResult<Outbox> {
    require_staff(state, group, me).await?;
    let events = crate::domain::follows::reject(state, &group.actor, candidate_id).await?;
    let txn = crate::db::begin(&state.db).await?;
    clear_requests(&txn, group, candidate_id).await?;
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        "reject",
        Some(candidate_id),
        None,
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(events)
}

pub(super) async fn clear_requests(
    db: &impl ConnectionTrait,
    group: &Group,
    candidate: i64,
) -> AppResult<()> {
    queries::notifications::delete_about(
        db,
        About {
            kind: Some("group_request"),
            from: Some(candidate),
            group: Some(group.id()),
            ..About::default()
        },
    )
    .await?;
    Ok(())
}

/// Pending requests to join, newest first.
pub async fn requests(
    state: &AppState,
    me: &Member,
    group: &Group,
    page: Page,
) -> AppResult<Vec<actors::Model>> {
    require_staff(state, group, me).await?;
    let rows = queries::follows::followers(&state.db, group.id(), PENDING, page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.follower_id).collect();
    ordered_actors(&state.db, &ids).await
}

pub(super) async fn ordered_actors(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<actors::Model>> {
    let found = queries::actors::by_ids(db, ids).await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|a| a.id == *id).cloned())
        .collect())
}

/// A member with their role.
#[derive(Debug, Clone)]
pub struct MemberEntry {
    pub actor: actors::Model,
    pub role: GroupRole,
    /// The follow row id, for paging.
    pub cursor: i64,
}

/// Members, newest first; only members (and moderators) may list them.
pub async fn members(
    state: &AppState,
    viewer: Option<&actors::Model>,
    group: &Group,
    page: Page,
) -> AppResult<Vec<MemberEntry>> {
    let allowed = match viewer {
        Some(v) => v.id == group.id() || is_member(&state.db, group, v.id).await?,
        None => false,
    };
    if !allowed {
        return Err(AppError::Forbidden(msg!("error-group-members-only")));
    }
    let rows = queries::follows::followers(&state.db, group.id(), ACCEPTED, page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.follower_id).collect();
    let actors = queries::actors::by_ids(&state.db, &ids).await?;
    let staff = queries::groups::staff(&state.db, group.id()).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let actor = actors.iter().find(|a| a.id == r.follower_id)?.clone();
            let role = staff
                .iter()
                .find(|s| s.actor_id == actor.id)
                .and_then(|s| GroupRole::parse(&s.role))
                .unwrap_or(GroupRole::Member);
            Some(MemberEntry {
                actor,
                role,
                cursor: r.id,
            })
        })
        .collect())
}

/// Owners and moderators (the group's `attributedTo`), creator first.
pub async fn moderators(db: &impl ConnectionTrait, group: &Group) -> AppResult<Vec<actors::Model>> {
    let staff = queries::groups::staff(db, group.id()).await?;
    let ids: Vec<i64> = staff.iter().map(|s| s.actor_id).collect();
    ordered_actors(db, &ids).await
}

pub async fn member_count(db: &impl ConnectionTrait, group: &Group) -> AppResult<u64> {
    Ok(queries::follows::count_followers(db, group.id()).await?)
}

/// Invite someone (local or remote) by their account. Moderators invite to
/// any group; members may invite to open and approval groups.
pub async fn invite(
    state: &AppState,
    me: &Member,
    group: &Group,
    invitee: &actors::Model,
) -> AppResult<Outbox> {
    if !group.local() {
        return Err(AppError::not_found());
    }
    let my_role = role_of(&state.db, group, me.actor.id).await?;
    let allowed = match my_role {
        Some(r) if r.is_staff() => true,
        Some(_) => group.join_policy() != JoinPolicy::Invite,
        None => me.is_admin(),
    };
    if !allowed {
        return Err(AppError::Forbidden(msg!("error-group-staff-only")));
    }
    if invitee.kind != "Person" || invitee.deleted_at.is_some() {
        return Err(AppError::Forbidden(msg!("error-group-invite-person")));
    }
    if is_member(&state.db, group, invitee.id).await? {
        return Err(AppError::Conflict(msg!("error-group-already-member")));
    }
    if let Admission::Refuse(m) = admission(&state.db, group, invitee).await?
        && group.join_policy() != JoinPolicy::Invite
    {
        return Err(AppError::Forbidden(m));
    }
    if queries::groups::invitation(&state.db, group.id(), invitee.id)
        .await?
        .is_some()
    {
        return Ok(Outbox::none());
    }
    let txn = crate::db::begin(&state.db).await?;
    let row = queries::groups::insert_invitation(
        &txn,
        group_invitations::ActiveModel {
            id: Set(ids::next_id()),
            group_id: Set(group.id()),
            actor_id: Set(invitee.id),
            invited_by: Set(Some(me.actor.id)),
            created_at: Set(chrono::Utc::now()),
        },
    )
    .await?;
    notifications::notify_about_group(&txn, invitee, "group_invite", me.actor.id, group.id())
        .await?;
    // A pending request from the invitee is accepted by the invitation.
    let pending = queries::follows::get(&txn, invitee.id, group.id())
        .await?
        .filter(|f| f.state == PENDING);
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        "invite",
        Some(invitee.id),
        None,
        "",
    )
    .await?;
    let events = if pending.is_none() && !invitee.local {
        vec![Event::GroupInvited(row)]
    } else {
        Vec::new()
    };
    let mut outbox = Outbox::commit(txn, events).await?;
    if pending.is_some() {
        outbox.extend(crate::domain::follows::authorize(state, &group.actor, invitee.id).await?);
        clear_requests(&state.db, group, invitee.id).await?;
    }
    Ok(outbox)
}

/// Invitations the member has received and not used.
pub async fn my_invitations(
    state: &AppState,
    me: &actors::Model,
) -> AppResult<Vec<(group_invitations::Model, Group)>> {
    let mut out = Vec::new();
    for inv in queries::groups::invitations_of(&state.db, me.id).await? {
        if let Some(g) = load(&state.db, inv.group_id).await? {
            out.push((inv, g));
        }
    }
    Ok(out)
}

/// Decline an invitation (the invitee).
pub async fn decline_invitation(
    state: &AppState,
    me: &actors::Model,
    group: &Group,
) -> AppResult<()> {
    let txn = crate::db::begin(&state.db).await?;
    queries::groups::delete_invitation(&txn, group.id(), me.id).await?;
    queries::notifications::delete_about(
        &txn,
        About {
            kind: Some("group_invite"),
            to: Some(me.id),
            group: Some(group.id()),
            ..About::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Give a member a role, or take it away (owners, or an admin).
pub async fn set_role(
    state: &AppState,
    me: &Member,
    group: &Group,
    target_id: i64,
    role: GroupRole,
) -> AppResult<Outbox> {
    let mine = require_staff(state, group, me).await?;
    if mine != GroupRole::Owner {
        return Err(AppError::Forbidden(msg!("error-group-owner-only")));
    }
    let current = role_of(&state.db, group, target_id)
        .await?
        .ok_or_else(|| AppError::NotFound(msg!("error-group-not-member")))?;
    if current == GroupRole::Owner && role != GroupRole::Owner {
        let owners = queries::groups::staff(&state.db, group.id())
            .await?
            .into_iter()
            .filter(|s| s.role == GroupRole::Owner.as_str())
            .count();
        if owners <= 1 {
            return Err(AppError::Conflict(msg!("error-group-last-owner")));
        }
    }
    let target = queries::actors::by_id(&state.db, target_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let txn = crate::db::begin(&state.db).await?;
    queries::groups::delete_role(&txn, group.id(), target_id).await?;
    if role.is_staff() {
        queries::groups::insert_role(
            &txn,
            group_roles::ActiveModel {
                id: Set(ids::next_id()),
                group_id: Set(group.id()),
                actor_id: Set(target_id),
                role: Set(role.as_str().into()),
                created_at: Set(chrono::Utc::now()),
            },
        )
        .await?;
    }
    write_log(
        &txn,
        group.id(),
        Some(me.actor.id),
        "role",
        Some(target.id),
        None,
        role.as_str(),
    )
    .await?;
    // The moderators collection changed: the group's document says so.
    Outbox::commit(txn, vec![Event::ProfileUpdated(group.id())]).await
}
