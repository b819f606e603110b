//! Uploaded files (avatars, headers, post media; resource files go through
//! `domain::resources::files`), kept in an `object_store`: the data directory
//! by default, an S3 bucket when configured. The type is detected from the
//! bytes, never from the name or the declared type, and storage keys are
//! generated, so no name from a user reaches the file system.

use crate::{
    app::AppState,
    db::{entities::media, ids, queries},
    domain::validate,
    error::{AppError, AppResult},
    msg,
};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, local::LocalFileSystem, path::Path};
use sea_orm::ActiveValue::Set;
use std::sync::Arc;

#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
}

impl MediaStore {
    /// The store `[storage]` names: local files under `local_dir`, or S3.
    pub fn from_config(
        config: &crate::config::StorageConfig,
        local_dir: &std::path::Path,
    ) -> anyhow::Result<Self> {
        use crate::config::StorageBackend;
        match config.backend {
            StorageBackend::Local => Self::local(local_dir),
            StorageBackend::S3 => {
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(&config.s3_bucket)
                    .with_allow_http(config.s3_allow_http);
                for (value, set) in [
                    (
                        &config.s3_region,
                        object_store::aws::AmazonS3ConfigKey::Region,
                    ),
                    (
                        &config.s3_endpoint,
                        object_store::aws::AmazonS3ConfigKey::Endpoint,
                    ),
                    (
                        &config.s3_access_key_id,
                        object_store::aws::AmazonS3ConfigKey::AccessKeyId,
                    ),
                    (
                        &config.s3_secret_access_key,
                        object_store::aws::AmazonS3ConfigKey::SecretAccessKey,
                    ),
                ] {
                    if !value.is_empty() {
                        b = b.with_config(set, value);
                    }
                }
                Ok(Self {
                    store: Arc::new(b.build()?),
                })
            }
        }
    }

    /// Files under `<data_dir>/media`, created if missing.
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            store: Arc::new(LocalFileSystem::new_with_prefix(dir)?),
        })
    }

    pub async fn put(&self, key: &str, bytes: bytes::Bytes) -> anyhow::Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Option<bytes::Bytes>> {
        match self.store.get(&Path::from(key)).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Kinds of upload, each with its own allowlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Avatars and headers: still images only.
    ProfileImage,
    /// Attachments of posts: images, video and audio.
    Attachment,
}

const PROFILE_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];
pub const ATTACHMENT_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
    "audio/wav",
    "audio/x-flac",
    "audio/flac",
    "audio/mp4",
];
pub const MAX_ATTACHMENTS: usize = 4;
pub const DESCRIPTION_MAX: usize = 1500;

/// Mastodon's attachment type for a media type.
pub fn kind_of(mime: &str) -> &'static str {
    match mime.split('/').next() {
        Some("image") if mime == "image/gif" => "gifv",
        Some("image") => "image",
        Some("video") => "video",
        Some("audio") => "audio",
        _ => "unknown",
    }
}

/// Store an upload after checking its real type and size.
pub async fn store(
    state: &AppState,
    account_id: Option<i64>,
    bytes: bytes::Bytes,
    purpose: Purpose,
    description: Option<String>,
) -> AppResult<media::Model> {
    if bytes.is_empty() {
        return Err(AppError::Unprocessable(msg!("error-upload-empty")));
    }
    let max = state.config.http.max_upload_bytes;
    if bytes.len() > max {
        return Err(AppError::PayloadTooLarge(msg!(
            "error-upload-too-large",
            max = max / (1024 * 1024)
        )));
    }
    let description = match description {
        Some(d) => validate::optional("description", Some(&d), DESCRIPTION_MAX)?,
        None => None,
    };
    let detected = infer::get(&bytes).map(|k| (k.mime_type(), k.extension()));
    let allowed = match purpose {
        Purpose::ProfileImage => PROFILE_IMAGE_TYPES,
        Purpose::Attachment => ATTACHMENT_TYPES,
    };
    let Some((mime, ext)) = detected.filter(|(m, _)| allowed.contains(m)) else {
        return Err(AppError::Unprocessable(msg!("error-upload-type")));
    };
    let (width, height) = if mime.starts_with("image/") {
        match imagesize::blob_size(&bytes) {
            Ok(size) => (
                i32::try_from(size.width).ok(),
                i32::try_from(size.height).ok(),
            ),
            Err(_) => return Err(AppError::Unprocessable(msg!("error-upload-type"))),
        }
    } else {
        (None, None)
    };
    let id = ids::next_id();
    let key = format!("{id}.{ext}");
    let size = bytes.len() as i64;
    state
        .media
        .put(&key, bytes)
        .await
        .map_err(AppError::internal)?;
    let row = queries::media::insert(
        &state.db,
        media::ActiveModel {
            id: Set(id),
            account_id: Set(account_id),
            storage_key: Set(key.clone()),
            content_type: Set(mime.to_string()),
            size: Set(size),
            description: Set(description),
            focus_x: Set(None),
            focus_y: Set(None),
            width: Set(width),
            height: Set(height),
            remote_url: Set(None),
            created_at: Set(chrono::Utc::now()),
            status_id: Set(None),
            position: Set(0),
            kind: Set(kind_of(mime).to_string()),
            blurhash: Set(None),
        },
    )
    .await;
    match row {
        Ok(r) => Ok(r),
        Err(e) => {
            // Nothing half-stored: the file goes if its row could not be written.
            let _ = state.media.delete(&key).await;
            Err(e.into())
        }
    }
}

/// Public URL of a stored file.
pub fn url(state: &AppState, m: &media::Model) -> String {
    m.remote_url
        .clone()
        .unwrap_or_else(|| state.urls.media(&m.storage_key))
}

/// One of my uploads, not yet posted or posted by me.
pub async fn mine(state: &AppState, account_id: i64, id: i64) -> AppResult<media::Model> {
    queries::media::by_id(&state.db, id)
        .await?
        .filter(|m| m.account_id == Some(account_id))
        .ok_or_else(AppError::not_found)
}

/// Change the description (alt text) and focal point of an upload.
pub async fn describe(
    state: &AppState,
    account_id: i64,
    id: i64,
    description: Option<String>,
    focus: Option<(f64, f64)>,
) -> AppResult<media::Model> {
    let m = mine(state, account_id, id).await?;
    let mut a: media::ActiveModel = m.into();
    if let Some(d) = description {
        a.description = Set(validate::optional(
            "description",
            Some(&d),
            DESCRIPTION_MAX,
        )?);
    }
    if let Some((x, y)) = focus {
        a.focus_x = Set(Some(x));
        a.focus_y = Set(Some(y));
    }
    Ok(queries::media::update(&state.db, a).await?)
}

/// Parse Mastodon's focus "x,y" (each between -1 and 1).
pub fn parse_focus(raw: &str) -> AppResult<(f64, f64)> {
    let bad = || AppError::Unprocessable(msg!("error-focus"));
    let (x, y) = raw.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if !(-1.0..=1.0).contains(&x) || !(-1.0..=1.0).contains(&y) {
        return Err(bad());
    }
    Ok((x, y))
}

/// Check the uploads a post is to carry: mine, at most four, not on another post.
pub async fn for_post(
    state: &AppState,
    account_id: i64,
    ids: &[i64],
    status_id: Option<i64>,
) -> AppResult<Vec<media::Model>> {
    if ids.len() > MAX_ATTACHMENTS {
        return Err(AppError::Unprocessable(msg!(
            "error-too-many",
            field = "media_ids",
            max = MAX_ATTACHMENTS
        )));
    }
    let mut out = Vec::new();
    for id in ids {
        let m = mine(state, account_id, *id).await?;
        if m.status_id.is_some() && m.status_id != status_id {
            return Err(AppError::Unprocessable(msg!("error-media-used")));
        }
        out.push(m);
    }
    Ok(out)
}
