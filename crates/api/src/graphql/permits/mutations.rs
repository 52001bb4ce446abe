//! The permit mutations: `issuePermit`, `changePermit`, `renewPermit`, `revokePermit`,
//! `cancelPermit`, `withdrawPermit`, and `registerDischarge`, with their inputs.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::NaiveDate;

use super::{PERMIT, Permit};
use crate::graphql::enums::{
    AveragingPeriod, MonitoringFrequency, MonitoringMethod, OutletCategory, ReportFrequency,
};
use crate::graphql::error::Result;
use crate::graphql::ids;
use crate::graphql::units::{Registration, UNIT};
use permit_core::domain::permits::{self as rules, PermitAction, PermitChange};
use permit_core::domain::registrations;

#[derive(InputObject)]
pub struct LimitInput {
    pollutant: String,
    concentration_limit: Option<f64>,
    /// Air: `mg/m³` (or `mg/m3`), `μg/m³`, `ng-TEQ/m³`; water: `mg/L`, `μg/L`; pH: `无量纲`.
    concentration_unit: Option<String>,
    averaging_period: Option<AveragingPeriod>,
    annual_quantity_tpa: Option<f64>,
}

#[derive(InputObject)]
pub struct OutletInput {
    /// `DA###` (air) or `DW###` (water).
    code: String,
    category: OutletCategory,
    name: Option<String>,
    #[graphql(default)]
    limits: Vec<LimitInput>,
    /// The self-monitoring plan of the outlet: each pollutant once.
    #[graphql(default)]
    monitoring: Vec<MonitoringInput>,
}

#[derive(InputObject)]
pub struct MonitoringInput {
    pollutant: String,
    method: MonitoringMethod,
    frequency: MonitoringFrequency,
}

impl From<OutletInput> for rules::OutletInput {
    fn from(o: OutletInput) -> Self {
        Self {
            code: o.code,
            category: o.category.into(),
            name: o.name,
            limits: o
                .limits
                .into_iter()
                .map(|l| rules::LimitInput {
                    pollutant: l.pollutant,
                    concentration_limit: l.concentration_limit,
                    concentration_unit: l.concentration_unit,
                    averaging_period: l.averaging_period.map(Into::into),
                    annual_quantity_tpa: l.annual_quantity_tpa,
                })
                .collect(),
            monitoring: o
                .monitoring
                .into_iter()
                .map(|m| rules::MonitoringInput {
                    pollutant: m.pollutant,
                    method: m.method.into(),
                    frequency: m.frequency.into(),
                })
                .collect(),
        }
    }
}

#[derive(InputObject)]
pub struct IssuePermitInput {
    unit_id: ID,
    /// HJ 608 number; must start with the unit's credit code. Assigned when absent.
    permit_number: Option<String>,
    /// Defaults to the caller's agency (a permit office).
    issuing_agency_code: Option<String>,
    issued_on: Option<NaiveDate>,
    valid_from: NaiveDate,
    /// Defaults to five years (Art 14) from `validFrom`, which is also the maximum.
    valid_to: Option<NaiveDate>,
    outlets: Vec<OutletInput>,
    /// The execution reports the permit requires (Art 22; HJ 944: annual, and quarterly or
    /// monthly for KEY units as the permit says), each frequency once.
    #[graphql(default)]
    report_duties: Vec<ReportFrequency>,
}

#[derive(InputObject)]
pub struct ChangePermitInput {
    reason: String,
    /// Replaces all outlets and limits (and their monitoring plans).
    outlets: Option<Vec<OutletInput>>,
    valid_to: Option<NaiveDate>,
    /// Replaces the execution-report duties.
    report_duties: Option<Vec<ReportFrequency>>,
}

#[derive(InputObject)]
pub struct RenewPermitInput {
    reason: String,
    /// Defaults to five years after the current end.
    valid_to: Option<NaiveDate>,
}

#[derive(InputObject)]
pub struct RegisterDischargeInput {
    unit_id: ID,
    registered_on: Option<NaiveDate>,
}

#[derive(Default)]
pub struct PermitMutation;

async fn apply(
    ctx: &Context<'_>,
    id: ID,
    expected_version: i32,
    action: PermitAction,
    change: PermitChange,
) -> Result<Permit> {
    let id = ids::decode(PERMIT, "id", &id)?;
    let permit = rules::apply(
        crate::graphql::db(ctx)?,
        crate::graphql::principal(ctx),
        id,
        expected_version,
        action,
        change,
    )
    .await?;
    Ok(Permit::from(permit))
}

#[Object]
impl PermitMutation {
    /// Issues a permit with its outlets and limits, in one transaction. Retry-safe with
    /// `idempotencyKey`. Refused when the validity overlaps a live permit of the unit.
    async fn issue_permit(
        &self,
        ctx: &Context<'_>,
        input: IssuePermitInput,
        idempotency_key: Option<String>,
    ) -> Result<Permit> {
        let input = rules::IssuePermitInput {
            unit_id: ids::decode(UNIT, "input.unitId", &input.unit_id)?,
            permit_number: input.permit_number,
            issuing_agency_code: input.issuing_agency_code,
            issued_on: input.issued_on,
            valid_from: input.valid_from,
            valid_to: input.valid_to,
            outlets: input.outlets.into_iter().map(Into::into).collect(),
            report_duties: input.report_duties.into_iter().map(Into::into).collect(),
        };
        let permit = rules::issue(
            crate::graphql::db(ctx)?,
            crate::graphql::principal(ctx),
            input,
            idempotency_key.as_deref(),
        )
        .await?;
        Ok(Permit::from(permit))
    }

    /// Changes the permitted items (变更): a new version; history is kept.
    async fn change_permit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: ChangePermitInput,
    ) -> Result<Permit> {
        let change = PermitChange {
            reason: input.reason,
            outlets: input
                .outlets
                .map(|o| o.into_iter().map(Into::into).collect()),
            valid_to: input.valid_to,
            report_duties: input
                .report_duties
                .map(|d| d.into_iter().map(Into::into).collect()),
        };
        apply(ctx, id, expected_version, PermitAction::Change, change).await
    }

    /// Renews a valid permit (延续) for a new period starting the day after it ends.
    async fn renew_permit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: RenewPermitInput,
    ) -> Result<Permit> {
        let change = PermitChange {
            reason: input.reason,
            outlets: None,
            valid_to: input.valid_to,
            report_duties: None,
        };
        apply(ctx, id, expected_version, PermitAction::Renew, change).await
    }

    /// Revokes (撤销) a permit obtained improperly.
    async fn revoke_permit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> Result<Permit> {
        apply(
            ctx,
            id,
            expected_version,
            PermitAction::Revoke,
            PermitChange {
                reason,
                ..Default::default()
            },
        )
        .await
    }

    /// Cancels (注销) a permit: unit closed, or expired without renewal.
    async fn cancel_permit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> Result<Permit> {
        apply(
            ctx,
            id,
            expected_version,
            PermitAction::Cancel,
            PermitChange {
                reason,
                ..Default::default()
            },
        )
        .await
    }

    /// Withdraws (吊销) a permit as a penalty.
    async fn withdraw_permit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> Result<Permit> {
        apply(
            ctx,
            id,
            expected_version,
            PermitAction::Withdraw,
            PermitChange {
                reason,
                ..Default::default()
            },
        )
        .await
    }

    /// Registers a REGISTRATION-tier unit's discharge (排污登记). Retry-safe with `idempotencyKey`.
    async fn register_discharge(
        &self,
        ctx: &Context<'_>,
        input: RegisterDischargeInput,
        idempotency_key: Option<String>,
    ) -> Result<Registration> {
        let input = registrations::RegisterDischargeInput {
            unit_id: ids::decode(UNIT, "input.unitId", &input.unit_id)?,
            registered_on: input.registered_on,
        };
        let saved = registrations::register(
            crate::graphql::db(ctx)?,
            crate::graphql::principal(ctx),
            input,
            idempotency_key.as_deref(),
        )
        .await?;
        Ok(Registration(saved))
    }
}
