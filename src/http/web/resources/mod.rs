//! The library in the browser: `/resources` (search, filters, sort, and an
//! Atom feed of the same view at `/resources/feed.atom`), a resource's page
//! at `/resources/{id}` (which is also its ActivityPub id), its revisions
//! and their diff, and the upload and edit forms (multipart, with the CSRF
//! token in the query string like the other upload forms).

mod forms;
mod page;

use crate::{
    app::AppState,
    domain::resources::{self, Resource, files},
    error::AppResult,
    http::{
        api::resources::{LibraryQuery, library_query},
        extract::Query,
        web::{Ctx, views},
    },
};
use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use minijinja::{Value, context};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/resources", get(library))
        .route("/resources/feed.atom", get(feed))
        .route("/resources/new", get(forms::new_form))
        .route("/resources/{id}", get(page::show))
        .route("/resources/{id}/edit", get(forms::edit_form))
        .route("/resources/{id}/revisions", get(page::revisions))
        .route("/resources/{id}/diff", get(page::diff))
        .route("/resources/{id}/publish", post(forms::publish))
        .route("/resources/{id}/remix", post(forms::remix))
        .route("/resources/{id}/delete", post(forms::delete))
}

pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/resources/new", post(forms::create))
        .route("/resources/{id}/edit", post(forms::update))
}

/// A subject or level as people read it: translated when the interface
/// knows it, as configured otherwise.
pub fn vocabulary_label(ctx: &Ctx, kind: &str, value: &str) -> String {
    let key = format!("resource-{kind}-{value}");
    if crate::i18n::has_key(crate::i18n::Locale::En, &key) {
        crate::i18n::t(ctx.locale, &key, &[])
    } else {
        value.to_string()
    }
}

fn labelled(ctx: &Ctx, kind: &str, values: &[String]) -> Vec<Value> {
    values
        .iter()
        .map(|v| context! { value => v, label => vocabulary_label(ctx, kind, v) })
        .collect()
}

/// A resource as the library and its page show it.
pub fn resource_value(state: &AppState, ctx: &Ctx, r: &Resource) -> Value {
    let licence = r.licence();
    let files: Vec<Value> = r
        .files
        .iter()
        .map(|f| {
            let url = files::url(state, f);
            let local_url = url.strip_prefix(state.urls.base()).map(str::to_string);
            context! {
                id => f.id.to_string(),
                kind => f.kind.clone(),
                name => f.name.clone(),
                url => local_url.clone().or_else(|| views::web_url(Some(&url))),
                preview => (f.content_type.starts_with("image/") && local_url.is_some())
                    .then(|| format!("{}?preview=1", local_url.clone().unwrap_or_default())),
                type_label => files::kind_label(&f.content_type),
                size => human_size(f.size),
                width => f.width,
                height => f.height,
            }
        })
        .collect();
    context! {
        id => r.id().to_string(),
        path => format!("/resources/{}", r.id()),
        remote_url => (!r.model.local).then(|| views::web_url(r.model.url.as_deref())).flatten(),
        title => r.model.title.clone(),
        description_html => r.model.description_html.clone(),
        licence => context! { id => licence.id, name => licence.name, url => licence.uri },
        attribution => r.model.attribution.clone(),
        authors => r.authors.clone(),
        subjects => labelled(ctx, "subject", &r.subjects),
        levels => labelled(ctx, "level", &r.levels),
        languages => r.languages.clone(),
        tags => r.tags.clone(),
        visibility => r.model.visibility.clone(),
        draft => r.is_draft(),
        owner => views::actor_value(&r.owner),
        group => r.group.as_ref().map(|g| context! { name => views::display_name(g), path => views::group_path(g) }),
        files => files,
        revision => r.model.revision,
        downloads => r.model.download_count,
        remixes => r.model.remix_count,
        local => r.model.local,
        origin => r.model.origin.clone(),
        updated => views::when(r.model.updated_at),
        updated_iso => views::iso(r.model.updated_at),
    }
}

pub fn human_size(bytes: i64) -> String {
    match bytes {
        0 => String::new(),
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

fn options(ctx: &Ctx, kind: &str, values: &[String]) -> Vec<Value> {
    labelled(ctx, kind, values)
}

/// `/resources`: the library.
async fn library(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LibraryQuery>,
) -> AppResult<Response> {
    let raw = serde_json::to_value(LibraryEcho::of(&q)).unwrap_or_default();
    let viewer = ctx.viewer_actor().cloned();
    let (mut query, mine) = library_query(q, 40, false)?;
    if mine && let Some(v) = &viewer {
        query.owner_id = Some(v.id);
    }
    let list = resources::library(&state, viewer.as_ref(), &query).await?;
    // The groups one may filter by: the viewer's own.
    let groups: Vec<Value> = match &viewer {
        Some(v) => crate::domain::groups::memberships(&state, v)
            .await?
            .iter()
            .map(|g| context! { id => g.id().to_string(), label => views::display_name(&g.actor) })
            .collect(),
        None => Vec::new(),
    };
    let items: Vec<Value> = list
        .iter()
        .map(|r| resource_value(&state, &ctx, r))
        .collect();
    let feed = format!(
        "/resources/feed.atom{}",
        ctx.here.strip_prefix("/resources").unwrap_or_default()
    );
    Ok(ctx.render(
        &state,
        StatusCode::OK,
        "resources.html",
        context! {
            resources => items,
            q => Value::from_serialize(&raw),
            subjects => options(&ctx, "subject", &state.config.resources.subjects),
            levels => options(&ctx, "level", &state.config.resources.levels),
            licences => resources::LICENCES.iter().map(|l| context! { id => l.id, name => l.name }).collect::<Vec<_>>(),
            groups => groups,
            sort => query.sort.as_str(),
            feed => feed,
            searched => !raw.as_object().is_none_or(|o| o.values().all(|v| v.is_null() || v == "")),
        },
    ))
}

/// The query as typed, to fill the search form again.
#[derive(serde::Serialize)]
struct LibraryEcho {
    q: String,
    subject: String,
    level: String,
    licence: String,
    language: String,
    instance: String,
    mine: String,
    group_id: String,
}

impl LibraryEcho {
    fn of(q: &LibraryQuery) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let (qq, subject, level, licence, language, instance, mine) = q.echo();
        Self {
            q: s(qq),
            subject: s(subject),
            level: s(level),
            licence: s(licence),
            language: s(language),
            instance: s(instance),
            mine: s(mine),
            group_id: q.group_echo(),
        }
    }
}

/// `/resources/feed.atom`: the same view as an Atom feed (public
/// resources only: feed readers do not sign in).
async fn feed(State(state): State<AppState>, Query(q): Query<LibraryQuery>) -> AppResult<Response> {
    let (mut query, _) = library_query(q, 40, false)?;
    query.drafts = false;
    let list = resources::library(&state, None, &query).await?;
    let base = state.urls.base();
    let updated = list
        .iter()
        .map(|r| r.model.updated_at)
        .max()
        .unwrap_or_else(chrono::Utc::now);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    out.push_str(&format!(
        "<title>{}</title>\n<id>{base}/resources/feed.atom</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{base}/resources\"/>\n<updated>{}</updated>\n",
        crate::domain::text::escape_html(&format!("{} · {}", crate::domain::instance::load(&state).await?.name, "Resources")),
        updated.to_rfc3339()
    ));
    for r in &list {
        let url = r.model.url.clone().unwrap_or_else(|| r.model.ap_id.clone());
        let licence = r.licence();
        out.push_str("<entry>\n");
        out.push_str(&format!(
            "<title>{}</title>\n",
            crate::domain::text::escape_html(&r.model.title)
        ));
        out.push_str(&format!(
            "<id>{}</id>\n",
            crate::domain::text::escape_html(&r.model.ap_id)
        ));
        out.push_str(&format!(
            "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            crate::domain::text::escape_html(&url)
        ));
        if let Some(u) = licence.uri {
            out.push_str(&format!("<link rel=\"license\" href=\"{u}\"/>\n"));
        }
        out.push_str(&format!(
            "<rights>{}</rights>\n",
            crate::domain::text::escape_html(licence.name)
        ));
        out.push_str(&format!(
            "<author><name>{}</name><uri>{}</uri></author>\n",
            crate::domain::text::escape_html(&views::display_name(&r.owner)),
            crate::domain::text::escape_html(&r.owner.ap_id)
        ));
        out.push_str(&format!(
            "<updated>{}</updated>\n",
            r.model.updated_at.to_rfc3339()
        ));
        if let Some(p) = r.model.published_at {
            out.push_str(&format!("<published>{}</published>\n", p.to_rfc3339()));
        }
        for s in r.subjects.iter().chain(&r.levels).chain(&r.tags) {
            out.push_str(&format!(
                "<category term=\"{}\"/>\n",
                crate::domain::text::escape_html(s)
            ));
        }
        out.push_str(&format!(
            "<content type=\"html\">{}</content>\n</entry>\n",
            crate::domain::text::escape_html(&r.model.description_html)
        ));
    }
    out.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        out,
    )
        .into_response())
}
