//! Creating a group, changing its settings, and finding groups: the
//! directory, sub-groups and the groups someone belongs to.

use super::*;
use crate::domain::outbox::Outbox;

/// What a member fills in to create a group or change its settings. `None`
/// leaves a setting as it is.
#[derive(Debug, Default, Clone)]
pub struct GroupInput {
    pub display_name: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    pub subjects: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub members_only: Option<bool>,
    pub join_policy: Option<String>,
    pub posting_policy: Option<String>,
    pub avatar: Option<bytes::Bytes>,
    pub header: Option<bytes::Bytes>,
}

/// May this member create groups here (an instance setting)?
pub async fn may_create(state: &AppState, member: &Member) -> AppResult<bool> {
    let settings = instance::load(state).await?;
    Ok(member.is_active()
        && match settings.group_creation {
            instance::GroupCreation::Members => true,
            instance::GroupCreation::Staff => member.is_staff(),
            instance::GroupCreation::Admins => member.is_admin(),
        })
}

/// Create a group; its creator becomes its owner and first member. A
/// sub-group is created by the parent's moderators (or an admin).
pub async fn create(
    state: &AppState,
    creator: &Member,
    name: &str,
    parent: Option<i64>,
    input: GroupInput,
) -> AppResult<Group> {
    if !may_create(state, creator).await? {
        return Err(AppError::Forbidden(msg!("error-group-create-forbidden")));
    }
    let name = validate::username(name, false)?;
    if queries::actors::local_by_username(&state.db, &name)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(msg!(
            "error-username-taken",
            username = name
        )));
    }
    let parent_group = match parent {
        Some(p) => {
            let g = load(&state.db, p)
                .await?
                .filter(Group::local)
                .ok_or_else(AppError::not_found)?;
            if g.settings.parent_id.is_some() {
                return Err(AppError::Unprocessable(msg!("error-group-nesting")));
            }
            let role = role_of(&state.db, &g, creator.actor.id).await?;
            if !role.is_some_and(GroupRole::is_staff) && !creator.is_admin() {
                return Err(AppError::Forbidden(msg!("error-group-staff-only")));
            }
            Some(g)
        }
        None => None,
    };
    let display_name = validate::optional(
        "display_name",
        input.display_name.as_deref(),
        validate::DISPLAY_NAME_MAX,
    )?
    .unwrap_or_else(|| name.clone());
    let description =
        validate::optional("description", input.description.as_deref(), DESCRIPTION_MAX)?
            .unwrap_or_default();
    let join = parse_join(input.join_policy.as_deref())?.unwrap_or(JoinPolicy::Open);
    let posting = parse_posting(input.posting_policy.as_deref())?.unwrap_or(PostingPolicy::Members);
    let subjects = profiles::clean_subjects(input.subjects.clone().unwrap_or_default())?;
    let languages = profiles::clean_languages(input.languages.clone().unwrap_or_default())?;
    let members_only = input.members_only.unwrap_or(false);
    let keys = keys::generate().await?;
    let now = chrono::Utc::now();
    let id = ids::next_id();
    let ap_id = state.urls.group(&name);
    let mut images = (None, None, None, None);
    if let Some(bytes) = input.avatar.clone() {
        let (url, media) = profiles::store_image(state, creator.account.id, bytes).await?;
        images.0 = Some(url);
        images.1 = Some(media);
    }
    if let Some(bytes) = input.header.clone() {
        let (url, media) = profiles::store_image(state, creator.account.id, bytes).await?;
        images.2 = Some(url);
        images.3 = Some(media);
    }
    let txn = crate::db::begin(&state.db).await?;
    let actor = queries::actors::insert(
        &txn,
        actors::ActiveModel {
            id: Set(id),
            ap_id: Set(ap_id.clone()),
            kind: Set("Group".into()),
            username: Set(name.clone()),
            domain: Set(state.urls.domain().to_string()),
            local: Set(true),
            display_name: Set(display_name),
            summary: Set(text::markdown_to_html(&description)),
            summary_source: Set(Some(description)),
            url: Set(Some(ap_id.clone())),
            inbox_url: Set(state.urls.inbox(&ap_id)),
            shared_inbox_url: Set(Some(state.urls.shared_inbox())),
            outbox_url: Set(Some(state.urls.outbox(&ap_id))),
            followers_url: Set(Some(state.urls.followers(&ap_id))),
            following_url: Set(None),
            featured_url: Set(Some(state.urls.featured(&ap_id))),
            avatar_url: Set(images.0),
            header_url: Set(images.2),
            avatar_media_id: Set(images.1),
            header_media_id: Set(images.3),
            public_key_pem: Set(keys.public_pem),
            private_key_pem: Set(Some(keys.private_pem)),
            manually_approves_followers: Set(join != JoinPolicy::Open),
            discoverable: Set(true),
            indexable: Set(!members_only),
            bot: Set(false),
            fields: Set(serde_json::json!([])),
            subjects: Set(serde_json::json!(subjects)),
            languages: Set(serde_json::json!(languages)),
            account_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            last_refreshed_at: Set(Some(now)),
            deleted_at: Set(None),
        },
    )
    .await
    .map_err(|_| AppError::Conflict(msg!("error-username-taken", username = name.clone())))?;
    let settings = queries::groups::insert(
        &txn,
        groups::ActiveModel {
            actor_id: Set(actor.id),
            parent_id: Set(parent_group.as_ref().map(Group::id)),
            members_only: Set(members_only),
            join_policy: Set(join.as_str().into()),
            posting_policy: Set(posting.as_str().into()),
            created_by: Set(Some(creator.actor.id)),
            created_at: Set(now),
        },
    )
    .await?;
    queries::groups::insert_role(
        &txn,
        group_roles::ActiveModel {
            id: Set(ids::next_id()),
            group_id: Set(actor.id),
            actor_id: Set(creator.actor.id),
            role: Set(GroupRole::Owner.as_str().into()),
            created_at: Set(now),
        },
    )
    .await?;
    insert_membership(&txn, creator.actor.id, actor.id, ACCEPTED, None).await?;
    write_log(
        &txn,
        actor.id,
        Some(creator.actor.id),
        "create",
        None,
        None,
        "",
    )
    .await?;
    txn.commit().await?;
    tracing::info!(group = %name, "group created");
    Ok(Group { actor, settings })
}

pub(super) fn parse_join(raw: Option<&str>) -> AppResult<Option<JoinPolicy>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => JoinPolicy::parse(s)
            .map(Some)
            .ok_or_else(|| AppError::Unprocessable(msg!("error-group-join-policy", value = s))),
    }
}

pub(super) fn parse_posting(raw: Option<&str>) -> AppResult<Option<PostingPolicy>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => PostingPolicy::parse(s)
            .map(Some)
            .ok_or_else(|| AppError::Unprocessable(msg!("error-group-posting-policy", value = s))),
    }
}

/// Change a group's settings (its moderators, or an admin). The change is
/// federated as an Update of the group actor.
pub async fn update(
    state: &AppState,
    me: &Member,
    group: &Group,
    input: GroupInput,
) -> AppResult<(Group, Outbox)> {
    require_staff(state, group, me).await?;
    let mut actor = group.actor.clone().into_active_model();
    let mut settings = group.settings.clone().into_active_model();
    let mut changed_visibility = false;
    if let Some(name) = &input.display_name {
        actor.display_name =
            Set(
                validate::optional("display_name", Some(name), validate::DISPLAY_NAME_MAX)?
                    .unwrap_or_else(|| group.actor.username.clone()),
            );
    }
    if let Some(d) = &input.description {
        let d = validate::optional("description", Some(d), DESCRIPTION_MAX)?.unwrap_or_default();
        actor.summary = Set(text::markdown_to_html(&d));
        actor.summary_source = Set(Some(d));
    }
    if let Some(s) = input.subjects {
        actor.subjects = Set(serde_json::json!(profiles::clean_subjects(s)?));
    }
    if let Some(l) = input.languages {
        actor.languages = Set(serde_json::json!(profiles::clean_languages(l)?));
    }
    if let Some(j) = parse_join(input.join_policy.as_deref())? {
        settings.join_policy = Set(j.as_str().into());
        actor.manually_approves_followers = Set(j != JoinPolicy::Open);
    }
    if let Some(p) = parse_posting(input.posting_policy.as_deref())? {
        settings.posting_policy = Set(p.as_str().into());
    }
    if let Some(m) = input.members_only
        && m != group.settings.members_only
    {
        // Posts keep the audience they were written for; only new ones change.
        settings.members_only = Set(m);
        actor.indexable = Set(!m);
        changed_visibility = true;
    }
    let mut replaced = Vec::new();
    if let Some(bytes) = input.avatar {
        let (url, id) = profiles::store_image(state, me.account.id, bytes).await?;
        actor.avatar_url = Set(Some(url));
        actor.avatar_media_id = Set(Some(id));
        replaced.extend(group.actor.avatar_media_id);
    }
    if let Some(bytes) = input.header {
        let (url, id) = profiles::store_image(state, me.account.id, bytes).await?;
        actor.header_url = Set(Some(url));
        actor.header_media_id = Set(Some(id));
        replaced.extend(group.actor.header_media_id);
    }
    actor.updated_at = Set(chrono::Utc::now());
    let txn = crate::db::begin(&state.db).await?;
    let actor = queries::actors::update(&txn, actor).await?;
    let settings = queries::groups::update(&txn, settings).await?;
    let detail = if changed_visibility {
        if settings.members_only {
            "members-only"
        } else {
            "public"
        }
    } else {
        ""
    };
    write_log(
        &txn,
        actor.id,
        Some(me.actor.id),
        "settings",
        None,
        None,
        detail,
    )
    .await?;
    let outbox = Outbox::commit(txn, vec![Event::ProfileUpdated(actor.id)]).await?;
    profiles::discard_media(state, replaced).await?;
    Ok((Group { actor, settings }, outbox))
}

/// Local groups for the directory: matching `query` (handle, name or
/// description), a subject and a language, in the order they were created.
#[derive(Debug, Default, Clone)]
pub struct DirectoryFilter {
    pub query: Option<String>,
    pub subject: Option<String>,
    pub language: Option<String>,
    /// Only top-level groups (sub-groups show on their parent's page).
    pub top_level_only: bool,
}

pub async fn directory(state: &AppState, filter: &DirectoryFilter) -> AppResult<Vec<Group>> {
    let actors = queries::groups::local_actors(&state.db, 5000).await?;
    let ids: Vec<i64> = actors.iter().map(|a| a.id).collect();
    let settings = queries::groups::by_ids(&state.db, &ids).await?;
    let q = filter
        .query
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let subject = filter
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let language = filter
        .language
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let mut out = Vec::new();
    for actor in actors {
        let Some(s) = settings.iter().find(|s| s.actor_id == actor.id).cloned() else {
            continue;
        };
        if filter.top_level_only && s.parent_id.is_some() {
            continue;
        }
        if let Some(q) = &q {
            let haystack = format!(
                "{} {} {}",
                actor.username,
                actor.display_name,
                text::html_to_text(&actor.summary)
            )
            .to_lowercase();
            if !haystack.contains(q.as_str()) {
                continue;
            }
        }
        if let Some(sub) = subject
            && !profiles::string_list(&actor.subjects)
                .iter()
                .any(|s| s.eq_ignore_ascii_case(sub))
        {
            continue;
        }
        if let Some(lang) = &language
            && !profiles::string_list(&actor.languages).contains(lang)
        {
            continue;
        }
        out.push(Group { actor, settings: s });
    }
    Ok(out)
}

/// Sub-groups of a group that `viewer` may see listed: public ones, and
/// members-only ones to their members.
pub async fn subgroups(
    state: &AppState,
    viewer: Option<&actors::Model>,
    group: &Group,
) -> AppResult<Vec<Group>> {
    let mut out = Vec::new();
    for s in queries::groups::children(&state.db, group.id()).await? {
        let Some(actor) = queries::actors::by_id(&state.db, s.actor_id).await? else {
            continue;
        };
        if actor.deleted_at.is_some() {
            continue;
        }
        let g = Group { actor, settings: s };
        if !g.members_only() || may_read(&state.db, &g, viewer).await? {
            out.push(g);
        }
    }
    Ok(out)
}

/// The parent of a sub-group.
pub async fn parent(state: &AppState, group: &Group) -> AppResult<Option<Group>> {
    match group.settings.parent_id {
        Some(p) => load(&state.db, p).await,
        None => Ok(None),
    }
}

/// Groups a local actor belongs to (accepted), newest first.
pub async fn memberships(state: &AppState, me: &actors::Model) -> AppResult<Vec<Group>> {
    let rows = queries::follows::following(
        &state.db,
        me.id,
        Page {
            limit: 1000,
            ..Default::default()
        },
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.followee_id).collect();
    let mut out = Vec::new();
    for a in ordered_actors(&state.db, &ids).await? {
        if a.kind == "Group"
            && let Some(g) = of_actor(&state.db, a).await?
        {
            out.push(g);
        }
    }
    Ok(out)
}
