//! Ledger checks: what an inspection found of a unit's environmental management ledger (台账,
//! Art 21), and the candidate a ledger not kept raises.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::ViolationCandidate;
use super::candidates::announce_candidates;
use crate::graphql::enums::LedgerResult;
use crate::graphql::error::Result;
use crate::graphql::loaders::PermitId;
use crate::graphql::permits::Permit;
use crate::graphql::{self, ids};

/// What an inspection found of the unit's environmental management ledger (台账, Art 21) for a
/// period, under the permit valid on the inspection's day.
pub struct LedgerCheck {
    row: entity::ledger_checks::Model,
    /// Whether the caller may read the note (the inspection's case-text rule).
    note_visible: bool,
}

impl LedgerCheck {
    pub fn new(row: entity::ledger_checks::Model, note_visible: bool) -> Self {
        Self { row, note_visible }
    }
}

#[Object]
impl LedgerCheck {
    async fn id(&self) -> ID {
        ids::encode("LedgerCheck", self.row.id)
    }
    async fn period_start(&self) -> chrono::NaiveDate {
        self.row.period_start
    }
    async fn period_end(&self) -> chrono::NaiveDate {
        self.row.period_end
    }
    async fn result(&self) -> LedgerResult {
        self.row.result.into()
    }
    /// What was missing or untrue. Null where the inspection's notes are (case text).
    async fn note(&self) -> Option<&str> {
        self.note_visible
            .then_some(self.row.note.as_deref())
            .flatten()
    }
    /// The permit whose ledger duty was checked: the one valid on the inspection's day.
    async fn permit(&self, ctx: &Context<'_>) -> Result<Option<Permit>> {
        Ok(graphql::load_one(ctx, PermitId(self.row.permit_id))
            .await?
            .map(Permit::from))
    }
}

#[derive(InputObject)]
pub struct RecordLedgerCheckInput {
    inspection_id: ID,
    /// The first day of the ledger's period checked; within the five years a ledger is kept.
    period_start: chrono::NaiveDate,
    /// The last day of the period; on or before the inspection's day.
    period_end: chrono::NaiveDate,
    result: LedgerResult,
    /// What was missing or untrue: required unless the ledger was KEPT.
    note: Option<String>,
}

/// A recorded ledger check and the candidate it raised (LG-1 or LG-2), if any.
#[derive(SimpleObject)]
pub struct LedgerCheckRecorded {
    ledger_check: LedgerCheck,
    candidate: Option<ViolationCandidate>,
}

#[derive(Default)]
pub struct LedgerCheckMutation;

#[Object]
impl LedgerCheckMutation {
    /// Records what an inspection found of the unit's ledger for a period (ENFORCEMENT_OFFICER
    /// in scope, ADMIN). A ledger not KEPT raises a candidate to confirm as a finding: LG-1
    /// (INCOMPLETE, NOT_KEPT) or LG-2 (UNTRUE). One per inspection and period start
    /// (`CONFLICT` on `input.periodStart`).
    async fn record_ledger_check(
        &self,
        ctx: &Context<'_>,
        input: RecordLedgerCheckInput,
    ) -> Result<LedgerCheckRecorded> {
        let db = graphql::db(ctx)?;
        let recorded = permit_core::domain::ledgers::record(
            db,
            graphql::principal(ctx),
            permit_core::domain::ledgers::LedgerCheckInput {
                inspection_id: ids::decode(
                    graphql::enforcement::INSPECTION,
                    "input.inspectionId",
                    &input.inspection_id,
                )?,
                period_start: input.period_start,
                period_end: input.period_end,
                result: input.result.into(),
                note: input.note,
            },
        )
        .await?;
        let candidate = match recorded.candidate {
            Some(id) => {
                announce_candidates(ctx, 1).await;
                permit_core::domain::candidates::get(db, graphql::principal(ctx), id)
                    .await?
                    .map(ViolationCandidate::new)
            }
            None => None,
        };
        Ok(LedgerCheckRecorded {
            ledger_check: LedgerCheck::new(recorded.check, true),
            candidate,
        })
    }
}
