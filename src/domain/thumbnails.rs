//! Small previews of uploaded images, so that a library page with a few
//! scanned worksheets does not make every visitor download every original.
//! A preview is made the first time it is asked for and kept in the media
//! store next to the original. Decoding is bounded (dimensions and memory)
//! against decompression bombs, and runs off the async threads. Depends on
//! `domain::media` (the store) only.

use crate::domain::media::MediaStore;
use bytes::Bytes;
use image::{DynamicImage, ImageFormat, ImageReader, Limits, codecs::jpeg::JpegEncoder};
use std::io::Cursor;

/// The longer side of a preview, in pixels.
pub const MAX_SIDE: u32 = 640;
/// Larger images are not decoded at all (their original is served).
const MAX_DECODED_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
const JPEG_QUALITY: u8 = 82;

#[derive(Debug, Clone)]
pub struct Preview {
    pub bytes: Bytes,
    /// Empty for an original shown as it is (its own type applies).
    pub content_type: &'static str,
}

/// Where the preview of the file stored under `storage_key` is kept.
pub fn key_for(storage_key: &str) -> String {
    format!("{storage_key}.preview")
}

/// True when an image of these dimensions is already small enough to be
/// its own preview.
pub fn fits(width: Option<i32>, height: Option<i32>) -> bool {
    let side = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok());
    matches!((side(width), side(height)), (Some(w), Some(h)) if w <= MAX_SIDE && h <= MAX_SIDE)
}

/// The size of the preview of a `width` × `height` image, as `render`
/// makes it (the aspect ratio kept, the longer side `MAX_SIDE`).
pub fn reduced_size(width: i32, height: i32) -> (i32, i32) {
    let (w, h) = (width.max(1) as f64, height.max(1) as f64);
    let scale = (f64::from(MAX_SIDE) / w.max(h)).min(1.0);
    (
        ((w * scale).round() as i32).max(1),
        ((h * scale).round() as i32).max(1),
    )
}

/// Shrink `original` so that its longer side is `MAX_SIDE`: JPEG for opaque
/// images, PNG where there is transparency to keep. `None` when it is
/// already that small, or not an image this server can decode (SVG, a
/// damaged file, one past the limits).
pub fn render(original: &[u8]) -> Option<Preview> {
    let mut reader = ImageReader::new(Cursor::new(original))
        .with_guessed_format()
        .ok()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().ok()?;
    if image.width() <= MAX_SIDE && image.height() <= MAX_SIDE {
        return None;
    }
    encode(&image.thumbnail(MAX_SIDE, MAX_SIDE))
}

fn encode(image: &DynamicImage) -> Option<Preview> {
    let mut out = Vec::new();
    if image.color().has_alpha() {
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .ok()?;
        return Some(Preview {
            bytes: out.into(),
            content_type: "image/png",
        });
    }
    let encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
    image.to_rgb8().write_with_encoder(encoder).ok()?;
    Some(Preview {
        bytes: out.into(),
        content_type: "image/jpeg",
    })
}

/// A kept preview's type, from its first bytes (only PNG and JPEG are made).
fn kept(bytes: Bytes) -> Preview {
    let content_type = if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    };
    Preview {
        bytes,
        content_type,
    }
}

/// What to show for the image stored under `storage_key`: its preview,
/// made and kept on first use, or the original itself (`content_type`
/// `None`) when it needs none or cannot have one. `None` when the original
/// is gone. A store that cannot keep the preview only costs the next
/// visitor another render.
pub async fn for_stored(store: &MediaStore, storage_key: &str) -> anyhow::Result<Option<Preview>> {
    let key = key_for(storage_key);
    if let Some(bytes) = store.get(&key).await? {
        return Ok(Some(kept(bytes)));
    }
    let Some(original) = store.get(storage_key).await? else {
        return Ok(None);
    };
    let source = original.clone();
    let preview = tokio::task::spawn_blocking(move || render(&source)).await?;
    Ok(Some(match preview {
        Some(p) => {
            if let Err(e) = store.put(&key, p.bytes.clone()).await {
                tracing::warn!(key, error = %e, "could not keep an image preview");
            }
            p
        }
        None => Preview {
            bytes: original,
            content_type: "",
        },
    }))
}

/// What a page shows of a stored file of type `content_type`: a large
/// image's preview (`for_stored`), or else the file itself; with the type
/// of what is returned. `None` when the file is gone.
pub async fn shown(
    store: &MediaStore,
    storage_key: &str,
    content_type: &str,
    width: Option<i32>,
    height: Option<i32>,
) -> anyhow::Result<Option<(Bytes, String)>> {
    if content_type.starts_with("image/") && !fits(width, height) {
        return Ok(for_stored(store, storage_key).await?.map(|p| {
            let made = match p.content_type {
                "" => content_type.to_string(),
                made => made.to_string(),
            };
            (p.bytes, made)
        }));
    }
    Ok(store
        .get(storage_key)
        .await?
        .map(|bytes| (bytes, content_type.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn png(image: DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn large_photos_shrink_to_a_jpeg() {
        let photo = RgbImage::from_pixel(2000, 1000, Rgb([200, 30, 30]));
        let p = render(&png(photo.into())).unwrap();
        assert_eq!(p.content_type, "image/jpeg");
        let size = imagesize::blob_size(&p.bytes).unwrap();
        assert_eq!((size.width, size.height), (640, 320));
        assert_eq!(reduced_size(2000, 1000), (640, 320));
        for (w, h) in [(1001, 333), (777, 1999)] {
            let odd = RgbImage::from_pixel(w, h, Rgb([5, 5, 5]));
            let p = render(&png(odd.into())).unwrap();
            let size = imagesize::blob_size(&p.bytes).unwrap();
            let made = (size.width as i32, size.height as i32);
            assert_eq!(made, reduced_size(w as i32, h as i32), "{w}x{h}");
        }
    }

    #[test]
    fn transparency_is_kept_in_a_png() {
        let logo = RgbaImage::from_pixel(800, 1600, Rgba([0, 0, 0, 0]));
        let p = render(&png(logo.into())).unwrap();
        assert_eq!(p.content_type, "image/png");
        let size = imagesize::blob_size(&p.bytes).unwrap();
        assert_eq!((size.width, size.height), (320, 640));
        assert_eq!(kept(p.bytes).content_type, "image/png");
    }

    #[test]
    fn small_damaged_and_foreign_files_have_no_preview() {
        let small = RgbImage::from_pixel(640, 200, Rgb([1, 2, 3]));
        assert!(render(&png(small.into())).is_none());
        let mut damaged = png(RgbImage::from_pixel(1000, 1000, Rgb([9, 9, 9])).into());
        damaged.truncate(damaged.len() / 3);
        assert!(render(&damaged).is_none());
        assert!(render(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_none());
        assert!(render(b"%PDF-1.7").is_none());
        assert!(fits(Some(640), Some(480)));
        assert!(!fits(Some(641), Some(10)));
        assert!(!fits(None, Some(10)));
    }

    #[test]
    fn images_past_the_limits_are_not_decoded() {
        // Small as a file, but wider than any decode is allowed to be: a
        // preview would be made if the limits were not applied.
        let strip = RgbImage::from_pixel(MAX_DECODED_SIDE + 1, 1, Rgb([0, 0, 0]));
        assert!(render(&png(strip.into())).is_none());
        let wide = RgbImage::from_pixel(MAX_DECODED_SIDE, 1, Rgb([0, 0, 0]));
        assert!(render(&png(wide.into())).is_some());
    }
}
