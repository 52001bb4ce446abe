//! Enforcement actions: the decisions taken on a finding (fines, daily penalties, permit
//! withdrawals), coded to the articles that provide them.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::NaiveDate;

use super::FINDING;
use crate::graphql::enums::EnforcementActionKind;
use crate::graphql::error::Result;
use crate::graphql::reference::{Agency, load_agency};
use crate::graphql::time::Time;
use crate::graphql::{self, ids};
use entity::enforcement_actions;
use permit_core::domain::cases;

/// An enforcement decision on a finding.
pub struct EnforcementAction(pub enforcement_actions::Model);

#[Object]
impl EnforcementAction {
    async fn id(&self) -> ID {
        ids::encode("EnforcementAction", self.0.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<graphql::history::Provenance>> {
        graphql::history::provenance(
            ctx,
            permit_core::domain::changes::ChangeKind::EnforcementAction,
            self.0.id,
        )
        .await
    }
    async fn kind(&self) -> EnforcementActionKind {
        self.0.kind.into()
    }
    /// 处罚决定书文号 (unique).
    async fn decision_number(&self) -> &str {
        &self.0.decision_number
    }
    async fn decided_on(&self) -> NaiveDate {
        self.0.decided_on
    }
    /// Fine, or the daily amount of a daily continuous penalty, in yuan.
    async fn amount_yuan(&self) -> Option<i64> {
        self.0.amount_yuan
    }
    /// Days of a daily continuous penalty.
    async fn days(&self) -> Option<i32> {
        self.0.days
    }
    /// Amount × days for a daily penalty; the amount otherwise.
    async fn total_yuan(&self) -> Option<i64> {
        self.0
            .amount_yuan
            .map(|a| a * i64::from(self.0.days.unwrap_or(1)))
    }
    /// Flagged for public exposure as a typical case (典型案例).
    async fn typical_case(&self) -> bool {
        self.0.typical_case
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, Some(&self.0.agency_code)).await
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
}

#[derive(InputObject)]
pub struct RecordEnforcementActionInput {
    finding_id: ID,
    kind: EnforcementActionKind,
    decision_number: String,
    decided_on: NaiveDate,
    /// Fines (within the article's range) and the daily amount of a daily penalty.
    amount_yuan: Option<i64>,
    /// Days of a daily continuous penalty.
    days: Option<i32>,
    #[graphql(default)]
    typical_case: bool,
    notes: Option<String>,
}

#[derive(Default)]
pub struct ActionMutation;

#[Object]
impl ActionMutation {
    /// Records an enforcement decision; a permit withdrawal withdraws the permit in the same
    /// transaction. Fines outside the article's range are refused.
    async fn record_enforcement_action(
        &self,
        ctx: &Context<'_>,
        input: RecordEnforcementActionInput,
        idempotency_key: Option<String>,
    ) -> Result<EnforcementAction> {
        let input = cases::RecordActionInput {
            finding_id: ids::decode(FINDING, "input.findingId", &input.finding_id)?,
            kind: input.kind.into(),
            decision_number: input.decision_number,
            decided_on: input.decided_on,
            amount_yuan: input.amount_yuan,
            days: input.days,
            typical_case: input.typical_case,
            notes: input.notes,
        };
        let saved = cases::record(
            graphql::db(ctx)?,
            graphql::principal(ctx),
            input,
            idempotency_key.as_deref(),
        )
        .await?;
        Ok(EnforcementAction(saved))
    }
}
