//! Shared pieces of the ActivityStreams vocabulary: the JSON-LD `@context` we
//! send, and lenient readers for the shapes other servers actually send (a
//! URL as a string, a Link object or an array; one item or a list; `null`
//! where a list was expected...). See `../shared/fixtures/activitypub`.

use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::{Value, json};
use url::Url;

pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
/// Staffroom's own terms (documented in FEDERATION.md).
pub const STAFFROOM_NS: &str = "https://w3id.org/staffroom/ns#";

/// True for the three spellings of the public collection.
pub fn is_public(addr: &str) -> bool {
    matches!(addr, PUBLIC | "as:Public" | "Public")
}

/// The `@context` of every document we serve or send.
pub fn context() -> Value {
    json!([
        AS_CONTEXT,
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "featuredTags": { "@id": "toot:featuredTags", "@type": "@id" },
            "discoverable": "toot:discoverable",
            "indexable": "toot:indexable",
            "votersCount": "toot:votersCount",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "knowsAbout": "schema:knowsAbout",
            "lemmy": "https://join-lemmy.org/ns#",
            "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
            "pt": "https://joinpeertube.org/ns#",
            "commentsEnabled": "pt:commentsEnabled",
            "staffroom": STAFFROOM_NS,
            "membersOnly": "staffroom:membersOnly",
            "joinPolicy": "staffroom:joinPolicy",
            "parentGroup": { "@id": "staffroom:parentGroup", "@type": "@id" },
            "mz": "https://joinmobilizon.org/ns#",
            "ical": "http://www.w3.org/2002/12/cal/ical#",
            "timezone": "mz:timezone",
            "isOnline": "mz:isOnline",
            "joinMode": "mz:joinMode",
            "participantCount": "mz:participantCount",
            "participationMessage": "mz:participationMessage",
            "maximumAttendeeCapacity": "schema:maximumAttendeeCapacity",
            "remainingAttendeeCapacity": "schema:remainingAttendeeCapacity",
            "location": { "@id": "schema:location", "@type": "schema:Place" },
            "address": { "@id": "schema:address", "@type": "schema:PostalAddress" },
            "PostalAddress": "schema:PostalAddress",
            "streetAddress": "schema:streetAddress",
            "inLanguage": "schema:inLanguage",
            "license": { "@id": "http://schema.org#license", "@type": "@id" },
            "learningResource": "staffroom:learningResource",
            "attribution": "staffroom:attribution",
            "authors": "staffroom:authors",
            "subjects": "staffroom:subjects",
            "educationLevels": "staffroom:educationLevels",
            "languages": "staffroom:languages",
            "wasDerivedFrom": { "@id": "http://www.w3.org/ns/prov#wasDerivedFrom", "@type": "@id" },
        }
    ])
}

/// Wrap a document with our context.
pub fn with_context(mut doc: Value) -> Value {
    if let Value::Object(map) = &mut doc {
        let mut out = serde_json::Map::new();
        out.insert("@context".into(), context());
        for (k, v) in std::mem::take(map) {
            if k != "@context" {
                out.insert(k, v);
            }
        }
        return Value::Object(out);
    }
    doc
}

/// The URL in a value that may be a string, a Link/Image object (`href` or
/// `url`), or an array of those (the first usable one, preferring HTML).
pub fn url_of(v: &Value) -> Option<Url> {
    match v {
        // Links end up in pages and API answers: `javascript:` or `data:`
        // from a peer must never become one.
        Value::String(s) => Url::parse(s)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https")),
        Value::Object(o) => o.get("href").or_else(|| o.get("url")).and_then(url_of),
        Value::Array(items) => {
            let html = items.iter().find(|i| {
                i.get("mediaType")
                    .or_else(|| i.get("mimeType"))
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.starts_with("text/html"))
            });
            html.and_then(url_of)
                .or_else(|| items.iter().find_map(url_of))
        }
        _ => None,
    }
}

/// The id of a value that is either an IRI or an embedded object with `id`.
pub fn id_of(v: &Value) -> Option<Url> {
    match v {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        Value::Array(items) => items.iter().find_map(id_of),
        _ => None,
    }
}

/// All IRIs of a value that may be one IRI, one object, a list, or null.
pub fn ids_of(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .map(|s| vec![s.to_string()])
            .unwrap_or_default(),
        Value::Array(items) => items.iter().flat_map(ids_of).collect(),
        _ => Vec::new(),
    }
}

/// A value as a list: `null`/absent → empty, one item → one-element list.
pub fn items(v: Option<&Value>) -> Vec<Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
    }
}

/// The `type` of a document; for `["Note", "x:Other"]` the first one.
pub fn type_of(v: &Value) -> Option<String> {
    match v.get("type")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(|t| t.as_str().map(str::to_string)),
        _ => None,
    }
}

/// A string field, also accepting `{"en": "..."}` language maps (`contentMap`).
pub fn text_of(v: &Value, field: &str) -> Option<String> {
    match v.get(field) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => v
            .get(format!("{field}Map"))
            .and_then(Value::as_object)
            .and_then(|m| m.values().find_map(Value::as_str))
            .map(str::to_string),
    }
}

/// serde helper: a list that may arrive as one item, a list, or null.
pub fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(items(v.as_ref())
        .into_iter()
        .filter_map(|i| serde_json::from_value(i).ok())
        .collect())
}

/// serde helper: a URL field that may be a string, a Link object or an array.
pub fn lenient_url<'de, D>(d: D) -> Result<Option<Url>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(url_of))
}

/// serde helper: an optional value that is dropped, not an error, when its
/// shape is unexpected (`"sensitive": null`, a date in a strange format).
pub fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}

/// serde helper: an optional instant, leniently; a date alone (how some
/// servers end an all-day event) is that date at 00:00 UTC, which the
/// event reader turns into the day in the event's own zone.
pub fn lenient_time<'de, D>(d: D) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Option::<Value>::deserialize(d)?;
    let Some(s) = v.as_ref().and_then(Value::as_str) else {
        return Ok(None);
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&chrono::Utc)));
    }
    Ok(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc()))
}

/// host[:port] of a URL: the unit of origin checks. (Comparing `domain()`
/// alone would let `localhost:1` speak for `localhost:2`.)
pub fn authority(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{}:{p}", h.to_ascii_lowercase()),
        (Some(h), None) => h.to_ascii_lowercase(),
        _ => String::new(),
    }
}

pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && authority(a) == authority(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_many_shapes() {
        assert_eq!(
            url_of(&json!("https://a.example/x")).unwrap().as_str(),
            "https://a.example/x"
        );
        assert_eq!(
            url_of(&json!({"type": "Link", "href": "https://a.example/y"}))
                .unwrap()
                .as_str(),
            "https://a.example/y"
        );
        let list = json!([
            {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://a.example/m3u8"},
            {"type": "Link", "mediaType": "text/html", "href": "https://a.example/watch"}
        ]);
        assert_eq!(url_of(&list).unwrap().as_str(), "https://a.example/watch");
        assert!(url_of(&json!(null)).is_none());
        assert_eq!(ids_of(&json!(["a", {"id": "b"}])), vec!["a", "b"]);
        assert_eq!(
            text_of(&json!({"contentMap": {"fr": "bonjour"}}), "content").unwrap(),
            "bonjour"
        );
    }

    #[test]
    fn origins_include_ports() {
        let a = Url::parse("http://localhost:1/users/x").unwrap();
        let b = Url::parse("http://localhost:2/users/x").unwrap();
        assert!(!same_origin(&a, &b));
        assert!(same_origin(
            &a,
            &Url::parse("http://LOCALHOST:1/other").unwrap()
        ));
    }
}
