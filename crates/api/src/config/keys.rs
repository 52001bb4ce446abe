//! How tokens are verified and signed (`JWT_*`): the settings, and the HS256 secret generated
//! beside the database when no key is configured. The secret is never printed.

use std::path::{Path, PathBuf};

use permit_core::auth::keys::{KeyConfig, KeySet, VerificationKey};

/// Token keys and claim checks (CONTRACT: `JWT_SECRET`, `JWT_PUBLIC_KEY_FILE`, `JWT_ISSUER`,
/// `JWT_AUDIENCE`; ours: `JWT_JWKS_FILE`, `JWT_TYPE`).
#[derive(Clone, Default, clap::Args)]
#[command(next_help_heading = "Tokens")]
pub struct KeySettings {
    /// HS256 secret (at least 32 bytes). Without it (and without a public key) a random secret
    /// is generated once and kept beside the database, mode 0600.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM public key of an agency identity provider (RSA: RS256, EC P-256: ES256).
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// A JWKS of the identity provider's keys, chosen by `kid`; re-read when it changes.
    #[arg(long, env = "JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<PathBuf>,
    /// When set, a token's `iss` must be present and match.
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// When set, a token's `aud` must be present and match.
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// When set (e.g. `at+jwt`), a token's `typ` header must be it.
    #[arg(long, env = "JWT_TYPE")]
    pub jwt_type: Option<String>,
}

impl std::fmt::Debug for KeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySettings")
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "***"))
            .field("jwt_public_key_file", &self.jwt_public_key_file)
            .field("jwt_jwks_file", &self.jwt_jwks_file)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("jwt_type", &self.jwt_type)
            .finish()
    }
}

/// A setting's text, when set and not empty (a variable set to nothing is unset).
fn given(value: &Option<String>) -> Option<String> {
    value.clone().filter(|s| !s.is_empty())
}

/// A file setting, when set and not empty.
fn given_path(value: &Option<PathBuf>) -> Option<&Path> {
    value.as_deref().filter(|p| !p.as_os_str().is_empty())
}

impl KeySettings {
    /// Reads the key files and, when no key is configured, the generated secret beside the
    /// database at `database_url` (created on first start).
    pub fn key_config(&self, database_url: &str) -> Result<KeyConfig, String> {
        let secret = match given(&self.jwt_secret) {
            Some(secret) if secret.len() < 32 => {
                return Err("JWT_SECRET must be at least 32 bytes long".to_owned());
            }
            secret => secret.map(String::into_bytes),
        };
        let public_key = match given_path(&self.jwt_public_key_file) {
            Some(file) => {
                let pem = std::fs::read(file).map_err(|e| {
                    format!("cannot read JWT_PUBLIC_KEY_FILE {}: {e}", file.display())
                })?;
                Some(VerificationKey::from_public_pem(&pem)?)
            }
            None => None,
        };
        let key_set = match given_path(&self.jwt_jwks_file) {
            Some(file) => Some(KeySet::load(file.to_path_buf())?),
            None => None,
        };
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
            issuer: given(&self.jwt_issuer),
            audience: given(&self.jwt_audience),
            token_type: given(&self.jwt_type),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_masked_and_checked() {
        let settings = KeySettings {
            jwt_secret: Some("s".repeat(40)),
            ..KeySettings::default()
        };
        assert!(!format!("{settings:?}").contains("sss"));
        let short = KeySettings {
            jwt_secret: Some("short".to_owned()),
            ..KeySettings::default()
        };
        assert!(short.key_config("sqlite::memory:").is_err());
    }
}
