//! Who is calling: a bearer token becomes a `Principal` (role, agency, district scope).
//!
//! Tokens are JWTs (CONTRACT: claims `sub`, `role`, `agency`, `district`, `exp`, `iat`, and
//! `iss`/`aud` when configured). Every failure to verify is `UNAUTHENTICATED`; the reason is
//! logged, and only a short, non-revealing reason goes to the client.

pub mod keys;
pub mod revocation;

use serde::{Deserialize, Serialize};

use crate::domain::codes::DistrictCode;
use crate::error::AppError;

/// Roles of BRIEF ("Who shares what").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    PermitOfficer,
    EnforcementOfficer,
    Supervisor,
    Monitoring,
    Integrator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::PermitOfficer,
        Role::EnforcementOfficer,
        Role::Supervisor,
        Role::Monitoring,
        Role::Integrator,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PermitOfficer => "PERMIT_OFFICER",
            Role::EnforcementOfficer => "ENFORCEMENT_OFFICER",
            Role::Supervisor => "SUPERVISOR",
            Role::Monitoring => "MONITORING",
            Role::Integrator => "INTEGRATOR",
            Role::Admin => "ADMIN",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
    }
}

/// The verified caller. District `None` means municipal scope (all districts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub agency_code: Option<String>,
    pub district: Option<DistrictCode>,
    /// The request this principal acts in, for the change feed and the audit trail.
    pub request: RequestTag,
}

/// Which request, and which operation, a principal's writes belong to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestTag {
    pub request_id: Option<String>,
    /// The GraphQL operation name, or the first root field when the operation is anonymous.
    pub operation_name: Option<String>,
}

/// JWT claims as they travel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Token id, so that one token can be revoked without its subject's others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// `aud`: one audience or several (RFC 7519 §4.1.3); identity providers send either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The longest `sub` and `agency` claims the records of who did what can hold.
pub const MAX_SUBJECT_CHARS: usize = 128;
pub const MAX_AGENCY_CHARS: usize = 32;

impl Claims {
    pub fn into_principal(self) -> Result<Principal, AppError> {
        let role = Role::parse(&self.role)
            .ok_or_else(|| AppError::Unauthenticated(format!("unknown role '{}'", self.role)))?;
        if self.sub.trim().is_empty() {
            return Err(AppError::Unauthenticated(
                "token has an empty subject".to_owned(),
            ));
        }
        // An empty claim is not "absent": municipal scope is never granted by accident.
        let district = match self.district.as_deref() {
            Some(d) => Some(DistrictCode::parse(d).map_err(|e| {
                AppError::Unauthenticated(format!("token district claim is invalid: {e}"))
            })?),
            None => None,
        };
        if self.agency.as_deref().is_some_and(|a| a.trim().is_empty()) {
            return Err(AppError::Unauthenticated(
                "token agency claim is empty".to_owned(),
            ));
        }
        // Every write records who made it; a claim longer than its column would fail that
        // record on PostgreSQL (and be stored on SQLite), so the token is refused instead.
        if self.sub.chars().count() > MAX_SUBJECT_CHARS {
            return Err(AppError::Unauthenticated(format!(
                "token subject is longer than {MAX_SUBJECT_CHARS} characters"
            )));
        }
        if self
            .agency
            .as_deref()
            .is_some_and(|a| a.chars().count() > MAX_AGENCY_CHARS)
        {
            return Err(AppError::Unauthenticated(format!(
                "token agency claim is longer than {MAX_AGENCY_CHARS} characters"
            )));
        }
        Ok(Principal {
            subject: self.sub,
            role,
            agency_code: self.agency,
            district,
            request: RequestTag::default(),
        })
    }
}

/// Extracts the token from an `Authorization: Bearer …` value.
pub fn bearer_token(header_value: &str) -> Option<&str> {
    let (scheme, token) = header_value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
