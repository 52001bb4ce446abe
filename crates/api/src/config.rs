//! One `Config` from flags and environment, parsed once at start-up. Secrets are never printed.

use std::path::{Path, PathBuf};

use permit_core::auth::keys::{KeyConfig, KeySet, VerificationKey};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://permit-exchange.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Limits applied to every GraphQL request before any database work.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest allowed selection nesting.
    pub max_depth: usize,
    /// Largest allowed static cost; list fields cost their page size.
    pub max_complexity: usize,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Aliases per document (graphql-armor's default: 15).
    pub max_aliases: usize,
    /// Directives per document.
    pub max_directives: usize,
    /// Lexical tokens per document.
    pub max_tokens: usize,
    /// Characters per document.
    pub max_document_chars: usize,
    /// Longest a request may run; its database work is cancelled after that.
    pub request_timeout: std::time::Duration,
    /// Sustained requests per second per subject and per client address, and the burst above it.
    pub rate_per_second: f64,
    pub rate_burst: f64,
    /// GraphQL requests executed at once per instance; more wait their turn. Executing more than
    /// the cores and the pool can serve adds no throughput, only memory (each holds its answer).
    pub max_concurrent_requests: usize,
    /// The static cost (`graphql::cost`) of all requests executing at once: what bounds memory
    /// under load, since what a request holds grows with its cost (`admission`).
    pub max_concurrent_cost: usize,
    /// Requests parsed and waiting for a turn at once; more wait before they are parsed,
    /// holding only their connection (`admission`).
    pub max_waiting_requests: usize,
    /// Characters of a one-line text argument or input field (names, codes, filters).
    pub max_line_chars: usize,
    /// Characters of a free-text argument or input field (`input::FREE_TEXT`).
    pub max_text_chars: usize,
    /// Bytes of one uploaded evidence file (multipart requests may be this much larger than
    /// `max_body_bytes`).
    pub max_upload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 20_000,
            max_body_bytes: 256 * 1024,
            max_aliases: 15,
            max_directives: 50,
            max_tokens: 2_000,
            max_document_chars: 20_000,
            request_timeout: std::time::Duration::from_secs(15),
            rate_per_second: 100.0,
            rate_burst: 400.0,
            max_concurrent_requests: 16,
            max_concurrent_cost: 20_000,
            max_waiting_requests: 32,
            max_line_chars: 1_000,
            max_text_chars: 20_000,
            max_upload_bytes: 20 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The defaults, with any `LIMIT_*` environment variable applied (see README, "Limits").
    /// A variable that is set but unparsable stops start-up rather than silently using a default.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        fn read<T: std::str::FromStr>(
            lookup: &impl Fn(&str) -> Option<String>,
            name: &str,
            target: &mut T,
        ) -> Result<(), String> {
            if let Some(text) = lookup(name).filter(|s| !s.trim().is_empty()) {
                *target = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("{name}={text} is not a valid number"))?;
            }
            Ok(())
        }
        let mut limits = Self::default();
        read(&lookup, "LIMIT_MAX_DEPTH", &mut limits.max_depth)?;
        read(&lookup, "LIMIT_MAX_COST", &mut limits.max_complexity)?;
        read(&lookup, "LIMIT_MAX_BODY_BYTES", &mut limits.max_body_bytes)?;
        read(&lookup, "LIMIT_MAX_ALIASES", &mut limits.max_aliases)?;
        read(&lookup, "LIMIT_MAX_DIRECTIVES", &mut limits.max_directives)?;
        read(&lookup, "LIMIT_MAX_TOKENS", &mut limits.max_tokens)?;
        read(
            &lookup,
            "LIMIT_MAX_DOCUMENT_CHARS",
            &mut limits.max_document_chars,
        )?;
        let mut timeout_seconds = limits.request_timeout.as_secs_f64();
        read(
            &lookup,
            "LIMIT_REQUEST_TIMEOUT_SECONDS",
            &mut timeout_seconds,
        )?;
        if !(timeout_seconds.is_finite() && timeout_seconds > 0.0) {
            return Err("LIMIT_REQUEST_TIMEOUT_SECONDS must be positive".to_owned());
        }
        limits.request_timeout = std::time::Duration::from_secs_f64(timeout_seconds);
        read(
            &lookup,
            "LIMIT_RATE_PER_SECOND",
            &mut limits.rate_per_second,
        )?;
        read(&lookup, "LIMIT_RATE_BURST", &mut limits.rate_burst)?;
        read(
            &lookup,
            "LIMIT_CONCURRENT_REQUESTS",
            &mut limits.max_concurrent_requests,
        )?;
        read(
            &lookup,
            "LIMIT_CONCURRENT_COST",
            &mut limits.max_concurrent_cost,
        )?;
        read(
            &lookup,
            "LIMIT_WAITING_REQUESTS",
            &mut limits.max_waiting_requests,
        )?;
        read(&lookup, "LIMIT_MAX_LINE_CHARS", &mut limits.max_line_chars)?;
        read(&lookup, "LIMIT_MAX_TEXT_CHARS", &mut limits.max_text_chars)?;
        read(
            &lookup,
            "LIMIT_MAX_UPLOAD_BYTES",
            &mut limits.max_upload_bytes,
        )?;
        if limits.max_concurrent_requests == 0 {
            return Err("LIMIT_CONCURRENT_REQUESTS must be at least 1".to_owned());
        }
        if limits.max_concurrent_cost == 0 || limits.max_waiting_requests == 0 {
            return Err(
                "LIMIT_CONCURRENT_COST and LIMIT_WAITING_REQUESTS must be at least 1".to_owned(),
            );
        }
        if !(limits.rate_per_second > 0.0 && limits.rate_burst >= 1.0) {
            return Err(
                "LIMIT_RATE_PER_SECOND must be positive and LIMIT_RATE_BURST at least 1".to_owned(),
            );
        }
        Ok(limits)
    }
}

/// Actix worker threads from `WORKERS` (default: one per core).
pub fn workers_from_env() -> Result<Option<usize>, String> {
    match std::env::var("WORKERS")
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        None => Ok(None),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(format!("WORKERS={text} is not a positive number")),
        },
    }
}

#[derive(Clone)]
pub struct Config {
    pub bind: String,
    pub database_url: String,
    pub keys: KeyConfig,
    pub limits: Limits,
    /// Actix worker threads; `None` = one per core.
    pub workers: Option<usize>,
    /// Reviewed persisted operations and the roles limited to them (shared by the workers).
    pub persisted: std::sync::Arc<crate::persisted::PersistedOperations>,
    /// Where evidence files are kept (`EVIDENCE_STORE`; `storage`).
    pub evidence: permit_core::storage::EvidenceStore,
    /// The HJ 212 listener (`HJ212_BIND`); `None`: off.
    pub hj212: Option<Hj212Config>,
}

/// The HJ 212 TCP listener of automatic monitors (`hj212::listener`).
#[derive(Debug, Clone)]
pub struct Hj212Config {
    /// `HJ212_BIND`, e.g. `0.0.0.0:6212`.
    pub bind: String,
    /// `HJ212_READ_TIMEOUT_SECONDS` (default 120): a connection that sends nothing this long
    /// is closed (monitors reconnect).
    pub read_timeout: std::time::Duration,
    /// `HJ212_MAX_CONNECTIONS` (default 256): connections beyond it are closed at once.
    pub max_connections: usize,
}

impl Hj212Config {
    pub fn new(bind: impl Into<String>) -> Self {
        Self {
            bind: bind.into(),
            read_timeout: std::time::Duration::from_secs(120),
            max_connections: 256,
        }
    }

    /// From `HJ212_BIND` (unset or empty: the listener is off) and its two companions. A value
    /// that is set but unparsable stops start-up.
    pub fn from_env() -> Result<Option<Self>, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let Some(bind) = lookup("HJ212_BIND").filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let mut config = Self::new(bind.trim());
        if let Some(text) = lookup("HJ212_READ_TIMEOUT_SECONDS").filter(|s| !s.trim().is_empty()) {
            match text.trim().parse::<u64>() {
                Ok(n) if n > 0 => config.read_timeout = std::time::Duration::from_secs(n),
                _ => {
                    return Err(format!(
                        "HJ212_READ_TIMEOUT_SECONDS={text} is not a positive number"
                    ));
                }
            }
        }
        if let Some(text) = lookup("HJ212_MAX_CONNECTIONS").filter(|s| !s.trim().is_empty()) {
            match text.trim().parse::<usize>() {
                Ok(n) if n > 0 => config.max_connections = n,
                _ => {
                    return Err(format!(
                        "HJ212_MAX_CONNECTIONS={text} is not a positive number"
                    ));
                }
            }
        }
        Ok(Some(config))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("limits", &self.limits)
            .field("evidence", &self.evidence.location)
            .field("hj212", &self.hj212)
            .finish_non_exhaustive()
    }
}

/// Hides a password in a database URL for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => {
                    format!(
                        "{}{}:***{}",
                        &url[..scheme_end + 3],
                        &userinfo[..colon],
                        &url[at..]
                    )
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Where the generated HS256 secret lives when `JWT_SECRET` is not set: beside the SQLite file,
/// or in the working directory for a server database.
pub fn generated_secret_path(database_url: &str) -> PathBuf {
    if let Some(rest) = database_url.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        if !path.is_empty() && path != ":memory:" {
            return PathBuf::from(format!("{path}.jwt-secret"));
        }
    }
    PathBuf::from("permit-exchange.jwt-secret")
}

/// Reads the secret at `path`, or creates it (32 random bytes, hex, mode 0600) on first start so
/// that `token` and `serve` agree on a fresh machine.
pub fn load_or_create_secret(path: &Path) -> std::io::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let trimmed = existing.trim();
        if trimmed.len() >= 32 {
            return Ok(trimmed.as_bytes().to_vec());
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &hex)?;
    Ok(hex.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

/// Environment-derived key settings (CONTRACT: `JWT_SECRET`, `JWT_PUBLIC_KEY_FILE`,
/// `JWT_ISSUER`, `JWT_AUDIENCE`; ours: `JWT_JWKS_FILE`, `JWT_TYPE`).
pub fn key_config_from_env(database_url: &str) -> Result<KeyConfig, String> {
    let issuer = std::env::var("JWT_ISSUER").ok().filter(|s| !s.is_empty());
    let audience = std::env::var("JWT_AUDIENCE").ok().filter(|s| !s.is_empty());
    let secret = match std::env::var("JWT_SECRET").ok().filter(|s| !s.is_empty()) {
        Some(secret) => {
            if secret.len() < 32 {
                return Err("JWT_SECRET must be at least 32 bytes long".to_owned());
            }
            Some(secret.into_bytes())
        }
        None => None,
    };
    let public_key = match std::env::var("JWT_PUBLIC_KEY_FILE")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(file) => {
            let pem = std::fs::read(&file)
                .map_err(|e| format!("cannot read JWT_PUBLIC_KEY_FILE {file}: {e}"))?;
            Some(VerificationKey::from_public_pem(&pem)?)
        }
        None => None,
    };
    let key_set = match std::env::var("JWT_JWKS_FILE")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(file) => Some(KeySet::load(file)?),
        None => None,
    };
    let token_type = std::env::var("JWT_TYPE").ok().filter(|s| !s.is_empty());
    let secret = match (secret, public_key.is_some() || key_set.is_some()) {
        (Some(secret), _) => Some(secret),
        // An identity provider's keys alone: no local secret, `token` cannot sign.
        (None, true) => None,
        (None, false) => {
            let path = generated_secret_path(database_url);
            Some(load_or_create_secret(&path).map_err(|e| {
                format!("cannot create the JWT secret file {}: {e}", path.display())
            })?)
        }
    };
    Ok(KeyConfig {
        secret,
        public_key,
        key_set,
        issuer,
        audience,
        token_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_the_environment_and_bad_values_stop_start_up() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let limits = Limits::from_lookup(env(&[
            ("LIMIT_MAX_ALIASES", "3"),
            ("LIMIT_RATE_PER_SECOND", "5000"),
            ("LIMIT_REQUEST_TIMEOUT_SECONDS", "2.5"),
        ]))
        .expect("valid");
        assert_eq!(limits.max_aliases, 3);
        assert_eq!(limits.rate_per_second, 5000.0);
        assert_eq!(
            limits.request_timeout,
            std::time::Duration::from_millis(2500)
        );
        assert_eq!(limits.max_depth, Limits::default().max_depth);
        assert!(Limits::from_lookup(env(&[("LIMIT_MAX_DEPTH", "deep")])).is_err());
        assert!(Limits::from_lookup(env(&[("LIMIT_RATE_PER_SECOND", "0")])).is_err());
        assert!(Limits::from_lookup(env(&[("LIMIT_REQUEST_TIMEOUT_SECONDS", "-1")])).is_err());
    }
}
