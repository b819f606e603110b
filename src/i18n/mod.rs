//! Translations with Fluent: English, French and German catalogs compiled into
//! the binary, locale negotiation, and [`Msg`], a translatable message that
//! domain code returns (errors included) and each edge renders in the reader's
//! language (English for the JSON API, the member's choice for HTML).
//!
//! The catalogs are immutable data parsed once, hence a process-wide static.
//! Depends on nothing else in the crate.

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use serde::Serialize;
use std::{borrow::Cow, fmt, sync::LazyLock};
use unic_langid::LanguageIdentifier;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    En,
    Fr,
    De,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::En, Locale::Fr, Locale::De];

    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
            Self::De => "de",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        let primary = code.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::En),
            "fr" => Some(Self::Fr),
            "de" => Some(Self::De),
            _ => None,
        }
    }

    /// The language's own name, for the language picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Fr => "Français",
            Self::De => "Deutsch",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Self::En => include_str!("en.ftl"),
            Self::Fr => include_str!("fr.ftl"),
            Self::De => include_str!("de.ftl"),
        }
    }
}

struct Catalog {
    bundles: Vec<(Locale, FluentBundle<FluentResource>)>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog {
    bundles: Locale::ALL
        .iter()
        .map(|&locale| {
            let lang: LanguageIdentifier = locale
                .code()
                .parse()
                .unwrap_or_else(|_| LanguageIdentifier::default());
            let mut bundle = FluentBundle::new_concurrent(vec![lang]);
            // Isolation marks (U+2068/U+2069) around arguments break plain-text
            // contexts such as e-mail subjects and JSON; our texts are LTR only.
            bundle.set_use_isolating(false);
            let resource = match FluentResource::try_new(locale.source().to_string()) {
                Ok(r) => r,
                Err((r, errors)) => {
                    tracing::error!(
                        ?errors,
                        locale = locale.code(),
                        "errors in translation file"
                    );
                    r
                }
            };
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(
                    ?errors,
                    locale = locale.code(),
                    "duplicate translation keys"
                );
            }
            (locale, bundle)
        })
        .collect(),
});

fn bundle(locale: Locale) -> Option<&'static FluentBundle<FluentResource>> {
    CATALOG
        .bundles
        .iter()
        .find(|(l, _)| *l == locale)
        .map(|(_, b)| b)
}

fn format(locale: Locale, key: &str, args: &[(Cow<'static, str>, String)]) -> Option<String> {
    let bundle = bundle(locale)?;
    let message = bundle.get_message(key)?;
    let pattern = message.value()?;
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        // Numbers stay numbers so plural selectors work.
        let v = match value.parse::<i64>() {
            Ok(n) => FluentValue::from(n),
            Err(_) => FluentValue::from(value.clone()),
        };
        fluent_args.set(name.clone(), v);
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    if !errors.is_empty() {
        tracing::warn!(key, ?errors, "translation formatting errors");
    }
    Some(text.into_owned())
}

/// Translate `key` into `locale`, falling back to English, then to the key.
pub fn t(locale: Locale, key: &str, args: &[(Cow<'static, str>, String)]) -> String {
    format(locale, key, args)
        .or_else(|| format(Locale::En, key, args))
        .unwrap_or_else(|| key.to_string())
}

/// Does the catalog of `locale` define `key`? (For tests of completeness.)
pub fn has_key(locale: Locale, key: &str) -> bool {
    bundle(locale).is_some_and(|b| b.has_message(key))
}

/// Every message key of the English catalog.
pub fn english_keys() -> Vec<String> {
    Locale::En
        .source()
        .lines()
        .filter_map(|line| {
            let (key, _) = line.split_once('=')?;
            let key = key.trim();
            let first = key.chars().next()?;
            (first.is_ascii_alphabetic() && !line.starts_with(' ')).then(|| key.to_string())
        })
        .collect()
}

/// Pick the locale: the member's own setting, else the browser's
/// Accept-Language, else the instance default.
pub fn negotiate(
    user_setting: Option<&str>,
    accept_language: Option<&str>,
    default: &str,
) -> Locale {
    if let Some(l) = user_setting.and_then(Locale::parse) {
        return l;
    }
    if let Some(header) = accept_language {
        let supported: Vec<&str> = Locale::ALL.iter().map(|l| l.code()).collect();
        if let Some(l) = accept_language::intersection(header, &supported)
            .first()
            .and_then(|c| Locale::parse(c))
        {
            return l;
        }
        // "fr-CA" and friends: intersection matches exact tags only.
        for tag in accept_language::parse(header) {
            if let Some(l) = Locale::parse(&tag) {
                return l;
            }
        }
    }
    Locale::parse(default).unwrap_or(Locale::En)
}

/// A message to show a person: a catalog key with arguments, or literal text
/// (for things that are not ours to translate, like a remote server's reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    key: Cow<'static, str>,
    args: Vec<(Cow<'static, str>, String)>,
    literal: bool,
}

impl Msg {
    pub fn new(key: &'static str) -> Self {
        Self {
            key: Cow::Borrowed(key),
            args: Vec::new(),
            literal: false,
        }
    }

    pub fn literal(text: impl Into<String>) -> Self {
        Self {
            key: Cow::Owned(text.into()),
            args: Vec::new(),
            literal: true,
        }
    }

    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((Cow::Borrowed(name), value.to_string()));
        self
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn render(&self, locale: Locale) -> String {
        if self.literal {
            self.key.to_string()
        } else {
            t(locale, &self.key, &self.args)
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Locale::En))
    }
}

impl From<String> for Msg {
    fn from(s: String) -> Self {
        Self::literal(s)
    }
}

impl From<&str> for Msg {
    fn from(s: &str) -> Self {
        Self::literal(s.to_string())
    }
}

/// `msg!("key")` or `msg!("key", name = value, ...)`.
#[macro_export]
macro_rules! msg {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::i18n::Msg::new($key)$(.arg(stringify!($name), $value))*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_translated() {
        let keys = english_keys();
        assert!(keys.len() > 50, "catalog looks empty: {}", keys.len());
        let mut missing = Vec::new();
        for locale in [Locale::Fr, Locale::De] {
            for key in &keys {
                if !has_key(locale, key) {
                    missing.push(format!("{}: {key}", locale.code()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "untranslated keys:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn catalogs_parse_cleanly() {
        for locale in Locale::ALL {
            let r = FluentResource::try_new(locale.source().to_string());
            assert!(
                r.is_ok(),
                "{} has syntax errors: {:?}",
                locale.code(),
                r.err().map(|e| e.1)
            );
        }
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(Some("de"), Some("fr"), "en"), Locale::De);
        assert_eq!(
            negotiate(None, Some("fr-CA,fr;q=0.9,en;q=0.5"), "en"),
            Locale::Fr
        );
        assert_eq!(negotiate(None, Some("es,de;q=0.5"), "en"), Locale::De);
        assert_eq!(negotiate(None, Some("es"), "fr"), Locale::Fr);
        assert_eq!(negotiate(None, None, "en"), Locale::En);
        assert_eq!(negotiate(Some("xx"), Some("garbage;;;"), "en"), Locale::En);
    }

    #[test]
    fn messages_render_with_arguments() {
        let m = crate::msg!("error-field-too-long", field = "bio", max = 500);
        assert!(m.render(Locale::En).contains("500"));
        assert_ne!(m.render(Locale::En), m.render(Locale::Fr));
        assert_eq!(Msg::literal("as is").render(Locale::De), "as is");
    }
}
