//! Files of resources: checks before anything is stored, then storage.
//!
//! The type is detected from the content and must be on the allowlist; a
//! name or declared type that says something else (a ZIP archive called
//! `lesson.pdf`, a program called `notes.txt`) is refused, not corrected.
//! ZIP-based formats are told apart by the entries of the archive's central
//! directory: OOXML (`[Content_Types].xml` with `word/`, `xl/` or `ppt/`),
//! OpenDocument (a `mimetype` entry), EPUB, SCORM (`imsmanifest.xml`) and
//! H5P (`h5p.json`) packages. Names holding a path are refused; the rest are
//! reduced to a safe file name; storage
//! keys are generated. All files of a request are checked before the first
//! is stored, and stored ones are removed again when a later step fails.

use crate::{
    app::AppState,
    db::{entities::resource_files, ids},
    error::{AppError, AppResult},
    msg,
};
use sha2::Digest;

/// A file as received.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    /// The Content-Type the client declared, if any.
    pub declared: Option<String>,
    pub bytes: bytes::Bytes,
}

/// A file that passed every check, not yet stored.
#[derive(Debug, Clone)]
pub struct Checked {
    pub name: String,
    pub content_type: &'static str,
    pub ext: &'static str,
    pub bytes: bytes::Bytes,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub sha256: String,
}

/// Accepted types: (media type, usual extension, other extensions).
const ALLOWED: &[(&str, &str, &[&str])] = &[
    ("application/pdf", "pdf", &[]),
    ("image/png", "png", &[]),
    ("image/jpeg", "jpg", &["jpeg", "jpe"]),
    ("image/gif", "gif", &[]),
    ("image/webp", "webp", &[]),
    ("audio/mpeg", "mp3", &[]),
    ("audio/ogg", "ogg", &["oga", "opus"]),
    ("audio/x-wav", "wav", &[]),
    ("audio/x-flac", "flac", &[]),
    ("audio/mp4", "m4a", &[]),
    ("video/mp4", "mp4", &["m4v"]),
    ("video/webm", "webm", &[]),
    ("video/quicktime", "mov", &[]),
    ("application/msword", "doc", &[]),
    ("application/vnd.ms-excel", "xls", &[]),
    ("application/vnd.ms-powerpoint", "ppt", &[]),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        &[],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        &[],
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
        &[],
    ),
    ("application/vnd.oasis.opendocument.text", "odt", &[]),
    ("application/vnd.oasis.opendocument.spreadsheet", "ods", &[]),
    (
        "application/vnd.oasis.opendocument.presentation",
        "odp",
        &[],
    ),
    ("application/vnd.oasis.opendocument.graphics", "odg", &[]),
    ("application/epub+zip", "epub", &[]),
    ("application/vnd.h5p+zip", "h5p", &[]),
    // Plain ZIP first: it is what the `.zip` extension names.
    ("application/zip", "zip", &[]),
    ("application/vnd.scorm+zip", "zip", &[]),
    ("text/plain", "txt", &["text"]),
    ("text/markdown", "md", &["markdown"]),
    ("text/csv", "csv", &[]),
];

fn allowed(mime: &str) -> Option<(&'static str, &'static str)> {
    ALLOWED
        .iter()
        .find(|(m, _, _)| *m == mime)
        .map(|(m, e, _)| (*m, *e))
}

/// The type a file name's extension stands for, when it is one we know.
fn type_of_extension(ext: &str) -> Option<&'static str> {
    let ext = ext.to_ascii_lowercase();
    ALLOWED
        .iter()
        .find(|(_, e, more)| *e == ext || more.contains(&ext.as_str()))
        .map(|(m, _, _)| *m)
}

/// Types that are the same thing for the name check: a SCORM package or an
/// H5P file may be called `.zip`; text subtypes only differ by name.
fn compatible(named: &str, detected: &str) -> bool {
    named == detected
        || (named == "application/zip"
            && matches!(
                detected,
                "application/vnd.scorm+zip" | "application/vnd.h5p+zip"
            ))
        || (named.starts_with("text/") && detected.starts_with("text/"))
}

/// Reduce a name to something safe to show and to put in a header: no
/// directories, no control or reserved characters, no leading dots, at most
/// 120 characters, and the extension of the detected type.
pub fn sanitise_name(raw: &str, ext: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    let stem = match cleaned.rsplit_once('.') {
        Some((stem, e)) if type_of_extension(e).is_some() || e.len() <= 5 => stem.to_string(),
        _ => cleaned,
    };
    let stem: String = stem.chars().take(100).collect();
    let stem = stem.trim().trim_end_matches('.').to_string();
    let stem = if stem.is_empty() { "file".into() } else { stem };
    format!("{stem}.{ext}")
}

/// Names of the entries of a ZIP archive, from its central directory; None
/// when the archive is not readable.
pub fn zip_entries(buf: &[u8]) -> Option<Vec<String>> {
    // End of central directory: signature, then the offset of the directory.
    let min = 22;
    if buf.len() < min {
        return None;
    }
    let start = buf.len().saturating_sub(min + 65_535);
    let eocd = (start..=buf.len() - min)
        .rev()
        .find(|&i| buf[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])?;
    let u16_at = |i: usize| -> Option<usize> {
        Some(u16::from_le_bytes(buf.get(i..i + 2)?.try_into().ok()?) as usize)
    };
    let u32_at = |i: usize| -> Option<usize> {
        Some(u32::from_le_bytes(buf.get(i..i + 4)?.try_into().ok()?) as usize)
    };
    let count = u16_at(eocd + 10)?;
    let mut at = u32_at(eocd + 16)?;
    let mut names = Vec::new();
    for _ in 0..count.min(100_000) {
        if buf.get(at..at + 4)? != [0x50, 0x4b, 0x01, 0x02] {
            return None;
        }
        let name_len = u16_at(at + 28)?;
        let extra = u16_at(at + 30)?;
        let comment = u16_at(at + 32)?;
        let name = buf.get(at + 46..at + 46 + name_len)?;
        names.push(String::from_utf8_lossy(name).to_string());
        at += 46 + name_len + extra + comment;
    }
    Some(names)
}

/// The first stored entry's content, when it is called `mimetype` (how
/// OpenDocument and EPUB name their type).
fn zip_mimetype(buf: &[u8]) -> Option<String> {
    if buf.get(0..4)? != [0x50, 0x4b, 0x03, 0x04] {
        return None;
    }
    let method = u16::from_le_bytes(buf.get(8..10)?.try_into().ok()?);
    let size = u32::from_le_bytes(buf.get(18..22)?.try_into().ok()?) as usize;
    let name_len = u16::from_le_bytes(buf.get(26..28)?.try_into().ok()?) as usize;
    let extra = u16::from_le_bytes(buf.get(28..30)?.try_into().ok()?) as usize;
    if method != 0 || buf.get(30..30 + name_len)? != b"mimetype" || size > 200 {
        return None;
    }
    let at = 30 + name_len + extra;
    Some(
        String::from_utf8_lossy(buf.get(at..at + size)?)
            .trim()
            .to_string(),
    )
}

/// What a ZIP archive really is.
fn classify_zip(buf: &[u8]) -> AppResult<&'static str> {
    let entries =
        zip_entries(buf).ok_or_else(|| AppError::Unprocessable(msg!("error-resource-zip")))?;
    let has = |n: &str| entries.iter().any(|e| e == n);
    let under = |p: &str| entries.iter().any(|e| e.starts_with(p));
    if has("[Content_Types].xml") {
        if under("word/") {
            return Ok("application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        }
        if under("xl/") {
            return Ok("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        }
        if under("ppt/") {
            return Ok("application/vnd.openxmlformats-officedocument.presentationml.presentation");
        }
    }
    if has("mimetype") {
        let declared = zip_mimetype(buf).unwrap_or_default();
        if let Some((m, _)) = allowed(&declared) {
            return Ok(m);
        }
        return Err(AppError::Unprocessable(msg!("error-upload-type")));
    }
    if has("imsmanifest.xml") {
        return Ok("application/vnd.scorm+zip");
    }
    if has("h5p.json") {
        return Ok("application/vnd.h5p+zip");
    }
    Ok("application/zip")
}

/// Plain text: valid UTF-8 without control characters other than
/// whitespace (a binary file is never passed off as text).
fn is_text(buf: &[u8]) -> bool {
    std::str::from_utf8(buf).is_ok_and(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
    })
}

fn extension(name: &str) -> Option<&str> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    base.rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty())
}

/// The detected type of `bytes`, or a refusal naming the problem.
pub fn detect(name: &str, bytes: &[u8]) -> AppResult<&'static str> {
    if bytes.starts_with(&[0x50, 0x4b, 0x03, 0x04]) || bytes.starts_with(&[0x50, 0x4b, 0x05, 0x06])
    {
        return classify_zip(bytes);
    }
    if let Some(kind) = infer::get(bytes) {
        return allowed(kind.mime_type())
            .map(|(m, _)| m)
            .ok_or_else(|| AppError::Unprocessable(msg!("error-upload-type")));
    }
    if is_text(bytes) {
        return Ok(
            match extension(name).map(str::to_ascii_lowercase).as_deref() {
                Some("md" | "markdown") => "text/markdown",
                Some("csv") => "text/csv",
                _ => "text/plain",
            },
        );
    }
    Err(AppError::Unprocessable(msg!("error-upload-type")))
}

fn label(mime: &str) -> String {
    match allowed(mime) {
        Some((_, ext)) => ext.to_uppercase(),
        None => mime.to_string(),
    }
}

/// Check one upload against the size limit, the allowlist, and what its name
/// and declared type claim.
pub fn check(state: &AppState, upload: Upload) -> AppResult<Checked> {
    let shown: String = upload.name.chars().take(80).collect();
    // Browsers send a bare file name; a path in it comes from a script trying
    // to write outside the upload, so it is refused rather than quietly cut.
    if upload.name.contains(['/', '\\', '\0']) || upload.name.trim() == ".." {
        return Err(AppError::Unprocessable(msg!(
            "error-resource-file-path",
            name = shown
        )));
    }
    if upload.bytes.is_empty() {
        return Err(AppError::Unprocessable(msg!(
            "error-resource-file-empty",
            name = shown
        )));
    }
    let max = state.config.resources.max_file_bytes;
    if upload.bytes.len() > max {
        return Err(AppError::PayloadTooLarge(msg!(
            "error-upload-too-large",
            max = max / (1024 * 1024)
        )));
    }
    let detected = detect(&upload.name, &upload.bytes).map_err(|e| match e {
        AppError::Unprocessable(m) if m.key() == "error-upload-type" => {
            AppError::Unprocessable(msg!("error-resource-file-type", name = shown.clone()))
        }
        other => other,
    })?;
    if let Some(named) = extension(&upload.name).and_then(type_of_extension)
        && !compatible(named, detected)
    {
        return Err(AppError::Unprocessable(msg!(
            "error-resource-file-mismatch",
            name = shown,
            claimed = label(named),
            actual = label(detected)
        )));
    }
    if let Some(declared) = upload
        .declared
        .as_deref()
        .map(|d| {
            d.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .and_then(|d| allowed(&d).map(|(m, _)| m))
        && !compatible(declared, detected)
    {
        return Err(AppError::Unprocessable(msg!(
            "error-resource-file-mismatch",
            name = shown,
            claimed = label(declared),
            actual = label(detected)
        )));
    }
    let (width, height) = if detected.starts_with("image/") {
        match imagesize::blob_size(&upload.bytes) {
            Ok(s) => (i32::try_from(s.width).ok(), i32::try_from(s.height).ok()),
            Err(_) => {
                return Err(AppError::Unprocessable(msg!(
                    "error-resource-file-type",
                    name = shown
                )));
            }
        }
    } else {
        (None, None)
    };
    let ext = allowed(detected).map(|(_, e)| e).unwrap_or("bin");
    Ok(Checked {
        name: sanitise_name(&upload.name, ext),
        content_type: detected,
        ext,
        sha256: hex::encode(sha2::Sha256::digest(&upload.bytes)),
        width,
        height,
        bytes: upload.bytes,
    })
}

/// Put checked files in the store and return their rows (not yet
/// inserted). On a failure, what was stored is removed again.
pub async fn store(
    state: &AppState,
    resource_id: i64,
    checked: Vec<Checked>,
    first_position: i32,
) -> AppResult<Vec<resource_files::Model>> {
    let mut rows = Vec::new();
    for (i, c) in checked.into_iter().enumerate() {
        let id = ids::next_id();
        let key = format!("resources/{resource_id}/{id}.{}", c.ext);
        let size = c.bytes.len() as i64;
        if let Err(e) = state.media.put(&key, c.bytes).await {
            discard(state, &rows).await;
            return Err(AppError::internal(e));
        }
        rows.push(resource_files::Model {
            id,
            resource_id,
            kind: "file".into(),
            name: c.name,
            storage_key: Some(key),
            remote_url: None,
            content_type: c.content_type.to_string(),
            size,
            width: c.width,
            height: c.height,
            sha256: c.sha256,
            position: first_position + i as i32,
            removed_in: None,
            created_at: chrono::Utc::now(),
        });
    }
    Ok(rows)
}

/// Remove stored files (after a failed write, or with their resource).
pub async fn discard(state: &AppState, rows: &[resource_files::Model]) {
    for r in rows {
        let Some(k) = &r.storage_key else { continue };
        let preview = crate::domain::thumbnails::key_for(k);
        for key in [k, &preview] {
            if let Err(e) = state.media.delete(key).await {
                tracing::warn!(%key, error = %e, "could not remove a stored file");
            }
        }
    }
}

/// Where a file is downloaded: ours under `/files/`, others at their origin.
pub fn url(state: &AppState, f: &resource_files::Model) -> String {
    match (&f.remote_url, &f.storage_key) {
        (Some(u), _) => u.clone(),
        (None, _) => format!(
            "{}/files/{}/{}",
            state.urls.base(),
            f.id,
            percent_encoding::utf8_percent_encode(&f.name, percent_encoding::NON_ALPHANUMERIC)
        ),
    }
}

/// A kind of file, for people: "PDF", "DOCX", "SCORM package"...
pub fn kind_label(mime: &str) -> String {
    match mime {
        "application/vnd.scorm+zip" => "SCORM".into(),
        "application/vnd.h5p+zip" => "H5P".into(),
        "text/html" => "Link".into(),
        m => label(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip(entries: &[&str]) -> Vec<u8> {
        let files: Vec<(&str, &[u8])> = entries.iter().map(|n| (*n, &b""[..])).collect();
        zip_files(&files)
    }

    /// A minimal archive: stored entries and a central directory.
    fn zip_files(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, content) in entries {
            let offset = out.len() as u32;
            out.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&[0; 8]);
            out.extend_from_slice(&(content.len() as u32).to_le_bytes());
            out.extend_from_slice(&(content.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(content);
            central.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02]);
            central.extend_from_slice(&[0; 24]);
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn opendocument_epub_and_spreadsheets() {
        let odf = |mime: &str| {
            zip_files(&[
                ("mimetype", mime.as_bytes()),
                ("content.xml", b"<office:document-content/>"),
            ])
        };
        for mime in [
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
            "application/epub+zip",
        ] {
            assert_eq!(detect("a.bin", &odf(mime)).unwrap(), mime);
        }
        // A `mimetype` naming something off the allowlist is refused.
        assert!(detect("a.odt", &odf("application/x-msdownload")).is_err());
        let xlsx = zip(&["[Content_Types].xml", "xl/workbook.xml"]);
        assert_eq!(
            detect("marks.xlsx", &xlsx).unwrap(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
    }

    #[test]
    fn audio_and_video() {
        // An EBML header whose DocType is "webm", then cluster bytes.
        let webm = [
            &b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"[..],
            &[0u8; 300][..],
        ]
        .concat();
        let cases: [(&[u8], &str); 6] = [
            (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
            (b"OggS\x00\x02\x00\x00\x00\x00\x00\x00", "audio/ogg"),
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/x-wav"),
            (b"fLaC\x00\x00\x00\x22", "audio/x-flac"),
            (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "video/mp4"),
            (&webm, "video/webm"),
        ];
        for (bytes, mime) in cases {
            let got = detect("clip", bytes).unwrap_or_else(|e| panic!("{mime}: {e:?}"));
            assert_eq!(got, mime);
        }
    }

    #[test]
    fn zips_are_told_apart() {
        let docx = zip(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        assert_eq!(
            detect("a.docx", &docx).unwrap(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        let pptx = zip(&["[Content_Types].xml", "ppt/presentation.xml"]);
        assert!(detect("a.pptx", &pptx).unwrap().ends_with("presentation"));
        let scorm = zip(&["imsmanifest.xml", "index.html"]);
        assert_eq!(
            detect("a.zip", &scorm).unwrap(),
            "application/vnd.scorm+zip"
        );
        let h5p = zip(&["h5p.json", "content/content.json"]);
        assert_eq!(detect("a.h5p", &h5p).unwrap(), "application/vnd.h5p+zip");
        assert_eq!(
            detect("a.zip", &zip(&["notes.txt"])).unwrap(),
            "application/zip"
        );
        assert!(detect("a.zip", b"PK\x03\x04garbage").is_err());
    }

    #[test]
    fn text_and_binaries() {
        assert_eq!(detect("notes.md", b"# Title\n").unwrap(), "text/markdown");
        assert_eq!(detect("x", b"plain words").unwrap(), "text/plain");
        assert!(
            detect(
                "x.txt",
                b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
            )
            .is_err()
        );
        assert!(detect("x.txt", b"\x00\x01\x02binary").is_err());
        assert_eq!(detect("x", b"%PDF-1.4\n%...").unwrap(), "application/pdf");
    }

    #[test]
    fn names_are_safe() {
        assert_eq!(sanitise_name("../../etc/passwd", "txt"), "passwd.txt");
        assert_eq!(sanitise_name("..\\..\\boot.ini", "txt"), "boot.txt");
        assert_eq!(sanitise_name(".hidden.pdf", "pdf"), "hidden.pdf");
        assert_eq!(sanitise_name("", "pdf"), "file.pdf");
        assert_eq!(sanitise_name("a\u{0}b<c>.pdf", "pdf"), "a_b_c_.pdf");
        assert_eq!(
            sanitise_name("Cours: fractions.PDF", "pdf"),
            "Cours_ fractions.pdf"
        );
    }
}
