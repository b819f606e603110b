//! A small client for the Mastodon-compatible API, as one user of one
//! instance. Methods return `serde_json::Value` and panic on an unexpected
//! status with the method, URL, status and body, so a failing test says what
//! the server answered; `try_*` variants return the [`Reply`] for tests that
//! expect an error.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Mastodon's four audiences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Unlisted,
    /// Followers only.
    Private,
    /// Mentioned people only.
    Direct,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
}

/// A response whose status the caller wants to inspect.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    /// The body parsed as JSON, or `Value::Null` when it is not JSON.
    pub body: Value,
    pub text: String,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    label: String,
}

impl Api {
    pub(crate) fn new(http: reqwest::Client, base: String, token: String, label: String) -> Self {
        Self {
            http,
            base,
            token,
            label,
        }
    }

    /// Any request; `query` pairs are percent-encoded, `body` is sent as JSON.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url).query(query);
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("[{}] {method} {url}: {e}", self.label));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, text }
    }

    async fn ok(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Value {
        let reply = self.request(method.clone(), path, query, body).await;
        if !reply.status.is_success() {
            panic!(
                "[{}] {method} {}{path} {query:?} answered {}: {}",
                self.label, self.base, reply.status, reply.text
            );
        }
        reply.body
    }

    pub async fn get(&self, path: &str) -> Value {
        self.ok(Method::GET, path, &[], None).await
    }

    pub async fn get_query(&self, path: &str, query: &[(&str, &str)]) -> Value {
        self.ok(Method::GET, path, query, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Value {
        self.ok(Method::POST, path, &[], Some(body)).await
    }

    pub async fn try_get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, &[], None).await
    }

    /// The array at `path` (timelines, lists); panics if the body is not one.
    pub async fn list(&self, path: &str, query: &[(&str, &str)]) -> Vec<Value> {
        match self.get_query(path, query).await {
            Value::Array(items) => items,
            other => panic!("[{}] GET {path} returned a non-array: {other}", self.label),
        }
    }

    // --- accounts -------------------------------------------------------

    pub async fn verify_credentials(&self) -> Value {
        self.get("/api/v1/accounts/verify_credentials").await
    }

    pub async fn account(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/accounts/{id}")).await
    }

    /// `GET /api/v2/search?resolve=true&type=accounts` for `acct`
    /// (`user@localhost:PORT`, with or without the leading `@`); the account
    /// whose `acct` matches, if any.
    pub async fn try_resolve_account(&self, acct: &str) -> Option<Value> {
        let wanted = acct.trim_start_matches('@').to_lowercase();
        let q = format!("@{wanted}");
        let reply = self
            .request(
                Method::GET,
                "/api/v2/search",
                &[("q", &q), ("resolve", "true"), ("type", "accounts")],
                None,
            )
            .await;
        if !reply.status.is_success() {
            return None;
        }
        reply.body["accounts"].as_array().and_then(|accounts| {
            accounts
                .iter()
                .find(|a| crate::str_field(a, "acct").to_lowercase() == wanted)
                .cloned()
        })
    }

    /// Like [`try_resolve_account`](Self::try_resolve_account), but the
    /// account must be found.
    pub async fn resolve_account(&self, acct: &str) -> Value {
        match self.try_resolve_account(acct).await {
            Some(account) => account,
            None => {
                let q = format!("@{}", acct.trim_start_matches('@'));
                let reply = self
                    .request(
                        Method::GET,
                        "/api/v2/search",
                        &[("q", &q), ("resolve", "true"), ("type", "accounts")],
                        None,
                    )
                    .await;
                panic!(
                    "[{}] search did not resolve {acct}: {} {}",
                    self.label, reply.status, reply.text
                )
            }
        }
    }

    /// The local account id of a remote (or local) handle.
    pub async fn account_id_of(&self, acct: &str) -> String {
        crate::str_field(&self.resolve_account(acct).await, "id").to_string()
    }

    /// `GET /api/v2/search?resolve=true&type=statuses` for a status URL (its
    /// `uri` or `url`); the status if the instance could fetch and show it.
    pub async fn try_resolve_status(&self, url: &str) -> Option<Value> {
        let reply = self
            .request(
                Method::GET,
                "/api/v2/search",
                &[("q", url), ("resolve", "true"), ("type", "statuses")],
                None,
            )
            .await;
        if !reply.status.is_success() {
            return None;
        }
        reply.body["statuses"]
            .as_array()
            .and_then(|s| s.first())
            .cloned()
    }

    pub async fn resolve_status(&self, url: &str) -> Value {
        match self.try_resolve_status(url).await {
            Some(status) => status,
            None => panic!("[{}] search did not resolve status {url}", self.label),
        }
    }

    pub async fn follow(&self, account_id: &str) -> Value {
        self.post(&format!("/api/v1/accounts/{account_id}/follow"), &json!({}))
            .await
    }

    pub async fn unfollow(&self, account_id: &str) -> Value {
        self.post(
            &format!("/api/v1/accounts/{account_id}/unfollow"),
            &json!({}),
        )
        .await
    }

    pub async fn block(&self, account_id: &str) -> Value {
        self.post(&format!("/api/v1/accounts/{account_id}/block"), &json!({}))
            .await
    }

    pub async fn unblock(&self, account_id: &str) -> Value {
        self.post(
            &format!("/api/v1/accounts/{account_id}/unblock"),
            &json!({}),
        )
        .await
    }

    /// The relationship with one account.
    pub async fn relationship(&self, account_id: &str) -> Value {
        let list = self
            .list("/api/v1/accounts/relationships", &[("id[]", account_id)])
            .await;
        list.into_iter()
            .find(|r| crate::str_field(r, "id") == account_id)
            .unwrap_or_else(|| {
                panic!(
                    "[{}] no relationship returned for account {account_id}",
                    self.label
                )
            })
    }

    pub async fn followers(&self, account_id: &str) -> Vec<Value> {
        self.list(
            &format!("/api/v1/accounts/{account_id}/followers"),
            &[("limit", "80")],
        )
        .await
    }

    pub async fn following(&self, account_id: &str) -> Vec<Value> {
        self.list(
            &format!("/api/v1/accounts/{account_id}/following"),
            &[("limit", "80")],
        )
        .await
    }

    pub async fn account_statuses(&self, account_id: &str) -> Vec<Value> {
        self.list(
            &format!("/api/v1/accounts/{account_id}/statuses"),
            &[("limit", "40")],
        )
        .await
    }

    pub async fn follow_requests(&self) -> Vec<Value> {
        self.list("/api/v1/follow_requests", &[("limit", "80")])
            .await
    }

    /// Accepts the follow request of `account_id` (the requester).
    pub async fn authorize_follow(&self, account_id: &str) -> Value {
        self.post(
            &format!("/api/v1/follow_requests/{account_id}/authorize"),
            &json!({}),
        )
        .await
    }

    pub async fn reject_follow(&self, account_id: &str) -> Value {
        self.post(
            &format!("/api/v1/follow_requests/{account_id}/reject"),
            &json!({}),
        )
        .await
    }

    pub async fn update_credentials(&self, changes: &Value) -> Value {
        self.ok(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            &[],
            Some(changes),
        )
        .await
    }

    /// Requires approval for new followers (`locked`).
    pub async fn set_locked(&self, locked: bool) -> Value {
        self.update_credentials(&json!({ "locked": locked })).await
    }

    // --- statuses -------------------------------------------------------

    /// `POST /api/v1/statuses` with any fields.
    pub async fn post_status_with(&self, body: &Value) -> Value {
        self.post("/api/v1/statuses", body).await
    }

    pub async fn post_status(&self, text: &str, visibility: Visibility) -> Value {
        self.post_status_with(&json!({ "status": text, "visibility": visibility.as_str() }))
            .await
    }

    pub async fn reply(&self, in_reply_to_id: &str, text: &str, visibility: Visibility) -> Value {
        self.post_status_with(&json!({
            "status": text,
            "visibility": visibility.as_str(),
            "in_reply_to_id": in_reply_to_id,
        }))
        .await
    }

    pub async fn status(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/statuses/{id}")).await
    }

    pub async fn try_status(&self, id: &str) -> Reply {
        self.try_get(&format!("/api/v1/statuses/{id}")).await
    }

    pub async fn edit_status(&self, id: &str, text: &str) -> Value {
        self.ok(
            Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            &[],
            Some(&json!({ "status": text })),
        )
        .await
    }

    pub async fn delete_status(&self, id: &str) -> Value {
        self.ok(Method::DELETE, &format!("/api/v1/statuses/{id}"), &[], None)
            .await
    }

    /// `{ancestors, descendants}`.
    pub async fn context(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/statuses/{id}/context")).await
    }

    pub async fn history(&self, id: &str) -> Vec<Value> {
        self.list(&format!("/api/v1/statuses/{id}/history"), &[])
            .await
    }

    pub async fn favourite(&self, id: &str) -> Value {
        self.post(&format!("/api/v1/statuses/{id}/favourite"), &json!({}))
            .await
    }

    pub async fn unfavourite(&self, id: &str) -> Value {
        self.post(&format!("/api/v1/statuses/{id}/unfavourite"), &json!({}))
            .await
    }

    pub async fn reblog(&self, id: &str) -> Value {
        self.post(&format!("/api/v1/statuses/{id}/reblog"), &json!({}))
            .await
    }

    pub async fn unreblog(&self, id: &str) -> Value {
        self.post(&format!("/api/v1/statuses/{id}/unreblog"), &json!({}))
            .await
    }

    // --- timelines and notifications ------------------------------------

    pub async fn home(&self) -> Vec<Value> {
        self.list("/api/v1/timelines/home", &[("limit", "40")])
            .await
    }

    pub async fn public_local(&self) -> Vec<Value> {
        self.list(
            "/api/v1/timelines/public",
            &[("local", "true"), ("limit", "40")],
        )
        .await
    }

    pub async fn public(&self) -> Vec<Value> {
        self.list("/api/v1/timelines/public", &[("limit", "40")])
            .await
    }

    pub async fn notifications(&self) -> Vec<Value> {
        self.list("/api/v1/notifications", &[("limit", "40")]).await
    }

    /// Notifications of one type (`follow`, `favourite`, `reblog`, ...).
    pub async fn notifications_of(&self, kind: &str) -> Vec<Value> {
        self.notifications()
            .await
            .into_iter()
            .filter(|n| crate::str_field(n, "type") == kind)
            .collect()
    }
}
