//! Persisted operations: a client sends `extensions.persistedQuery = {version: 1, sha256Hash}`
//! instead of (or with) the document, the automatic persisted queries (APQ) convention.
//!
//! Two stores:
//! - **reviewed** operations, from `PERSISTED_OPERATIONS_FILE` (an Apollo persisted-query
//!   manifest: `{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
//!   [{"id": "<sha256 of body>", "name": "…", "type": "query", "body": "…"}]}`), checked at
//!   start-up;
//! - **automatic** registrations: an authenticated client sends hash and document once, then the
//!   hash alone. Bounded, per instance; a miss is `PERSISTED_QUERY_NOT_FOUND`, upon which APQ
//!   clients resend the document.
//!
//! Roles named in `PERSISTED_ONLY_ROLES` (e.g. `INTEGRATOR`) may run reviewed operations only: a
//! full document or an unreviewed hash from them is `FORBIDDEN`, so outside systems run only
//! what was reviewed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::pipeline::Refusal;
use permit_core::auth::Role;
use permit_core::error::ErrorCode;

/// Automatic registrations kept per instance; beyond this the store starts over (clients resend).
const AUTOMATIC_CAPACITY: usize = 2_000;

#[derive(Default)]
pub struct PersistedOperations {
    reviewed: HashMap<String, Arc<str>>,
    automatic: Mutex<HashMap<String, Arc<str>>>,
    persisted_only: HashSet<Role>,
}

#[derive(Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    operations: Vec<ManifestOperation>,
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PersistedOperations {
    /// From a manifest's text (`PERSISTED_OPERATIONS_FILE`, read by `config`) and the roles
    /// limited to it (`PERSISTED_ONLY_ROLES`, comma-separated).
    pub fn new(manifest: Option<&str>, persisted_only_roles: &str) -> Result<Self, String> {
        let mut persisted_only = HashSet::new();
        for name in persisted_only_roles
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let role = Role::parse(name)
                .ok_or_else(|| format!("PERSISTED_ONLY_ROLES: unknown role '{name}'"))?;
            persisted_only.insert(role);
        }
        let mut reviewed = HashMap::new();
        if let Some(text) = manifest {
            let manifest: Manifest = serde_json::from_str(text)
                .map_err(|e| format!("the persisted operations manifest is not valid: {e}"))?;
            if manifest.format != "apollo-persisted-query-manifest" || manifest.version != 1 {
                return Err(
                    "the persisted operations manifest must be apollo-persisted-query-manifest version 1"
                        .to_owned(),
                );
            }
            for operation in manifest.operations {
                let digest = sha256_hex(&operation.body);
                if !digest.eq_ignore_ascii_case(&operation.id) {
                    return Err(format!(
                        "persisted operation {} does not match the SHA-256 of its body ({digest})",
                        operation.id
                    ));
                }
                if async_graphql::parser::parse_query(&operation.body).is_err() {
                    return Err(format!(
                        "persisted operation {} is not a GraphQL document",
                        operation.id
                    ));
                }
                reviewed.insert(digest, Arc::from(operation.body));
            }
        }
        if !persisted_only.is_empty() && reviewed.is_empty() {
            tracing::warn!(
                "PERSISTED_ONLY_ROLES is set but no reviewed operations are loaded: those roles can run nothing"
            );
        }
        Ok(Self {
            reviewed,
            automatic: Mutex::new(HashMap::new()),
            persisted_only,
        })
    }

    pub fn is_persisted_only(&self, role: Option<Role>) -> bool {
        role.is_some_and(|r| self.persisted_only.contains(&r))
    }

    /// The document to run: the one sent, or the one its hash names. `role` is the caller's
    /// (None: no token; such callers may not register documents).
    pub fn resolve(
        &self,
        role: Option<Role>,
        query: Option<String>,
        extensions: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, Refusal> {
        let persisted_only = self.is_persisted_only(role);
        let Some(persisted) = extensions.get("persistedQuery") else {
            return match query {
                // The text of a reviewed operation is that operation, however it is sent.
                Some(query)
                    if persisted_only && self.reviewed.contains_key(&sha256_hex(&query)) =>
                {
                    Ok(query)
                }
                Some(_) if persisted_only => Err(Refusal::new(
                    ErrorCode::Forbidden,
                    format!(
                        "role {} may run only reviewed persisted operations: send \
                         extensions.persistedQuery with the operation's sha256Hash",
                        role.map(Role::as_str).unwrap_or_default()
                    ),
                )),
                Some(query) => Ok(query),
                None => Err(Refusal::new(ErrorCode::BadUserInput, "'query' is required")),
            };
        };
        let hash = match persisted {
            serde_json::Value::Object(fields)
                if fields.get("version").and_then(|v| v.as_i64()) == Some(1) =>
            {
                match fields.get("sha256Hash").and_then(|h| h.as_str()) {
                    Some(hash)
                        if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
                    {
                        hash.to_ascii_lowercase()
                    }
                    _ => {
                        return Err(Refusal::new(
                            ErrorCode::BadUserInput,
                            "persistedQuery.sha256Hash must be 64 hexadecimal digits",
                        ));
                    }
                }
            }
            _ => {
                return Err(Refusal::new(
                    ErrorCode::PersistedQueryNotSupported,
                    "persistedQuery must be {\"version\": 1, \"sha256Hash\": …}",
                ));
            }
        };
        if let Some(query) = query {
            if sha256_hex(&query) != hash {
                return Err(Refusal::new(
                    ErrorCode::BadUserInput,
                    "provided sha256Hash does not match the query",
                ));
            }
            if self.reviewed.contains_key(&hash) {
                return Ok(query);
            }
            if persisted_only {
                return Err(Refusal::new(
                    ErrorCode::Forbidden,
                    "this operation has not been reviewed: it is not in the persisted operations",
                ));
            }
            if role.is_some() {
                self.register(hash, &query);
            }
            return Ok(query);
        }
        if let Some(query) = self.reviewed.get(&hash) {
            return Ok(query.to_string());
        }
        if persisted_only {
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                "this operation has not been reviewed: it is not in the persisted operations",
            ));
        }
        let automatic = self.automatic.lock().unwrap_or_else(|e| e.into_inner());
        match automatic.get(&hash) {
            Some(query) => Ok(query.to_string()),
            // The APQ convention: clients recognise this message and resend with the document.
            None => Err(Refusal::new(
                ErrorCode::PersistedQueryNotFound,
                "PersistedQueryNotFound",
            )),
        }
    }

    fn register(&self, hash: String, query: &str) {
        let mut automatic = self.automatic.lock().unwrap_or_else(|e| e.into_inner());
        if automatic.len() >= AUTOMATIC_CAPACITY && !automatic.contains_key(&hash) {
            // Simple and bounded: a full store starts over; APQ clients re-register on a miss.
            automatic.clear();
        }
        automatic.insert(hash, Arc::from(query));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const REVIEWED: &str = "query Districts { districts { code } }";

    fn manifest() -> String {
        json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{ "id": sha256_hex(REVIEWED), "name": "Districts", "type": "query", "body": REVIEWED }]
        })
        .to_string()
    }

    fn extensions(hash: &str) -> serde_json::Map<String, serde_json::Value> {
        json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn automatic_registration_then_hash_only() {
        let store = PersistedOperations::new(None, "").expect("store");
        let query = "{ me { subject } }";
        let hash = sha256_hex(query);
        let miss = store.resolve(Some(Role::Admin), None, &extensions(&hash));
        assert_eq!(
            miss.map_err(|r| r.code.as_str()),
            Err("PERSISTED_QUERY_NOT_FOUND")
        );
        assert_eq!(
            store.resolve(Some(Role::Admin), Some(query.into()), &extensions(&hash)),
            Ok(query.to_owned())
        );
        assert_eq!(
            store.resolve(Some(Role::Admin), None, &extensions(&hash)),
            Ok(query.to_owned())
        );
        let wrong = store.resolve(Some(Role::Admin), Some("{ x }".into()), &extensions(&hash));
        assert_eq!(wrong.map_err(|r| r.code.as_str()), Err("BAD_USER_INPUT"));
    }

    #[test]
    fn persisted_only_roles_run_reviewed_operations_only() {
        let store = PersistedOperations::new(Some(&manifest()), "INTEGRATOR").expect("store");
        let reviewed = sha256_hex(REVIEWED);
        assert_eq!(
            store.resolve(Some(Role::Integrator), None, &extensions(&reviewed)),
            Ok(REVIEWED.to_owned())
        );
        let full = store.resolve(
            Some(Role::Integrator),
            Some("{ me { role } }".into()),
            &Default::default(),
        );
        assert_eq!(full.map_err(|r| r.code.as_str()), Err("FORBIDDEN"));
        let other = "{ me { role } }";
        let unreviewed = store.resolve(
            Some(Role::Integrator),
            Some(other.into()),
            &extensions(&sha256_hex(other)),
        );
        assert_eq!(unreviewed.map_err(|r| r.code.as_str()), Err("FORBIDDEN"));
        // Another role may still send documents.
        assert!(
            store
                .resolve(Some(Role::Admin), Some(other.into()), &Default::default())
                .is_ok()
        );
    }

    #[test]
    fn a_manifest_entry_must_match_its_hash() {
        let bad = json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": sha256_hex("{ a }"), "name": "A", "type": "query", "body": "{ b }" }]
        })
        .to_string();
        assert!(PersistedOperations::new(Some(&bad), "").is_err());
        assert!(PersistedOperations::new(None, "NOBODY").is_err());
    }
}
