//! Demo monitoring data (issue 17), laid over the seeded permits: every live permit gets its
//! execution-report duties (annual; quarterly too for KEY units) and a self-monitoring plan
//! for each current limit (automatic and hourly at a KEY unit's main outlets, by hand and
//! monthly elsewhere); the first `AUTOMATIC_PERMITS` KEY permits valid over the last
//! `DAYS` days get hourly automatic readings of their main outlets, mostly well within the
//! limit, with a few exceedances (flag `N`, above the limit) and a gap of a few hours (the
//! monitor down). Values come from the ids and the hour, so the same seed gives the same rows.
//! The exceedances get their EX-1 candidates, as the service derives them on write; and the
//! live permits' recent execution reports are there, mostly on time, a few late or missing
//! (ER-1 once `detectViolationCandidates` runs over their due days).

use chrono::{Duration, NaiveTime, TimeZone, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use entity::enums::{
    ManagementCategory, MonitoringFrequency, MonitoringMethod, OutletCategory, PermitStatus,
    ReadingSource, ReportFrequency,
};
use entity::{monitoring_requirements, outlets, permit_limits, permits, readings, report_duties};

/// Permits with automatic readings.
const AUTOMATIC_PERMITS: usize = 30;
/// Days of hourly readings before `today`.
const DAYS: i64 = 3;
/// Rows a statement (14 columns stay well under either database's parameter limit).
const CHUNK: usize = 1000;

/// What was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct MonitoringReport {
    pub requirements: usize,
    pub duties: usize,
    pub readings: usize,
    pub candidates: usize,
    pub reports: usize,
}

pub async fn seed(
    db: &DatabaseConnection,
    today: chrono::NaiveDate,
) -> Result<MonitoringReport, DbErr> {
    let txn = db.begin().await?;
    let mut report = MonitoringReport::default();
    let first_day = today - Duration::days(DAYS);
    let live = permits::Entity::find()
        .filter(permits::Column::Status.eq(PermitStatus::Valid))
        .filter(permits::Column::ValidFrom.lte(first_day))
        .filter(permits::Column::ValidTo.gte(today))
        .order_by_asc(permits::Column::Id)
        .all(&txn)
        .await?;
    let ids: Vec<i64> = live.iter().map(|p| p.id).collect();
    let current_outlets = outlets::Entity::find()
        .filter(outlets::Column::PermitId.is_in(ids.iter().copied()))
        .filter(outlets::Column::RetiredInVersion.is_null())
        .all(&txn)
        .await?;
    let current_limits = permit_limits::Entity::find()
        .filter(permit_limits::Column::PermitId.is_in(ids.iter().copied()))
        .filter(permit_limits::Column::RetiredInVersion.is_null())
        .order_by_asc(permit_limits::Column::Id)
        .all(&txn)
        .await?;
    let mut duties = Vec::new();
    let mut reports = Vec::new();
    let mut plan = Vec::new();
    let mut rows = Vec::new();
    let mut automatic_permits = 0;
    // Midnight of `today` in Chongqing, as Unix seconds.
    let china = permit_core::domain::clock::service_offset();
    let end = china
        .from_local_datetime(&today.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let created = end;
    for permit in &live {
        let key = permit.management_category == ManagementCategory::Key;
        for frequency in [ReportFrequency::Annual, ReportFrequency::Quarterly] {
            if frequency == ReportFrequency::Annual || key {
                reports.extend(recent_reports(permit, frequency, today, created));
                duties.push(report_duties::ActiveModel {
                    permit_id: sea_orm::Set(permit.id),
                    frequency: sea_orm::Set(frequency),
                    since_version: sea_orm::Set(1),
                    retired_in_version: sea_orm::Set(None),
                    ..Default::default()
                });
            }
        }
        let with_readings = key && automatic_permits < AUTOMATIC_PERMITS;
        let mut any_readings = false;
        for outlet in current_outlets.iter().filter(|o| o.permit_id == permit.id) {
            let main = outlet.category == OutletCategory::Main;
            for limit in current_limits.iter().filter(|l| l.outlet_id == outlet.id) {
                let automatic = key && main;
                plan.push(monitoring_requirements::ActiveModel {
                    permit_id: sea_orm::Set(permit.id),
                    outlet_id: sea_orm::Set(outlet.id),
                    pollutant: sea_orm::Set(limit.pollutant.clone()),
                    method: sea_orm::Set(if automatic {
                        MonitoringMethod::Automatic
                    } else {
                        MonitoringMethod::Manual
                    }),
                    frequency: sea_orm::Set(if automatic {
                        MonitoringFrequency::Hourly
                    } else {
                        MonitoringFrequency::Monthly
                    }),
                    // In force with the limit it monitors.
                    since_version: sea_orm::Set(limit.since_version),
                    retired_in_version: sea_orm::Set(None),
                    ..Default::default()
                });
                let (Some(permitted), Some(unit)) =
                    (limit.concentration_limit, limit.concentration_unit.clone())
                else {
                    continue;
                };
                if !(with_readings && automatic) {
                    continue;
                }
                any_readings = true;
                // A gap of five hours on the second day; one exceedance a day or so.
                let gap_start = 24 + limit.id % 12;
                for hour in 0..DAYS * 24 {
                    if (gap_start..gap_start + 5).contains(&hour) {
                        continue;
                    }
                    let wave = ((limit.id * 31 + hour * 17) % 50) as f64 / 100.0;
                    let exceed = (limit.id + hour) % 29 == 0;
                    let value = if exceed {
                        permitted * 1.35
                    } else {
                        permitted * (0.25 + wave)
                    };
                    let at = end - Duration::hours(DAYS * 24 - hour);
                    rows.push(readings::ActiveModel {
                        outlet_id: sea_orm::Set(outlet.id),
                        permit_id: sea_orm::Set(permit.id),
                        unit_id: sea_orm::Set(permit.unit_id),
                        district_code: sea_orm::Set(permit.district_code.clone()),
                        pollutant: sea_orm::Set(limit.pollutant.clone()),
                        measured_at: sea_orm::Set(at.timestamp()),
                        value: sea_orm::Set((value * 100.0).round() / 100.0),
                        unit: sea_orm::Set(unit.clone()),
                        source: sea_orm::Set(ReadingSource::Automatic),
                        flag: sea_orm::Set(permit_core::domain::monitoring::NORMAL.to_owned()),
                        recorded_by_subject: sea_orm::Set("demo-hj212-gateway".to_owned()),
                        recorded_by_agency: sea_orm::Set(Some("500000-MON".to_owned())),
                        created_at: sea_orm::Set(created),
                        ..Default::default()
                    });
                }
            }
        }
        automatic_permits += usize::from(any_readings);
    }
    report.duties = duties.len();
    report.requirements = plan.len();
    report.readings = rows.len();
    for chunk in chunks(duties) {
        report_duties::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in chunks(plan) {
        monitoring_requirements::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in chunks(rows) {
        readings::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    report.reports = reports.len();
    for chunk in chunks(reports) {
        entity::execution_reports::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    report.candidates = exceedance_candidates(&txn, created).await?;
    txn.commit().await?;
    Ok(report)
}

/// The reports of the last four periods of a duty that fell due before `today` (within the
/// permit's validity): on time, but one permit in seven late and one in eleven missing one.
fn recent_reports(
    permit: &permits::Model,
    frequency: ReportFrequency,
    today: chrono::NaiveDate,
    created: chrono::DateTime<Utc>,
) -> Vec<entity::execution_reports::ActiveModel> {
    use permit_core::domain::reports::{due_on, period_of};
    let mut out = Vec::new();
    let mut day = today;
    for n in 0..8 {
        let Some((start, end)) = period_of(frequency, day) else {
            break;
        };
        day = start.pred_opt().unwrap_or(start);
        let due = due_on(frequency, end);
        if due >= today {
            continue;
        }
        if start < permit.valid_from || out.len() >= 4 {
            break;
        }
        if permit.id % 11 == 0 && n == 1 {
            continue;
        }
        let submitted = if permit.id % 7 == 0 && n == 1 {
            due + Duration::days(10)
        } else {
            due - Duration::days(5)
        };
        out.push(entity::execution_reports::ActiveModel {
            permit_id: sea_orm::Set(permit.id),
            unit_id: sea_orm::Set(permit.unit_id),
            district_code: sea_orm::Set(permit.district_code.clone()),
            frequency: sea_orm::Set(frequency),
            period_start: sea_orm::Set(start),
            period_end: sea_orm::Set(end),
            submitted_on: sea_orm::Set(submitted.min(today)),
            summary: sea_orm::Set("污染防治设施运行正常，自行监测按计划开展".to_owned()),
            recorded_by_subject: sea_orm::Set("demo-national-platform".to_owned()),
            recorded_by_agency: sea_orm::Set(None),
            created_at: sea_orm::Set(created),
            ..Default::default()
        });
    }
    out
}

/// EX-1 candidates of the seeded readings above their current limit, found in SQL.
async fn exceedance_candidates(
    txn: &sea_orm::DatabaseTransaction,
    detected: chrono::DateTime<Utc>,
) -> Result<usize, DbErr> {
    use entity::enums::CandidateStatus;
    use sea_orm::{ConnectionTrait, Statement};
    let backend = txn.get_database_backend();
    let found = txn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT r.id, r.district_code, r.unit_id, r.permit_id, r.outlet_id, r.pollutant, \
                    r.value, r.unit, l.concentration_limit \
             FROM readings r JOIN permit_limits l ON l.outlet_id = r.outlet_id \
                  AND l.pollutant = r.pollutant AND l.retired_in_version IS NULL \
             WHERE r.flag = 'N' AND r.value > l.concentration_limit \
             ORDER BY r.id"
                .to_owned(),
        ))
        .await?;
    let mut rows = Vec::with_capacity(found.len());
    for row in found {
        let id: i64 = row.try_get_by_index(0)?;
        rows.push(entity::violation_candidates::ActiveModel {
            code: sea_orm::Set(permit_core::domain::candidates::EX1.to_owned()),
            district_code: sea_orm::Set(row.try_get_by_index(1)?),
            unit_id: sea_orm::Set(row.try_get_by_index(2)?),
            permit_id: sea_orm::Set(row.try_get_by_index(3)?),
            outlet_id: sea_orm::Set(Some(row.try_get_by_index(4)?)),
            pollutant: sea_orm::Set(Some(row.try_get_by_index(5)?)),
            reading_id: sea_orm::Set(Some(id)),
            measured_value: sea_orm::Set(Some(row.try_get_by_index(6)?)),
            permitted_value: sea_orm::Set(Some(row.try_get_by_index(8)?)),
            unit: sea_orm::Set(Some(row.try_get_by_index(7)?)),
            status: sea_orm::Set(CandidateStatus::Open),
            dedupe_key: sea_orm::Set(format!("{}:r{id}", permit_core::domain::candidates::EX1)),
            detected_at: sea_orm::Set(detected),
            ..Default::default()
        });
    }
    let count = rows.len();
    for chunk in chunks(rows) {
        entity::violation_candidates::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(count)
}

fn chunks<T>(rows: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        out.push(rows.by_ref().take(CHUNK).collect());
    }
    out
}
