//! What is posted in a group: who may post, and what a viewer may read.

use super::*;

/// May `author` start a thread, or reply in one, in this group? Checked for
/// local members and for posts arriving from other servers alike.
pub async fn check_post(
    db: &impl ConnectionTrait,
    group: &Group,
    author: &actors::Model,
    thread_root: Option<&statuses::Model>,
) -> AppResult<()> {
    if queries::groups::ban(db, group.id(), author.id)
        .await?
        .is_some()
    {
        return Err(AppError::Forbidden(msg!("error-group-banned")));
    }
    let role = role_of(db, group, author.id).await?;
    let staff = role.is_some_and(GroupRole::is_staff);
    match thread_root {
        Some(root) => {
            if root.locked && !staff {
                return Err(AppError::Forbidden(msg!("error-thread-locked")));
            }
            // Public groups take replies from anyone (as Lemmy and Mastodon
            // users expect); members-only ones from members.
            if group.members_only() && role.is_none() {
                return Err(AppError::Forbidden(msg!("error-group-members-only")));
            }
        }
        None => match group.posting_policy() {
            PostingPolicy::Moderators if !staff => {
                return Err(AppError::Forbidden(msg!("error-group-moderators-post")));
            }
            _ if role.is_none() => {
                return Err(AppError::Forbidden(msg!("error-group-members-post")));
            }
            _ => {}
        },
    }
    Ok(())
}

/// Is this post of the group one its members read in the group (and the
/// group passes on)? A followers-only or direct answer in a public group's
/// thread stays with the audience its author chose.
pub fn shown_in_group(group: &Group, s: &statuses::Model) -> bool {
    use crate::domain::posts::Visibility;
    match Visibility::of(s) {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Private => group.members_only(),
        Visibility::Direct => false,
    }
}

/// Posts of a group the viewer may read: every post, thread starters, or
/// discussions (titled thread starters).
pub async fn posts(
    state: &AppState,
    viewer: Option<&actors::Model>,
    group: &Group,
    listing: queries::groups::Listing,
    page: Page,
) -> AppResult<Vec<statuses::Model>> {
    if !may_read(&state.db, group, viewer).await? {
        return Err(AppError::Forbidden(msg!("error-group-members-only")));
    }
    let listing = queries::groups::Listing {
        with_private: group.members_only(),
        ..listing
    };
    Ok(queries::groups::posts(&state.db, group.id(), listing, page).await?)
}

/// Pinned posts of a group (its `featured` collection), newest pin first.
pub async fn pinned(
    state: &AppState,
    viewer: Option<&actors::Model>,
    group: &Group,
) -> AppResult<Vec<statuses::Model>> {
    if !may_read(&state.db, group, viewer).await? {
        return Ok(Vec::new());
    }
    let ids = queries::groups::pinned_ids(&state.db, group.id()).await?;
    let found = queries::statuses::by_ids(&state.db, &ids).await?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            found
                .iter()
                .find(|s| s.id == *id && s.deleted_at.is_none())
                .cloned()
        })
        .collect())
}
