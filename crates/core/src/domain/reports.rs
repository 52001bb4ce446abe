//! Execution reports (执行报告, Regulation Art 22; issue 17): a unit reports on its permit
//! annually, and semi-annually, quarterly or monthly as the permit's duties say
//! (`report_duties`). A report covers one period of its frequency (calendar months, quarters,
//! halves or years) and is due a set time after the period ends (`due_on`: 15 days for
//! monthly, quarterly and semi-annual reports, the end of January for the annual one, as the
//! national guidance HJ 944 has it). ER-1 candidates (`candidates::detect`) are the periods
//! whose report is missing or came after its due day.
//!
//! The permit office records the reports it receives (PERMIT_OFFICER in scope, ADMIN); they
//! are read with the permit.

use chrono::{Datelike, Duration, Months, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes;
use crate::domain::clock;
use crate::error::{AppError, AppResult};
use entity::enums::ReportFrequency;
use entity::{execution_reports as rows, permits, report_duties};

fn months(frequency: ReportFrequency) -> u32 {
    match frequency {
        ReportFrequency::Monthly => 1,
        ReportFrequency::Quarterly => 3,
        ReportFrequency::Semiannual => 6,
        ReportFrequency::Annual => 12,
    }
}

/// The period of `frequency` that starts on `start`, if `start` begins one.
pub fn period(frequency: ReportFrequency, start: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let span = months(frequency);
    if start.day() != 1 || !(start.month() - 1).is_multiple_of(span) {
        return None;
    }
    let end = start.checked_add_months(Months::new(span))?.pred_opt()?;
    Some((start, end))
}

/// The period of `frequency` that contains `day`.
pub fn period_of(frequency: ReportFrequency, day: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let span = months(frequency);
    let month = (day.month() - 1) / span * span + 1;
    period(frequency, NaiveDate::from_ymd_opt(day.year(), month, 1)?)
}

/// The last day a report of the period ending on `end` is on time.
pub fn due_on(frequency: ReportFrequency, end: NaiveDate) -> NaiveDate {
    match frequency {
        ReportFrequency::Annual => end + Duration::days(31),
        _ => end + Duration::days(15),
    }
}

pub struct ReportInput {
    pub permit_id: i64,
    pub frequency: ReportFrequency,
    pub period_start: NaiveDate,
    pub submitted_on: NaiveDate,
    pub summary: String,
}

/// Records a submitted execution report (PERMIT_OFFICER in scope, ADMIN).
pub async fn record(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: ReportInput,
) -> AppResult<rows::Model> {
    let principal = access::authorize(principal, Operation::WritePermits)?;
    let summary = input.summary.trim();
    if summary.is_empty() || summary.chars().count() > 4000 {
        return Err(AppError::invalid("input.summary", "1 to 4000 characters"));
    }
    let (start, end) = period(input.frequency, input.period_start).ok_or_else(|| {
        AppError::invalid(
            "input.periodStart",
            "the first day of a calendar month, quarter, half or year of the frequency",
        )
    })?;
    if input.submitted_on <= end {
        return Err(AppError::invalid(
            "input.submittedOn",
            format!("after the period, which ends on {end}"),
        ));
    }
    if input.submitted_on > clock::today() {
        return Err(AppError::invalid("input.submittedOn", "not in the future"));
    }
    let txn = crate::db::begin_write(db).await?;
    let permit = permits::Entity::find_by_id(input.permit_id)
        .filter(access::district_filter(
            principal,
            permits::Column::DistrictCode,
        ))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("permit {}", input.permit_id)))?;
    access::check_district(principal, &permit.district_code)?;
    let duty = report_duties::Entity::find()
        .filter(report_duties::Column::PermitId.eq(permit.id))
        .filter(report_duties::Column::Frequency.eq(input.frequency))
        .one(&txn)
        .await?;
    if duty.is_none() {
        return Err(AppError::invalid(
            "input.frequency",
            format!("permit {} requires no such report", permit.permit_number),
        ));
    }
    let saved = rows::ActiveModel {
        permit_id: Set(permit.id),
        unit_id: Set(permit.unit_id),
        district_code: Set(permit.district_code.clone()),
        frequency: Set(input.frequency),
        period_start: Set(start),
        period_end: Set(end),
        submitted_on: Set(input.submitted_on),
        summary: Set(summary.to_owned()),
        recorded_by_subject: Set(principal.subject.clone()),
        recorded_by_agency: Set(principal.agency_code.clone()),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    changes::audit(
        &txn,
        principal,
        "RECORD_EXECUTION_REPORT",
        None,
        &[saved.id],
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The reports of permits (read through a permit the caller may read).
pub async fn of_permits(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<rows::Model>> {
    Ok(rows::Entity::find()
        .filter(rows::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(rows::Column::PeriodStart)
        .order_by_asc(rows::Column::Id)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn periods_are_calendar_periods() {
        use ReportFrequency::*;
        assert_eq!(
            period(Quarterly, day(2026, 4, 1)),
            Some((day(2026, 4, 1), day(2026, 6, 30)))
        );
        assert_eq!(period(Quarterly, day(2026, 5, 1)), None);
        assert_eq!(period(Monthly, day(2026, 5, 2)), None);
        assert_eq!(
            period_of(Semiannual, day(2026, 8, 9)),
            Some((day(2026, 7, 1), day(2026, 12, 31)))
        );
        assert_eq!(due_on(Annual, day(2025, 12, 31)), day(2026, 1, 31));
        assert_eq!(due_on(Quarterly, day(2026, 3, 31)), day(2026, 4, 15));
    }
}
