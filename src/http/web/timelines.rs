//! Lists of posts: the home timeline (with the composer), the local and
//! federated public timelines, hashtag pages and bookmarks. Newest first,
//! with an "older posts" link (`?max_id=`).

use super::{
    Ctx, MemberCtx,
    posts::{ComposeValues, compose_defaults},
    views::{self, PageQuery},
};
use crate::{
    app::AppState,
    db::queries,
    domain::{posts::Visibility, timelines},
    error::{AppError, AppResult},
    http::extract::{Path, Query},
};
use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use minijinja::{Value, context};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/home", get(home))
        .route("/local", get(local))
        .route("/federated", get(federated))
        .route("/tags/{tag}", get(tag))
        .route("/bookmarks", get(bookmarks))
}

/// What every list page shows.
struct ListPage<'a> {
    title: String,
    heading: String,
    /// `home`, `local`, `federated`, `tag` or `bookmarks`: which tab is current.
    kind: &'a str,
    posts: Vec<Value>,
    next: Option<String>,
    empty: String,
    compose: Option<ComposeValues>,
    tag: Option<String>,
}

fn render(state: &AppState, ctx: &Ctx, page: ListPage<'_>) -> Response {
    let older = page.next.map(|n| format!("{}?max_id={n}", ctx.path));
    ctx.render(
        state,
        StatusCode::OK,
        "timeline.html",
        context! {
            title => page.title,
            heading => page.heading,
            kind => page.kind,
            posts => page.posts,
            older => older,
            empty => page.empty,
            form => page.compose.map(|c| c.value()),
            compose_error => None::<String>,
            tag => page.tag,
        },
    )
}

async fn home(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let mut list = timelines::home(&state, &member.actor, q.page()).await?;
    let next = views::cut(&mut list, |v| v.status.id);
    let posts = views::post_values(&list, Some(&member.actor), member.is_staff());
    Ok(render(
        &state,
        &ctx,
        ListPage {
            title: ctx.t("home-title"),
            heading: ctx.t("home-title"),
            kind: "home",
            posts,
            next,
            empty: ctx.t("home-empty"),
            compose: Some(compose_defaults(Visibility::Public)),
            tag: None,
        },
    ))
}

async fn public_list(
    state: &AppState,
    ctx: &Ctx,
    q: &PageQuery,
    local: bool,
) -> AppResult<Response> {
    let viewer = ctx.viewer_actor();
    let mut list = timelines::public(state, viewer, Some(local).filter(|l| *l), q.page()).await?;
    let next = views::cut(&mut list, |v| v.status.id);
    let staff = ctx.active_member().is_some_and(|m| m.is_staff());
    let posts = views::post_values(&list, viewer, staff);
    let (title, kind, empty) = if local {
        ("local-title", "local", "local-empty")
    } else {
        ("federated-title", "federated", "federated-empty")
    };
    Ok(render(
        state,
        ctx,
        ListPage {
            title: ctx.t(title),
            heading: ctx.t(title),
            kind,
            posts,
            next,
            empty: ctx.t(empty),
            compose: None,
            tag: None,
        },
    ))
}

async fn local(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    public_list(&state, &ctx, &q, true).await
}

async fn federated(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    public_list(&state, &ctx, &q, false).await
}

/// A hashtag as written in posts: letters, digits and underscores.
fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.chars().count() <= 100
        && tag.chars().all(|c| c.is_alphanumeric() || c == '_')
}

async fn tag(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(tag): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let tag = tag.trim_start_matches('#').to_lowercase();
    if !valid_tag(&tag) {
        return Err(AppError::not_found());
    }
    let viewer = ctx.viewer_actor();
    let mut list = timelines::tag(&state, viewer, &tag, None, q.page()).await?;
    let next = views::cut(&mut list, |v| v.status.id);
    let staff = ctx.active_member().is_some_and(|m| m.is_staff());
    let posts = views::post_values(&list, viewer, staff);
    let title = i18n_tag(&ctx, &tag);
    Ok(render(
        &state,
        &ctx,
        ListPage {
            title: title.clone(),
            heading: title,
            kind: "tag",
            posts,
            next,
            empty: ctx.t("tag-empty"),
            compose: None,
            tag: Some(tag),
        },
    ))
}

fn i18n_tag(ctx: &Ctx, tag: &str) -> String {
    crate::i18n::t(
        ctx.locale,
        "tag-title",
        &[(std::borrow::Cow::Borrowed("tag"), tag.to_string())],
    )
}

async fn bookmarks(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let me = &member.actor;
    let mut rows = queries::relations::bookmarks_by_actor(&state.db, me.id, q.page()).await?;
    let next = views::cut(&mut rows, |b| b.id);
    let ids: Vec<i64> = rows.iter().map(|b| b.status_id).collect();
    let mut statuses = queries::statuses::by_ids(&state.db, &ids).await?;
    // In the order they were bookmarked, newest first.
    statuses.sort_by_key(|s| ids.iter().position(|i| *i == s.id).unwrap_or(usize::MAX));
    let list = timelines::visible_views(&state, Some(me), statuses).await?;
    let posts = views::post_values(&list, Some(me), member.is_staff());
    Ok(render(
        &state,
        &ctx,
        ListPage {
            title: ctx.t("bookmarks-title"),
            heading: ctx.t("bookmarks-title"),
            kind: "bookmarks",
            posts,
            next,
            empty: ctx.t("bookmarks-empty"),
            compose: None,
            tag: None,
        },
    ))
}
