//! Comparing two revisions: which fields changed (before and after), the
//! description line by line, and which files and links came or went.

use super::{SnapFile, Snapshot};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldChange {
    /// title, licence, attribution, authors, subjects, levels, languages,
    /// tags or visibility.
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Line {
    /// `same`, `added` or `removed`.
    pub op: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FileChange {
    /// `added` or `removed`.
    pub op: String,
    /// `file` or `link`.
    pub kind: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Diff {
    pub from: i32,
    pub to: i32,
    pub fields: Vec<FieldChange>,
    /// The description, line by line; empty when it did not change.
    pub description: Vec<Line>,
    pub files: Vec<FileChange>,
}

/// Lines longer lists are compared as a whole (removed, then added).
const MAX_LINES: usize = 2000;

/// A line diff by longest common subsequence.
pub fn lines(a: &str, b: &str) -> Vec<Line> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let line = |op: &str, t: &str| Line {
        op: op.into(),
        text: t.into(),
    };
    if a.len() > MAX_LINES || b.len() > MAX_LINES {
        return a
            .iter()
            .map(|t| line("removed", t))
            .chain(b.iter().map(|t| line("added", t)))
            .collect();
    }
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(line("same", a[i]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(line("removed", a[i]));
            i += 1;
        } else {
            out.push(line("added", b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|t| line("removed", t)));
    out.extend(b[j..].iter().map(|t| line("added", t)));
    out
}

fn file_change(op: &str, f: &SnapFile) -> FileChange {
    FileChange {
        op: op.into(),
        kind: f.kind.clone(),
        name: f.name.clone(),
        content_type: f.content_type.clone(),
        size: f.size,
    }
}

pub fn diff(from: i32, a: &Snapshot, to: i32, b: &Snapshot) -> Diff {
    let mut fields = Vec::new();
    let mut field = |name: &str, x: String, y: String| {
        if x != y {
            fields.push(FieldChange {
                field: name.into(),
                before: x,
                after: y,
            });
        }
    };
    field("title", a.title.clone(), b.title.clone());
    field("licence", a.licence.clone(), b.licence.clone());
    field("attribution", a.attribution.clone(), b.attribution.clone());
    field("authors", a.authors.join(", "), b.authors.join(", "));
    field("subjects", a.subjects.join(", "), b.subjects.join(", "));
    field("levels", a.levels.join(", "), b.levels.join(", "));
    field("languages", a.languages.join(", "), b.languages.join(", "));
    field("tags", a.tags.join(", "), b.tags.join(", "));
    field("visibility", a.visibility.clone(), b.visibility.clone());
    let description = if a.description == b.description {
        Vec::new()
    } else {
        lines(&a.description, &b.description)
    };
    // Files are the same when their rows are (an unchanged file keeps its id).
    let same = |x: &SnapFile, y: &SnapFile| x.id == y.id;
    let mut files: Vec<FileChange> = a
        .files
        .iter()
        .filter(|f| !b.files.iter().any(|g| same(f, g)))
        .map(|f| file_change("removed", f))
        .collect();
    files.extend(
        b.files
            .iter()
            .filter(|f| !a.files.iter().any(|g| same(f, g)))
            .map(|f| file_change("added", f)),
    );
    Diff {
        from,
        to,
        fields,
        description,
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_diff() {
        let d = lines("a\nb\nc", "a\nc\nd");
        let ops: Vec<(&str, &str)> = d.iter().map(|l| (l.op.as_str(), l.text.as_str())).collect();
        assert_eq!(
            ops,
            [
                ("same", "a"),
                ("removed", "b"),
                ("same", "c"),
                ("added", "d")
            ]
        );
    }

    #[test]
    fn snapshot_diff() {
        let a = Snapshot {
            title: "Fractions".into(),
            licence: "CC-BY-4.0".into(),
            ..Default::default()
        };
        let b = Snapshot {
            title: "Fractions, year 6".into(),
            licence: "CC-BY-4.0".into(),
            files: vec![SnapFile {
                id: 1,
                kind: "file".into(),
                name: "a.pdf".into(),
                content_type: "application/pdf".into(),
                size: 10,
                url: None,
                sha256: String::new(),
            }],
            ..Default::default()
        };
        let d = diff(1, &a, 2, &b);
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].field, "title");
        assert_eq!(d.files.len(), 1);
        assert_eq!(d.files[0].op, "added");
        assert!(d.description.is_empty());
    }
}
