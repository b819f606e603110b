//! Looking at a running peer: what arrived, who follows whom, and fetching
//! documents from the instances under test, signed by the peer's instance actor.

use super::*;

impl Peer {
    // --- what arrived ---------------------------------------------------

    /// Every activity that passed verification, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub fn received_of_type(&self, kind: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.kind() == kind)
            .collect()
    }

    /// Requests the peer refused (bad signature, unknown inbox, ...).
    pub fn rejected(&self) -> Vec<Rejected> {
        self.state.rejected.lock().unwrap().clone()
    }

    /// Deliveries the peer made on its own (Accepts of follows).
    pub fn auto_sent(&self) -> Vec<Delivery> {
        self.state.auto_sent.lock().unwrap().clone()
    }

    /// Actor ids following `user` (accepted follows).
    pub fn followers_of(&self, user: &PeerUser) -> Vec<String> {
        self.state
            .followers
            .lock()
            .unwrap()
            .get(&user.username)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Actor ids whose Accept `user` has received.
    pub fn following_of(&self, user: &PeerUser) -> Vec<String> {
        self.state
            .following
            .lock()
            .unwrap()
            .get(&user.username)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Follow activities received while auto-accept was off.
    pub fn pending_follows(&self) -> Vec<Value> {
        self.state.pending_follows.lock().unwrap().clone()
    }

    /// What the peer saw, for failure messages.
    pub fn report(&self) -> String {
        let received: Vec<String> = self.received().iter().map(Received::summary).collect();
        let rejected: Vec<String> = self
            .rejected()
            .iter()
            .map(|r| format!("{} at {}: {}", r.status, r.inbox, r.reason))
            .collect();
        format!(
            "----- peer {} -----\nreceived ({}):\n  {}\nrejected ({}):\n  {}\n-----",
            self.state.domain,
            received.len(),
            received.join("\n  "),
            rejected.len(),
            rejected.join("\n  ")
        )
    }

    /// Waits (up to 30 s) for a verified activity of type `kind` matching
    /// `predicate`, and returns it.
    pub async fn wait_for_activity(
        &self,
        kind: &str,
        predicate: impl Fn(&Received) -> bool,
    ) -> Received {
        wait_for(
            &format!("peer {} receives a {kind}", self.domain()),
            async || {
                self.received()
                    .into_iter()
                    .find(|r| r.kind() == kind && predicate(r))
                    .ok_or_else(|| self.report())
            },
        )
        .await
    }

    // --- fetching -------------------------------------------------------

    /// Fetches and caches an actor (signed fetch as the instance actor).
    pub async fn resolve_actor(&self, actor_id: &str) -> ApActor {
        let id = ObjectId::<ApActor>::parse(actor_id)
            .unwrap_or_else(|e| panic!("actor id {actor_id}: {e}"));
        id.dereference(&self.data())
            .await
            .unwrap_or_else(|e| panic!("peer could not fetch actor {actor_id}: {e}"))
    }

    /// GET an ActivityPub document, signed as the instance actor; checks the
    /// content type and that the `id` matches, as Mastodon does.
    pub async fn fetch(&self, url: &str) -> Result<Value, String> {
        let url = Url::parse(url).map_err(|e| e.to_string())?;
        fetch_object_http::<_, Value>(&url, &self.data().reset_request_count())
            .await
            .map(|r| r.object)
            .map_err(|e| e.to_string())
    }

    pub(super) async fn author_of(&self, object_id: &str) -> ApActor {
        let object = self
            .fetch(object_id)
            .await
            .unwrap_or_else(|e| panic!("peer could not fetch {object_id}: {e}"));
        let author = match &object["attributedTo"] {
            Value::Array(list) => list.first().map(value_id).unwrap_or(""),
            other => value_id(other),
        }
        .to_string();
        assert!(
            !author.is_empty(),
            "{object_id} has no attributedTo: {object}"
        );
        self.resolve_actor(&author).await
    }

    pub(super) async fn follower_inboxes(&self, user: &PeerUser) -> Vec<String> {
        let mut inboxes = Vec::new();
        for follower in self.followers_of(user) {
            let actor = self.resolve_actor(&follower).await;
            inboxes.push(actor.delivery_inbox().to_string());
        }
        inboxes
    }
}
