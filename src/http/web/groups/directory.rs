//! The group directory (search and filters, the reader's own groups and
//! invitations) and the form that creates a group or a sub-group.

use super::group_values;
use crate::{
    app::AppState,
    domain::{
        accounts::Member,
        groups::{self, Group, GroupInput},
        profiles,
    },
    error::{AppError, AppResult},
    http::{
        extract::{Form, Query},
        web::{Ctx, MemberCtx, views},
    },
    msg,
};
use axum::{extract::State, http::StatusCode, response::Response};
use minijinja::{Value, context};
use serde::Deserialize;

/// Paths under `/groups/` that are pages, not groups.
const RESERVED: &[&str] = &["new", "invitations"];

#[derive(Deserialize, Default)]
pub(super) struct DirectoryQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    language: String,
}

pub(super) async fn directory(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DirectoryQuery>,
) -> AppResult<Response> {
    let all = groups::directory(
        &state,
        &groups::DirectoryFilter {
            top_level_only: true,
            ..Default::default()
        },
    )
    .await?;
    // The filters offer what the groups here name.
    let mut subjects: Vec<String> = Vec::new();
    let mut languages: Vec<String> = Vec::new();
    for g in &all {
        for s in profiles::string_list(&g.actor.subjects) {
            if !subjects.iter().any(|x| x.eq_ignore_ascii_case(&s)) {
                subjects.push(s);
            }
        }
        for l in profiles::string_list(&g.actor.languages) {
            if !languages.contains(&l) {
                languages.push(l);
            }
        }
    }
    subjects.sort_by_key(|s| s.to_lowercase());
    languages.sort();
    if q.q.trim().chars().count() > 200 {
        return Err(AppError::Unprocessable(msg!(
            "error-field-too-long",
            field = "q",
            max = 200
        )));
    }
    let found = groups::directory(
        &state,
        &groups::DirectoryFilter {
            query: Some(q.q.clone()),
            subject: Some(q.subject.clone()),
            language: Some(q.language.clone()),
            top_level_only: true,
        },
    )
    .await?;
    let member = ctx.active_member().cloned();
    let (mine, invitations, may_create) = match &member {
        Some(m) => {
            let mine = groups::memberships(&state, &m.actor).await?;
            let mut invitations = Vec::new();
            for (inv, g) in groups::my_invitations(&state, &m.actor).await? {
                invitations.push(context! {
                    group => super::group_value(&state, &g).await?,
                    at => views::when(inv.created_at),
                    at_iso => views::iso(inv.created_at),
                });
            }
            (
                group_values(&state, &mine).await?,
                invitations,
                groups::may_create(&state, m).await?,
            )
        }
        None => (Vec::new(), Vec::new(), false),
    };
    let searched = !(q.q.trim().is_empty() && q.subject.is_empty() && q.language.is_empty());
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "groups.html",
        context! {
            q => q.q.trim(),
            subject => q.subject,
            language => q.language,
            subjects => subjects,
            languages => languages,
            searched => searched,
            groups => group_values(&state, &found).await?,
            mine => mine,
            invitations => invitations,
            may_create => may_create,
        },
    ))
}

/// The fields of the create and settings forms, as typed.
#[derive(Deserialize, Default, Clone)]
pub(super) struct GroupForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub subjects: String,
    #[serde(default)]
    pub languages: String,
    #[serde(default)]
    pub members_only: Option<String>,
    #[serde(default)]
    pub join_policy: String,
    #[serde(default)]
    pub posting_policy: String,
    #[serde(default)]
    pub parent: String,
}

impl GroupForm {
    pub fn of(g: &Group) -> Self {
        Self {
            name: g.actor.username.clone(),
            display_name: g.actor.display_name.clone(),
            description: g.actor.summary_source.clone().unwrap_or_default(),
            subjects: profiles::string_list(&g.actor.subjects).join(", "),
            languages: profiles::string_list(&g.actor.languages).join(", "),
            members_only: g.members_only().then(|| "1".into()),
            join_policy: g.join_policy().as_str().into(),
            posting_policy: g.posting_policy().as_str().into(),
            parent: String::new(),
        }
    }

    pub fn input(&self) -> GroupInput {
        GroupInput {
            display_name: Some(self.display_name.clone()),
            description: Some(self.description.clone()),
            subjects: Some(profiles::split_list(&self.subjects)),
            languages: Some(profiles::split_list(&self.languages)),
            members_only: Some(self.members_only.is_some()),
            join_policy: Some(self.join_policy.clone()),
            posting_policy: Some(self.posting_policy.clone()),
            avatar: None,
            header: None,
        }
    }

    pub fn value(&self) -> Value {
        context! {
            name => self.name.clone(),
            display_name => self.display_name.clone(),
            description => self.description.clone(),
            subjects => self.subjects.clone(),
            languages => self.languages.clone(),
            members_only => self.members_only.is_some(),
            join_policy => if self.join_policy.is_empty() { "open".to_string() } else { self.join_policy.clone() },
            posting_policy => if self.posting_policy.is_empty() { "members".to_string() } else { self.posting_policy.clone() },
            parent => self.parent.clone(),
        }
    }
}

/// Groups `me` may make a sub-group of: top-level ones they moderate.
async fn parent_choices(state: &AppState, me: &Member) -> AppResult<Vec<Value>> {
    let mut out = Vec::new();
    for g in groups::memberships(state, &me.actor).await? {
        if !g.local() || g.settings.parent_id.is_some() {
            continue;
        }
        let role = groups::role_of(&state.db, &g, me.actor.id).await?;
        if role.is_some_and(groups::GroupRole::is_staff) || me.is_admin() {
            out.push(context! { name => g.actor.username.clone(), display_name => views::display_name(&g.actor) });
        }
    }
    Ok(out)
}

async fn render_new(
    state: &AppState,
    ctx: &Ctx,
    me: &Member,
    form: &GroupForm,
    status: StatusCode,
    error: Option<String>,
) -> AppResult<Response> {
    Ok(ctx.render(
        state,
        status,
        "group_new.html",
        context! {
            form => form.value(),
            parents => parent_choices(state, me).await?,
            error => error,
            creating => true,
        },
    ))
}

#[derive(Deserialize, Default)]
pub(super) struct NewQuery {
    #[serde(default)]
    parent: String,
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    if !groups::may_create(&state, &me).await? {
        return Err(AppError::Forbidden(msg!("error-group-create-forbidden")));
    }
    let form = GroupForm {
        parent: q.parent,
        ..Default::default()
    };
    render_new(&state, &ctx, &me, &form, StatusCode::OK, None).await
}

async fn parent_id(state: &AppState, raw: &str) -> AppResult<Option<i64>> {
    match raw.trim() {
        "" => Ok(None),
        name => Ok(Some(groups::by_name(state, name).await?.id())),
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    MemberCtx(mut ctx, me): MemberCtx,
    Form(form): Form<GroupForm>,
) -> AppResult<Response> {
    let name = form.name.trim().to_lowercase();
    let result = if RESERVED.contains(&name.as_str()) {
        Err(AppError::Conflict(msg!(
            "error-username-taken",
            username = name
        )))
    } else {
        match parent_id(&state, &form.parent).await {
            Ok(parent) => groups::create(&state, &me, &form.name, parent, form.input()).await,
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(g) => Ok(ctx.redirect_with(&state, &views::group_path(&g.actor), "flash-group-created")),
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let message = e.public_message().render(ctx.locale);
            ctx.here = "/groups/new".into();
            render_new(&state, &ctx, &me, &form, e.status(), Some(message)).await
        }
    }
}
