//! `revokeTokens`: an administrator withdraws tokens before they expire. Effective on the
//! revoking instance before the mutation returns, on the others when the event reaches them;
//! open subscriptions of the subject are closed (4403).

use super::time::Time;
use crate::graphql::error::Result;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::DateTime;

use permit_core::auth::revocation::Revocations;
use permit_core::domain::tokens::{self, RevokeInput};
use permit_core::events::{Event, EventBus};

#[derive(InputObject)]
pub struct RevokeTokensInput {
    /// The `sub` whose tokens are withdrawn.
    pub subject: String,
    /// One token's `jti`; without it, every token the subject was issued until now.
    pub token_id: Option<String>,
    /// Why (kept in the audit trail).
    pub reason: String,
}

/// A recorded revocation.
#[derive(SimpleObject)]
pub struct TokenRevocation {
    pub id: ID,
    pub subject: String,
    pub token_id: Option<String>,
    /// Tokens of the subject issued up to this moment are refused (whole-subject revocations).
    pub revoked_before: Time,
    pub reason: String,
    pub revoked_by: String,
    pub created_at: Time,
}

#[derive(Default)]
pub struct TokenMutation;

#[Object]
impl TokenMutation {
    /// Revokes one token (`tokenId`) or all of a subject's tokens issued until now (ADMIN).
    async fn revoke_tokens(
        &self,
        ctx: &Context<'_>,
        input: RevokeTokensInput,
    ) -> Result<TokenRevocation> {
        let db = super::db(ctx)?;
        let row = tokens::revoke(
            db,
            super::principal(ctx),
            RevokeInput {
                subject: input.subject,
                token_id: input.token_id,
                reason: input.reason,
            },
        )
        .await?;
        // The revoker's next request, on any instance it happens to reach, must be refused: this
        // instance reloads now; the others on the event.
        if let Ok(revocations) = ctx.data::<Revocations>()
            && let Err(error) = revocations.reload(db).await
        {
            tracing::warn!(%error, "revocation written but not yet loaded; the next reload will");
        }
        if let Ok(bus) = ctx.data::<EventBus>() {
            bus.publish(Event::TokensRevoked { id: row.id }).await;
        }
        Ok(TokenRevocation {
            id: ID(row.id.to_string()),
            subject: row.subject,
            token_id: row.token_id,
            revoked_before: DateTime::from_timestamp(row.revoked_before, 0)
                .unwrap_or(row.created_at)
                .into(),
            reason: row.reason,
            revoked_by: row.revoked_by_subject,
            created_at: row.created_at.into(),
        })
    }
}
