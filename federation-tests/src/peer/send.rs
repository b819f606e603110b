//! Sending as Mastodon does: activities built like Mastodon's, signed with
//! the sender's key, delivered to the inboxes Mastodon would choose, and
//! optionally spoiled on the way to test signature checks.

use super::*;

impl Peer {
    // --- sending --------------------------------------------------------

    /// Signs `body` as `signer` (rsa-sha256 over `(request-target) host date
    /// digest content-type`, as the crate does for Mastodon), spoils it as
    /// `tamper` says, POSTs it to `inbox` and reports the answer.
    pub async fn deliver(
        &self,
        signer: &PeerUser,
        inbox: &str,
        body: Vec<u8>,
        tamper: Tamper,
    ) -> Delivery {
        sign_and_post(&self.state.http, &signer.local, inbox, body, tamper)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sends the exact bytes and headers of an earlier delivery again
    /// (same Date, same signature), as an attacker who captured it would.
    pub async fn replay(&self, earlier: &Delivery) -> Delivery {
        post_signed(&self.state.http, earlier.request.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Signs and sends any JSON as `signer`; the JSON's `actor` need not be
    /// the signer (that is the point of some tests).
    pub async fn send_raw(&self, signer: &PeerUser, inbox: &str, activity: &Value) -> Delivery {
        self.send_tampered(signer, inbox, activity, Tamper::None)
            .await
    }

    pub async fn send_tampered(
        &self,
        signer: &PeerUser,
        inbox: &str,
        activity: &Value,
        tamper: Tamper,
    ) -> Delivery {
        let body = serde_json::to_vec(activity).expect("serialise activity");
        self.deliver(signer, inbox, body, tamper).await
    }

    pub(super) async fn send_to(
        &self,
        from: &PeerUser,
        activity: Value,
        inboxes: Vec<String>,
    ) -> Sent {
        if let Some(id) = activity["id"].as_str() {
            self.state
                .objects
                .lock()
                .unwrap()
                .insert(id.to_string(), activity.clone());
        }
        let mut unique: Vec<String> = Vec::new();
        for inbox in inboxes {
            if !unique.contains(&inbox) && !inbox.starts_with(&format!("{}/", self.state.base)) {
                unique.push(inbox);
            }
        }
        let mut deliveries = Vec::new();
        for inbox in unique {
            deliveries.push(self.send_raw(from, &inbox, &activity).await);
        }
        Sent {
            activity,
            deliveries,
        }
    }

    /// A new activity object with Mastodon's plain context.
    pub fn activity(&self, from: &PeerUser, kind: &str, id: String, object: Value) -> Value {
        json!({
            "@context": AS_CONTEXT,
            "id": id,
            "type": kind,
            "actor": from.actor_id,
            "object": object,
        })
    }

    /// Follow `target_actor_id`, delivered to the target's own inbox.
    pub async fn send_follow(&self, from: &PeerUser, target_actor_id: &str) -> Sent {
        let target = self.resolve_actor(target_actor_id).await;
        let id = format!("{}/{}", self.state.base, self.state.uuid());
        let follow = self.activity(from, "Follow", id, json!(target_actor_id));
        self.send_to(from, follow, vec![target.inbox.to_string()])
            .await
    }

    /// Creates a Mastodon-shaped Note and delivers it to the mentioned
    /// actors and (unless direct) to the user's followers. The note is then
    /// served at its id.
    pub async fn send_note(&self, from: &PeerUser, spec: NoteSpec) -> Sent {
        let snowflake = self.state.snowflake();
        let note_id = format!("{}/statuses/{snowflake}", from.actor_id);
        let published = now();
        let mut mentions = spec.mentions.clone();
        let mut conversation = None;
        if let Some(parent) = &spec.in_reply_to {
            let parent_doc = self
                .fetch(parent)
                .await
                .unwrap_or_else(|e| panic!("peer could not fetch parent {parent}: {e}"));
            if let Some(c) = parent_doc["conversation"]
                .as_str()
                .or_else(|| parent_doc["context"].as_str())
            {
                conversation = Some(c.to_string());
            }
            let author = value_id(&parent_doc["attributedTo"]).to_string();
            if !author.is_empty() && !mentions.contains(&author) && author != from.actor_id {
                mentions.insert(0, author);
            }
        }
        let conversation = conversation.unwrap_or_else(|| {
            format!(
                "tag:{},{}:objectId={snowflake}:objectType=Conversation",
                self.state.domain,
                chrono::Utc::now().format("%Y-%m-%d")
            )
        });
        let mut tags = Vec::new();
        let mut spans = String::new();
        let mut inboxes = Vec::new();
        for mention in &mentions {
            let actor = self.resolve_actor(mention).await;
            let doc = actor.document();
            let username = doc["preferredUsername"].as_str().unwrap_or("someone");
            let host = match (actor.id.host_str(), actor.id.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => String::new(),
            };
            let profile = doc["url"].as_str().unwrap_or(mention);
            spans.push_str(&format!(
                "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span> ",
                escape_html(profile),
                escape_html(username)
            ));
            tags.push(json!({
                "type": "Mention",
                "href": mention,
                "name": format!("@{username}@{host}"),
            }));
            // Mastodon sends mentions to the personal inbox for direct
            // messages and to the shared one otherwise.
            inboxes.push(if spec.visibility == Visibility::Direct {
                actor.inbox.to_string()
            } else {
                actor.delivery_inbox().to_string()
            });
        }
        let content = format!("<p>{spans}{}</p>", escape_html(&spec.text));
        let mention_ids: Vec<Value> = mentions.iter().map(|m| json!(m)).collect();
        let (to, cc) = match spec.visibility {
            Visibility::Public => {
                let mut cc = vec![json!(from.followers)];
                cc.extend(mention_ids);
                (vec![json!(PUBLIC)], cc)
            }
            Visibility::Unlisted => {
                let mut cc = vec![json!(PUBLIC)];
                cc.extend(mention_ids);
                (vec![json!(from.followers)], cc)
            }
            Visibility::Private => (vec![json!(from.followers)], mention_ids),
            Visibility::Direct => (mention_ids, Vec::new()),
        };
        if spec.visibility != Visibility::Direct {
            inboxes.extend(self.follower_inboxes(from).await);
        }
        let note = json!({
            "id": note_id,
            "type": "Note",
            "summary": spec.summary,
            "inReplyTo": spec.in_reply_to,
            "published": published,
            "url": format!("{}/@{}/{snowflake}", self.state.base, from.username),
            "attributedTo": from.actor_id,
            "to": to,
            "cc": cc,
            "sensitive": spec.summary.is_some(),
            "atomUri": note_id,
            "inReplyToAtomUri": spec.in_reply_to,
            "conversation": conversation,
            "content": content,
            "contentMap": { "en": content },
            "attachment": [],
            "tag": tags,
            "replies": {
                "id": format!("{note_id}/replies"),
                "type": "Collection",
                "first": {
                    "type": "CollectionPage",
                    "next": format!("{note_id}/replies?only_other_accounts=true&page=true"),
                    "partOf": format!("{note_id}/replies"),
                    "items": []
                }
            }
        });
        let mut served = note.clone();
        served["@context"] = note_context();
        self.state
            .objects
            .lock()
            .unwrap()
            .insert(note_id.clone(), served);
        let create = json!({
            "@context": note_context(),
            "id": format!("{note_id}/activity"),
            "type": "Create",
            "actor": from.actor_id,
            "published": published,
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        });
        if matches!(spec.visibility, Visibility::Public | Visibility::Unlisted) {
            self.state
                .outbox
                .lock()
                .unwrap()
                .entry(from.username.clone())
                .or_default()
                .push(create.clone());
        }
        self.state
            .note_inboxes
            .lock()
            .unwrap()
            .insert(note_id, inboxes.clone());
        self.send_to(from, create, inboxes).await
    }

    /// Edits one of the peer's notes (Update with `updated`), delivered where
    /// the note went.
    pub async fn send_update_note(&self, from: &PeerUser, note_id: &str, text: &str) -> Sent {
        let mut note = self
            .state
            .objects
            .lock()
            .unwrap()
            .get(note_id)
            .cloned()
            .unwrap_or_else(|| panic!("the peer did not create {note_id}"));
        let content = format!("<p>{}</p>", escape_html(text));
        let updated = now();
        note["content"] = json!(content);
        note["contentMap"] = json!({ "en": content });
        note["updated"] = json!(updated);
        self.state
            .objects
            .lock()
            .unwrap()
            .insert(note_id.to_string(), note.clone());
        let update = json!({
            "@context": note_context(),
            "id": format!("{note_id}#updates/{}", chrono::Utc::now().timestamp()),
            "type": "Update",
            "actor": from.actor_id,
            "published": updated,
            "to": note["to"],
            "cc": note["cc"],
            "object": without_context(&note),
        });
        let inboxes = self.note_inboxes(note_id);
        self.send_to(from, update, inboxes).await
    }

    /// Deletes one of the peer's notes: Delete with a Tombstone; the note's
    /// URL answers 410 afterwards.
    pub async fn send_delete_note(&self, from: &PeerUser, note_id: &str) -> Sent {
        self.state.gone.lock().unwrap().insert(note_id.to_string());
        let delete = json!({
            "@context": [AS_CONTEXT, { "ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri" }],
            "id": format!("{note_id}#delete"),
            "type": "Delete",
            "actor": from.actor_id,
            "to": [PUBLIC],
            "object": { "id": note_id, "type": "Tombstone", "atomUri": note_id },
        });
        let inboxes = self.note_inboxes(note_id);
        self.send_to(from, delete, inboxes).await
    }

    pub(super) fn note_inboxes(&self, note_id: &str) -> Vec<String> {
        self.state
            .note_inboxes
            .lock()
            .unwrap()
            .get(note_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Likes `object_id`, delivered to its author's inbox.
    pub async fn send_like(&self, from: &PeerUser, object_id: &str) -> Sent {
        let author = self.author_of(object_id).await;
        let id = format!("{}#likes/{}", from.actor_id, self.state.next());
        let like = self.activity(from, "Like", id, json!(object_id));
        self.send_to(from, like, vec![author.inbox.to_string()])
            .await
    }

    /// Boosts `object_id`, delivered to its author and the user's followers.
    pub async fn send_announce(&self, from: &PeerUser, object_id: &str) -> Sent {
        let author = self.author_of(object_id).await;
        let snowflake = self.state.snowflake();
        let announce = json!({
            "@context": AS_CONTEXT,
            "id": format!("{}/statuses/{snowflake}/activity", from.actor_id),
            "type": "Announce",
            "actor": from.actor_id,
            "published": now(),
            "to": [PUBLIC],
            "cc": [author.id.to_string(), from.followers],
            "object": object_id,
        });
        let mut inboxes = vec![author.delivery_inbox().to_string()];
        inboxes.extend(self.follower_inboxes(from).await);
        self.send_to(from, announce, inboxes).await
    }

    /// Undoes an earlier Follow, Like or Announce, delivered where it went.
    pub async fn send_undo(&self, from: &PeerUser, original: &Sent) -> Sent {
        let mut undo = json!({
            "@context": AS_CONTEXT,
            "id": format!("{}/undo", original.id()),
            "type": "Undo",
            "actor": from.actor_id,
            "object": without_context(&original.activity),
        });
        if let Some(to) = original.activity.get("to") {
            undo["to"] = to.clone();
        }
        let inboxes = original
            .deliveries
            .iter()
            .map(|d| d.inbox.clone())
            .collect();
        self.send_to(from, undo, inboxes).await
    }
}

/// Signs `body` as `signer` (rsa-sha256 over `(request-target) host date
/// digest content-type`, as the crate does for Mastodon), spoils it as
/// `tamper` says, POSTs it and reports the answer.
pub(super) async fn sign_and_post(
    http: &reqwest::Client,
    signer: &LocalUser,
    inbox: &str,
    body: Vec<u8>,
    tamper: Tamper,
) -> Result<Delivery, String> {
    let url = Url::parse(inbox).map_err(|e| format!("inbox {inbox}: {e}"))?;
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    };
    let shift = match tamper {
        Tamper::ShiftDate(secs) => chrono::Duration::seconds(secs),
        _ => chrono::Duration::zero(),
    };
    let date = (chrono::Utc::now() + shift)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let builder = ClientWithMiddleware::from(http.clone())
        .post(inbox)
        .header(header::CONTENT_TYPE, "application/activity+json")
        .header(header::HOST, host)
        .header(header::DATE, date);
    let mut request = signer
        .signer
        .to_request_data()
        .sign_request(builder, Bytes::from(body.clone()))
        .await
        .map_err(|e| format!("sign request to {inbox}: {e}"))?;
    let mut final_body = Bytes::from(body);
    match tamper {
        Tamper::None | Tamper::ShiftDate(_) => {}
        Tamper::ReplaceBody(new) => final_body = Bytes::from(new),
        Tamper::ReplaceBodyAndDigest(new) => {
            let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&new));
            request.headers_mut().insert(
                "digest",
                HeaderValue::from_str(&format!("SHA-256={digest}")).map_err(|e| e.to_string())?,
            );
            final_body = Bytes::from(new);
        }
        Tamper::StripSignature => {
            request.headers_mut().remove("signature");
        }
        Tamper::StripDigest => {
            request.headers_mut().remove("digest");
        }
        Tamper::Hs2019 => {
            let signature = request
                .headers()
                .get("signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .replace(r#"algorithm="rsa-sha256""#, r#"algorithm="hs2019""#);
            if !signature.contains("hs2019") {
                return Err(format!("no rsa-sha256 algorithm to relabel in {signature}"));
            }
            request.headers_mut().insert(
                "signature",
                HeaderValue::from_str(&signature).map_err(|e| e.to_string())?,
            );
        }
    }
    request.headers_mut().remove(header::CONTENT_LENGTH);
    post_signed(
        http,
        SentRequest {
            url: inbox.to_string(),
            headers: request.headers().clone(),
            body: final_body,
        },
    )
    .await
}

pub(super) async fn post_signed(
    http: &reqwest::Client,
    sent: SentRequest,
) -> Result<Delivery, String> {
    let resp = http
        .post(&sent.url)
        .headers(sent.headers.clone())
        .body(sent.body.clone())
        .send()
        .await
        .map_err(|e| format!("POST {}: {e}", sent.url))?;
    let status = resp.status();
    let response = resp.text().await.unwrap_or_default();
    Ok(Delivery {
        inbox: sent.url.clone(),
        status,
        response,
        request: sent,
    })
}
