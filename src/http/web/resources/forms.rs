//! The upload and edit forms, and the buttons on a resource's page
//! (publish, remix, delete). A refused form is shown again with what was
//! typed and the reason; files have to be chosen again.

use crate::{
    app::AppState,
    db::queries,
    domain::resources,
    error::{AppError, AppResult},
    federation::publish,
    http::{
        api::resources::read_form,
        extract::Path,
        web::{Ctx, MemberCtx},
    },
};
use axum::{
    extract::{Multipart, State},
    http::StatusCode,
    response::Response,
};
use minijinja::{Value, context};
use std::collections::BTreeMap;

fn id_of(raw: &str) -> AppResult<i64> {
    raw.parse().map_err(|_| AppError::not_found())
}

/// The groups a member may share resources in.
async fn group_choices(
    state: &AppState,
    me: &crate::domain::accounts::Member,
) -> AppResult<Vec<Value>> {
    let ids = queries::resources::member_group_ids(&state.db, me.actor.id).await?;
    let mut out = Vec::new();
    for a in queries::actors::by_ids(&state.db, &ids).await? {
        if a.kind == "Group" && a.local && a.deleted_at.is_none() {
            out.push(context! { id => a.id.to_string(), name => crate::http::web::views::display_name(&a) });
        }
    }
    Ok(out)
}

/// Form values from raw fields.
fn form_value(raw: &BTreeMap<String, Vec<String>>) -> Value {
    let one = |k: &str| {
        raw.get(k)
            .and_then(|v| v.last())
            .cloned()
            .unwrap_or_default()
    };
    let all = |k: &str| raw.get(k).cloned().unwrap_or_default();
    context! {
        title => one("title"),
        description => one("description"),
        licence => one("licence"),
        attribution => one("attribution"),
        authors => all("authors").join("\n"),
        subjects => all("subjects"),
        levels => all("levels"),
        languages => one("languages"),
        tags => one("tags"),
        visibility => one("visibility"),
        links => all("links").join("\n"),
        note => one("note"),
        group_id => one("group_id"),
        owner => one("owner"),
        derived_from => one("derived_from"),
        editors => one("editors"),
    }
}

fn form_of(r: &resources::Resource, editors: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: Vec<String>| {
        m.insert(k.to_string(), v);
    };
    put("title", vec![r.model.title.clone()]);
    put("description", vec![r.model.description.clone()]);
    put("licence", vec![r.model.licence.clone()]);
    put("attribution", vec![r.model.attribution.clone()]);
    put("authors", r.authors.clone());
    put("subjects", r.subjects.clone());
    put("levels", r.levels.clone());
    put("languages", vec![r.languages.join(", ")]);
    put("tags", vec![r.tags.join(", ")]);
    put("visibility", vec![r.model.visibility.clone()]);
    put(
        "links",
        r.files
            .iter()
            .filter(|f| f.kind == "link")
            .map(|f| format!("{} | {}", f.name, f.remote_url.clone().unwrap_or_default()))
            .collect(),
    );
    put("editors", vec![editors.join(", ")]);
    m
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    ctx: &Ctx,
    me: &crate::domain::accounts::Member,
    editing: Option<&resources::Resource>,
    raw: &BTreeMap<String, Vec<String>>,
    status: StatusCode,
    error: Option<String>,
) -> AppResult<Response> {
    let files: Vec<Value> = editing
        .map(|r| {
            r.files
                .iter()
                .filter(|f| f.kind == "file")
                .map(|f| context! { id => f.id.to_string(), name => f.name.clone(), size => super::human_size(f.size) })
                .collect()
        })
        .unwrap_or_default();
    Ok(ctx.render(
        state,
        status,
        "resource_form.html",
        context! {
            form => form_value(raw),
            error => error,
            editing => editing.map(|r| context! { id => r.id().to_string(), title => r.model.title.clone(), draft => r.is_draft() }),
            files => files,
            groups => group_choices(state, me).await?,
            subjects => super::options(ctx, "subject", &state.config.resources.subjects),
            levels => super::options(ctx, "level", &state.config.resources.levels),
            licences => resources::LICENCES.iter().map(|l| context! { id => l.id, name => l.name }).collect::<Vec<_>>(),
            max_file_mb => state.config.resources.max_file_bytes / (1024 * 1024),
        },
    ))
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
) -> AppResult<Response> {
    let mut raw = BTreeMap::new();
    raw.insert("licence".to_string(), vec!["CC-BY-4.0".to_string()]);
    raw.insert("visibility".to_string(), vec!["public".to_string()]);
    render_form(&state, &ctx, &me, None, &raw, StatusCode::OK, None).await
}

fn refused(e: AppError, ctx: &Ctx) -> Result<(StatusCode, String), AppError> {
    match e {
        AppError::Internal(_) | AppError::Unavailable(_) => Err(e),
        other => Ok((other.status(), other.public_message().render(ctx.locale))),
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    multipart: Multipart,
) -> AppResult<Response> {
    let form = match read_form(&state, multipart, true).await {
        Ok(f) => f,
        Err(e) => {
            let (status, message) = refused(e, &ctx)?;
            return render_form(
                &state,
                &ctx,
                &me,
                None,
                &BTreeMap::new(),
                status,
                Some(message),
            )
            .await;
        }
    };
    let raw = form.raw.clone();
    match resources::create(&state, &me, form.input, form.place).await {
        Ok((r, events)) => {
            publish::publish(&state, events).await;
            Ok(ctx.redirect_with(
                &state,
                &format!("/resources/{}", r.id()),
                "flash-resource-saved",
            ))
        }
        Err(e) => {
            let (status, message) = refused(e, &ctx)?;
            render_form(&state, &ctx, &me, None, &raw, status, Some(message)).await
        }
    }
}

async fn editable(
    state: &AppState,
    me: &crate::domain::accounts::Member,
    id: &str,
) -> AppResult<resources::Resource> {
    let r = resources::visible(state, Some(&me.actor), id_of(id)?).await?;
    if !resources::may_edit(state, &me.actor, &r).await? {
        return Err(AppError::Forbidden(crate::msg!(
            "error-resource-not-editor"
        )));
    }
    Ok(r)
}

async fn editor_names(state: &AppState, r: &resources::Resource) -> AppResult<Vec<String>> {
    Ok(resources::editors(state, r)
        .await?
        .iter()
        .map(|a| a.username.clone())
        .collect())
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let r = editable(&state, &me, &id).await?;
    let raw = form_of(&r, &editor_names(&state, &r).await?);
    render_form(&state, &ctx, &me, Some(&r), &raw, StatusCode::OK, None).await
}

pub(super) async fn update(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path(id): Path<String>,
    multipart: Multipart,
) -> AppResult<Response> {
    let r = editable(&state, &me, &id).await?;
    let form = match read_form(&state, multipart, true).await {
        Ok(f) => f,
        Err(e) => {
            let (status, message) = refused(e, &ctx)?;
            let raw = form_of(&r, &editor_names(&state, &r).await?);
            return render_form(&state, &ctx, &me, Some(&r), &raw, status, Some(message)).await;
        }
    };
    let raw = form.raw.clone();
    let mut input = form.input;
    // Only the owner side sees the co-editors field.
    if !resources::is_owner_side(&state, &me.actor, &r).await? {
        input.editors = None;
    }
    match resources::update(&state, &me, r.id(), input).await {
        Ok((r, events)) => {
            publish::publish(&state, events).await;
            Ok(ctx.redirect_with(
                &state,
                &format!("/resources/{}", r.id()),
                "flash-resource-saved",
            ))
        }
        Err(e) => {
            let (status, message) = refused(e, &ctx)?;
            render_form(&state, &ctx, &me, Some(&r), &raw, status, Some(message)).await
        }
    }
}

pub(super) async fn publish(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (r, events) = resources::publish(&state, &me, id_of(&id)?).await?;
    publish::publish(&state, events).await;
    Ok(ctx.redirect_with(
        &state,
        &format!("/resources/{}", r.id()),
        "flash-resource-published",
    ))
}

pub(super) async fn remix(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (r, events) = resources::remix(&state, &me, id_of(&id)?).await?;
    publish::publish(&state, events).await;
    Ok(ctx.redirect_with(
        &state,
        &format!("/resources/{}/edit", r.id()),
        "flash-resource-remixed",
    ))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    MemberCtx(ctx, me): MemberCtx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let events = resources::delete(&state, &me, id_of(&id)?).await?;
    publish::publish(&state, events).await;
    Ok(ctx.redirect_with(&state, "/resources", "flash-resource-deleted"))
}
