//! Verifying HTTP signatures on GET requests (authorised fetch of
//! followers-only and direct posts). POSTs to the inbox are verified by the
//! federation library; for GETs it offers nothing public, so this uses the
//! same signature crate it uses (`http-signature-normalization`).

use crate::{
    app::AppState,
    db::entities::actors,
    federation::{actors::ApubActor, error::FedError},
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};
use base64::{Engine, engine::general_purpose::STANDARD};
use rsa::{Pkcs1v15Sign, RsaPublicKey, pkcs8::DecodePublicKey};
use sha2::{Digest, Sha256};
use std::{collections::BTreeMap, sync::LazyLock, time::Duration};
use url::Url;

static CONFIG: LazyLock<http_signature_normalization::Config> = LazyLock::new(|| {
    http_signature_normalization::Config::new().set_expiration(Duration::from_secs(3600))
});

fn key_id(signature: &str) -> Option<String> {
    signature.split(',').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim() == "keyId").then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The actor whose valid signature this request carries, if any.
pub async fn signer(
    data: &Data<AppState>,
    parts: &axum::http::request::Parts,
) -> Result<Option<actors::Model>, FedError> {
    let Some(signature) = parts.headers.get("signature").and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let key = key_id(signature).ok_or_else(|| FedError::Signature("no keyId".into()))?;
    let mut actor_url =
        Url::parse(&key).map_err(|_| FedError::Signature("keyId is not a URL".into()))?;
    actor_url.set_fragment(None);
    let actor = ObjectId::<ApubActor>::from(actor_url)
        .dereference(data)
        .await?
        .model;
    let mut headers = BTreeMap::new();
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            headers.insert(name.to_string(), v.to_string());
        }
    }
    if !headers.contains_key("host") {
        headers.insert("host".into(), data.urls.domain().to_string());
    }
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let public_key = RsaPublicKey::from_public_key_pem(&actor.public_key_pem)
        .map_err(|e| FedError::Signature(format!("bad public key: {e}")))?;
    let verified = CONFIG
        .begin_verify(parts.method.as_str(), path, headers)
        .map_err(|e| FedError::Signature(e.to_string()))?
        .verify(|sig, signing_string| {
            STANDARD.decode(sig).is_ok_and(|bytes| {
                public_key
                    .verify(
                        Pkcs1v15Sign::new::<Sha256>(),
                        &Sha256::digest(signing_string.as_bytes()),
                        &bytes,
                    )
                    .is_ok()
            })
        });
    if verified {
        Ok(Some(actor))
    } else {
        Err(FedError::Signature("signature does not verify".into()))
    }
}
