//! The peer's actors as activitypub_federation sees them: remote documents it
//! fetched and its own users, plus the minimal activity type that lets the crate
//! verify who signed an incoming request.

use super::*;

/// An actor document with its key: a remote actor the peer fetched, or one
/// of the peer's own users (which also has the private key).
#[derive(Debug, Clone)]
pub struct ApActor {
    pub(super) id: Url,
    pub(super) inbox: Url,
    pub(super) shared_inbox: Option<Url>,
    pub(super) public_key_pem: String,
    pub(super) private_key_pem: Option<String>,
    pub(super) json: Value,
}

impl ApActor {
    pub(super) fn from_document(json: Value) -> Result<Self, PeerError> {
        let bad = |what: &str| PeerError::new(StatusCode::UNAUTHORIZED, format!("actor {what}"));
        let url = |v: &Value| v.as_str().and_then(|s| Url::parse(s).ok());
        let id = url(&json["id"]).ok_or_else(|| bad("without a valid id"))?;
        let inbox = url(&json["inbox"]).ok_or_else(|| bad("without an inbox"))?;
        let shared_inbox = url(&json["endpoints"]["sharedInbox"]);
        let public_key_pem = json["publicKey"]["publicKeyPem"]
            .as_str()
            .ok_or_else(|| bad("without publicKey.publicKeyPem"))?
            .to_string();
        Ok(Self {
            id,
            inbox,
            shared_inbox,
            public_key_pem,
            private_key_pem: None,
            json,
        })
    }

    pub fn id(&self) -> &Url {
        &self.id
    }

    pub fn document(&self) -> &Value {
        &self.json
    }

    /// Where deliveries to this actor go: the shared inbox if it has one.
    pub fn delivery_inbox(&self) -> Url {
        self.shared_inbox
            .clone()
            .unwrap_or_else(|| self.inbox.clone())
    }
}

#[async_trait]
impl Object for ApActor {
    type DataType = Arc<PeerState>;
    type Kind = Value;
    type Error = PeerError;

    fn id(&self) -> &Url {
        &self.id
    }

    async fn read_from_id(
        object_id: Url,
        data: &Data<Self::DataType>,
    ) -> Result<Option<Self>, Self::Error> {
        Ok(data.app_data().actor(&object_id))
    }

    async fn into_json(self, _data: &Data<Self::DataType>) -> Result<Self::Kind, Self::Error> {
        Ok(self.json)
    }

    async fn verify(
        json: &Self::Kind,
        expected_domain: &Url,
        _data: &Data<Self::DataType>,
    ) -> Result<(), Self::Error> {
        let id = json["id"]
            .as_str()
            .and_then(|s| Url::parse(s).ok())
            .ok_or_else(|| PeerError::new(StatusCode::UNAUTHORIZED, "actor without id"))?;
        verify_domains_match(&id, expected_domain)?;
        Ok(())
    }

    async fn from_json(json: Self::Kind, data: &Data<Self::DataType>) -> Result<Self, Self::Error> {
        let actor = ApActor::from_document(json)?;
        data.app_data()
            .remote
            .lock()
            .unwrap()
            .insert(actor.id.clone(), actor.clone());
        Ok(actor)
    }
}

impl Actor for ApActor {
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        self.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.shared_inbox.clone()
    }
}

/// Only what receive_activity needs to find the signer; the peer keeps the
/// raw JSON separately.
#[derive(Debug, Deserialize)]
pub(super) struct InboundActivity {
    pub(super) id: Url,
    pub(super) actor: Url,
}

#[async_trait]
impl Activity for InboundActivity {
    type DataType = Arc<PeerState>;
    type Error = PeerError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<Self::DataType>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn receive(self, _data: &Data<Self::DataType>) -> Result<(), Self::Error> {
        Ok(())
    }
}
