//! Group pages. `/groups/{name}` is both the group's page and its
//! ActivityPub id: ActivityPub clients get the Group actor document,
//! browsers the page with its tabs (posts, discussions, resources, events,
//! members, sub-groups, about, the moderation log, and for the group's
//! moderators requests, bans and settings). The directory, creating a group
//! and invitations live in [`directory`], the buttons and moderation forms
//! in [`actions`], the settings form (with uploads) in [`settings`].

mod actions;
mod directory;
mod settings;
mod tabs;

use super::{Ctx, views};
use crate::{
    app::AppState,
    db::{entities::actors, queries},
    domain::{
        accounts::Member,
        follows,
        groups::{self, Group, GroupRole, JoinPolicy, PostingPolicy},
        profiles, text,
    },
    error::AppResult,
    http::{
        activitypub::{groups::group_document, wants_activitypub},
        extract::{Path, Query},
    },
};
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{get, post},
};
use minijinja::{Value, context};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/groups", get(directory::directory).post(directory::create))
        .route("/groups/new", get(directory::new_form))
        .route("/groups/{name}", get(group))
        .route(
            "/groups/{name}/{tab}",
            get(tab_page).post(actions::group_action),
        )
        .route(
            "/groups/{name}/requests/{id}/{action}",
            post(actions::decide_request),
        )
        .route(
            "/groups/{name}/posts/{id}/{action}",
            post(actions::moderate_post),
        )
        .route(
            "/groups/{name}/members/{id}/{action}",
            post(actions::moderate_member),
        )
}

/// The settings form takes avatar and banner uploads (multipart, with the
/// larger body limit).
pub fn upload_routes() -> Router<AppState> {
    Router::new().route(
        "/groups/{name}/settings",
        get(settings::form).post(settings::save),
    )
}

async fn group(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<views::PageQuery>,
) -> AppResult<Response> {
    if wants_activitypub(&headers) {
        return group_document(&state, &name).await;
    }
    tabs::show(&state, &ctx, &name, "posts", &q).await
}

async fn tab_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((name, tab)): Path<(String, String)>,
    Query(q): Query<views::PageQuery>,
) -> AppResult<Response> {
    tabs::show(&state, &ctx, &name, &tab, &q).await
}

/// Where the reader stands with a group.
#[derive(Debug, Clone, Default)]
pub(super) struct Standing {
    pub role: Option<GroupRole>,
    pub requested: bool,
    pub invited: bool,
    pub banned: bool,
    /// May read its posts (public group, or a member).
    pub can_read: bool,
    /// Moderates it (or is an instance admin, for a group of ours).
    pub staff: bool,
    pub owner: bool,
    pub can_post: bool,
    pub can_invite: bool,
}

impl Standing {
    pub async fn of(state: &AppState, group: &Group, me: Option<&Member>) -> AppResult<Self> {
        let viewer = me.filter(|m| m.is_active());
        let can_read = groups::may_read(&state.db, group, viewer.map(|m| &m.actor)).await?;
        let Some(me) = viewer else {
            return Ok(Self {
                can_read,
                ..Self::default()
            });
        };
        let role = groups::role_of(&state.db, group, me.actor.id).await?;
        let follow = queries::follows::get(&state.db, me.actor.id, group.id()).await?;
        let admin = group.local() && me.is_admin();
        let staff = role.is_some_and(GroupRole::is_staff) || admin;
        let owner = role == Some(GroupRole::Owner) || admin;
        let can_post = match group.posting_policy() {
            PostingPolicy::Moderators => role.is_some_and(GroupRole::is_staff),
            PostingPolicy::Members => role.is_some(),
        };
        let can_invite = group.local()
            && match role {
                Some(r) if r.is_staff() => true,
                Some(_) => group.join_policy() != JoinPolicy::Invite,
                None => admin,
            };
        Ok(Self {
            role,
            requested: follow.is_some_and(|f| f.state == follows::PENDING),
            invited: queries::groups::invitation(&state.db, group.id(), me.actor.id)
                .await?
                .is_some(),
            banned: queries::groups::ban(&state.db, group.id(), me.actor.id)
                .await?
                .is_some(),
            can_read,
            staff,
            owner,
            can_post,
            can_invite,
        })
    }

    fn value(&self) -> Value {
        context! {
            role => self.role.map(GroupRole::as_str),
            member => self.role.is_some(),
            requested => self.requested,
            invited => self.invited,
            banned => self.banned,
            can_read => self.can_read,
            staff => self.staff,
            owner => self.owner,
            can_post => self.can_post,
            can_invite => self.can_invite,
        }
    }
}

/// A short plain-text excerpt of a description.
fn excerpt(html: &str, max: usize) -> String {
    let plain = text::html_to_text(html);
    let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if plain.chars().count() <= max {
        return plain;
    }
    let cut: String = plain.chars().take(max).collect();
    format!("{}…", cut.trim_end())
}

/// A group as cards and headers show it.
pub(super) async fn group_value(state: &AppState, g: &Group) -> AppResult<Value> {
    let a = &g.actor;
    Ok(context! {
        id => g.id().to_string(),
        name => a.username.clone(),
        display_name => views::display_name(a),
        handle => views::full_handle(a),
        path => views::group_path(a),
        avatar_url => views::image_url(a.avatar_url.as_deref()),
        header_url => views::image_url(a.header_url.as_deref()),
        // Stored sanitised at write time.
        description_html => Value::from_safe_string(a.summary.clone()),
        excerpt => excerpt(&a.summary, 200),
        subjects => profiles::string_list(&a.subjects),
        languages => profiles::string_list(&a.languages),
        members_only => g.members_only(),
        join_policy => g.join_policy().as_str(),
        posting_policy => g.posting_policy().as_str(),
        member_count => groups::member_count(&state.db, g).await?,
        created => a.created_at.format("%Y-%m-%d").to_string(),
        created_iso => views::iso(a.created_at),
        local => g.local(),
        is_subgroup => g.settings.parent_id.is_some(),
    })
}

pub(super) async fn group_values(state: &AppState, list: &[Group]) -> AppResult<Vec<Value>> {
    let mut out = Vec::with_capacity(list.len());
    for g in list {
        out.push(group_value(state, g).await?);
    }
    Ok(out)
}

/// Render one tab of a group's page: the header (with the join buttons),
/// the tabs, and `page` for the tab's own part.
pub(super) async fn render_tab(
    state: &AppState,
    ctx: &Ctx,
    group: &Group,
    standing: &Standing,
    tab: &str,
    status: StatusCode,
    page: Value,
) -> AppResult<Response> {
    let parent = match groups::parent(state, group).await? {
        Some(p) => Some(context! {
            display_name => views::display_name(&p.actor),
            path => views::group_path(&p.actor),
        }),
        None => None,
    };
    let shell = context! {
        group => group_value(state, group).await?,
        me => standing.value(),
        tab => tab,
        parent => parent,
        template => format!("group_{}.html", tab_template(tab)),
    };
    Ok(ctx.render(state, status, "group.html", context! { ..page, ..shell }))
}

fn tab_template(tab: &str) -> &'static str {
    match tab {
        "posts" | "discussions" => "posts",
        "resources" => "resources",
        "events" => "events",
        "members" => "members",
        "subgroups" => "subgroups",
        "log" => "log",
        "moderation" => "moderation",
        "settings" => "form",
        _ => "about",
    }
}

/// An actor in a list of the group's people.
pub(super) fn person(a: &actors::Model) -> Value {
    views::actor_value(a)
}
