//! Using and revoking tokens. Using one (`authenticate`): its signature and claims (`auth`),
//! the claims against the reference data (the policy), then the revocation list. Revoking
//! tokens before they expire: one token by its `jti`, or every token a subject holds
//! (a lost device, a compromised account, a person who left). The row and its audit entry are
//! written in one transaction; the caller then reloads the in-memory list and tells the other
//! instances (see `auth::revocation`).

use entity::token_revocations;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

use super::access::{self, Operation};
use super::changes;
use crate::auth::Principal;
use crate::db::begin_write;
use crate::domain::clock;
use crate::error::{AppError, AppResult};

/// Authentication, for HTTP and WebSocket alike: the token's signature and claims, the
/// claims against the reference data (access policy), then the revocation list. Every failure
/// is `UNAUTHENTICATED`.
pub async fn authenticate(
    keys: &crate::auth::keys::KeyConfig,
    revocations: &crate::auth::revocation::Revocations,
    reference: &super::reference::ReferenceData,
    token: &str,
) -> AppResult<crate::auth::keys::VerifiedToken> {
    let verified = keys.verify_token(token)?;
    access::check_claims(&verified.principal, reference)?;
    revocations.check(&verified).await?;
    Ok(verified)
}

pub struct RevokeInput {
    pub subject: String,
    /// One token; `None` revokes every token of the subject issued until now.
    pub token_id: Option<String>,
    pub reason: String,
}

pub async fn revoke(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: RevokeInput,
) -> AppResult<token_revocations::Model> {
    let who = access::authorize(principal, Operation::RevokeTokens)?;
    let subject = input.subject.trim();
    if subject.is_empty() || subject.chars().count() > 128 {
        return Err(AppError::invalid("input.subject", "1 to 128 characters"));
    }
    let token_id = input.token_id.map(|t| t.trim().to_owned());
    if token_id
        .as_ref()
        .is_some_and(|t| t.is_empty() || t.chars().count() > 128)
    {
        return Err(AppError::invalid("input.tokenId", "1 to 128 characters"));
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::invalid("reason", "1 to 1000 characters"));
    }
    let now = clock::now();
    // `iat` has whole seconds: round up, so a token issued earlier in this second is covered too
    // (one issued later in the same second is refused as well, which errs on the safe side).
    let revoked_before = if now.timestamp_subsec_nanos() == 0 {
        now.timestamp()
    } else {
        now.timestamp() + 1
    };
    let txn = begin_write(db).await?;
    let row = token_revocations::ActiveModel {
        subject: Set(subject.to_owned()),
        token_id: Set(token_id),
        revoked_before: Set(revoked_before),
        reason: Set(reason.to_owned()),
        revoked_by_subject: Set(who.subject.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    changes::audit(&txn, who, "REVOKE_TOKENS", None, &[row.id]).await?;
    txn.commit().await?;
    Ok(row)
}
