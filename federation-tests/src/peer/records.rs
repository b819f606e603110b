//! What the peer remembers and reports: activities received or refused, requests
//! it sent and their answers, and the knobs tests use to shape outgoing notes.

use super::*;

/// An activity that passed signature verification.
#[derive(Debug, Clone)]
pub struct Received {
    /// Request path: `/inbox` (shared) or `/users/NAME/inbox`.
    pub inbox: String,
    pub activity: Value,
    /// The activity's `actor`, whose public key verified the signature.
    pub actor: String,
    /// `keyId` from the Signature header.
    pub key_id: String,
    pub headers: Vec<(String, String)>,
    /// The body exactly as received.
    pub body: String,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn kind(&self) -> &str {
        self.activity["type"].as_str().unwrap_or("")
    }

    pub fn id(&self) -> &str {
        self.activity["id"].as_str().unwrap_or("")
    }

    /// The embedded object, or `Null` when the object is a bare id.
    pub fn object(&self) -> &Value {
        &self.activity["object"]
    }

    /// The object's id, whether embedded or given as a string.
    pub fn object_id(&self) -> &str {
        value_id(&self.activity["object"])
    }

    pub(super) fn summary(&self) -> String {
        format!(
            "{} {} from {} -> {}",
            self.kind(),
            self.id(),
            self.actor,
            self.inbox
        )
    }
}

/// A request the peer refused.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub inbox: String,
    pub status: StatusCode,
    pub reason: String,
    pub body: String,
    /// When it was refused.
    pub at: std::time::Instant,
}

/// A signed request as it went on the wire, for byte-exact replays.
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub url: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

/// One POST to one inbox and what it answered.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub inbox: String,
    pub status: StatusCode,
    pub response: String,
    pub request: SentRequest,
}

impl Delivery {
    pub fn assert_accepted(&self) {
        assert!(
            self.status.is_success(),
            "POST {} answered {}: {}\nbody sent: {}",
            self.inbox,
            self.status,
            self.response,
            String::from_utf8_lossy(&self.request.body)
        );
    }
}

/// An activity the peer sent and the deliveries it made.
#[derive(Debug, Clone)]
pub struct Sent {
    pub activity: Value,
    pub deliveries: Vec<Delivery>,
}

impl Sent {
    pub fn id(&self) -> &str {
        self.activity["id"].as_str().unwrap_or("")
    }

    /// The object's id (the note for a Create, the target for a Like).
    pub fn object_id(&self) -> &str {
        value_id(&self.activity["object"])
    }

    /// Panics unless there was at least one delivery and every one was 2xx.
    pub fn assert_accepted(&self) -> &Self {
        assert!(
            !self.deliveries.is_empty(),
            "{} {} was delivered nowhere",
            self.activity["type"],
            self.id()
        );
        for d in &self.deliveries {
            d.assert_accepted();
        }
        self
    }
}

/// Ways to spoil a correctly signed request after signing.
#[derive(Debug, Clone)]
pub enum Tamper {
    None,
    /// Swap the body; the Digest header no longer matches it.
    ReplaceBody(Vec<u8>),
    /// Swap the body and recompute Digest; the signature (which covers the
    /// digest) no longer matches.
    ReplaceBodyAndDigest(Vec<u8>),
    /// Send without a Signature header.
    StripSignature,
    /// Send without a Digest header.
    StripDigest,
    /// Sign with a `Date` this many seconds from now (negative: in the
    /// past), as a slow queue or a replaying attacker would.
    ShiftDate(i64),
    /// Label the signature `algorithm="hs2019"` (the signature itself is
    /// unchanged, as the algorithm is not signed), as Pleroma, Akkoma and
    /// GoToSocial send it.
    Hs2019,
}

/// A note for [`Peer::send_note`], addressed the way Mastodon addresses it.
#[derive(Debug, Clone)]
pub struct NoteSpec {
    pub text: String,
    pub visibility: Visibility,
    pub in_reply_to: Option<String>,
    /// Actor ids to mention (tagged, linked in the content and addressed).
    pub mentions: Vec<String>,
    pub summary: Option<String>,
}

impl NoteSpec {
    pub fn new(text: impl Into<String>, visibility: Visibility) -> Self {
        Self {
            text: text.into(),
            visibility,
            in_reply_to: None,
            mentions: Vec::new(),
            summary: None,
        }
    }

    pub fn public(text: impl Into<String>) -> Self {
        Self::new(text, Visibility::Public)
    }

    /// A reply; like Mastodon's compose box, the parent's author is mentioned
    /// automatically.
    pub fn reply_to(mut self, parent_id: impl Into<String>) -> Self {
        self.in_reply_to = Some(parent_id.into());
        self
    }

    pub fn mention(mut self, actor_id: impl Into<String>) -> Self {
        self.mentions.push(actor_id.into());
        self
    }

    pub fn content_warning(mut self, summary: impl Into<String>) -> Self {
        self.summary = Some(summary.into());
        self
    }
}
