//! Demo monitoring data (issue 17), laid over the seeded permits: every live permit gets its
//! execution-report duties (annual; quarterly too for KEY units) and a self-monitoring plan
//! for each current limit (automatic and hourly at a KEY unit's main outlets, by hand and
//! monthly elsewhere); the first `AUTOMATIC_PERMITS` KEY permits valid over the last
//! `DAYS` days get hourly automatic readings of their main outlets, mostly well within the
//! limit, with a few exceedances (flag `N`, above the limit) and a gap of a few hours (the
//! monitor down). Values come from the ids and the hour, so the same seed gives the same rows.

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
    let mut plan = Vec::new();
    let mut rows = Vec::new();
    let mut automatic_permits = 0;
    // Midnight of `today` in Chongqing, as Unix seconds.
    let china = crate::domain::clock::service_offset();
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
                        flag: sea_orm::Set(crate::domain::monitoring::NORMAL.to_owned()),
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
    txn.commit().await?;
    Ok(report)
}

fn chunks<T>(rows: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        out.push(rows.by_ref().take(CHUNK).collect());
    }
    out
}
