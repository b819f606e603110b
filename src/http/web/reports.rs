//! Reports in the browser: a member reports an account or a post (the
//! "Report" link under posts), and the moderators' page lists open and
//! resolved reports, resolves, reopens and forwards them to the server of
//! the account reported.

use super::{
    MemberCtx, StaffCtx,
    views::{actor_value, post_path},
};
use crate::{
    app::AppState,
    db::queries,
    domain::reports::{self, NewReport},
    error::{AppError, AppResult},
    federation::publish,
    http::extract::{Form, Path, Query},
};
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/report", get(report_page).post(report_submit))
        .route("/admin/reports", get(admin_page))
        .route("/admin/reports/{id}/{action}", post(act))
}

/// The start of a post's text, to recognise it by.
fn excerpt(s: &crate::db::entities::statuses::Model) -> String {
    crate::domain::text::html_to_text(&s.content)
        .chars()
        .take(200)
        .collect()
}

#[derive(Deserialize)]
struct ReportQuery {
    account: Option<i64>,
    status: Option<i64>,
}

#[derive(Deserialize)]
struct ReportForm {
    account: Option<String>,
    status: Option<String>,
    comment: Option<String>,
    category: Option<String>,
    forward: Option<String>,
}

/// The account and (optionally) post being reported, as the form shows them.
async fn subject(
    state: &AppState,
    account: Option<i64>,
    status: Option<i64>,
) -> AppResult<(Value, Value)> {
    let status = match status {
        Some(id) => queries::statuses::by_id(&state.db, id).await?,
        None => None,
    };
    let account = account.or(status.as_ref().map(|s| s.actor_id));
    let target = match account {
        Some(id) => queries::actors::by_id(&state.db, id).await?,
        None => None,
    }
    .ok_or_else(AppError::not_found)?;
    let post = status.filter(|s| s.actor_id == target.id).map(|s| {
        context! {
            id => s.id.to_string(),
            path => post_path(&target, &s),
            excerpt => excerpt(&s),
        }
    });
    Ok((actor_value(&target), Value::from_serialize(post)))
}

async fn report_page(
    State(state): State<AppState>,
    MemberCtx(ctx, _me): MemberCtx,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let (target, post) = subject(&state, q.account, q.status).await?;
    Ok(render_form(
        &state,
        &ctx,
        target,
        post,
        StatusCode::OK,
        None,
    ))
}

fn render_form(
    state: &AppState,
    ctx: &super::Ctx,
    target: Value,
    post: Value,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "report.html",
        context! {
            target => target,
            post => post,
            categories => reports::CATEGORIES,
            comment_max => reports::COMMENT_MAX,
            error => error,
        },
    )
}

async fn report_submit(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Form(form): Form<ReportForm>,
) -> AppResult<Response> {
    let id = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    let (account, status) = (id(&form.account), id(&form.status));
    let (target, post) = subject(&state, account, status).await?;
    let target_id = account.ok_or_else(AppError::not_found)?;
    let input = NewReport {
        target_id,
        status_ids: status.into_iter().collect(),
        comment: form.comment.clone(),
        category: form.category.clone(),
        forward: form.forward.is_some(),
    };
    match reports::create(&state, &me.actor, input).await {
        Ok((_, events)) => {
            publish::publish(&state, events).await;
            Ok(ctx.redirect_with(&state, "/home", "flash-report-sent"))
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let text = e.public_message().render(ctx.locale);
            Ok(render_form(
                &state,
                &ctx,
                target,
                post,
                e.status(),
                Some(text),
            ))
        }
    }
}

#[derive(Deserialize)]
struct AdminQuery {
    resolved: Option<String>,
}

async fn admin_page(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Query(q): Query<AdminQuery>,
) -> AppResult<Response> {
    let resolved = q.resolved.as_deref() == Some("1");
    let list = reports::list(&state, &staff, resolved, None, 200).await?;
    let mut rows = Vec::with_capacity(list.len());
    for r in &list {
        let actors = queries::actors::by_ids(&state.db, &[r.reporter_id, r.target_id]).await?;
        let find = |id: i64| actors.iter().find(|a| a.id == id);
        let (Some(reporter), Some(target)) = (find(r.reporter_id), find(r.target_id)) else {
            continue;
        };
        let mut posts = Vec::new();
        for s in queries::statuses::by_ids(&state.db, &reports::status_ids(r)).await? {
            posts.push(context! {
                path => post_path(target, &s),
                excerpt => excerpt(&s),
            });
        }
        rows.push(context! {
            id => r.id.to_string(),
            reporter => actor_value(reporter),
            target => actor_value(target),
            comment => r.comment.clone(),
            category => r.category.clone(),
            created_at => r.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            forwarded => r.forwarded_at.is_some(),
            can_forward => !target.local && r.forwarded_at.is_none(),
            domain => target.domain.clone(),
            resolved => r.resolved_at.is_some(),
            posts => posts,
        });
    }
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "admin_reports.html",
        context! { reports => rows, resolved => resolved },
    ))
}

/// The buttons of the moderators' page.
async fn act(
    State(state): State<AppState>,
    StaffCtx(ctx, staff): StaffCtx,
    Path((id, action)): Path<(i64, String)>,
) -> AppResult<Response> {
    let flash = match action.as_str() {
        "resolve" | "reopen" => {
            reports::resolve(&state, &staff, id, action == "resolve").await?;
            if action == "resolve" {
                "flash-report-resolved"
            } else {
                "flash-report-reopened"
            }
        }
        "forward" => {
            let (_, events) = reports::forward(&state, &staff, id).await?;
            publish::publish(&state, events).await;
            "flash-report-forwarded"
        }
        _ => return Err(AppError::not_found()),
    };
    Ok(ctx.redirect_with(&state, "/admin/reports", flash))
}
