//! Execution reports (执行报告, Art 22) the permit office received.

use async_graphql::{Context, ID, InputObject, Object};

use crate::graphql::enums::ReportFrequency;
use crate::graphql::error::Result;
use crate::graphql::permits::PERMIT;
use crate::graphql::{self, ids};

/// An execution report (执行报告, Art 22) submitted for one period of a permit's duty.
pub struct ExecutionReport(pub entity::execution_reports::Model);

#[Object]
impl ExecutionReport {
    async fn id(&self) -> ID {
        ids::encode("ExecutionReport", self.0.id)
    }
    async fn frequency(&self) -> ReportFrequency {
        self.0.frequency.into()
    }
    async fn period_start(&self) -> chrono::NaiveDate {
        self.0.period_start
    }
    async fn period_end(&self) -> chrono::NaiveDate {
        self.0.period_end
    }
    /// The last day it was on time.
    async fn due_on(&self) -> chrono::NaiveDate {
        permit_core::domain::reports::due_on(self.0.frequency, self.0.period_end)
    }
    async fn submitted_on(&self) -> chrono::NaiveDate {
        self.0.submitted_on
    }
    async fn late(&self) -> bool {
        self.0.submitted_on
            > permit_core::domain::reports::due_on(self.0.frequency, self.0.period_end)
    }
    /// What the report says, in brief.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
}

pub(crate) async fn reports_of(ctx: &Context<'_>, permit_id: i64) -> Result<Vec<ExecutionReport>> {
    Ok(
        graphql::load_one(ctx, graphql::loaders::ReportsOfPermit(permit_id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ExecutionReport)
            .collect(),
    )
}

#[derive(InputObject)]
pub struct RecordExecutionReportInput {
    permit_id: ID,
    /// A frequency the permit's `reportDuties` name.
    frequency: ReportFrequency,
    /// The first day of the period (a calendar month, quarter, half or year).
    period_start: chrono::NaiveDate,
    /// After the period; not in the future.
    submitted_on: chrono::NaiveDate,
    /// What the report says, in brief (one line).
    summary: String,
}

#[derive(Default)]
pub struct ExecutionReportMutation;

#[Object]
impl ExecutionReportMutation {
    /// Records an execution report the permit office received (PERMIT_OFFICER in scope,
    /// ADMIN). One per permit, frequency and period (`CONFLICT` on `input.periodStart`).
    async fn record_execution_report(
        &self,
        ctx: &Context<'_>,
        input: RecordExecutionReportInput,
    ) -> Result<ExecutionReport> {
        let saved = permit_core::domain::reports::record(
            graphql::db(ctx)?,
            graphql::principal(ctx),
            permit_core::domain::reports::ReportInput {
                permit_id: ids::decode(PERMIT, "input.permitId", &input.permit_id)?,
                frequency: input.frequency.into(),
                period_start: input.period_start,
                submitted_on: input.submitted_on,
                summary: input.summary,
            },
        )
        .await?;
        Ok(ExecutionReport(saved))
    }
}
