//! The request bodies of the events endpoints. Their schemas state exactly
//! what the handlers take (lengths, characters, enumerations, every IANA
//! time zone), and [`check`] holds bodies to the same rules, so what the
//! OpenAPI document calls valid is what the handlers accept; only rules
//! across fields (an end after the start) are the domain's.

use crate::{
    domain::calendar::{EventInput, MAX_CAPACITY},
    error::{AppError, AppResult},
    msg,
};
use serde::Deserialize;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr,
        schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type},
    },
};

/// One line: no control characters, something besides spaces.
pub const LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";
/// One line, possibly empty (which clears the field).
pub const OPTIONAL_LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// Text with line breaks and tabs, no other control characters.
pub const TEXT: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";
pub const WEB_URL: &str = r"^(https?://[^\s\u0000-\u001F\u007F-\u009F]+)?$";

fn is_control(c: char, newlines: bool) -> bool {
    let c = c as u32;
    let allowed = newlines && matches!(c, 0x09 | 0x0A | 0x0D);
    !allowed && (c <= 0x1F || (0x7F..=0x9F).contains(&c))
}

fn text_ok(
    field: &'static str,
    v: &str,
    max: usize,
    newlines: bool,
    required: bool,
) -> AppResult<()> {
    if v.chars().count() > max {
        return Err(crate::domain::validate::too_long(field, max));
    }
    if v.chars().any(|c| is_control(c, newlines)) {
        return Err(AppError::Unprocessable(msg!(
            "error-field-control-chars",
            field = field
        )));
    }
    if required && v.trim().is_empty() {
        return Err(AppError::Unprocessable(msg!(
            "error-field-required",
            field = field
        )));
    }
    Ok(())
}

/// An IANA time zone name.
#[derive(Debug, Deserialize, Clone)]
pub struct TimeZoneName(pub String);

impl PartialSchema for TimeZoneName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())))
            .description(Some("An IANA time zone, e.g. `Europe/Paris`"))
            .into()
    }
}

impl ToSchema for TimeZoneName {}

/// An instant in RFC 3339, e.g. `2026-03-28T18:00:00+01:00`.
#[derive(Debug, Deserialize, Clone)]
pub struct Instant(pub String);

impl PartialSchema for Instant {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

impl ToSchema for Instant {}

/// A tag: one word, optionally with its `#`.
#[derive(Debug, Deserialize, Clone)]
pub struct TagName(pub String);

impl PartialSchema for TagName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^#?\w{1,60}$"))
            .into()
    }
}

impl ToSchema for TagName {}

/// An ISO 639 language code, optionally with a region: `fr`, `pt-br`.
#[derive(Debug, Deserialize, Clone)]
pub struct Language(pub String);

impl PartialSchema for Language {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(10))
            .pattern(Some(r"^[a-z]{2,3}(-[a-z0-9-]*)?$"))
            .into()
    }
}

impl ToSchema for Language {}

#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum JoinModeName {
    Free,
    Approval,
    Invitation,
}

#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum EventStatusName {
    Confirmed,
    Tentative,
}

#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum EventVisibilityName {
    /// Everyone, federated.
    Public,
    /// Members of this instance only; not federated.
    Instance,
    /// Members of the event's group only.
    Group,
}

/// A point on the map.
#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
pub struct Coordinates {
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: f64,
}

/// An event's fields. Creating needs `title`, `start_time` and `timezone`;
/// on an update every field is optional, absent keeps the current value
/// and an empty string clears an optional text.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct EventBody {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub title: Option<String>,
    /// Markdown.
    #[schema(
        max_length = 10000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub description: Option<String>,
    pub start_time: Option<Instant>,
    /// Must be after `start_time` (default: an hour after it; for an
    /// all-day event, the same day). For all-day events, the last day.
    pub end_time: Option<Instant>,
    pub timezone: Option<TimeZoneName>,
    pub all_day: Option<bool>,
    /// The place's name; empty: not in a place (clears address and coordinates).
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub location_name: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub location_address: Option<String>,
    pub coordinates: Option<Coordinates>,
    /// Where to join online; empty clears it.
    #[schema(
        max_length = 2000,
        pattern = r"^(https?://[^\s\u0000-\u001F\u007F-\u009F]+)?$"
    )]
    pub online_url: Option<String>,
    /// Only participants see the online link.
    pub online_participants_only: Option<bool>,
    /// Most people going; 0: no limit.
    #[schema(minimum = 0, maximum = 1000000)]
    pub capacity: Option<i64>,
    /// When full, later answers wait for a seat.
    pub waiting_list: Option<bool>,
    pub join_mode: Option<JoinModeName>,
    pub status: Option<EventStatusName>,
    /// The group it is organised in (creating only).
    #[schema(pattern = r"^[0-9]{1,18}$")]
    pub group_id: Option<String>,
    #[schema(max_items = 10)]
    pub tags: Option<Vec<TagName>>,
    pub language: Option<Language>,
    /// Who sees it (creating only; default public).
    pub visibility: Option<EventVisibilityName>,
}

/// A new event: the fields of [`EventBody`], with its title, start and
/// time zone required.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewEventBody {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub title: String,
    /// Markdown.
    #[schema(
        max_length = 10000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub description: Option<String>,
    pub start_time: Instant,
    /// Must be after `start_time` (default: an hour after it; for an
    /// all-day event, the same day). For all-day events, the last day.
    pub end_time: Option<Instant>,
    pub timezone: TimeZoneName,
    pub all_day: Option<bool>,
    /// The place's name; empty: not in a place (clears address and coordinates).
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub location_name: Option<String>,
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub location_address: Option<String>,
    pub coordinates: Option<Coordinates>,
    /// Where to join online; empty clears it.
    #[schema(
        max_length = 2000,
        pattern = r"^(https?://[^\s\u0000-\u001F\u007F-\u009F]+)?$"
    )]
    pub online_url: Option<String>,
    /// Only participants see the online link.
    pub online_participants_only: Option<bool>,
    /// Most people going; 0: no limit.
    #[schema(minimum = 0, maximum = 1000000)]
    pub capacity: Option<i64>,
    /// When full, later answers wait for a seat.
    pub waiting_list: Option<bool>,
    pub join_mode: Option<JoinModeName>,
    pub status: Option<EventStatusName>,
    /// The group it is organised in (creating only).
    #[schema(pattern = r"^[0-9]{1,18}$")]
    pub group_id: Option<String>,
    #[schema(max_items = 10)]
    pub tags: Option<Vec<TagName>>,
    pub language: Option<Language>,
    /// Who sees it (creating only; default public).
    pub visibility: Option<EventVisibilityName>,
}

impl NewEventBody {
    pub fn into_body(self) -> EventBody {
        EventBody {
            title: Some(self.title),
            description: self.description,
            start_time: Some(self.start_time),
            end_time: self.end_time,
            timezone: Some(self.timezone),
            all_day: self.all_day,
            location_name: self.location_name,
            location_address: self.location_address,
            coordinates: self.coordinates,
            online_url: self.online_url,
            online_participants_only: self.online_participants_only,
            capacity: self.capacity,
            waiting_list: self.waiting_list,
            join_mode: self.join_mode,
            status: self.status,
            group_id: self.group_id,
            tags: self.tags,
            language: self.language,
            visibility: self.visibility,
        }
    }
}

fn instant(field: &'static str, v: &Instant) -> AppResult<String> {
    chrono::DateTime::parse_from_rfc3339(&v.0)
        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339())
        .map_err(|_| AppError::Unprocessable(msg!("error-event-time", field = field)))
}

/// Hold a body to its schema, then make the domain's input of it.
pub fn check(b: EventBody) -> AppResult<EventInput> {
    if let Some(t) = &b.title {
        text_ok("title", t, 200, false, true)?;
    }
    if let Some(d) = &b.description {
        text_ok("description", d, 10_000, true, false)?;
    }
    if let Some(n) = &b.location_name {
        text_ok("location_name", n, 200, false, false)?;
    }
    if let Some(a) = &b.location_address {
        text_ok("location_address", a, 500, false, false)?;
    }
    if let Some(u) = &b.online_url {
        text_ok("online_url", u, 2000, false, false)?;
        let rest = u
            .strip_prefix("https://")
            .or_else(|| u.strip_prefix("http://"));
        if !u.is_empty() && rest.is_none_or(|r| r.is_empty() || r.chars().any(char::is_whitespace))
        {
            return Err(AppError::Unprocessable(msg!("error-event-online-url")));
        }
    }
    if b.capacity.is_some_and(|c| !(0..=MAX_CAPACITY).contains(&c)) {
        return Err(AppError::Unprocessable(msg!(
            "error-event-capacity",
            max = MAX_CAPACITY
        )));
    }
    if let Some(c) = &b.coordinates
        && (!(-90.0..=90.0).contains(&c.latitude) || !(-180.0..=180.0).contains(&c.longitude))
    {
        return Err(AppError::Unprocessable(msg!("error-event-coordinates")));
    }
    let group_id = match &b.group_id {
        Some(g) => Some(
            g.parse::<i64>()
                .ok()
                .filter(|_| g.len() <= 18 && g.chars().all(|c| c.is_ascii_digit()))
                .ok_or_else(AppError::not_found)?,
        ),
        None => None,
    };
    if b.tags.as_ref().is_some_and(|t| t.len() > 10) {
        return Err(AppError::Unprocessable(msg!(
            "error-too-many",
            field = "tags",
            max = 10
        )));
    }
    let tags = match b.tags {
        Some(list) => {
            let mut out = Vec::new();
            for TagName(t) in list {
                let word = t.strip_prefix('#').unwrap_or(&t);
                let n = word.chars().count();
                if !(1..=60).contains(&n) || !word.chars().all(|c| c.is_alphanumeric() || c == '_')
                {
                    return Err(AppError::Unprocessable(msg!("error-event-tag")));
                }
                out.push(word.to_string());
            }
            Some(out)
        }
        None => None,
    };
    if let Some(Language(l)) = &b.language {
        let (first, _) = l.split_once('-').unwrap_or((l, ""));
        let valid = l.len() <= 10
            && (2..=3).contains(&first.len())
            && first.chars().all(|c| c.is_ascii_lowercase())
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(AppError::Unprocessable(msg!(
                "error-language-code",
                code = l.clone()
            )));
        }
    }
    Ok(EventInput {
        title: b.title,
        description: b.description,
        start: b
            .start_time
            .as_ref()
            .map(|s| instant("start", s))
            .transpose()?,
        end: b.end_time.as_ref().map(|s| instant("end", s)).transpose()?,
        timezone: b.timezone.map(|z| z.0),
        all_day: b.all_day,
        location_name: b.location_name,
        location_address: b.location_address,
        latitude: b.coordinates.map(|c| c.latitude),
        longitude: b.coordinates.map(|c| c.longitude),
        online_url: b.online_url,
        online_participants_only: b.online_participants_only,
        capacity: b.capacity,
        waiting_list: b.waiting_list,
        join_mode: b.join_mode.map(|j| {
            match j {
                JoinModeName::Free => "free",
                JoinModeName::Approval => "approval",
                JoinModeName::Invitation => "invitation",
            }
            .into()
        }),
        status: b.status.map(|s| {
            match s {
                EventStatusName::Confirmed => "confirmed",
                EventStatusName::Tentative => "tentative",
            }
            .into()
        }),
        group_id,
        tags,
        language: b.language.map(|l| l.0),
        visibility: b.visibility.map(|v| {
            match v {
                EventVisibilityName::Public => "public",
                EventVisibilityName::Instance => "instance",
                EventVisibilityName::Group => "group",
            }
            .into()
        }),
    })
}

/// An answer to an event.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RsvpBody {
    pub status: RsvpName,
    /// For the organisers, when asking to join.
    #[schema(
        max_length = 500,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub message: Option<String>,
}

impl RsvpBody {
    pub fn check(&self) -> AppResult<()> {
        if let Some(m) = &self.message {
            text_ok("message", m, 500, true, false)?;
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum RsvpName {
    Going,
    Maybe,
    NotGoing,
}
