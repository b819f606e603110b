//! Teaching resources: a title, a Markdown description, files and external
//! links, a licence, authors and attribution, subjects, education levels,
//! languages and free tags, owned by a person or a group and visible to
//! everyone, to this instance's members or to a group's members.
//!
//! A resource starts as a draft (seen by its editors only) and is published
//! once; every change after that is a new revision with a snapshot of the
//! metadata and files, so any two revisions can be compared ([`diff`]).
//! Remixing makes a new resource linked to its source. Files are checked in
//! [`files`], input in [`input`]; writing is in [`write`] and [`remix`],
//! reading and the library in [`read`],
//! resources from other servers in [`remote`].

pub mod diff;
pub mod files;
pub mod input;
pub mod read;
pub mod remix;
pub mod remote;
pub mod write;

pub use input::{Input, LinkInput, Placement};
pub use read::*;
pub use remix::*;
pub use write::*;

use crate::{
    app::AppState,
    db::entities::{actors, resource_files, resource_labels, resources},
    error::{AppError, AppResult},
    msg,
};
use serde::{Deserialize, Serialize};

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const ATTRIBUTION_MAX: usize = 1000;
pub const AUTHOR_MAX: usize = 100;
pub const AUTHORS_MAX: usize = 20;
pub const TAG_MAX: usize = 50;
pub const TAGS_MAX: usize = 20;
pub const LANGUAGES_MAX: usize = 10;
pub const NOTE_MAX: usize = 500;
pub const LINK_MAX: usize = 2000;

/// A licence members may choose: its SPDX id and canonical URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Licence {
    pub id: &'static str,
    /// None for "all rights reserved", which has no licence document.
    pub uri: Option<&'static str>,
    pub name: &'static str,
}

pub const ALL_RIGHTS_RESERVED: &str = "all-rights-reserved";

pub const LICENCES: &[Licence] = &[
    Licence {
        id: "CC0-1.0",
        uri: Some("https://creativecommons.org/publicdomain/zero/1.0/"),
        name: "CC0 1.0",
    },
    Licence {
        id: "CC-BY-4.0",
        uri: Some("https://creativecommons.org/licenses/by/4.0/"),
        name: "CC BY 4.0",
    },
    Licence {
        id: "CC-BY-SA-4.0",
        uri: Some("https://creativecommons.org/licenses/by-sa/4.0/"),
        name: "CC BY-SA 4.0",
    },
    Licence {
        id: "CC-BY-NC-4.0",
        uri: Some("https://creativecommons.org/licenses/by-nc/4.0/"),
        name: "CC BY-NC 4.0",
    },
    Licence {
        id: "CC-BY-NC-SA-4.0",
        uri: Some("https://creativecommons.org/licenses/by-nc-sa/4.0/"),
        name: "CC BY-NC-SA 4.0",
    },
    Licence {
        id: "CC-BY-ND-4.0",
        uri: Some("https://creativecommons.org/licenses/by-nd/4.0/"),
        name: "CC BY-ND 4.0",
    },
    Licence {
        id: "CC-BY-NC-ND-4.0",
        uri: Some("https://creativecommons.org/licenses/by-nc-nd/4.0/"),
        name: "CC BY-NC-ND 4.0",
    },
    Licence {
        id: ALL_RIGHTS_RESERVED,
        uri: None,
        name: "All rights reserved",
    },
];

/// The licence named by an SPDX id (any case), its URI, or "all rights
/// reserved"; anything else is refused with the list of choices.
pub fn licence(raw: &str) -> AppResult<&'static Licence> {
    let v = raw.trim();
    let norm = v.to_ascii_lowercase().replace(['_', ' '], "-");
    let found = LICENCES.iter().find(|l| {
        l.id.eq_ignore_ascii_case(v)
            || l.id.eq_ignore_ascii_case(&norm)
            || l.uri
                .is_some_and(|u| u.trim_end_matches('/') == v.trim_end_matches('/'))
    });
    match found {
        Some(l) => Ok(l),
        None if matches!(norm.as_str(), "arr" | "copyright") => Ok(by_id(ALL_RIGHTS_RESERVED)),
        None if v.is_empty() => Err(AppError::Unprocessable(msg!(
            "error-field-required",
            field = "licence"
        ))),
        None => Err(AppError::Unprocessable(msg!(
            "error-resource-licence",
            licence = v.chars().take(60).collect::<String>(),
            choices = LICENCES.iter().map(|l| l.id).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The licence of a stored id (unknown ids read as all rights reserved).
pub fn by_id(id: &str) -> &'static Licence {
    LICENCES
        .iter()
        .find(|l| l.id == id)
        .or_else(|| LICENCES.last())
        .unwrap_or(&LICENCES[0])
}

/// The licence behind a URI another server sent; none means all rights
/// reserved, which is also the law's default.
pub fn by_uri(uri: Option<&str>) -> &'static Licence {
    uri.and_then(|u| {
        let u = u.trim_end_matches('/').replace("http://", "https://");
        LICENCES
            .iter()
            .find(|l| l.uri.is_some_and(|x| x.trim_end_matches('/') == u))
    })
    .unwrap_or_else(|| by_id(ALL_RIGHTS_RESERVED))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone, here and on other servers.
    Public,
    /// Members of this instance.
    Instance,
    /// Members of the resource's group.
    Group,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Instance => "instance",
            Self::Group => "group",
        }
    }

    pub fn parse(s: &str) -> AppResult<Self> {
        match s.trim().to_lowercase().as_str() {
            "public" | "" => Ok(Self::Public),
            "instance" | "members" => Ok(Self::Instance),
            "group" => Ok(Self::Group),
            other => Err(AppError::Unprocessable(msg!(
                "error-resource-visibility",
                value = other.chars().take(40).collect::<String>()
            ))),
        }
    }

    pub fn of(r: &resources::Model) -> Self {
        match r.visibility.as_str() {
            "public" => Self::Public,
            "instance" => Self::Instance,
            _ => Self::Group,
        }
    }
}

pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";

/// One file or link as a revision remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapFile {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub sha256: String,
}

/// What a revision records: everything an edit can change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub title: String,
    pub description: String,
    pub licence: String,
    pub attribution: String,
    pub authors: Vec<String>,
    pub subjects: Vec<String>,
    pub levels: Vec<String>,
    pub languages: Vec<String>,
    pub tags: Vec<String>,
    pub visibility: String,
    pub files: Vec<SnapFile>,
}

/// A resource with everything a page or an API answer shows.
#[derive(Debug, Clone)]
pub struct Resource {
    pub model: resources::Model,
    pub owner: actors::Model,
    pub group: Option<actors::Model>,
    pub authors: Vec<String>,
    pub subjects: Vec<String>,
    pub levels: Vec<String>,
    pub languages: Vec<String>,
    pub tags: Vec<String>,
    /// Files and links of the current revision, in order.
    pub files: Vec<resource_files::Model>,
}

impl Resource {
    pub fn id(&self) -> i64 {
        self.model.id
    }

    pub fn licence(&self) -> &'static Licence {
        by_id(&self.model.licence)
    }

    pub fn visibility(&self) -> Visibility {
        Visibility::of(&self.model)
    }

    pub fn is_draft(&self) -> bool {
        self.model.state == DRAFT
    }

    pub fn snapshot(&self, state: &AppState) -> Snapshot {
        Snapshot {
            title: self.model.title.clone(),
            description: if self.model.local {
                self.model.description.clone()
            } else {
                crate::domain::text::html_to_text(&self.model.description_html)
            },
            licence: self.model.licence.clone(),
            attribution: self.model.attribution.clone(),
            authors: self.authors.clone(),
            subjects: self.subjects.clone(),
            levels: self.levels.clone(),
            languages: self.languages.clone(),
            tags: self.tags.clone(),
            visibility: self.model.visibility.clone(),
            files: self
                .files
                .iter()
                .map(|f| SnapFile {
                    id: f.id,
                    kind: f.kind.clone(),
                    name: f.name.clone(),
                    content_type: f.content_type.clone(),
                    size: f.size,
                    url: Some(files::url(state, f)),
                    sha256: f.sha256.clone(),
                })
                .collect(),
        }
    }
}

pub fn authors_of(m: &resources::Model) -> Vec<String> {
    serde_json::from_str(&m.authors).unwrap_or_default()
}

/// Split labels by kind, keeping their order.
pub fn split_labels(
    labels: &[resource_labels::Model],
    resource_id: i64,
) -> (Vec<String>, Vec<String>, Vec<String>, Vec<String>) {
    let of = |k: &str| -> Vec<String> {
        labels
            .iter()
            .filter(|l| l.resource_id == resource_id && l.kind == k)
            .map(|l| l.value.clone())
            .collect()
    };
    (of("subject"), of("level"), of("language"), of("tag"))
}

/// A stored snapshot (an unreadable one reads as empty).
pub fn snapshot_of(raw: &str) -> Snapshot {
    serde_json::from_str(raw).unwrap_or_default()
}
