//! Remote actors as we keep them: a fetched `Person` (or Group, Service,
//! Application), already verified by `ApubActor::verify`, stored or refreshed
//! with its key, inboxes and profile fields; a remote group also brings the
//! settings its members' servers need (members-only, join policy, parent).

use super::*;

/// Store or refresh a remote actor from its document.
pub async fn upsert_remote(state: &AppState, json: Person) -> Result<actors::Model, FedError> {
    let domain = authority(&json.id);
    let username = json
        .preferred_username
        .clone()
        .filter(|u| !u.trim().is_empty())
        .or_else(|| {
            json.id
                .path_segments()
                .and_then(|mut s| s.next_back().map(str::to_string))
        })
        .unwrap_or_else(|| domain.clone());
    let fields: Vec<profiles::Field> = json
        .attachment
        .iter()
        .filter(|a| a.get("type").and_then(Value::as_str) == Some("PropertyValue"))
        .filter_map(|a| {
            Some(profiles::Field {
                name: a.get("name")?.as_str()?.chars().take(255).collect(),
                value: text::sanitize_html(a.get("value")?.as_str()?),
            })
        })
        .take(16)
        .collect();
    let now = Utc::now();
    let existing = queries::actors::by_ap_id(&state.db, json.id.as_str()).await?;
    if existing.as_ref().is_some_and(|e| e.local) {
        return Err(FedError::forbidden(
            "a remote document cannot overwrite a local actor",
        ));
    }
    // Another actor of that host took this handle before (an account re-created
    // with a new id): the old one keeps its row under a renamed handle.
    if let Some(clash) = queries::actors::by_handle(&state.db, &username, &domain).await?
        && clash.ap_id != json.id.as_str()
    {
        let renamed = format!("{}~{}", clash.username, clash.id);
        let mut a = clash.into_active_model();
        a.username = Set(renamed);
        queries::actors::update(&state.db, a).await?;
    }
    let is_update = existing.is_some();
    let base = match existing {
        Some(e) => e.into_active_model(),
        None => actors::ActiveModel {
            id: Set(ids::at(json.published.unwrap_or(now).min(now))),
            ap_id: Set(json.id.to_string()),
            local: Set(false),
            created_at: Set(now),
            private_key_pem: Set(None),
            account_id: Set(None),
            avatar_media_id: Set(None),
            header_media_id: Set(None),
            summary_source: Set(None),
            languages: Set(json!([])),
            deleted_at: Set(None),
            ..Default::default()
        },
    };
    let mut a = base;
    a.kind = Set(json.kind.clone());
    a.username = Set(username.chars().take(100).collect());
    a.domain = Set(domain);
    a.display_name = Set(json
        .name
        .clone()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect());
    a.summary = Set(text::sanitize_html(
        json.summary.as_deref().unwrap_or_default(),
    ));
    a.url = Set(json.url.as_ref().map(Url::to_string));
    a.inbox_url = Set(json.inbox.to_string());
    a.shared_inbox_url = Set(json
        .endpoints
        .as_ref()
        .and_then(|e| e.shared_inbox.as_ref())
        .map(Url::to_string));
    a.outbox_url = Set(json.outbox.as_ref().map(Url::to_string));
    a.followers_url = Set(json.followers.as_ref().map(Url::to_string));
    a.following_url = Set(json.following.as_ref().map(Url::to_string));
    a.featured_url = Set(json.featured.as_ref().map(Url::to_string));
    a.avatar_url = Set(json.icon.as_ref().map(|i| i.url.to_string()));
    a.header_url = Set(json.image.as_ref().map(|i| i.url.to_string()));
    a.public_key_pem = Set(json.public_key.public_key_pem.clone());
    a.manually_approves_followers = Set(json.manually_approves_followers.unwrap_or(false));
    // Mastodon's defaults for remote accounts: not discoverable unless they say so.
    a.discoverable = Set(json.discoverable.unwrap_or(false));
    a.indexable = Set(json.indexable.unwrap_or(false));
    a.bot = Set(matches!(json.kind.as_str(), "Application" | "Service"));
    a.fields = Set(serde_json::to_value(fields).unwrap_or_else(|_| json!([])));
    a.subjects = Set(json!(json.subjects.iter().take(20).collect::<Vec<_>>()));
    a.updated_at = Set(now);
    a.last_refreshed_at = Set(Some(now));
    let model = if is_update {
        queries::actors::update(&state.db, a).await?
    } else {
        queries::actors::insert(&state.db, a).await?
    };
    if model.kind == "Group" {
        let parent = match &json.parent_group {
            Some(p) => queries::actors::by_ap_id(&state.db, p.as_str())
                .await?
                .filter(|p| p.kind == "Group" && p.domain == model.domain)
                .map(|p| p.id),
            None => None,
        };
        crate::domain::groups::upsert_remote_settings(
            &state.db,
            &model,
            crate::domain::groups::RemoteSettings {
                members_only: json.members_only.unwrap_or(false),
                join_policy: json.join_policy.clone(),
                posting_restricted: json.posting_restricted_to_mods.unwrap_or(false),
                parent,
            },
        )
        .await?;
    }
    Ok(model)
}
