//! Signing and verification keys. The algorithm is pinned to the key (RFC 8725 §3.1): an HS256
//! secret verifies only HS256, an RSA public key only RS256, an EC P-256 key only ES256; a token
//! whose header names anything else is refused before any signature work.
//!
//! An identity provider that rotates keys publishes them as a JWKS; `JWT_JWKS_FILE` names a local
//! copy. A token then names its key by `kid`, and only keys of that file are candidates (a `jku`
//! or `x5u` header is never followed). The file is re-read when it changes, so an operator adds
//! the next key before the provider signs with it and removes the old one after its last token
//! has expired: no restart, no downtime.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sha2::{Digest, Sha256};

use super::{Claims, Principal, Role};
use crate::error::AppError;

/// Largest clock skew tolerated for `exp` and `nbf`, in seconds (at most 60 by policy).
pub const LEEWAY_SECONDS: u64 = 30;

#[derive(Clone)]
pub struct VerificationKey {
    algorithm: Algorithm,
    key: DecodingKey,
}

impl VerificationKey {
    /// Reads a PEM public key: RSA → RS256, EC (P-256) → ES256.
    pub fn from_public_pem(pem: &[u8]) -> Result<Self, String> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Ok(Self {
                algorithm: Algorithm::RS256,
                key,
            });
        }
        if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            return Ok(Self {
                algorithm: Algorithm::ES256,
                key,
            });
        }
        Err("JWT_PUBLIC_KEY_FILE is neither an RSA nor an EC (P-256) public key in PEM".to_owned())
    }

    /// A JWKS entry: the algorithm is the one the entry declares, or the one its key type
    /// implies (RSA → RS256, EC P-256 → ES256, oct → HS256); never the token's choice.
    fn from_jwk(jwk: &Jwk) -> Result<Self, String> {
        let implied = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P384 => {
                Algorithm::ES384
            }
            AlgorithmParameters::OctetKey(_) => Algorithm::HS256,
            AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
            _ => return Err("unsupported key type".to_owned()),
        };
        let algorithm = match jwk.common.key_algorithm {
            None => implied,
            // Encryption algorithms (RSA-OAEP, …) have no signature counterpart and are refused.
            Some(declared) => declared
                .to_string()
                .parse::<Algorithm>()
                .map_err(|_| format!("unsupported algorithm {declared}"))?,
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        Ok(Self { algorithm, key })
    }
}

/// The keys of a JWKS file by `kid`, re-read when the file changes.
#[derive(Clone)]
pub struct KeySet {
    path: PathBuf,
    loaded: Arc<RwLock<LoadedKeys>>,
    /// When (unix milliseconds) the file may next be looked at: a stat per second at most.
    next_check_ms: Arc<AtomicI64>,
}

struct LoadedKeys {
    /// SHA-256 of the file the keys were read from: a file replaced by one of the same size
    /// and modification time is still noticed.
    digest: [u8; 32],
    keys: HashMap<String, VerificationKey>,
}

/// How often a changed JWKS file is noticed, at the latest.
const KEY_SET_CHECK_INTERVAL_MS: i64 = 1_000;

impl KeySet {
    /// Reads the file; a file that cannot be used stops start-up.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, String> {
        let path = path.into();
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let keys = parse_key_set(&path, &bytes)?;
        Ok(Self {
            loaded: Arc::new(RwLock::new(LoadedKeys {
                digest: Sha256::digest(&bytes).into(),
                keys,
            })),
            path,
            next_check_ms: Arc::new(AtomicI64::new(now_ms() + KEY_SET_CHECK_INTERVAL_MS)),
        })
    }

    /// The key with this `kid`, after picking up a changed file.
    fn get(&self, kid: &str) -> Option<VerificationKey> {
        self.refresh();
        let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
        loaded.keys.get(kid).cloned()
    }

    fn refresh(&self) {
        let now = now_ms();
        let due = self.next_check_ms.load(Ordering::Relaxed);
        if now < due
            || self
                .next_check_ms
                .compare_exchange(
                    due,
                    now + KEY_SET_CHECK_INTERVAL_MS,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::error!(path = %self.path.display(), %error, "JWKS not readable; keeping the previous keys");
                return;
            }
        };
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        if self.loaded.read().unwrap_or_else(|e| e.into_inner()).digest == digest {
            return;
        }
        match parse_key_set(&self.path, &bytes) {
            Ok(keys) => {
                tracing::info!(path = %self.path.display(), keys = keys.len(), "JWKS reloaded");
                let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
                *loaded = LoadedKeys { digest, keys };
            }
            // A half-written or broken file must not lock everyone out: keep the last good set.
            Err(error) => {
                tracing::error!(path = %self.path.display(), %error, "JWKS not reloaded; keeping the previous keys");
            }
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn parse_key_set(path: &Path, text: &[u8]) -> Result<HashMap<String, VerificationKey>, String> {
    let set: JwkSet = serde_json::from_slice(text)
        .map_err(|e| format!("{} is not a JWKS: {e}", path.display()))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        // A provider's set may hold keys for encryption too: they verify nothing here.
        if matches!(
            jwk.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        ) {
            continue;
        }
        let kid = jwk
            .common
            .key_id
            .clone()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| format!("{}: every key needs a 'kid'", path.display()))?;
        let key = VerificationKey::from_jwk(jwk)
            .map_err(|e| format!("{}: key '{kid}': {e}", path.display()))?;
        if keys.insert(kid.clone(), key).is_some() {
            return Err(format!("{}: 'kid' {kid} appears twice", path.display()));
        }
    }
    if keys.is_empty() {
        return Err(format!("{} holds no keys", path.display()));
    }
    Ok(keys)
}

/// A token whose signature and claims have been checked.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub principal: Principal,
    /// `jti`, when the issuer sets one (ours always does): what a single revocation names.
    pub token_id: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Key material and claim checks (the api's `config::KeySettings` reads them from `JWT_*`).
#[derive(Clone)]
pub struct KeyConfig {
    /// HS256 shared secret (also used by `permit-exchange token`).
    pub secret: Option<Vec<u8>>,
    /// An identity provider's public key.
    pub public_key: Option<VerificationKey>,
    /// Rotating keys selected by `kid` (`JWT_JWKS_FILE`).
    pub key_set: Option<KeySet>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// The required `typ` header (`JWT_TYPE`, e.g. `at+jwt`, RFC 9068), so that an ID token or
    /// another kind of JWT from the same provider is not accepted as an access token.
    pub token_type: Option<String>,
}

impl KeyConfig {
    /// A config with only an HS256 secret (tests, tools).
    pub fn with_secret(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: Some(secret.into()),
            public_key: None,
            key_set: None,
            issuer: None,
            audience: None,
            token_type: None,
        }
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // A configured issuer or audience must be present, not merely equal when present.
        let mut required = vec!["exp", "sub"];
        match &self.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    /// Verifies a token and returns the principal; every failure is `UNAUTHENTICATED`.
    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        self.verify_token(token).map(|t| t.principal)
    }

    /// The key a header selects: by `kid` from the key set when there is one, else by algorithm.
    fn select_key(&self, header: &Header) -> Result<DecodingKey, AppError> {
        let refuse = |reason: String| Err(AppError::Unauthenticated(reason));
        let pinned = |key: VerificationKey| {
            if key.algorithm == header.alg {
                Ok(key.key)
            } else {
                refuse(format!(
                    "algorithm {:?} is not accepted for this key",
                    header.alg
                ))
            }
        };
        match (&self.key_set, header.kid.as_deref()) {
            (Some(set), Some(kid)) => match set.get(kid) {
                Some(key) => pinned(key),
                None => refuse("unknown key id".to_owned()),
            },
            (Some(_), None) if header.alg != Algorithm::HS256 || self.secret.is_none() => {
                refuse("the token names no key ('kid')".to_owned())
            }
            _ => match header.alg {
                Algorithm::HS256 => match &self.secret {
                    Some(secret) => Ok(DecodingKey::from_secret(secret)),
                    None => refuse("algorithm HS256 is not accepted".to_owned()),
                },
                alg => match &self.public_key {
                    Some(key) => pinned(key.clone()),
                    None => refuse(format!("algorithm {alg:?} is not accepted")),
                },
            },
        }
    }

    /// Verifies a token: header (`typ`, key, algorithm), signature, then claims.
    pub fn verify_token(&self, token: &str) -> Result<VerifiedToken, AppError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AppError::Unauthenticated("malformed token".to_owned()))?;
        if let Some(expected) = &self.token_type {
            let actual = header.typ.as_deref().unwrap_or("");
            let actual = actual.strip_prefix("application/").unwrap_or(actual);
            if !actual.eq_ignore_ascii_case(expected) {
                return Err(AppError::Unauthenticated(format!(
                    "token type must be '{expected}'"
                )));
            }
        }
        let key = self.select_key(&header)?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation(header.alg))
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let reason = match e.kind() {
                    ErrorKind::ExpiredSignature => "token expired",
                    ErrorKind::ImmatureSignature => "token not yet valid",
                    ErrorKind::InvalidSignature => "invalid signature",
                    ErrorKind::InvalidIssuer => "wrong issuer",
                    ErrorKind::InvalidAudience => "wrong audience",
                    ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
                    ErrorKind::InvalidAlgorithm => "algorithm not accepted for this key",
                    _ => "invalid token",
                };
                tracing::debug!(error = %e, "token refused");
                AppError::Unauthenticated(reason.to_owned())
            })?;
        let claims = data.claims;
        // A token "issued" in the future would outlive a subject-wide revocation made now.
        if claims.iat > chrono::Utc::now().timestamp() + LEEWAY_SECONDS as i64 {
            return Err(AppError::Unauthenticated(
                "token issued in the future".to_owned(),
            ));
        }
        let token_id = claims.jti.clone().filter(|j| !j.is_empty());
        let (issued_at, expires_at) = (claims.iat, claims.exp);
        Ok(VerifiedToken {
            principal: claims.into_principal()?,
            token_id,
            issued_at,
            expires_at,
        })
    }

    /// Signs an HS256 token (the `token` command and tests).
    pub fn sign(
        &self,
        subject: &str,
        role: Role,
        agency: Option<&str>,
        district: Option<&str>,
        ttl: chrono::Duration,
    ) -> Result<String, String> {
        let secret = self.secret.as_ref().ok_or(
            "no JWT_SECRET configured: tokens come from the identity provider in this setup",
        )?;
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            role: role.as_str().to_owned(),
            agency: agency.map(str::to_owned),
            district: district.map(str::to_owned),
            iat: now,
            exp: now + ttl.num_seconds(),
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone().map(super::Audience::One),
            jti: Some(new_token_id()),
        };
        let mut header = Header::new(Algorithm::HS256);
        if let Some(token_type) = &self.token_type {
            header.typ = Some(token_type.clone());
        }
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret))
            .map_err(|e| e.to_string())
    }
}

/// A random `jti`: 128 bits, hex.
fn new_token_id() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness the token still works; it just cannot be revoked on its own.
    if getrandom::fill(&mut bytes).is_err() {
        return String::new();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    const EC_PRIVATE: &[u8] = include_bytes!("../../../../tests/keys/ec-private.pem");
    const EC_PUBLIC: &[u8] = include_bytes!("../../../../tests/keys/ec-public.pem");
    const RSA_PRIVATE: &[u8] = include_bytes!("../../../../tests/keys/rsa-private.pem");
    const RSA_PUBLIC: &[u8] = include_bytes!("../../../../tests/keys/rsa-public.pem");
    const JWKS: &str = include_str!("../../../../tests/keys/jwks.json");

    #[test]
    fn a_key_set_replaced_with_the_same_size_and_time_is_noticed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, JWKS).expect("write");
        let set = KeySet::load(&path).expect("load");
        assert!(set.get("ec-2026").is_some());
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        // The same bytes but one key renamed: same length; then the old modification time.
        let renamed = JWKS.replace("ec-2026", "ec-2027");
        assert_eq!(renamed.len(), JWKS.len());
        std::fs::write(&path, renamed).expect("rewrite");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(modified))
            .expect("set mtime");
        set.next_check_ms.store(0, Ordering::Relaxed);
        assert!(set.get("ec-2027").is_some(), "the new key is read");
        assert!(set.get("ec-2026").is_none(), "the old key is gone");
    }

    fn claims(extra: serde_json::Value) -> serde_json::Value {
        let now = chrono::Utc::now().timestamp();
        let mut base = serde_json::json!({
            "sub": "idp-user", "role": "PERMIT_OFFICER", "agency": "500103-PMT",
            "district": "500103", "iat": now, "exp": now + 600
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        base
    }

    fn sign(alg: Algorithm, key: &EncodingKey, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, key).expect("sign")
    }

    fn provider(pem: &[u8]) -> KeyConfig {
        KeyConfig {
            secret: None,
            public_key: Some(VerificationKey::from_public_pem(pem).expect("public key")),
            key_set: None,
            token_type: None,
            issuer: Some("https://idp.example".into()),
            audience: Some("permit-exchange".into()),
        }
    }

    fn unauthenticated(result: Result<crate::auth::Principal, AppError>) -> bool {
        matches!(result, Err(AppError::Unauthenticated(_)))
    }

    #[test]
    fn identity_provider_keys_pin_their_algorithm() {
        let idp = serde_json::json!({ "iss": "https://idp.example", "aud": "permit-exchange" });
        let ec = provider(EC_PUBLIC);
        let ec_key = EncodingKey::from_ec_pem(EC_PRIVATE).expect("ec key");
        let principal = ec
            .verify(&sign(Algorithm::ES256, &ec_key, &claims(idp.clone())))
            .expect("valid");
        assert_eq!(principal.role, Role::PermitOfficer);
        assert_eq!(
            principal.district.as_ref().map(|d| d.as_str()),
            Some("500103")
        );

        let rsa = provider(RSA_PUBLIC);
        let rsa_key = EncodingKey::from_rsa_pem(RSA_PRIVATE).expect("rsa key");
        assert!(
            rsa.verify(&sign(Algorithm::RS256, &rsa_key, &claims(idp.clone())))
                .is_ok()
        );
        // An RS256 token against the EC key, and the HS256-with-public-key confusion attack.
        assert!(unauthenticated(ec.verify(&sign(
            Algorithm::RS256,
            &rsa_key,
            &claims(idp.clone())
        ))));
        let confused = EncodingKey::from_secret(RSA_PUBLIC);
        assert!(unauthenticated(rsa.verify(&sign(
            Algorithm::HS256,
            &confused,
            &claims(idp.clone())
        ))));
        // Issuer and audience are enforced when configured.
        let wrong_iss =
            serde_json::json!({ "iss": "https://evil.example", "aud": "permit-exchange" });
        assert!(unauthenticated(ec.verify(&sign(
            Algorithm::ES256,
            &ec_key,
            &claims(wrong_iss)
        ))));
        // Several audiences, ours among them, as identity providers often send.
        let many = serde_json::json!({
            "iss": "https://idp.example", "aud": ["account", "permit-exchange"]
        });
        assert!(
            ec.verify(&sign(Algorithm::ES256, &ec_key, &claims(many)))
                .is_ok()
        );
        let others = serde_json::json!({ "iss": "https://idp.example", "aud": ["account"] });
        assert!(unauthenticated(ec.verify(&sign(
            Algorithm::ES256,
            &ec_key,
            &claims(others)
        ))));
        let no_aud = serde_json::json!({ "iss": "https://idp.example" });
        assert!(unauthenticated(ec.verify(&sign(
            Algorithm::ES256,
            &ec_key,
            &claims(no_aud)
        ))));
    }

    #[test]
    fn time_claims_with_bounded_leeway() {
        let keys = KeyConfig::with_secret(b"0123456789abcdef0123456789abcdef".to_vec());
        let key = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let now = chrono::Utc::now().timestamp();
        let within_leeway = serde_json::json!({ "exp": now - 10 });
        assert!(
            keys.verify(&sign(Algorithm::HS256, &key, &claims(within_leeway)))
                .is_ok()
        );
        let expired = serde_json::json!({ "exp": now - 120 });
        assert!(unauthenticated(keys.verify(&sign(
            Algorithm::HS256,
            &key,
            &claims(expired)
        ))));
        let not_yet = serde_json::json!({ "nbf": now + 300 });
        assert!(unauthenticated(keys.verify(&sign(
            Algorithm::HS256,
            &key,
            &claims(not_yet)
        ))));
        let mut no_exp = claims(serde_json::json!({}));
        no_exp.as_object_mut().map(|c| c.remove("exp"));
        assert!(unauthenticated(keys.verify(&sign(
            Algorithm::HS256,
            &key,
            &no_exp
        ))));
    }
}
