//! Membership of the national portal, on both sides.
//!
//! An association instance joins by having its instance actor follow the
//! portal actor (`join`); the portal's admins admit an applicant instance
//! (`approve`) or suspend a member (`suspend`, a `Reject` of its follow, which
//! also refuses a pending application). A suspension is remembered: the
//! instance's new applications are refused until an admin lifts it
//! (`lift_suspension`). Everything travels as ordinary follows, so leaving
//! is an `Undo{Follow}` and needs nothing of its own.
//!
//! Everyone else following the portal actor (people, relay subscribers
//! following the Public collection) is accepted at once: they only read
//! the national feed, they are not trusted as members.

use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::entities::actors,
    domain::follows,
    error::{AppError, AppResult},
    federation::portal,
};

/// Who is let in by the portal actor: a Staffroom instance actor applies
/// and waits for the admins; anyone else reads. Another server's
/// application actor (Pleroma's relay, LitePub style) subscribes as a
/// relay, so it is never taken for a member, nor trusted as one; one whose
/// NodeInfo cannot be read waits for the admins.
pub async fn admission(
    state: &AppState,
    follower: &actors::Model,
) -> AppResult<crate::domain::groups::Admission> {
    use crate::domain::groups::Admission;
    if crate::db::queries::portal::instance(&state.db, &follower.domain)
        .await?
        .is_some_and(|i| i.suspended_at.is_some())
    {
        return Ok(Admission::Refuse(crate::msg!("error-portal-suspended")));
    }
    if follower.kind == "Application"
        && !crate::db::queries::portal::is_relay(&state.db, follower.id).await?
    {
        match crate::domain::national::software_of(state, follower)
            .await
            .as_deref()
        {
            Some("staffroom") | None => return Ok(Admission::Pending),
            Some(_) => crate::db::queries::portal::add_relay(&state.db, follower.id).await?,
        }
    }
    Ok(Admission::Accept)
}

/// How an instance stands with the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Applied,
    Member,
}

/// Our instance actor asks to join the portal (`portal_actor`, already
/// resolved). Asking again while an application is open changes nothing.
pub async fn join(
    state: &AppState,
    instance_actor: &actors::Model,
    portal_actor: &actors::Model,
) -> AppResult<(Standing, Outbox)> {
    if portal_actor.local || portal_actor.kind != "Application" {
        return Err(AppError::Unprocessable(crate::msg!(
            "error-invalid-query",
            detail = "portal"
        )));
    }
    let (row, events) = follows::follow(state, instance_actor, portal_actor).await?;
    let standing = if row.state == follows::ACCEPTED {
        Standing::Member
    } else {
        Standing::Applied
    };
    Ok((standing, events))
}

/// The instance actor of `domain` among the portal's followers in the given
/// state (`pending` or `accepted`).
async fn instance_of(
    state: &AppState,
    portal_actor: &actors::Model,
    follow_state: &str,
    domain: &str,
) -> AppResult<Option<actors::Model>> {
    let domain = domain.trim().to_ascii_lowercase();
    Ok(portal::instances(state, portal_actor, follow_state)
        .await?
        .into_iter()
        .find(|a| a.domain == domain))
}

/// Admit the instance at `domain`, which asked to join. `None` when it has
/// no open application.
pub async fn approve(state: &AppState, domain: &str) -> AppResult<Option<Outbox>> {
    let Some(p) = portal::actor(state).await? else {
        return Ok(None);
    };
    let Some(applicant) = instance_of(state, &p, follows::PENDING, domain).await? else {
        return Ok(None);
    };
    let events = follows::authorize(state, &p, applicant.id).await?;
    // The directory shows what the new member's NodeInfo says.
    crate::domain::national::refresh_nodeinfo(state, &applicant).await;
    Ok(Some(events))
}

/// Suspend the member (or refuse the applicant) at `domain`. `None` when it
/// is neither.
pub async fn suspend(state: &AppState, domain: &str) -> AppResult<Option<Outbox>> {
    let Some(p) = portal::actor(state).await? else {
        return Ok(None);
    };
    for follow_state in [follows::ACCEPTED, follows::PENDING] {
        if let Some(instance) = instance_of(state, &p, follow_state, domain).await? {
            crate::db::queries::portal::set_suspended(
                &state.db,
                &instance.domain,
                Some(chrono::Utc::now()),
            )
            .await?;
            return Ok(Some(follows::reject(state, &p, instance.id).await?));
        }
    }
    Ok(None)
}

/// Lift the suspension of `domain`: it may apply again (and is admitted
/// only when an admin approves it). False when it was not suspended.
pub async fn lift_suspension(state: &AppState, domain: &str) -> AppResult<bool> {
    crate::domain::national::check_portal(state)?;
    let domain = domain.trim().to_ascii_lowercase();
    let suspended = crate::db::queries::portal::instance(&state.db, &domain)
        .await?
        .is_some_and(|i| i.suspended_at.is_some());
    if suspended {
        crate::db::queries::portal::set_suspended(&state.db, &domain, None).await?;
    }
    Ok(suspended)
}

/// The portals this instance belongs to or applied to: the remote
/// `Application` actors its instance actor follows, with how it stands.
pub async fn standings(state: &AppState) -> AppResult<Vec<(actors::Model, Standing)>> {
    let me = state.urls.instance_actor();
    let Some(me) = crate::db::queries::actors::by_ap_id(&state.db, &me).await? else {
        return Ok(Vec::new());
    };
    let rows = crate::db::queries::follows::outgoing(&state.db, me.id, 100).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.followee_id).collect();
    let mut out: Vec<(actors::Model, Standing)> =
        crate::db::queries::actors::by_ids(&state.db, &ids)
            .await?
            .into_iter()
            .filter(|a| a.kind == "Application" && !a.local)
            .filter_map(|a| {
                let row = rows.iter().find(|r| r.followee_id == a.id)?;
                let standing = if row.state == follows::ACCEPTED {
                    Standing::Member
                } else {
                    Standing::Applied
                };
                Some((a, standing))
            })
            .collect();
    out.sort_by(|a, b| a.0.ap_id.cmp(&b.0.ap_id));
    Ok(out)
}

/// The portals this instance is a member of (their actor ids).
pub async fn memberships(state: &AppState) -> AppResult<Vec<String>> {
    Ok(standings(state)
        .await?
        .into_iter()
        .filter(|(_, s)| *s == Standing::Member)
        .map(|(a, _)| a.ap_id)
        .collect())
}

/// Leave the portal `portal_actor` (or withdraw the application). Empty when
/// this instance neither belongs to it nor applied.
pub async fn leave(
    state: &AppState,
    instance_actor: &actors::Model,
    portal_actor: &actors::Model,
) -> AppResult<Outbox> {
    follows::unfollow(state, instance_actor, portal_actor).await
}

/// How many member instances this portal has (0 on an association).
pub async fn member_count(state: &AppState) -> AppResult<usize> {
    Ok(match portal::actor(state).await? {
        Some(p) => portal::instances(state, &p, follows::ACCEPTED).await?.len(),
        None => 0,
    })
}
