//! Demo monitoring (issue 17), through the domain: the duties and monitoring plans came with the
//! permits (see `base`); here the first [`AUTOMATIC_PERMITS`] live KEY permits with automatic
//! monitoring get [`DAYS`] days of hourly readings of their main outlets, mostly well within
//! the limit, with a few exceedances and a gap of a few hours (the monitor down), recorded by
//! `monitoring::record_with` as a gateway would, so the EX-1 candidates are the ones the
//! service derives; and the replayed live permits' recent execution reports are recorded by
//! `reports::record`, mostly on time, a few late or missing (ER-1 once
//! `detectViolationCandidates` runs over their due days). Values come from the ids and the
//! hour, so the same seed gives the same rows.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::base::Subject;
use super::{Context, Refused, SeedReport, at_local, principal};
use entity::enums::{ManagementCategory, MonitoringMethod, PermitStatus, ReadingSource};
use entity::{permit_limits, permits};
use permit_core::auth::Role;
use permit_core::domain::monitoring::{Mode, ReadingInput};
use permit_core::domain::permits::{duties_of, limits_of, requirements_of};
use permit_core::domain::reports::{ReportInput, due_on, period_of};
use permit_core::domain::{clock, monitoring, reports};

/// Permits with automatic readings.
const AUTOMATIC_PERMITS: usize = 30;
/// Days of hourly readings before `today`.
const DAYS: i64 = 3;
/// Readings a call, as a gateway batches them.
const BATCH: usize = 500;

pub(super) async fn run(
    db: &DatabaseConnection,
    ctx: &Context,
    subjects: &[Subject],
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let live = permits::Entity::find()
        .filter(permits::Column::Status.eq(PermitStatus::Valid))
        .filter(permits::Column::ValidTo.gte(ctx.today))
        .order_by_asc(permits::Column::Id)
        .all(db)
        .await?;
    (report.readings, report.candidates) = readings(db, ctx, &live).await?;
    let replayed: std::collections::HashSet<i64> = subjects
        .iter()
        .filter(|s| s.replayed)
        .filter_map(|s| s.permit.as_ref().map(|p| p.id))
        .collect();
    for permit in live.iter().filter(|p| replayed.contains(&p.id)) {
        report.execution_reports += execution_reports(db, ctx, permit).await?;
    }
    Ok(())
}

/// Hourly readings of the main outlets' automatic monitoring, through the domain; returns how
/// many, and the candidates they raised.
async fn readings(
    db: &DatabaseConnection,
    ctx: &Context,
    live: &[permits::Model],
) -> Result<(usize, usize), DbErr> {
    let mut out = (0, 0);
    // Midnight of `today` in Chongqing.
    let end = at_local(ctx.today, 0);
    let first_day = ctx.today - Duration::days(DAYS);
    let gateway = permit_core::auth::Principal {
        subject: "demo-hj212-gateway".to_owned(),
        ..principal(Role::Monitoring, "500000-MON")
    };
    let keys = live
        .iter()
        .filter(|p| p.management_category == ManagementCategory::Key);
    let mut done = 0;
    for permit in keys.filter(|p| p.valid_from <= first_day) {
        let plan = requirements_of(db, &[permit.id]).await.refused("a plan")?;
        let automatic = |l: &permit_limits::Model| {
            plan.iter().any(|m| {
                (m.outlet_id, &m.pollutant, m.method)
                    == (l.outlet_id, &l.pollutant, MonitoringMethod::Automatic)
                    && m.retired_in_version.is_none()
            })
        };
        let limits = limits_of(db, &[permit.id]).await.refused("limits")?;
        let current = limits
            .iter()
            .filter(|l| l.retired_in_version.is_none() && automatic(l));
        let inputs: Vec<ReadingInput> = current.flat_map(|l| hours(l, end)).collect();
        if inputs.is_empty() {
            continue;
        }
        for chunk in inputs.chunks(BATCH) {
            let path = |i| format!("readings[{i}]");
            let record = monitoring::record_with(db, Some(&gateway), chunk, path, Mode::Strict);
            let recorded = clock::at(end, record).await.refused("readings")?;
            out.0 += recorded.inserted as usize;
            out.1 += recorded.candidates as usize;
        }
        done += 1;
        if done == AUTOMATIC_PERMITS {
            break;
        }
    }
    Ok(out)
}

/// One limit's hours: a gap of five hours on the second day, about one exceedance a day.
fn hours(limit: &permit_limits::Model, end: DateTime<Utc>) -> Vec<ReadingInput> {
    let (Some(permitted), Some(unit)) = (limit.concentration_limit, &limit.concentration_unit)
    else {
        return Vec::new();
    };
    let gap_start = 24 + limit.id % 12;
    (0..DAYS * 24)
        .filter(|hour| !(gap_start..gap_start + 5).contains(hour))
        .map(|hour| {
            let wave = ((limit.id * 31 + hour * 17) % 50) as f64 / 100.0;
            let exceeds = (limit.id + hour) % 29 == 0;
            let value = permitted * if exceeds { 1.35 } else { 0.25 + wave };
            ReadingInput {
                outlet_id: limit.outlet_id,
                pollutant: limit.pollutant.clone(),
                measured_at: end - Duration::hours(DAYS * 24 - hour),
                value: (value * 100.0).round() / 100.0,
                unit: unit.clone(),
                source: ReadingSource::Automatic,
                flag: None,
            }
        })
        .collect()
}

/// The reports of the last two periods of each of the permit's duties that fell due before `today`, within the
/// permit's validity: on time, but one permit in seven late once and one in eleven missing one.
async fn execution_reports(
    db: &DatabaseConnection,
    ctx: &Context,
    permit: &permits::Model,
) -> Result<usize, DbErr> {
    let who = principal(Role::PermitOfficer, &permit.issuing_agency_code);
    let duties = duties_of(db, &[permit.id]).await.refused("duties")?;
    let mut written = 0;
    for frequency in duties.into_iter().map(|d| d.frequency) {
        let mut day = ctx.today;
        let mut found = 0;
        for n in 0..6 {
            let Some((start, end)) = period_of(frequency, day) else {
                break;
            };
            day = start.pred_opt().unwrap_or(start);
            let due = due_on(frequency, end);
            if due >= ctx.today {
                continue;
            }
            if start < permit.valid_from || found >= 2 {
                break;
            }
            found += 1;
            if permit.id % 11 == 0 && n == 1 {
                continue;
            }
            let late = permit.id % 7 == 0 && found == 1;
            let submitted: NaiveDate = if late {
                due + Duration::days(10)
            } else {
                due - Duration::days(5)
            };
            let submitted = submitted.min(ctx.today);
            let input = ReportInput {
                permit_id: permit.id,
                frequency,
                period_start: start,
                submitted_on: submitted,
                summary: "污染防治设施运行正常，自行监测按计划开展".to_owned(),
            };
            clock::at(
                at_local(submitted, 15 * 3600),
                reports::record(db, Some(&who), input),
            )
            .await
            .refused("an execution report")?;
            written += 1;
        }
    }
    Ok(written)
}
