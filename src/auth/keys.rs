//! Signing and verification keys. The algorithm is pinned to the key (RFC 8725 §3.1): an HS256
//! secret verifies only HS256, an RSA public key only RS256, an EC P-256 key only ES256; a token
//! whose header names anything else is refused before any signature work.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

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
}

/// Key material and claim checks, from `config::key_config_from_env`.
#[derive(Clone)]
pub struct KeyConfig {
    /// HS256 shared secret (also used by `permit-exchange token`).
    pub secret: Option<Vec<u8>>,
    /// An identity provider's public key.
    pub public_key: Option<VerificationKey>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl KeyConfig {
    /// A config with only an HS256 secret (tests, tools).
    pub fn with_secret(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: Some(secret.into()),
            public_key: None,
            issuer: None,
            audience: None,
        }
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &self.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        validation
    }

    /// Verifies a token and returns the principal; every failure is `UNAUTHENTICATED`.
    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AppError::Unauthenticated("malformed token".to_owned()))?;
        let key = match header.alg {
            Algorithm::HS256 => self.secret.as_ref().map(|s| DecodingKey::from_secret(s)),
            alg => self
                .public_key
                .as_ref()
                .filter(|k| k.algorithm == alg)
                .map(|k| k.key.clone()),
        }
        .ok_or_else(|| {
            AppError::Unauthenticated(format!("algorithm {:?} is not accepted", header.alg))
        })?;
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
                    _ => "invalid token",
                };
                tracing::debug!(error = %e, "token refused");
                AppError::Unauthenticated(reason.to_owned())
            })?;
        data.claims.into_principal()
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
            aud: self.audience.clone(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .map_err(|e| e.to_string())
    }
}
