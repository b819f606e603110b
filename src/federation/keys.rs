//! RSA key pairs for actors. Created once when an actor is created and stored
//! with it, so keys never change across restarts.

use crate::error::AppError;

pub struct KeyPair {
    pub public_pem: String,
    pub private_pem: String,
}

/// Generate an RSA-2048 key pair off the async runtime (it takes ~100 ms).
pub async fn generate() -> Result<KeyPair, AppError> {
    tokio::task::spawn_blocking(|| {
        activitypub_federation::http_signatures::generate_actor_keypair()
            .map(|k| KeyPair {
                public_pem: k.public_key,
                private_pem: k.private_key,
            })
            .map_err(|e| AppError::internal(anyhow::anyhow!("generating key pair: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}
