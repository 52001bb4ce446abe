//! Ledger checks (环境管理台账, Regulation Art 21; issue 17): on an inspection the officer reads
//! the unit's environmental management ledger for a period and records what it found: kept,
//! incomplete, not kept, or untrue. The ledger is a duty of the permit, so a check rests on the
//! permit valid on the inspection's day; the Regulation keeps ledgers five years, so the period
//! lies within the five years before the inspection.
//!
//! A check that found the ledger wanting raises a violation candidate for the officer to
//! confirm as a finding: LG-1 (not kept, Art 37(1)) for INCOMPLETE and NOT_KEPT, LG-2 (untrue,
//! Art 37(2)) for UNTRUE. Checks are read with their inspection.

use chrono::{Months, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::clock;
use crate::domain::{candidates, changes, permits};
use crate::error::{AppError, AppResult};
use entity::enums::{LedgerResult, PermitStatus};
use entity::{inspections, ledger_checks as rows};

/// How long a unit keeps its ledger (Art 21: at least five years).
pub const RETENTION_YEARS: u32 = 5;

/// Ledger checks of one inspection: a month each over the five years kept.
pub const MAX_PER_INSPECTION: u64 = 60;

pub struct LedgerCheckInput {
    pub inspection_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub result: LedgerResult,
    pub note: Option<String>,
}

/// A recorded check, and the candidate it raised, if any.
pub struct Recorded {
    pub check: rows::Model,
    pub candidate: Option<i64>,
}

/// Records a ledger check of an inspection (ENFORCEMENT_OFFICER in scope, ADMIN).
pub async fn record(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: LedgerCheckInput,
) -> AppResult<Recorded> {
    let principal = access::authorize(principal, Operation::WriteEnforcement)?;
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::invalid("input.note", "at most 2000 characters"));
    }
    if input.result != LedgerResult::Kept && note.is_none() {
        return Err(AppError::invalid(
            "input.note",
            "say what was missing or untrue when the ledger is not KEPT",
        ));
    }
    if input.period_end < input.period_start {
        return Err(AppError::invalid(
            "input.periodEnd",
            "on or after input.periodStart",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let inspection = inspections::Entity::find_by_id(input.inspection_id)
        .filter(access::district_filter(
            principal,
            inspections::Column::DistrictCode,
        ))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("inspection {}", input.inspection_id)))?;
    access::check_district(principal, &inspection.district_code)?;
    let day = inspection.inspection_date;
    if input.period_end > day {
        return Err(AppError::invalid(
            "input.periodEnd",
            format!("on or before the inspection's day, {day}"),
        ));
    }
    let kept_since = day
        .checked_sub_months(Months::new(12 * RETENTION_YEARS))
        .unwrap_or(day);
    if input.period_start < kept_since {
        return Err(AppError::invalid(
            "input.periodStart",
            format!("a ledger is kept {RETENTION_YEARS} years (Art 21): on or after {kept_since}"),
        ));
    }
    let recorded = rows::Entity::find()
        .filter(rows::Column::InspectionId.eq(inspection.id))
        .count(&txn)
        .await?;
    if recorded >= MAX_PER_INSPECTION {
        return Err(AppError::invalid(
            "input.inspectionId",
            format!("an inspection records at most {MAX_PER_INSPECTION} ledger checks"),
        ));
    }
    let permit = permits::standing_on(&txn, inspection.unit_id, day)
        .await?
        .into_iter()
        .find(|(_, status)| *status == Some(PermitStatus::Valid))
        .map(|(p, _)| p)
        .ok_or_else(|| {
            AppError::invalid(
                "input.inspectionId",
                format!(
                    "the unit held no valid permit on {day}: the ledger is a permit's duty (without one, NP-1 or NP-2)"
                ),
            )
        })?;
    let check = rows::ActiveModel {
        inspection_id: Set(inspection.id),
        permit_id: Set(permit.id),
        unit_id: Set(inspection.unit_id),
        district_code: Set(inspection.district_code.clone()),
        period_start: Set(input.period_start),
        period_end: Set(input.period_end),
        result: Set(input.result),
        note: Set(note.map(str::to_owned)),
        recorded_by_subject: Set(principal.subject.clone()),
        recorded_by_agency: Set(principal.agency_code.clone()),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let candidate = candidates::of_ledger_check(&txn, principal, &check).await?;
    changes::audit(&txn, principal, "RECORD_LEDGER_CHECK", None, &[check.id]).await?;
    txn.commit().await?;
    Ok(Recorded { check, candidate })
}

/// The checks of inspections (read through an inspection the caller may read), by period.
pub async fn of_inspections(
    db: &impl ConnectionTrait,
    inspection_ids: &[i64],
) -> AppResult<Vec<rows::Model>> {
    Ok(rows::Entity::find()
        .filter(rows::Column::InspectionId.is_in(inspection_ids.iter().copied()))
        .order_by_asc(rows::Column::PeriodStart)
        .order_by_asc(rows::Column::Id)
        .all(db)
        .await?)
}
