//! Every ActivityPub URL this instance mints, in one place. Ids are permanent
//! (other servers store them), so changing a pattern here breaks federation.

use url::Url;

#[derive(Debug, Clone)]
pub struct Urls {
    base: String,
}

impl Urls {
    /// `base` is `scheme://host[:port]` without a trailing slash.
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_string(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn domain(&self) -> &str {
        self.base
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(&self.base)
    }

    pub fn parse(&self, path: &str) -> Result<Url, url::ParseError> {
        Url::parse(&format!("{}{path}", self.base))
    }

    pub fn person(&self, username: &str) -> String {
        format!("{}/users/{username}", self.base)
    }

    /// A group's actor id, which is also its page.
    pub fn group(&self, name: &str) -> String {
        format!("{}/groups/{name}", self.base)
    }

    /// The collection of a group's moderators (FEP-1b12 `attributedTo`).
    pub fn moderators(&self, actor_id: &str) -> String {
        format!("{actor_id}/moderators")
    }

    pub fn profile_page(&self, username: &str) -> String {
        format!("{}/@{username}", self.base)
    }

    pub fn inbox(&self, actor_id: &str) -> String {
        format!("{actor_id}/inbox")
    }

    pub fn outbox(&self, actor_id: &str) -> String {
        format!("{actor_id}/outbox")
    }

    pub fn followers(&self, actor_id: &str) -> String {
        format!("{actor_id}/followers")
    }

    pub fn following(&self, actor_id: &str) -> String {
        format!("{actor_id}/following")
    }

    pub fn featured(&self, actor_id: &str) -> String {
        format!("{actor_id}/collections/featured")
    }

    pub fn main_key(&self, actor_id: &str) -> String {
        format!("{actor_id}#main-key")
    }

    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base)
    }

    /// The instance actor (FEP-d556 / FEP-2677), which signs fetches.
    pub fn instance_actor(&self) -> String {
        format!("{}/actor", self.base)
    }

    pub fn media(&self, key: &str) -> String {
        format!("{}/media/{key}", self.base)
    }

    pub fn is_local(&self, url: &str) -> bool {
        url == self.base || url.starts_with(&format!("{}/", self.base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Urls::new("https://assoc.example/");
        assert_eq!(u.person("alice"), "https://assoc.example/users/alice");
        assert_eq!(u.domain(), "assoc.example");
        assert!(u.is_local("https://assoc.example/users/alice"));
        assert!(!u.is_local("https://assoc.example.evil/users/alice"));
    }
}
