//! Mastodon's JSON entities, built from our models. Only public profile data
//! goes into `Account`; registry data appears only in `AdminAccount`, which
//! only staff can fetch.

use crate::{
    app::AppState,
    db::entities::actors,
    domain::{accounts::Member, profiles},
    http::web::{DEFAULT_AVATAR_PATH, DEFAULT_HEADER_PATH},
};
use serde::Serialize;
use utoipa::ToSchema;

/// ISO 8601 with milliseconds and `Z`, as Mastodon writes dates.
pub fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub verified_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub acct: String,
    pub url: String,
    pub uri: String,
    pub display_name: String,
    pub note: String,
    pub avatar: String,
    pub avatar_static: String,
    pub header: String,
    pub header_static: String,
    pub locked: bool,
    pub bot: bool,
    pub group: bool,
    pub discoverable: Option<bool>,
    pub indexable: bool,
    pub hide_collections: Option<bool>,
    pub created_at: String,
    pub last_status_at: Option<String>,
    pub statuses_count: u64,
    pub followers_count: u64,
    pub following_count: u64,
    #[schema(value_type = Vec<Object>)]
    pub emojis: Vec<serde_json::Value>,
    pub fields: Vec<Field>,
    /// Staffroom: subjects the person teaches.
    pub subjects: Vec<String>,
    /// Staffroom: languages the person speaks (ISO 639 codes).
    pub languages: Vec<String>,
}

pub fn account(state: &AppState, actor: &actors::Model) -> Account {
    let base = state.urls.base();
    let acct = if actor.local {
        actor.username.clone()
    } else {
        format!("{}@{}", actor.username, actor.domain)
    };
    let avatar = actor
        .avatar_url
        .clone()
        .unwrap_or_else(|| format!("{base}{DEFAULT_AVATAR_PATH}"));
    let header = actor
        .header_url
        .clone()
        .unwrap_or_else(|| format!("{base}{DEFAULT_HEADER_PATH}"));
    let created = actor
        .created_at
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(actor.created_at);
    Account {
        id: actor.id.to_string(),
        username: actor.username.clone(),
        acct,
        url: actor.url.clone().unwrap_or_else(|| actor.ap_id.clone()),
        uri: actor.ap_id.clone(),
        display_name: actor.display_name.clone(),
        note: actor.summary.clone(),
        avatar_static: avatar.clone(),
        avatar,
        header_static: header.clone(),
        header,
        locked: actor.manually_approves_followers,
        bot: actor.bot || matches!(actor.kind.as_str(), "Application" | "Service"),
        group: actor.kind == "Group",
        discoverable: Some(actor.discoverable),
        indexable: actor.indexable,
        hide_collections: Some(false),
        created_at: iso(created),
        last_status_at: None,
        statuses_count: 0,
        followers_count: 0,
        following_count: 0,
        emojis: Vec::new(),
        fields: profiles::fields(actor)
            .into_iter()
            .map(|f| Field {
                name: f.name,
                value: crate::domain::text::sanitize_html(&linkify_field(&f.value)),
                verified_at: None,
            })
            .collect(),
        subjects: profiles::string_list(&actor.subjects),
        languages: profiles::string_list(&actor.languages),
    }
}

/// Profile field values are plain text; links become anchors as on Mastodon.
fn linkify_field(value: &str) -> String {
    let escaped = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if (escaped.starts_with("https://") || escaped.starts_with("http://")) && !escaped.contains(' ')
    {
        format!(
            r#"<a href="{escaped}" rel="me nofollow noopener noreferrer" target="_blank">{escaped}</a>"#
        )
    } else {
        escaped
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Source {
    pub privacy: String,
    pub sensitive: bool,
    pub language: String,
    pub note: String,
    pub fields: Vec<Field>,
    pub follow_requests_count: u64,
    pub hide_collections: Option<bool>,
    pub discoverable: Option<bool>,
    pub indexable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub permissions: String,
    pub color: String,
    pub highlighted: bool,
}

/// `Account` plus what only its owner sees.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialAccount {
    #[serde(flatten)]
    pub account: Account,
    pub source: Source,
    pub role: Role,
}

pub fn credential_account(state: &AppState, member: &Member) -> CredentialAccount {
    let actor = &member.actor;
    let role = member.role();
    CredentialAccount {
        account: account(state, actor),
        source: Source {
            privacy: "public".into(),
            sensitive: false,
            language: member.account.locale.clone().unwrap_or_default(),
            note: actor.summary_source.clone().unwrap_or_default(),
            fields: profiles::fields(actor)
                .into_iter()
                .map(|f| Field {
                    name: f.name,
                    value: f.value,
                    verified_at: None,
                })
                .collect(),
            follow_requests_count: 0,
            hide_collections: Some(false),
            discoverable: Some(actor.discoverable),
            indexable: actor.indexable,
        },
        role: Role {
            id: match role {
                crate::domain::accounts::Role::Admin => "3",
                crate::domain::accounts::Role::Moderator => "2",
                crate::domain::accounts::Role::Member => "-99",
            }
            .into(),
            name: match role {
                crate::domain::accounts::Role::Member => String::new(),
                r => r.as_str().to_string(),
            },
            // Mastodon's permission bits: administrator (1) or the moderation set.
            permissions: match role {
                crate::domain::accounts::Role::Admin => "1",
                crate::domain::accounts::Role::Moderator => "1308",
                crate::domain::accounts::Role::Member => "0",
            }
            .into(),
            color: String::new(),
            highlighted: role.is_staff(),
        },
    }
}

/// Mastodon's Admin::Account: the registry, for staff only.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminAccount {
    pub id: String,
    pub username: String,
    pub domain: Option<String>,
    pub created_at: String,
    pub email: String,
    pub ip: Option<String>,
    pub ips: Vec<String>,
    pub locale: Option<String>,
    pub invite_request: Option<String>,
    pub role: Role,
    pub confirmed: bool,
    pub approved: bool,
    pub disabled: bool,
    pub silenced: bool,
    pub suspended: bool,
    pub account: Account,
    /// Staffroom registry: the member's real name.
    pub real_name: Option<String>,
    /// Staffroom registry: school or organisation.
    pub school: Option<String>,
    /// Staffroom registry: membership number in the association.
    pub membership_number: Option<String>,
    /// Staffroom registry: pending, active, suspended or rejected.
    pub status: String,
}

pub fn admin_account(state: &AppState, member: &Member) -> AdminAccount {
    let a = &member.account;
    let cred = credential_account(state, member);
    AdminAccount {
        // The same id as the public Account, as on Mastodon.
        id: member.actor.id.to_string(),
        username: a.username.clone(),
        domain: None,
        created_at: iso(a.created_at),
        email: a.email.clone(),
        ip: None,
        ips: Vec::new(),
        locale: a.locale.clone(),
        invite_request: a.signup_reason.clone(),
        role: cred.role,
        confirmed: true,
        approved: a.status != "pending" && a.status != "rejected",
        disabled: false,
        silenced: false,
        suspended: a.status == "suspended",
        account: cred.account,
        real_name: a.real_name.clone(),
        school: a.school.clone(),
        membership_number: a.membership_number.clone(),
        status: a.status.clone(),
    }
}

/// Accounts with their counts, computed once per response.
#[derive(Default)]
pub struct AccountCache {
    map: std::collections::HashMap<i64, serde_json::Value>,
}

impl AccountCache {
    pub async fn get(
        &mut self,
        state: &AppState,
        actor: &actors::Model,
    ) -> crate::error::AppResult<serde_json::Value> {
        if let Some(v) = self.map.get(&actor.id) {
            return Ok(v.clone());
        }
        let v = serde_json::to_value(account_full(state, actor).await?)
            .map_err(crate::error::AppError::internal)?;
        self.map.insert(actor.id, v.clone());
        Ok(v)
    }
}

/// `Account` with its statuses, followers and following counts.
pub async fn account_full(
    state: &AppState,
    actor: &actors::Model,
) -> crate::error::AppResult<Account> {
    let mut a = account(state, actor);
    let c = crate::domain::actors::counts(state, actor).await?;
    a.statuses_count = c.statuses;
    a.followers_count = c.followers;
    a.following_count = c.following;
    a.last_status_at = c.last_status_at.map(|t| t.format("%Y-%m-%d").to_string());
    Ok(a)
}

pub async fn credential_account_full(
    state: &AppState,
    member: &Member,
) -> crate::error::AppResult<CredentialAccount> {
    let mut c = credential_account(state, member);
    c.account = account_full(state, &member.actor).await?;
    c.source.follow_requests_count =
        crate::db::queries::follows::count_requests(&state.db, member.actor.id).await?;
    Ok(c)
}

fn mention_json(a: &actors::Model) -> serde_json::Value {
    let acct = if a.local {
        a.username.clone()
    } else {
        format!("{}@{}", a.username, a.domain)
    };
    serde_json::json!({
        "id": a.id.to_string(),
        "username": a.username,
        "url": a.url.clone().unwrap_or_else(|| a.ap_id.clone()),
        "acct": acct,
    })
}

/// Mastodon's Status entity. Articles show their title first, since Mastodon
/// apps have no place for one.
pub async fn status(
    state: &AppState,
    cache: &mut AccountCache,
    v: &crate::domain::timelines::PostView,
    viewer: bool,
) -> crate::error::AppResult<serde_json::Value> {
    use serde_json::json;
    let s = &v.status;
    let reblog = match &v.reblog {
        Some(r) => Some(Box::pin(status(state, cache, r, viewer)).await?),
        None => None,
    };
    let content = match &s.title {
        Some(t) if !t.is_empty() => format!(
            "<p><strong>{}</strong></p>{}",
            crate::domain::text::sanitize_html(&crate::domain::text::escape_html(t)),
            s.content
        ),
        _ => s.content.clone(),
    };
    let mut out = json!({
        "id": s.id.to_string(),
        "uri": s.ap_id,
        "url": s.url.clone().or_else(|| (!s.local).then(|| s.ap_id.clone())),
        "created_at": iso(s.published),
        "edited_at": s.edited_at.map(iso),
        "account": cache.get(state, &v.author).await?,
        "content": content,
        "visibility": s.visibility,
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "media_attachments": v.media.iter().map(|m| media_attachment(state, m)).collect::<Vec<_>>(),
        "application": null,
        "mentions": v.mentions.iter().map(mention_json).collect::<Vec<_>>(),
        "tags": v.tags.iter().map(|t| json!({ "name": t, "url": format!("{}/tags/{t}", state.urls.base()) })).collect::<Vec<_>>(),
        "emojis": [],
        "reblogs_count": s.reblogs_count,
        "favourites_count": s.favourites_count,
        "replies_count": s.replies_count,
        "in_reply_to_id": s.in_reply_to_id.map(|i| i.to_string()),
        "in_reply_to_account_id": s.in_reply_to_actor_id.map(|i| i.to_string()),
        "reblog": reblog,
        "poll": v.poll.as_ref().map(|p| poll(p, viewer)),
        "card": null,
        "language": s.language,
        "text": null,
        "filtered": [],
        "title": s.title,
    });
    if viewer {
        out["favourited"] = json!(v.favourited);
        out["reblogged"] = json!(v.reblogged);
        out["bookmarked"] = json!(v.bookmarked);
        out["muted"] = json!(false);
        out["pinned"] = json!(false);
    }
    Ok(out)
}

/// Mastodon's MediaAttachment.
pub fn media_attachment(
    state: &AppState,
    m: &crate::db::entities::media::Model,
) -> serde_json::Value {
    use crate::domain::thumbnails;
    use serde_json::json;
    let url = crate::domain::media::url(state, m);
    let reduced = m.remote_url.is_none()
        && m.content_type.starts_with("image/")
        && !thumbnails::fits(m.width, m.height);
    let preview_url = if reduced {
        format!("{url}?preview=1")
    } else {
        url.clone()
    };
    let mut meta = json!({});
    if let (Some(w), Some(h)) = (m.width, m.height) {
        let size = |w: i32, h: i32| json!({ "width": w, "height": h, "size": format!("{w}x{h}"), "aspect": f64::from(w) / f64::from(h.max(1)) });
        let (sw, sh) = if reduced {
            thumbnails::reduced_size(w, h)
        } else {
            (w, h)
        };
        meta = json!({ "original": size(w, h), "small": size(sw, sh) });
    }
    if let (Some(x), Some(y)) = (m.focus_x, m.focus_y) {
        meta["focus"] = json!({ "x": x, "y": y });
    }
    json!({
        "id": m.id.to_string(),
        "type": m.kind,
        "url": url,
        "preview_url": preview_url,
        "remote_url": m.remote_url,
        "meta": meta,
        "description": m.description,
        "blurhash": m.blurhash,
    })
}

/// Mastodon's Poll.
pub fn poll(p: &crate::domain::timelines::PollView, viewer: bool) -> serde_json::Value {
    use serde_json::json;
    let options = crate::domain::polls::options(&p.poll);
    let votes: u64 = p.tallies.iter().sum();
    let mut out = json!({
        "id": p.poll.id.to_string(),
        "expires_at": p.poll.expires_at.map(iso),
        "expired": crate::domain::polls::expired(&p.poll),
        "multiple": p.poll.multiple,
        "votes_count": votes,
        "voters_count": if p.poll.multiple { json!(p.poll.voters_count) } else { json!(p.poll.voters_count.max(votes as i32)) },
        "options": options.iter().zip(&p.tallies).map(|(t, n)| json!({ "title": t, "votes_count": n })).collect::<Vec<_>>(),
        "emojis": [],
    });
    if viewer {
        out["voted"] = json!(!p.own_votes.is_empty());
        out["own_votes"] = json!(p.own_votes);
    }
    out
}

pub async fn statuses(
    state: &AppState,
    views: &[crate::domain::timelines::PostView],
    viewer: bool,
) -> crate::error::AppResult<Vec<serde_json::Value>> {
    let mut cache = AccountCache::default();
    let mut out = Vec::with_capacity(views.len());
    for v in views {
        out.push(status(state, &mut cache, v, viewer).await?);
    }
    Ok(out)
}

pub fn relationship(id: i64, r: &crate::domain::follows::Relationship) -> serde_json::Value {
    serde_json::json!({
        "id": id.to_string(),
        "following": r.following,
        "showing_reblogs": r.following,
        "notifying": false,
        "languages": null,
        "followed_by": r.followed_by,
        "blocking": r.blocking,
        "blocked_by": r.blocked_by,
        "muting": r.muting,
        "muting_notifications": r.muting,
        "requested": r.requested,
        "requested_by": r.requested_by,
        "domain_blocking": false,
        "endorsed": false,
        "note": "",
    })
}
