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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    const EC_PRIVATE: &[u8] = include_bytes!("../../tests/keys/ec-private.pem");
    const EC_PUBLIC: &[u8] = include_bytes!("../../tests/keys/ec-public.pem");
    const RSA_PRIVATE: &[u8] = include_bytes!("../../tests/keys/rsa-private.pem");
    const RSA_PUBLIC: &[u8] = include_bytes!("../../tests/keys/rsa-public.pem");

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
