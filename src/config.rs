//! Typed configuration: `config/default.toml` (compiled in) < `--config FILE` <
//! `STAFFROOM__SECTION__KEY` environment variables.
//!
//! Loading validates everything up front so that a bad value stops start-up with a
//! message naming the key, instead of surfacing later as a confusing runtime error.
//! The resulting [`Config`] is passed around explicitly (inside `AppState`); there is
//! no global. Depends on nothing else in the crate.

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use serde::{Deserialize, Serialize};
use std::{fmt, net::SocketAddr, path::PathBuf};

/// The defaults, documented key by key.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub instance: InstanceConfig,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub federation: FederationConfig,
    pub registration: RegistrationConfig,
    pub log: LogConfig,
    pub storage: StorageConfig,
    pub resources: ResourcesConfig,
    pub portal: PortalConfig,
}

/// The portal role (`instance.role = "portal"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    pub actor_name: String,
    /// Topic channels: one actor per subject or hashtag.
    pub topics: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    pub domain: String,
    pub name: String,
    pub description: String,
    pub role: InstanceRole,
    pub contact_email: String,
    pub default_locale: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstanceRole {
    Association,
    Portal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub bind: SocketAddr,
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub request_timeout_secs: u64,
    pub trust_proxy: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    pub allow_insecure_loopback: bool,
    pub delivery_concurrency: usize,
    pub delivery_retry_base_secs: u64,
    pub delivery_give_up_hours: u64,
    pub delivery_dead_after: i32,
    pub inbox_workers: usize,
    pub mode: FederationMode,
    pub blocked_domains: Vec<String>,
    pub allowed_domains: Vec<String>,
    pub portal: String,
    pub portal_refresh_secs: u64,
}

/// Which instances this one accepts activities from (see `federation::trust`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FederationMode {
    Open,
    Allowlist,
    Portal,
}

impl FederationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Allowlist => "allowlist",
            Self::Portal => "portal",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    pub mode: RegistrationMode,
    pub min_password_length: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    Open,
    Approval,
    Invite,
    Closed,
}

impl RegistrationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Approval => "approval",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "approval" => Some(Self::Approval),
            "invite" => Some(Self::Invite),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Where uploaded files are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub backend: StorageBackend,
    pub s3_bucket: String,
    pub s3_region: String,
    pub s3_endpoint: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: String,
    pub s3_allow_http: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Local,
    S3,
}

/// Teaching resources: file limits and the controlled vocabularies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesConfig {
    pub max_file_bytes: usize,
    pub max_files: usize,
    pub subjects: Vec<String>,
    pub levels: Vec<String>,
}

/// A configuration problem, always naming the key (or file) at fault.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

pub const SUPPORTED_LOCALES: [&str; 3] = ["en", "fr", "de"];

impl Config {
    /// Load the layered configuration from the real environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new().merge(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            // Figment silently skips missing files; an operator who names a file
            // must learn that it was not read.
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!(
                    "cannot read config file {}: {e}",
                    path.to_string_lossy()
                ))
            })?;
            // A syntax error would otherwise be reported without the file's name.
            Figment::from(Toml::string(&text))
                .extract::<figment::value::Dict>()
                .map_err(|e| {
                    ConfigError(format!(
                        "config file {} is not valid TOML: {e}",
                        path.to_string_lossy()
                    ))
                })?;
            figment = figment.merge(Toml::string(&text));
        }
        figment = figment.merge(Env::prefixed("STAFFROOM__").split("__"));
        Self::from_figment(figment)
    }

    /// The defaults alone (tests start from here and adjust fields).
    pub fn defaults() -> Result<Self, ConfigError> {
        Self::from_figment(Figment::new().merge(Toml::string(DEFAULT_TOML)))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|e| {
            let mut messages = Vec::new();
            for err in e {
                let key = err.path.join(".");
                let what = match &err.kind {
                    figment::error::Kind::UnknownField(field, _) => {
                        let full = if key.is_empty() {
                            field.clone()
                        } else {
                            format!("{key}.{field}")
                        };
                        format!("unknown key `{full}`")
                    }
                    kind => {
                        if key.is_empty() {
                            kind.to_string()
                        } else {
                            format!("key `{key}`: {kind}")
                        }
                    }
                };
                messages.push(what);
            }
            ConfigError(messages.join("; "))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_domain(&self.instance.domain)
            .map_err(|m| ConfigError(format!("key `instance.domain`: {m}")))?;
        if self.instance.name.trim().is_empty() {
            return Err(ConfigError("key `instance.name`: must not be empty".into()));
        }
        if !SUPPORTED_LOCALES.contains(&self.instance.default_locale.as_str()) {
            return Err(ConfigError(format!(
                "key `instance.default_locale`: `{}` is not one of {}",
                self.instance.default_locale,
                SUPPORTED_LOCALES.join(", ")
            )));
        }
        if !self.database.url.is_empty() {
            let url = url::Url::parse(&self.database.url)
                .map_err(|e| ConfigError(format!("key `database.url`: not a valid URL ({e})")))?;
            if !matches!(url.scheme(), "sqlite" | "postgres" | "postgresql") {
                return Err(ConfigError(format!(
                    "key `database.url`: scheme `{}` is not supported (use sqlite:// or postgres://)",
                    url.scheme()
                )));
            }
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError(
                "key `database.max_connections`: must be at least 1".into(),
            ));
        }
        if self.http.max_body_bytes < 1024 {
            return Err(ConfigError(
                "key `http.max_body_bytes`: must be at least 1024".into(),
            ));
        }
        if self.federation.delivery_concurrency == 0 || self.federation.inbox_workers == 0 {
            return Err(ConfigError(
                "key `federation.delivery_concurrency` / `federation.inbox_workers`: must be at least 1".into(),
            ));
        }
        for (key, list) in [
            (
                "federation.blocked_domains",
                &self.federation.blocked_domains,
            ),
            (
                "federation.allowed_domains",
                &self.federation.allowed_domains,
            ),
        ] {
            for entry in list {
                validate_domain(entry).map_err(|m| ConfigError(format!("key `{key}`: {m}")))?;
            }
        }
        if self.federation.mode == FederationMode::Portal && self.federation.portal.is_empty() {
            return Err(ConfigError(
                "key `federation.portal`: needed when `federation.mode` is \"portal\" (the portal actor, like `@portal@portal.example`)".into(),
            ));
        }
        if !self.federation.portal.is_empty() && portal_handle(&self.federation.portal).is_none() {
            return Err(ConfigError(format!(
                "key `federation.portal`: `{}` is not a handle like `@portal@portal.example`",
                self.federation.portal
            )));
        }
        if portal_handle(&format!(
            "{}@{}",
            self.portal.actor_name, self.instance.domain
        ))
        .is_none()
        {
            return Err(ConfigError(format!(
                "key `portal.actor_name`: `{}` is not a user name (letters, digits, _ - .)",
                self.portal.actor_name
            )));
        }
        if self.federation.portal_refresh_secs == 0 {
            return Err(ConfigError(
                "key `federation.portal_refresh_secs`: must be at least 1".into(),
            ));
        }
        if self.registration.min_password_length < 8 {
            return Err(ConfigError(
                "key `registration.min_password_length`: must be at least 8".into(),
            ));
        }
        if let Err(e) = self.log.level.parse::<tracing_subscriber::EnvFilter>() {
            return Err(ConfigError(format!("key `log.level`: {e}")));
        }
        self.validate_resources()?;
        Ok(())
    }

    fn validate_resources(&self) -> Result<(), ConfigError> {
        if self.storage.backend == StorageBackend::S3 && self.storage.s3_bucket.trim().is_empty() {
            return Err(ConfigError(
                "key `storage.s3_bucket`: must be set when `storage.backend` is \"s3\"".into(),
            ));
        }
        let endpoint = self.storage.s3_endpoint.trim();
        if !endpoint.is_empty() {
            match url::Url::parse(endpoint) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
                    if u.scheme() == "http" && !self.storage.s3_allow_http {
                        return Err(ConfigError(format!(
                            "key `storage.s3_endpoint`: `{endpoint}` is http; set `storage.s3_allow_http = true` to allow it"
                        )));
                    }
                }
                _ => {
                    return Err(ConfigError(format!(
                        "key `storage.s3_endpoint`: `{endpoint}` is not an http(s) URL"
                    )));
                }
            }
        }
        if self.resources.max_file_bytes < 1024 || self.resources.max_files == 0 {
            return Err(ConfigError(
                "key `resources.max_file_bytes` / `resources.max_files`: must be at least 1024 and 1".into(),
            ));
        }
        for (key, list) in [
            ("resources.subjects", &self.resources.subjects),
            ("resources.levels", &self.resources.levels),
        ] {
            if let Some(bad) = list.iter().find(|v| {
                v.is_empty()
                    || v.len() > 50
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            }) {
                return Err(ConfigError(format!(
                    "key `{key}`: `{bad}` must be 1 to 50 lowercase letters, digits or hyphens"
                )));
            }
        }
        Ok(())
    }

    /// `https`, or `http` when insecure loopback federation is allowed
    /// (tests) or the instance is named `localhost` (a server tried out on
    /// one machine, which no other server could reach anyway): there the
    /// links it prints (media, password resets, invitations) must work over
    /// the plain HTTP it serves.
    pub fn scheme(&self) -> &'static str {
        let host = self
            .instance
            .domain
            .rsplit_once(':')
            .map_or(self.instance.domain.as_str(), |(h, _)| h);
        if self.federation.allow_insecure_loopback || host.eq_ignore_ascii_case("localhost") {
            "http"
        } else {
            "https"
        }
    }

    /// Base URL of this instance, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme(), self.instance.domain)
    }

    /// The database URL to connect to, with the SQLite default resolved.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            let path = self.data_dir.join("staffroom.db");
            format!("sqlite://{}?mode=rwc", path.to_string_lossy())
        } else {
            self.database.url.clone()
        }
    }
}

/// `@name@host` (or `name@host`) split into name and host, the host checked
/// like `instance.domain`.
pub fn portal_handle(handle: &str) -> Option<(String, String)> {
    let (name, host) = handle.trim().trim_start_matches('@').split_once('@')?;
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    let host = host.to_ascii_lowercase();
    (valid_name && validate_domain(&host).is_ok()).then(|| (name.to_string(), host))
}

/// A host name with an optional port: what `instance.domain` may hold.
fn validate_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("must not be empty".into());
    }
    let url = url::Url::parse(&format!("https://{domain}/"))
        .map_err(|e| format!("`{domain}` is not a host name ({e})"))?;
    let host_port = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    if host_port != domain.to_ascii_lowercase() || url.path() != "/" {
        return Err(format!(
            "`{domain}` must be a bare host name with an optional port, like `example.org` or `localhost:8080`"
        ));
    }
    if matches!(
        url.host(),
        Some(url::Host::Ipv4(_)) | Some(url::Host::Ipv6(_))
    ) {
        return Err(format!(
            "`{domain}` is an IP address; ActivityPub peers need a host name (use `localhost:PORT` for tests)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_match_contract() {
        let c = Config::defaults().unwrap();
        assert_eq!(c.instance.domain, "localhost:8080");
        assert_eq!(c.http.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert!(!c.federation.allow_insecure_loopback);
        assert_eq!(c.instance.role, InstanceRole::Association);
        assert!(c.database_url().starts_with("sqlite://./data/staffroom.db"));
        // Tried out on one machine, it links to itself over the HTTP it serves.
        assert_eq!(c.base_url(), "http://localhost:8080");
    }

    #[test]
    fn a_syntax_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.toml");
        std::fs::write(&path, "[http\nbind = \"127.0.0.1:8080\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("broken.toml"), "{err}");
        assert!(err.contains("not valid TOML"), "{err}");
        let missing = dir.path().join("missing.toml");
        let err = Config::load(Some(&missing)).unwrap_err().to_string();
        assert!(err.contains("missing.toml"), "{err}");
    }

    #[test]
    fn a_public_domain_is_https_unless_loopback_is_allowed() {
        let mut c = Config::defaults().unwrap();
        c.instance.domain = "assoc.example".into();
        assert_eq!(c.base_url(), "https://assoc.example");
        c.instance.domain = "localhost.assoc.example".into();
        assert_eq!(c.scheme(), "https");
        c.federation.allow_insecure_loopback = true;
        assert_eq!(c.scheme(), "http");
    }

    #[test]
    fn unknown_key_is_named() {
        let f = Figment::new()
            .merge(Toml::string(DEFAULT_TOML))
            .merge(Toml::string("[http]\nbindd = \"1.2.3.4:5\""));
        let err = Config::from_figment(f).unwrap_err().to_string();
        assert!(err.contains("http.bindd"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        for (toml, key) in [
            ("[http]\nbind = \"nonsense\"", "http.bind"),
            ("[instance]\nrole = \"king\"", "instance.role"),
            ("[database]\nurl = \"mysql://x/y\"", "database.url"),
            ("[database]\nurl = \"::::\"", "database.url"),
            (
                "[instance]\ndomain = \"https://x.org/path\"",
                "instance.domain",
            ),
            ("[instance]\ndomain = \"127.0.0.1:8080\"", "instance.domain"),
            ("[registration]\nmode = \"sometimes\"", "registration.mode"),
            ("[log]\nformat = \"xml\"", "log.format"),
            ("[federation]\nmode = \"closed\"", "federation.mode"),
            (
                "[federation]\nblocked_domains = [\"https://x.org/\"]",
                "federation.blocked_domains",
            ),
            ("[federation]\nmode = \"portal\"", "federation.portal"),
            (
                "[federation]\nportal = \"portal.example\"",
                "federation.portal",
            ),
            ("[storage]\ns3_endpoint = \"minio\"", "storage.s3_endpoint"),
            (
                "[storage]\ns3_endpoint = \"http://minio:9000\"",
                "storage.s3_endpoint",
            ),
        ] {
            let f = Figment::new()
                .merge(Toml::string(DEFAULT_TOML))
                .merge(Toml::string(toml));
            let err = Config::from_figment(f).unwrap_err().to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn env_layer_overrides() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("STAFFROOM__DATA_DIR", "/tmp/x");
            jail.set_env("STAFFROOM__FEDERATION__ALLOW_INSECURE_LOOPBACK", "true");
            jail.set_env("STAFFROOM__INSTANCE__DOMAIN", "localhost:9999");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
            assert!(c.federation.allow_insecure_loopback);
            assert_eq!(c.base_url(), "http://localhost:9999");
            Ok(())
        });
    }

    #[test]
    fn example_configurations_are_valid() {
        for text in [
            include_str!("../config/association.toml"),
            include_str!("../config/portal.toml"),
        ] {
            let f = Figment::new()
                .merge(Toml::string(DEFAULT_TOML))
                .merge(Toml::string(text));
            let c = Config::from_figment(f).unwrap();
            assert!(
                !c.federation.allowed_domains.is_empty()
                    || !c.federation.blocked_domains.is_empty()
            );
        }
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = Config::load(Some(std::path::Path::new("/nonexistent/x.toml")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/x.toml"), "{err}");
    }
}
