//! The settings of every command, from flags and environment variables alike (each setting has
//! both, so `--help` documents them all), parsed once at start-up by clap, and the `Config` the
//! server runs with, resolved from them (key files read, stores opened). Secrets are never
//! printed: `Debug` masks them and `--help` hides their values.

mod keys;
mod limits;

use std::path::PathBuf;
use std::sync::Arc;

use permit_core::auth::keys::KeyConfig;
use permit_core::storage::EvidenceStore;

use crate::logging::Format;
use crate::persisted::PersistedOperations;
pub use keys::{KeySettings, generated_secret_path, load_or_create_secret};
pub use limits::Limits;
use limits::number_or;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://permit-exchange.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The database every command works on.
#[derive(Clone, clap::Args)]
pub struct DatabaseSettings {
    /// `sqlite://FILE?mode=rwc`, or `postgres://…` for PostgreSQL.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("database_url", &redact_url(&self.database_url))
            .finish()
    }
}

/// Everything `serve` is configured by.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[arg(long, default_value = DEFAULT_BIND)]
    pub bind: String,
    #[command(flatten)]
    pub database: DatabaseSettings,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS", default_value = "", hide_default_value = true,
        value_parser = optional_positive)]
    pub workers: std::option::Option<usize>,
    #[command(flatten)]
    pub limits: Limits,
    #[command(flatten)]
    pub keys: KeySettings,
    #[command(flatten)]
    pub persisted: PersistedSettings,
    #[command(flatten)]
    pub storage: StorageSettings,
    #[command(flatten)]
    pub hj212: Hj212Settings,
    #[command(flatten)]
    pub logging: LoggingSettings,
    #[command(flatten)]
    pub metrics: MetricsSettings,
}

/// Reviewed persisted operations and the roles limited to them (`persisted`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Persisted operations")]
pub struct PersistedSettings {
    /// Reviewed operations, as an Apollo persisted-query manifest, checked at start.
    #[arg(long, env = "PERSISTED_OPERATIONS_FILE")]
    pub persisted_operations_file: Option<PathBuf>,
    /// Comma-separated roles (e.g. INTEGRATOR) that may run only the reviewed operations.
    #[arg(long, env = "PERSISTED_ONLY_ROLES")]
    pub persisted_only_roles: Option<String>,
}

impl PersistedSettings {
    /// Reads and checks the manifest.
    pub fn load(&self) -> Result<PersistedOperations, String> {
        let manifest = match self
            .persisted_operations_file
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "cannot read PERSISTED_OPERATIONS_FILE {}: {e}",
                    path.display()
                )
            })?),
            None => None,
        };
        let roles = self.persisted_only_roles.as_deref().unwrap_or_default();
        PersistedOperations::new(manifest.as_deref(), roles)
    }
}

/// Where evidence files are kept (`permit_core::storage`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Evidence files")]
pub struct StorageSettings {
    /// A local directory (default: beside the SQLite file, or `permit-exchange-evidence/` for
    /// PostgreSQL), or `s3://bucket[/prefix]` with the standard `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` and `AWS_ENDPOINT`.
    #[arg(long, env = "EVIDENCE_STORE")]
    pub evidence_store: Option<String>,
}

impl StorageSettings {
    /// Opens the store, or the default one beside the database at `database_url`.
    pub fn open(&self, database_url: &str) -> Result<EvidenceStore, String> {
        let location = self
            .evidence_store
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| permit_core::storage::default_location(database_url));
        EvidenceStore::open(&location)
    }
}

/// The HJ 212 TCP listener of automatic monitors (`hj212::listener`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "HJ 212 listener")]
pub struct Hj212Settings {
    /// Address of the HJ 212 TCP listener, e.g. `0.0.0.0:6212`; unset: no listener.
    #[arg(long, env = "HJ212_BIND")]
    pub hj212_bind: Option<String>,
    /// A connection that sends nothing this many seconds is closed (monitors reconnect).
    #[arg(long, env = "HJ212_READ_TIMEOUT_SECONDS", default_value_t = HJ212_READ_TIMEOUT_SECONDS,
        value_parser = positive_or(HJ212_READ_TIMEOUT_SECONDS))]
    pub hj212_read_timeout_seconds: u64,
    /// Connections open at once; more are closed on arrival.
    #[arg(long, env = "HJ212_MAX_CONNECTIONS", default_value_t = HJ212_MAX_CONNECTIONS,
        value_parser = positive_or(HJ212_MAX_CONNECTIONS))]
    pub hj212_max_connections: usize,
}

const HJ212_READ_TIMEOUT_SECONDS: u64 = 120;
const HJ212_MAX_CONNECTIONS: usize = 256;

impl Hj212Settings {
    /// The listener's configuration; `None` when no address is set.
    pub fn listener(&self) -> Option<Hj212Config> {
        let bind = self.hj212_bind.as_deref().map(str::trim)?;
        if bind.is_empty() {
            return None;
        }
        Some(Hj212Config {
            bind: bind.to_owned(),
            read_timeout: std::time::Duration::from_secs(self.hj212_read_timeout_seconds),
            max_connections: self.hj212_max_connections,
        })
    }
}

/// The HJ 212 listener as it runs.
#[derive(Debug, Clone)]
pub struct Hj212Config {
    /// E.g. `0.0.0.0:6212`.
    pub bind: String,
    /// A connection that sends nothing this long is closed (monitors reconnect).
    pub read_timeout: std::time::Duration,
    /// Connections beyond it are closed at once.
    pub max_connections: usize,
}

impl Hj212Config {
    /// A listener at `bind` with the default timeout and connection limit.
    pub fn new(bind: impl Into<String>) -> Self {
        Self {
            bind: bind.into(),
            read_timeout: std::time::Duration::from_secs(HJ212_READ_TIMEOUT_SECONDS),
            max_connections: HJ212_MAX_CONNECTIONS,
        }
    }
}

/// Logs on standard output (`logging`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Logs")]
pub struct LoggingSettings {
    /// `text` (the default) or `json`: one JSON object per line.
    #[arg(long, env = "LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Log filter (default `info`; `permit_exchange::access_log=off` silences the access log).
    #[arg(long, env = "RUST_LOG")]
    pub log_filter: Option<String>,
}

impl LoggingSettings {
    /// Installs the process-wide subscriber. An unknown format is reported, and logs are text.
    pub fn init(&self) {
        let format = Format::parse(self.log_format.as_deref().unwrap_or_default()).unwrap_or_else(
            |message| {
                eprintln!("warning: {message}; logging as text");
                Format::Text
            },
        );
        crate::logging::init(format, self.log_filter.as_deref());
    }
}

/// `GET /metrics` (`metrics`).
#[derive(Clone, clap::Args)]
#[command(next_help_heading = "Metrics")]
pub struct MetricsSettings {
    /// When set, `GET /metrics` requires `Authorization: Bearer <METRICS_TOKEN>`; unset, it is
    /// open (scrape it on a private network).
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Settings {
    /// The server's configuration: limits checked, key and manifest files read, the evidence
    /// store opened. Call it after `logging.init()` (what it finds odd is logged).
    pub fn resolve(self) -> Result<Config, String> {
        self.limits.check()?;
        let database_url = self.database.database_url;
        Ok(Config {
            keys: self.keys.key_config(&database_url)?,
            persisted: Arc::new(self.persisted.load()?),
            evidence: self.storage.open(&database_url)?,
            hj212: self.hj212.listener(),
            metrics_token: self.metrics.metrics_token.filter(|t| !t.trim().is_empty()),
            bind: self.bind,
            database_url,
            limits: self.limits,
            workers: self.workers,
        })
    }
}

/// What the server runs with (tests build it directly).
#[derive(Clone)]
pub struct Config {
    pub bind: String,
    pub database_url: String,
    pub keys: KeyConfig,
    pub limits: Limits,
    /// Actix worker threads; `None` = one per core.
    pub workers: Option<usize>,
    /// Reviewed persisted operations and the roles limited to them (shared by the workers).
    pub persisted: Arc<PersistedOperations>,
    /// Where evidence files are kept (`storage`).
    pub evidence: EvidenceStore,
    /// The HJ 212 listener; `None`: off.
    pub hj212: Option<Hj212Config>,
    /// The bearer token `/metrics` requires; `None`: open.
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("limits", &self.limits)
            .field("evidence", &self.evidence.location)
            .field("hj212", &self.hj212)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
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

/// A positive number; nothing at all (a variable set but empty) is `default`.
fn positive_or<T>(default: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + Copy + Default + PartialOrd + Send + Sync + 'static,
{
    move |text: &str| match number_or(default)(text) {
        Ok(value) if value > T::default() => Ok(value),
        _ => Err(format!("{} is not a positive number", text.trim())),
    }
}

/// A positive number, or nothing at all.
fn optional_positive(text: &str) -> Result<Option<usize>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    positive_or(1)(text).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    fn parse(args: &[&str]) -> Result<Settings, clap::Error> {
        Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .map(|cli| cli.settings)
    }

    #[test]
    fn settings_have_their_defaults_and_bad_values_stop_start_up() {
        let settings = parse(&["--hj212-bind=127.0.0.1:0"]).expect("defaults");
        assert_eq!(settings.bind, DEFAULT_BIND);
        assert_eq!(settings.workers, None);
        let hj212 = settings.hj212.listener().expect("a listener");
        assert_eq!(hj212.max_connections, 256);
        assert_eq!(hj212.read_timeout, std::time::Duration::from_secs(120));
        assert!(
            parse(&["--hj212-bind="])
                .expect("valid")
                .hj212
                .listener()
                .is_none()
        );
        assert_eq!(parse(&["--workers=3"]).expect("valid").workers, Some(3));
        assert_eq!(parse(&["--workers= "]).expect("valid").workers, None);
        assert!(parse(&["--workers=0"]).is_err());
        assert!(parse(&["--hj212-max-connections=0"]).is_err());
        assert!(parse(&["--hj212-read-timeout-seconds=soon"]).is_err());
    }

    #[test]
    fn secrets_are_never_printed() {
        let secret = "a-jwt-secret-of-at-least-32-bytes-long";
        let settings = parse(&[
            "--jwt-secret",
            secret,
            "--metrics-token=scrape-me",
            "--database-url=postgres://u:hunter2@db/p",
        ])
        .expect("valid");
        let printed = format!("{settings:?}");
        for hidden in [secret, "scrape-me", "hunter2"] {
            assert!(!printed.contains(hidden), "{printed}");
        }
    }
}
