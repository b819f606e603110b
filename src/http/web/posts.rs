//! Posts on the web: writing (Markdown, visibility, content warning, an
//! optional title that makes an article), the thread page of any post we
//! have (with ActivityPub JSON for local posts at the same address), editing
//! with its history, deleting, and the like, boost and bookmark buttons.

use super::{
    Ctx, MemberCtx,
    views::{self, post_path},
};
use crate::domain::outbox::Outbox;
use crate::{
    app::AppState,
    db::{
        entities::{actors, statuses},
        queries,
    },
    domain::{
        interactions,
        posts::{self, Compose, Visibility},
        timelines,
    },
    error::{AppError, AppResult},
    federation::{publish, resolve},
    http::{
        activitypub::{status_document, wants_activitypub},
        extract::{Form, Path, Query},
    },
    msg,
};
use activitypub_federation::config::Data;
use axum::{
    Router,
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/compose", get(compose_page))
        .route("/statuses", post(create))
        .route("/statuses/{id}", get(by_id))
        .route("/statuses/{id}/{action}", post(act))
        .route("/{handle}/{id}", get(post_page))
        .route("/{handle}/{id}/{page}", get(post_subpage))
}

/// What the composer shows: its fields as typed.
#[derive(Debug, Clone, Default)]
pub struct ComposeValues {
    pub status: String,
    pub title: String,
    pub spoiler_text: String,
    pub visibility: String,
    pub in_reply_to_id: Option<String>,
    /// Where to go after publishing.
    pub back: String,
    /// Posting into this group (its account id), and whether it is members-only.
    pub group_id: Option<String>,
    pub group_members_only: bool,
}

impl ComposeValues {
    pub fn value(&self) -> Value {
        context! {
            status => self.status.clone(),
            title => self.title.clone(),
            spoiler_text => self.spoiler_text.clone(),
            visibility => self.visibility.clone(),
            in_reply_to_id => self.in_reply_to_id.clone(),
            back => self.back.clone(),
            group_id => self.group_id.clone(),
            group_members_only => self.group_members_only,
        }
    }
}

pub fn compose_defaults(visibility: Visibility) -> ComposeValues {
    ComposeValues {
        visibility: visibility.as_str().to_string(),
        back: "/home".into(),
        ..Default::default()
    }
}

#[derive(Deserialize, Default)]
struct ComposeForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    in_reply_to_id: String,
    /// Post in this group (the composer on a group page sets it).
    #[serde(default)]
    group_id: String,
    #[serde(default)]
    back: String,
}

impl ComposeForm {
    fn values(&self) -> ComposeValues {
        ComposeValues {
            status: self.status.clone(),
            title: self.title.clone(),
            spoiler_text: self.spoiler_text.clone(),
            visibility: self.visibility.clone(),
            in_reply_to_id: Some(self.in_reply_to_id.trim().to_string()).filter(|s| !s.is_empty()),
            back: self.back.clone(),
            group_id: Some(self.group_id.trim().to_string()).filter(|s| !s.is_empty()),
            group_members_only: false,
        }
    }

    fn compose(&self) -> AppResult<Compose> {
        let raw = self.visibility.trim();
        let visibility = if raw.is_empty() {
            Visibility::Public
        } else {
            Visibility::parse(raw).ok_or_else(|| {
                AppError::Unprocessable(msg!("error-visibility", visibility = raw))
            })?
        };
        let in_reply_to_id = match self.in_reply_to_id.trim() {
            "" => None,
            r => Some(r.parse().map_err(|_| AppError::not_found())?),
        };
        Ok(Compose {
            text: self.status.clone(),
            title: Some(self.title.clone()),
            spoiler_text: Some(self.spoiler_text.clone()),
            sensitive: false,
            visibility,
            in_reply_to_id,
            language: None,
            media_ids: None,
            poll: None,
            group_id: match self.group_id.trim() {
                "" => None,
                g => Some(g.parse().map_err(|_| AppError::not_found())?),
            },
        })
    }
}

fn viewer_is_staff(ctx: &Ctx) -> bool {
    ctx.active_member().is_some_and(|m| m.is_staff())
}

/// One post, ready for a template (None when the viewer may not see it).
async fn show_one(
    state: &AppState,
    ctx: &Ctx,
    s: statuses::Model,
) -> AppResult<Option<(Value, timelines::PostView)>> {
    let viewer = ctx.viewer_actor();
    let views = timelines::hydrate(state, viewer, vec![s]).await?;
    Ok(views
        .into_iter()
        .next()
        .map(|v| (views::post_value(&v, viewer, viewer_is_staff(ctx)), v)))
}

/// The composer page on its own: for replying from a list, on small
/// screens, and to show a refused post again with the reason.
fn render_compose(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    form: &ComposeValues,
    parent: Option<Value>,
    error: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "compose.html",
        context! {
            form => form.value(),
            parent => parent,
            compose_error => error,
        },
    )
}

#[derive(Deserialize, Default)]
struct ComposeQuery {
    in_reply_to: Option<String>,
}

async fn compose_page(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Query(q): Query<ComposeQuery>,
) -> AppResult<Response> {
    let mut form = compose_defaults(Visibility::Public);
    let mut parent = None;
    if let Some(raw) = q.in_reply_to.as_deref().filter(|r| !r.is_empty()) {
        let s = views::visible_post(&state, Some(&member.actor), raw).await?;
        let (value, view) = show_one(&state, &ctx, s.clone())
            .await?
            .ok_or_else(AppError::not_found)?;
        form = reply_values(&view, &value);
        parent = Some(value);
    }
    Ok(render_compose(
        &state,
        &ctx,
        StatusCode::OK,
        &form,
        parent,
        None,
    ))
}

/// A reply keeps the parent's audience and warning and names its people.
fn reply_values(parent: &timelines::PostView, value: &Value) -> ComposeValues {
    let s = &parent.status;
    let prefill = value
        .get_attr("reply_prefill")
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    ComposeValues {
        status: prefill,
        title: String::new(),
        spoiler_text: s.spoiler_text.clone(),
        visibility: Visibility::of(s).as_str().to_string(),
        in_reply_to_id: Some(s.id.to_string()),
        back: post_path(&parent.author, s),
        group_id: None,
        group_members_only: false,
    }
}

async fn create(
    data: Data<AppState>,
    MemberCtx(mut ctx, member): MemberCtx,
    Form(form): Form<ComposeForm>,
) -> AppResult<Response> {
    let values = form.values();
    let result = match form.compose() {
        Ok(input) => {
            let mentions = resolve::mentions(&data, &input.text).await;
            posts::create(&data, &member.actor, input, mentions).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((s, events)) => {
            publish::publish(&data, events).await;
            let fallback = post_path(&member.actor, &s);
            let to = views::back_to(Some(&values.back), &fallback);
            let to = format!("{}#post-{}", strip_fragment(&to), s.id);
            Ok(ctx.redirect_with(&data, &to, "flash-post-published"))
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let message = e.public_message().render(ctx.locale);
            ctx.here = views::back_to(Some(&values.back), "/home");
            let mut values = values;
            if let Some(g) = form.compose().ok().and_then(|c| c.group_id) {
                values.group_members_only = crate::domain::groups::load(&data.db, g)
                    .await?
                    .is_some_and(|g| g.members_only());
            }
            let parent = match values.in_reply_to_id.as_deref() {
                Some(raw) => match views::visible_post(&data, Some(&member.actor), raw).await {
                    Ok(s) => show_one(&data, &ctx, s).await?.map(|(v, _)| v),
                    Err(_) => None,
                },
                None => None,
            };
            Ok(render_compose(
                &data,
                &ctx,
                e.status(),
                &values,
                parent,
                Some(message),
            ))
        }
    }
}

fn strip_fragment(path: &str) -> &str {
    path.split('#').next().unwrap_or(path)
}

/// `/statuses/{id}`: the canonical page of a post we have.
async fn by_id(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let s = views::visible_post(&state, ctx.viewer_actor(), &id).await?;
    let author = author_of(&state, &s).await?;
    Ok(Redirect::to(&post_path(&author, &s)).into_response())
}

async fn author_of(state: &AppState, s: &statuses::Model) -> AppResult<actors::Model> {
    queries::actors::by_id(&state.db, s.actor_id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Does `/{handle}` name this actor? (`@alice`, `@alice@our.domain`, `@bob@their.host`.)
pub fn handle_matches(state: &AppState, handle: &str, a: &actors::Model) -> bool {
    let Some(raw) = handle.strip_prefix('@') else {
        return false;
    };
    let (user, host) = match raw.split_once('@') {
        Some((u, h)) => (u, Some(h)),
        None => (raw, None),
    };
    if a.local {
        user.eq_ignore_ascii_case(&a.username)
            && host.is_none_or(|h| h.eq_ignore_ascii_case(state.urls.domain()))
    } else {
        user == a.username && host.is_some_and(|h| h.eq_ignore_ascii_case(&a.domain))
    }
}

/// `/@name/{id}`: the thread page of a post, or its ActivityPub document
/// when asked for `application/activity+json`.
async fn post_page(
    data: Data<AppState>,
    ctx: Ctx,
    Path((handle, id)): Path<(String, String)>,
    req: Request,
) -> AppResult<Response> {
    if !handle.starts_with('@') {
        return Err(AppError::not_found());
    }
    let (parts, _) = req.into_parts();
    if wants_activitypub(&parts.headers) {
        let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
        let s = queries::statuses::by_id(&data.db, id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let author = author_of(&data, &s).await?;
        if !author.local || !handle_matches(&data, &handle, &author) {
            return Err(AppError::not_found());
        }
        return status_document(&data, &parts, &s).await;
    }
    let viewer = ctx.viewer_actor().cloned();
    let s = views::visible_post(&data, viewer.as_ref(), &id).await?;
    let author = author_of(&data, &s).await?;
    if !handle_matches(&data, &handle, &author) {
        return Ok(Redirect::permanent(&post_path(&author, &s)).into_response());
    }
    let (ancestors, descendants) = posts::thread(&data, viewer.as_ref(), &s).await?;
    let staff = viewer_is_staff(&ctx);
    let a = timelines::hydrate(&data, viewer.as_ref(), ancestors).await?;
    let d = timelines::hydrate(&data, viewer.as_ref(), descendants).await?;
    let (main, main_view) = show_one(&data, &ctx, s.clone())
        .await?
        .ok_or_else(AppError::not_found)?;
    // How deep each reply sits under the post shown (indented up to 4 levels).
    let mut depth: HashMap<i64, usize> = HashMap::from([(s.id, 0)]);
    let replies: Vec<Value> = d
        .iter()
        .map(|v| {
            let level = v
                .status
                .in_reply_to_id
                .and_then(|p| depth.get(&p).copied())
                .unwrap_or(0)
                + 1;
            depth.insert(v.status.id, level);
            context! { post => views::post_value(v, viewer.as_ref(), staff), depth => level.min(4) }
        })
        .collect();
    let reply_form = viewer
        .as_ref()
        .map(|_| reply_values(&main_view, &main).value());
    Ok(ctx.render(
        &data,
        StatusCode::OK,
        "thread.html",
        context! {
            post => main,
            ancestors => views::post_values(&a, viewer.as_ref(), staff),
            replies => replies,
            form => reply_form,
            compose_error => None::<String>,
            author => views::actor_value(&author),
        },
    ))
}

/// `/@name/{id}/history` and `/@name/{id}/edit`.
async fn post_subpage(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((handle, id, page)): Path<(String, String, String)>,
) -> AppResult<Response> {
    if !handle.starts_with('@') {
        return Err(AppError::not_found());
    }
    let viewer = ctx.viewer_actor().cloned();
    let s = views::visible_post(&state, viewer.as_ref(), &id).await?;
    let author = author_of(&state, &s).await?;
    if !handle_matches(&state, &handle, &author) {
        return Err(AppError::not_found());
    }
    match page.as_str() {
        "history" => history(&state, &ctx, &s, &author).await,
        "edit" => {
            let Some(member) = ctx.active_member() else {
                let next = percent_encoding::utf8_percent_encode(
                    &ctx.here,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                return Ok(Redirect::to(&format!("/login?next={next}")).into_response());
            };
            if member.actor.id != s.actor_id || !s.local {
                return Err(AppError::forbidden());
            }
            let form = EditValues::of(&s);
            Ok(render_edit(
                &state,
                &ctx,
                &s,
                &author,
                &form,
                StatusCode::OK,
                None,
            ))
        }
        _ => Err(AppError::not_found()),
    }
}

async fn history(
    state: &AppState,
    ctx: &Ctx,
    s: &statuses::Model,
    author: &actors::Model,
) -> AppResult<Response> {
    let edits = posts::history(state, s).await?;
    let count = edits.len();
    // Newest first; the last one is the original.
    let versions: Vec<Value> = edits
        .into_iter()
        .enumerate()
        .rev()
        .map(|(i, e)| {
            context! {
                number => i + 1,
                original => i == 0,
                current => i + 1 == count,
                title => e.title,
                content => Value::from_safe_string(e.content),
                spoiler_text => e.spoiler_text,
                sensitive => e.sensitive,
                at => views::when(e.created_at),
                at_iso => views::iso(e.created_at),
            }
        })
        .collect();
    Ok(ctx.render(
        state,
        StatusCode::OK,
        "history.html",
        context! {
            versions => versions,
            author => views::actor_value(author),
            post_path => post_path(author, s),
        },
    ))
}

#[derive(Debug, Clone, Default, Deserialize)]
struct EditValues {
    #[serde(default)]
    status: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    spoiler_text: String,
}

impl EditValues {
    fn of(s: &statuses::Model) -> Self {
        Self {
            status: s.source.clone().unwrap_or_default(),
            title: s.title.clone().unwrap_or_default(),
            spoiler_text: s.spoiler_text.clone(),
        }
    }
}

fn render_edit(
    state: &AppState,
    ctx: &Ctx,
    s: &statuses::Model,
    author: &actors::Model,
    form: &EditValues,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "edit.html",
        context! {
            form => context! {
                status => form.status.clone(),
                title => form.title.clone(),
                spoiler_text => form.spoiler_text.clone(),
            },
            id => s.id.to_string(),
            visibility => Visibility::of(s).as_str(),
            post_path => post_path(author, s),
            error => error,
        },
    )
}

/// Every post form: the buttons carry `back`, the edit form the texts.
#[derive(Deserialize, Default)]
struct ActionForm {
    back: Option<String>,
    status: Option<String>,
    title: Option<String>,
    spoiler_text: Option<String>,
    /// A vote: the chosen options' positions.
    #[serde(default)]
    choices: Vec<String>,
}

/// The buttons and forms acting on one post.
async fn act(
    data: Data<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let me = &member.actor;
    let back = views::back_to(form.back.as_deref(), "/home");
    let events = match action.as_str() {
        "favourite" => interactions::favourite(&data, me, id).await?.1,
        "unfavourite" => interactions::unfavourite(&data, me, id).await?.1,
        "reblog" => interactions::reblog(&data, me, id, None).await?.1,
        "unreblog" => interactions::unreblog(&data, me, id).await?.1,
        "bookmark" => {
            interactions::bookmark(&data, me, id).await?;
            Outbox::none()
        }
        "unbookmark" => {
            interactions::unbookmark(&data, me, id).await?;
            Outbox::none()
        }
        "delete" => {
            let (_, events) = posts::delete(&data, me, member.is_staff(), id).await?;
            publish::publish(&data, events).await;
            // The page of the deleted post is gone: go home instead.
            let path = strip_fragment(&back).split('?').next().unwrap_or("/");
            let to = if path.ends_with(&format!("/{id}")) || path.contains(&format!("/{id}/")) {
                "/home".to_string()
            } else {
                back
            };
            return Ok(ctx.redirect_with(&data, &to, "flash-post-deleted"));
        }
        "edit" => return edit(&data, &ctx, &member, id, form).await,
        "vote" => {
            let poll = crate::db::queries::polls::of_statuses(&data.db, &[id])
                .await?
                .into_iter()
                .next()
                .ok_or_else(AppError::not_found)?;
            let choices = form
                .choices
                .iter()
                .map(|c| {
                    c.trim()
                        .parse::<usize>()
                        .map_err(|_| AppError::Unprocessable(crate::msg!("error-poll-choice")))
                })
                .collect::<AppResult<Vec<_>>>()?;
            crate::domain::polls::vote(&data, me, poll.id, &choices)
                .await?
                .1
        }
        _ => return Err(AppError::not_found()),
    };
    publish::publish(&data, events).await;
    Ok(Redirect::to(&back).into_response())
}

async fn edit(
    data: &Data<AppState>,
    ctx: &Ctx,
    member: &crate::domain::accounts::Member,
    id: i64,
    fields: ActionForm,
) -> AppResult<Response> {
    let me = &member.actor;
    let current = posts::visible(data, Some(me), id).await?;
    if current.actor_id != me.id || !current.local || current.reblog_of_id.is_some() {
        return Err(AppError::forbidden());
    }
    let author = me.clone();
    let values = EditValues {
        status: fields.status.unwrap_or_default(),
        title: fields.title.unwrap_or_default(),
        spoiler_text: fields.spoiler_text.unwrap_or_default(),
    };
    let input = Compose {
        text: values.status.clone(),
        title: Some(values.title.clone()),
        spoiler_text: Some(values.spoiler_text.clone()),
        // A post marked sensitive without a warning (through the API) stays so.
        sensitive: current.sensitive && current.spoiler_text.is_empty(),
        visibility: Visibility::of(&current),
        in_reply_to_id: None,
        language: current.language.clone(),
        media_ids: None,
        poll: None,
        group_id: current.group_id,
    };
    let mentions = resolve::mentions(data, &input.text).await;
    match posts::edit(data, me, current.id, input, mentions).await {
        Ok((s, events)) => {
            publish::publish(data, events).await;
            Ok(ctx.redirect_with(data, &post_path(&author, &s), "flash-post-edited"))
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let message = e.public_message().render(ctx.locale);
            Ok(render_edit(
                data,
                ctx,
                &current,
                &author,
                &values,
                e.status(),
                Some(message),
            ))
        }
    }
}
