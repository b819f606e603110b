//! The group directory, creating a group, its page and its settings.

use super::*;
use crate::{
    domain::groups::{DirectoryFilter, GroupInput},
    federation::publish,
    http::extract::{Json, Path, Query},
};
use axum::extract::State;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Words in the handle, name or description.
    q: Option<String>,
    /// Only groups about this subject.
    subject: Option<String>,
    /// Only groups in this language (ISO 639 code).
    language: Option<String>,
    /// `true`: only the groups the caller belongs to (this instance's and
    /// other servers').
    mine: Option<bool>,
    /// `true`: sub-groups too (by default they show on their parent).
    all: Option<bool>,
}

/// The directory of this instance's groups, or the caller's groups.
#[utoipa::path(get, path = "/api/v1/staffroom/groups", tag = "groups",
    params(DirectoryQuery),
    responses((status = 200, body = Vec<GroupEntity>), (status = 401)),
    security((), ("bearer" = ["read:groups"])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    uri: axum::extract::OriginalUri,
    Query(q): Query<DirectoryQuery>,
) -> AppResult<axum::Json<Vec<GroupEntity>>> {
    let me = viewer(&auth, "read:groups")?;
    // Empty booleans are not booleans (form decoding would drop them).
    crate::http::api::resources::no_empty(uri.query(), &["mine", "all"])?;
    let list = match (&me, q.mine) {
        (Some(m), Some(true)) => groups::memberships(&state, &m.actor).await?,
        (None, Some(true)) => return Err(AppError::unauthorized()),
        _ => {
            groups::directory(
                &state,
                &DirectoryFilter {
                    query: q.q,
                    subject: q.subject,
                    language: q.language,
                    top_level_only: !q.all.unwrap_or(false),
                },
            )
            .await?
        }
    };
    Ok(axum::Json(
        group_entities(&state, me.as_ref(), &list).await?,
    ))
}

/// What creating a group takes; settings not given get their defaults.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewGroup {
    /// The handle: letters, digits and `_`; the group becomes `@username@this.domain`.
    #[schema(min_length = 1, max_length = 30, pattern = r"^[A-Za-z0-9_]+$")]
    username: String,
    /// Create it as a sub-group of this local group (its moderators only).
    parent_id: Option<String>,
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    display_name: Option<String>,
    /// The description, in Markdown.
    #[schema(
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    note: Option<String>,
    #[schema(max_items = 20)]
    subjects: Option<Vec<SubjectName>>,
    /// ISO 639 codes, e.g. `fr` or `pt-br`.
    #[schema(max_items = 10)]
    languages: Option<Vec<LanguageCode>>,
    /// Only members see what is posted (default false).
    members_only: Option<bool>,
    /// `open` (default), `approval` or `invite`.
    join_policy: Option<JoinPolicyName>,
    /// `members` (default) or `moderators`.
    posting_policy: Option<PostingPolicyName>,
}

/// A subject, e.g. `Mathematics`.
#[derive(Debug, Deserialize)]
pub struct SubjectName(String);

/// An ISO 639 language code, optionally with a region: `fr`, `pt-br`.
#[derive(Debug, Deserialize)]
pub struct LanguageCode(String);

fn string_schema(
    max: usize,
    pattern: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
        .pattern(Some(pattern))
        .into()
}

impl utoipa::PartialSchema for SubjectName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(
            crate::domain::profiles::SUBJECT_MAX,
            r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        )
    }
}

impl ToSchema for SubjectName {}

impl utoipa::PartialSchema for LanguageCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(10, r"^[a-z]{2,3}(-[a-z0-9-]*)?$")
    }
}

impl ToSchema for LanguageCode {}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JoinPolicyName {
    Open,
    Approval,
    Invite,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostingPolicyName {
    Members,
    Moderators,
}

impl JoinPolicyName {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Approval => "approval",
            Self::Invite => "invite",
        }
    }
}

impl PostingPolicyName {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Members => "members",
            Self::Moderators => "moderators",
        }
    }
}

/// The schema promises exact values (JSON clients should not rely on the
/// trimming and lower-casing the web forms get): anything else is refused.
fn check_lists(
    subjects: &Option<Vec<SubjectName>>,
    languages: &Option<Vec<LanguageCode>>,
) -> AppResult<()> {
    use crate::domain::profiles::{MAX_LANGUAGES, MAX_SUBJECTS};
    let too_many = |field: &'static str, max: usize| {
        AppError::Unprocessable(crate::msg!("error-too-many", field = field, max = max))
    };
    if subjects.as_ref().is_some_and(|s| s.len() > MAX_SUBJECTS) {
        return Err(too_many("subjects", MAX_SUBJECTS));
    }
    if let Some(list) = languages {
        if list.len() > MAX_LANGUAGES {
            return Err(too_many("languages", MAX_LANGUAGES));
        }
        for LanguageCode(code) in list {
            let (first, _) = code.split_once('-').unwrap_or((code, ""));
            let valid = code.len() <= 10
                && (2..=3).contains(&first.len())
                && first.chars().all(|c| c.is_ascii_lowercase())
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                return Err(AppError::Unprocessable(crate::msg!(
                    "error-language-code",
                    code = code.clone()
                )));
            }
        }
    }
    Ok(())
}

fn input(
    display_name: Option<String>,
    note: Option<String>,
    subjects: Option<Vec<SubjectName>>,
    languages: Option<Vec<LanguageCode>>,
    members_only: Option<bool>,
    join: Option<JoinPolicyName>,
    posting: Option<PostingPolicyName>,
) -> GroupInput {
    GroupInput {
        display_name,
        description: note,
        subjects: subjects.map(|l| l.into_iter().map(|s| s.0).collect()),
        languages: languages.map(|l| l.into_iter().map(|s| s.0).collect()),
        members_only,
        join_policy: join.map(|j| j.as_str().into()),
        posting_policy: posting.map(|p| p.as_str().into()),
        avatar: None,
        header: None,
    }
}

/// Create a group; the caller becomes its owner and first member.
#[utoipa::path(post, path = "/api/v1/staffroom/groups", tag = "groups", request_body = NewGroup,
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = ["write:groups"])))]
pub async fn create(
    State(state): State<AppState>,
    me: ApiMember,
    Json(body): Json<NewGroup>,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    if !body
        .username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(AppError::Unprocessable(crate::msg!("error-username-chars")));
    }
    check_lists(&body.subjects, &body.languages)?;
    let parent = match body.parent_id.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(parse_id(p).ok_or_else(AppError::not_found)?),
        None => None,
    };
    let g = groups::create(
        &state,
        &me.member,
        &body.username,
        parent,
        input(
            body.display_name,
            body.note,
            body.subjects,
            body.languages,
            body.members_only,
            body.join_policy,
            body.posting_policy,
        ),
    )
    .await?;
    Ok(axum::Json(
        group_entity(&state, Some(&me.member), &g).await?,
    ))
}

/// A group, local or from another server.
#[utoipa::path(get, path = "/api/v1/staffroom/groups/{id}", tag = "groups",
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 404)),
    security((), ("bearer" = ["read:groups"])))]
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<GroupEntity>> {
    let me = viewer(&auth, "read:groups")?;
    let g = group_by_id(&state, &id).await?;
    Ok(axum::Json(group_entity(&state, me.as_ref(), &g).await?))
}

/// Settings to change; absent ones stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupChanges {
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    display_name: Option<String>,
    #[schema(
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    note: Option<String>,
    #[schema(max_items = 20)]
    subjects: Option<Vec<SubjectName>>,
    #[schema(max_items = 10)]
    languages: Option<Vec<LanguageCode>>,
    members_only: Option<bool>,
    join_policy: Option<JoinPolicyName>,
    posting_policy: Option<PostingPolicyName>,
}

/// Change a group's settings (its moderators).
#[utoipa::path(patch, path = "/api/v1/staffroom/groups/{id}", tag = "groups", request_body = Option<GroupChanges>,
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = GroupEntity), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = ["write:groups"])))]
pub async fn update(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    Json(body): Json<GroupChanges>,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    check_lists(&body.subjects, &body.languages)?;
    let g = local_group(&state, &id).await?;
    let (g, events) = groups::update(
        &state,
        &me.member,
        &g,
        input(
            body.display_name,
            body.note,
            body.subjects,
            body.languages,
            body.members_only,
            body.join_policy,
            body.posting_policy,
        ),
    )
    .await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        group_entity(&state, Some(&me.member), &g).await?,
    ))
}

/// A group's sub-groups the caller may see.
#[utoipa::path(get, path = "/api/v1/staffroom/groups/{id}/subgroups", tag = "groups",
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = Vec<GroupEntity>), (status = 401), (status = 404)),
    security((), ("bearer" = ["read:groups"])))]
pub async fn subgroups(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Vec<GroupEntity>>> {
    let me = viewer(&auth, "read:groups")?;
    let g = group_by_id(&state, &id).await?;
    let list = groups::subgroups(&state, me.as_ref().map(|m| &m.actor), &g).await?;
    Ok(axum::Json(
        group_entities(&state, me.as_ref(), &list).await?,
    ))
}

/// A group's avatar and banner (multipart, as Mastodon's
/// `update_credentials` takes an account's).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct GroupImages {
    /// PNG, JPEG, GIF or WebP.
    #[schema(value_type = Option<String>, format = Binary)]
    avatar: Option<Vec<u8>>,
    /// The banner: PNG, JPEG, GIF or WebP.
    #[schema(value_type = Option<String>, format = Binary)]
    header: Option<Vec<u8>>,
}

/// Replace a group's avatar and/or banner (its moderators).
#[utoipa::path(patch, path = "/api/v1/staffroom/groups/{id}/images", tag = "groups",
    request_body(content = GroupImages, content_type = "multipart/form-data"),
    params(("id" = String, Path, description = "The group's account id")),
    responses((status = 200, body = GroupEntity), (status = 400), (status = 401), (status = 403), (status = 404), (status = 413), (status = 422)),
    security(("bearer" = ["write:groups"])))]
pub async fn images(
    State(state): State<AppState>,
    me: ApiMember,
    Path(id): Path<String>,
    mut form: axum::extract::Multipart,
) -> AppResult<axum::Json<GroupEntity>> {
    write(&me)?;
    let g = local_group(&state, &id).await?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::BadRequest(crate::msg!("error-invalid-body", detail = e.body_text()))
    };
    let mut input = GroupInput::default();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(bad)?;
        match name.as_str() {
            "avatar" if !bytes.is_empty() => input.avatar = Some(bytes),
            "header" if !bytes.is_empty() => input.header = Some(bytes),
            "avatar" | "header" => {}
            other => {
                return Err(AppError::Unprocessable(crate::msg!(
                    "error-invalid-body",
                    detail = format!("unknown field `{other}` (avatar, header)")
                )));
            }
        }
    }
    if input.avatar.is_none() && input.header.is_none() {
        return Err(AppError::Unprocessable(crate::msg!(
            "error-field-required",
            field = "avatar"
        )));
    }
    let (g, events) = groups::update(&state, &me.member, &g, input).await?;
    publish::publish(&state, events).await;
    Ok(axum::Json(
        group_entity(&state, Some(&me.member), &g).await?,
    ))
}
