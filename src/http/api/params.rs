//! Parameter quirks of Mastodon clients: booleans as `true`, `"true"`,
//! `"1"` or `1`; ids as strings or numbers; lists as `id[]=` or `id=`.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub fn bool_like<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(b),
        Some(Value::Number(n)) => Some(n.as_i64().unwrap_or(0) != 0),
        Some(Value::String(s)) => match s.trim().to_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Some(true),
            "0" | "false" | "off" | "no" | "" => Some(false),
            _ => None,
        },
        Some(_) => None,
    })
}

pub fn string_like<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// A list that arrives as `key[]=a&key[]=b`, `key=a`, a JSON array or one value.
/// Like [`list`], but tells a list that was sent (even empty) from one that
/// was not: on an edit, absent means "keep what is there".
pub fn present_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    list(d).map(Some)
}

pub fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => vec![s],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(_) => Vec::new(),
    })
}

pub fn parse_id(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// One enumerated query parameter read strictly from the raw query string:
/// absent is `None`; present but empty, repeated or not one of the values
/// of `T` is a 422 (the lenient query parsing would take `key=` as absent).
pub fn strict_choice<T: serde::de::DeserializeOwned>(
    query: Option<&str>,
    key: &str,
) -> crate::error::AppResult<Option<T>> {
    use crate::error::AppError;
    let bad =
        || AppError::Unprocessable(crate::msg!("error-invalid-query", detail = key.to_string()));
    let pairs: Vec<(String, String)> = query
        .map(serde_html_form::from_str)
        .transpose()
        .map_err(|_| bad())?
        .unwrap_or_default();
    let values: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .collect();
    match values.as_slice() {
        [] => Ok(None),
        [v] => serde_json::from_value(Value::String(v.to_string()))
            .map(Some)
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}
