//! Monitoring readings (issue 17; plan §3: inspections rest on "自行监测数据" among other
//! materials; Regulation Art 19–20: self-monitoring plans and automatic monitors).
//!
//! A reading is one result for an outlet and pollutant at an instant, from an automatic
//! monitor, the unit's self-monitoring or the monitoring centre's supervisory monitoring,
//! with its HJ 212 data flag. It is checked against the permit as it stood on that day
//! (Chongqing's calendar): the permit valid then, the outlet on the version in force, the
//! pollutant limited or monitored at that outlet, the unit the limit's; a time in the future
//! is refused. `(outlet, pollutant, time, source)` is the key: the same reading sent again
//! writes nothing new, the same key with another value is `CONFLICT`.
//!
//! Single readings and batches go the same way: the rows are parsed one by one, the checks
//! against permits read every outlet, permit, version, limit and plan of the batch in one
//! statement each (set-wise, not per row), and the rows go in as multi-row
//! `INSERT … ON CONFLICT DO NOTHING` of `INSERT_CHUNK` rows, all in one transaction: a batch
//! is stored whole or not at all.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Select,
    StatementBuilder,
};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::page::{Listing, Ordering, SortValue};
use crate::domain::{changes, clock, permits};
use crate::error::{AppError, AppResult};
use entity::enums::{PermitStatus, ReadingSource};
use entity::{outlets, permit_limits, permits as permit_rows, readings};

/// At most this many readings in one request (a day of hourly data for 80 series; the default
/// `LIMIT_MAX_BODY_BYTES` of 256 KiB holds about 1500).
pub const MAX_BATCH: usize = 2000;
/// Rows per INSERT statement: 14 values a row stays far below both databases' limits on
/// bound parameters (SQLite 32766, PostgreSQL 65535).
const INSERT_CHUNK: usize = 1000;
/// Device clocks drift: a time up to this far ahead of the server's is accepted.
pub const CLOCK_SKEW_SECONDS: i64 = 300;
/// Readings before this are not monitoring data of this service (Unix seconds, 2000-01-01).
const EARLIEST: i64 = 946_684_800;

/// HJ 212-2017 data flags: N normal, F stopped (停运), M maintenance (维护), S set by hand
/// (手工输入), D fault (故障), C calibration (校准), T over the range (超测上限), B
/// communication lost (通讯异常).
pub const FLAGS: [&str; 8] = ["N", "F", "M", "S", "D", "C", "T", "B"];

/// The flag of normal data (HJ 212 `N`).
pub const NORMAL: &str = "N";

/// The largest value a reading may carry; beyond it a value is a transmission error.
const MAX_VALUE: f64 = 1.0e9;

#[derive(Debug, Clone)]
pub struct ReadingInput {
    pub outlet_id: i64,
    pub pollutant: String,
    pub measured_at: DateTime<Utc>,
    pub value: f64,
    pub unit: String,
    pub source: ReadingSource,
    /// HJ 212 flag; `N` when absent.
    pub flag: Option<String>,
}

/// What a write did: rows stored now, rows that were stored already (the same reading), and
/// rows left out as neither limited nor monitored at the outlet (`Mode::SkipUnplanned`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    pub inserted: u64,
    pub unchanged: u64,
    pub skipped: u64,
    /// New violation candidates (EX-1, NP-2) the readings raised.
    pub candidates: u64,
}

/// How a pollutant the permit neither limits nor monitors at the outlet is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refused (`BAD_USER_INPUT`): what a client sends by name it means.
    Strict,
    /// Left out: a monitor reports every parameter it measures (flow, temperature, …).
    SkipUnplanned,
}

/// A reading that passed the checks that need no database.
struct Parsed {
    outlet_id: i64,
    pollutant: String,
    measured_at: i64,
    value: f64,
    unit: String,
    source: ReadingSource,
    flag: String,
}

fn parse(input: &ReadingInput, path: &str, now: i64) -> AppResult<Parsed> {
    let pollutant = input.pollutant.trim();
    if pollutant.is_empty() || pollutant.chars().count() > 64 {
        return Err(AppError::invalid(
            format!("{path}.pollutant"),
            "1 to 64 characters",
        ));
    }
    let measured_at = input.measured_at.timestamp();
    if measured_at > now + CLOCK_SKEW_SECONDS {
        return Err(AppError::invalid(
            format!("{path}.measuredAt"),
            "in the future: a reading is of a time that has passed",
        ));
    }
    if measured_at < EARLIEST {
        return Err(AppError::invalid(
            format!("{path}.measuredAt"),
            "before 2000-01-01",
        ));
    }
    if !input.value.is_finite() || !(0.0..=MAX_VALUE).contains(&input.value) {
        return Err(AppError::invalid(
            format!("{path}.value"),
            format!("a finite, non-negative number up to {MAX_VALUE}"),
        ));
    }
    if permits::is_ph(pollutant) && input.value > permits::PH_MAX {
        return Err(AppError::invalid(
            format!("{path}.value"),
            format!("pH lies between 0 and {}", permits::PH_MAX),
        ));
    }
    let unit = input.unit.trim();
    if unit.is_empty() || unit.chars().count() > 16 {
        return Err(AppError::invalid(
            format!("{path}.unitOfMeasure"),
            "1 to 16 characters",
        ));
    }
    let flag = input.flag.as_deref().map(str::trim).unwrap_or(NORMAL);
    if !FLAGS.contains(&flag) {
        return Err(AppError::invalid(
            format!("{path}.flag"),
            format!("one of the HJ 212 flags {}", FLAGS.join(", ")),
        ));
    }
    Ok(Parsed {
        outlet_id: input.outlet_id,
        pollutant: pollutant.to_owned(),
        measured_at,
        value: input.value,
        unit: unit.to_owned(),
        source: input.source,
        flag: flag.to_owned(),
    })
}

/// Everything the permit checks of a batch need, read set-wise.
struct PermitData {
    outlets: HashMap<i64, outlets::Model>,
    permits: HashMap<i64, permit_rows::Model>,
    versions: HashMap<i64, Vec<permits::VersionSpan>>,
    limits: Vec<permit_limits::Model>,
    plan: Vec<entity::monitoring_requirements::Model>,
    /// The other permits (with their versions) of units whose permit here had expired before
    /// the latest reading's day: whether one of them covers a day after the expiry.
    successors: Vec<(permit_rows::Model, Vec<permits::VersionSpan>)>,
}

impl PermitData {
    /// Whether another permit of `unit_id` is valid on `day`.
    fn unit_permitted_on(&self, unit_id: i64, day: chrono::NaiveDate) -> bool {
        self.successors.iter().any(|(p, versions)| {
            p.unit_id == unit_id
                && permits::status_on(p, versions, day) == Some(PermitStatus::Valid)
        })
    }
}

/// The permits behind `outlet_ids`; `latest` is the day of the latest reading of the batch.
async fn permit_data(
    db: &impl ConnectionTrait,
    outlet_ids: &[i64],
    latest: chrono::NaiveDate,
) -> AppResult<PermitData> {
    let outlets: HashMap<i64, outlets::Model> = permits::outlets_by_ids(db, outlet_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let permit_ids: Vec<i64> = outlets
        .values()
        .map(|o| o.permit_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let permits_found: HashMap<i64, permit_rows::Model> = permit_rows::Entity::find()
        .filter(permit_rows::Column::Id.is_in(permit_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut versions: HashMap<i64, Vec<permits::VersionSpan>> = HashMap::new();
    for v in permits::spans_of(db, &permit_ids).await? {
        versions.entry(v.permit_id).or_default().push(v);
    }
    let expired_units: HashSet<i64> = permits_found
        .values()
        .filter(|p| p.valid_to < latest)
        .map(|p| p.unit_id)
        .collect();
    let mut successors = Vec::new();
    if !expired_units.is_empty() {
        let others = permit_rows::Entity::find()
            .filter(permit_rows::Column::UnitId.is_in(expired_units))
            .filter(permit_rows::Column::Id.is_not_in(permit_ids.iter().copied()))
            .all(db)
            .await?;
        let other_ids: Vec<i64> = others.iter().map(|p| p.id).collect();
        let mut other_versions: HashMap<i64, Vec<permits::VersionSpan>> = HashMap::new();
        for v in permits::spans_of(db, &other_ids).await? {
            other_versions.entry(v.permit_id).or_default().push(v);
        }
        successors = others
            .into_iter()
            .map(|p| {
                let versions = other_versions.remove(&p.id).unwrap_or_default();
                (p, versions)
            })
            .collect();
    }
    Ok(PermitData {
        outlets,
        permits: permits_found,
        versions,
        limits: permits::limits_of(db, &permit_ids).await?,
        plan: permits::requirements_of(db, &permit_ids).await?,
        successors,
    })
}

/// A reading checked against the permit: the row to insert.
struct Checked {
    parsed: Parsed,
    permit_id: i64,
    unit_id: i64,
    district: String,
    /// The concentration limit this reading exceeds (an EX-1 candidate), if any.
    exceeds: Option<f64>,
    /// Measured after the permit expired, with no permit of the unit in force that day: the
    /// evidence of an NP-2 candidate.
    unpermitted: bool,
}

/// The permit checks of one reading (the caller's scope and sources included).
fn check(
    principal: &Principal,
    data: &PermitData,
    parsed: Parsed,
    path: &str,
    mode: Mode,
) -> AppResult<Option<Checked>> {
    let unknown = || {
        AppError::invalid(
            format!("{path}.outletId"),
            "no such outlet in the caller's scope",
        )
    };
    let outlet = data.outlets.get(&parsed.outlet_id).ok_or_else(unknown)?;
    let permit = data.permits.get(&outlet.permit_id).ok_or_else(unknown)?;
    // Monitoring writes in every district; the others see (and name) only their scope.
    if principal.role != crate::auth::Role::Monitoring
        && !access::in_scope(principal, &permit.district_code)
    {
        return Err(unknown());
    }
    access::check_reading_write(
        principal,
        &permit.district_code,
        parsed.source,
        &format!("{path}.source"),
    )?;
    let at = DateTime::<Utc>::from_timestamp(parsed.measured_at, 0).unwrap_or_default();
    let day = clock::date_of(at);
    let versions = data
        .versions
        .get(&permit.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let unpermitted = match permits::status_on(permit, versions, day) {
        Some(PermitStatus::Valid) => false,
        // Still discharging after the permit expired (Art 33(2)): stored, not refused, since
        // it is exactly what an inspection needs to see; no limit is in force to exceed.
        Some(PermitStatus::Expired) if !data.unit_permitted_on(permit.unit_id, day) => true,
        status => {
            let what = match status {
                None => "not yet issued".to_owned(),
                Some(s) => permits::status_name(s).to_owned(),
            };
            return Err(AppError::invalid(
                format!("{path}.measuredAt"),
                format!(
                    "permit {} was not valid on {day} ({what}): no permitted discharge to monitor",
                    permit.permit_number
                ),
            ));
        }
    };
    let version = permits::version_on(versions, day).unwrap_or(permit.version);
    if !permits::outlet_in_version(outlet, version) {
        return Err(AppError::invalid(
            format!("{path}.outletId"),
            format!(
                "outlet {} was not on permit {} on {day}",
                outlet.code, permit.permit_number
            ),
        ));
    }
    let limit = data.limits.iter().find(|l| {
        l.outlet_id == outlet.id
            && l.pollutant == parsed.pollutant
            && permits::limit_in_version(l, version)
    });
    let planned = data.plan.iter().any(|r| {
        r.outlet_id == outlet.id
            && r.pollutant == parsed.pollutant
            && permits::requirement_in_version(r, version)
    });
    if limit.is_none() && !planned {
        if mode == Mode::SkipUnplanned {
            return Ok(None);
        }
        return Err(AppError::invalid(
            format!("{path}.pollutant"),
            format!(
                "{} is neither limited nor monitored at outlet {} of permit {} on {day}",
                parsed.pollutant, outlet.code, permit.permit_number
            ),
        ));
    }
    if let Some(limit_unit) = limit.and_then(|l| l.concentration_unit.as_deref())
        && crate::domain::findings::normalise_unit(limit_unit)
            != crate::domain::findings::normalise_unit(&parsed.unit)
    {
        return Err(AppError::invalid(
            format!("{path}.unitOfMeasure"),
            format!(
                "the permit limits {} at {} in {limit_unit}; report in the same unit",
                parsed.pollutant, outlet.code
            ),
        ));
    }
    // Data flagged as stopped, maintenance, calibration, fault or lost is no measure of the
    // discharge; pH limits are ranges, not maxima.
    let exceeds = limit
        .and_then(|l| l.concentration_limit)
        .filter(|permitted| {
            !unpermitted
                && parsed.value > *permitted
                && matches!(parsed.flag.as_str(), "N" | "T")
                && !permits::is_ph(&parsed.pollutant)
        });
    Ok(Some(Checked {
        permit_id: permit.id,
        unit_id: permit.unit_id,
        district: permit.district_code.clone(),
        exceeds,
        unpermitted,
        parsed,
    }))
}

type Key = (i64, String, i64, ReadingSource);

fn key_of(p: &Parsed) -> Key {
    (p.outlet_id, p.pollutant.clone(), p.measured_at, p.source)
}

fn same_reading(row: &readings::Model, p: &Parsed) -> bool {
    row.value == p.value && row.unit == p.unit && row.flag == p.flag
}

/// Records readings: all or none. `path(i)` is the input path of the i-th reading
/// (`input` for one, `input.readings[3]` in a batch), for the errors.
pub async fn record(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    inputs: &[ReadingInput],
    path: impl Fn(usize) -> String,
) -> AppResult<Recorded> {
    record_with(db, principal, inputs, path, Mode::Strict).await
}

/// `record` with a choice of what becomes of readings the permit does not ask for.
pub async fn record_with(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    inputs: &[ReadingInput],
    path: impl Fn(usize) -> String,
    mode: Mode,
) -> AppResult<Recorded> {
    let principal = access::authorize(principal, Operation::WriteReadings)?;
    if inputs.is_empty() {
        return Ok(Recorded::default());
    }
    if inputs.len() > MAX_BATCH {
        return Err(AppError::invalid(
            "input.readings",
            format!("at most {MAX_BATCH} readings a request"),
        ));
    }
    let now = Utc::now().timestamp();
    let mut parsed = Vec::with_capacity(inputs.len());
    let mut seen: HashMap<Key, usize> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let p = parse(input, &path(i), now)?;
        if let Some(&first) = seen.get(&key_of(&p)) {
            let earlier: &Parsed = &parsed[first];
            if earlier.value != p.value || earlier.unit != p.unit || earlier.flag != p.flag {
                return Err(AppError::Duplicate {
                    field: format!("{}.value", path(i)),
                    reason: format!(
                        "{} repeats the outlet, pollutant, time and source of {} with another value",
                        path(i),
                        path(first)
                    ),
                });
            }
        } else {
            seen.insert(key_of(&p), i);
        }
        parsed.push(p);
    }
    let txn = crate::db::begin_write(db).await?;
    let outlet_ids: Vec<i64> = parsed
        .iter()
        .map(|p| p.outlet_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let latest = parsed
        .iter()
        .map(|p| p.measured_at)
        .max()
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .map(clock::date_of)
        .unwrap_or_else(clock::today);
    let data = permit_data(&txn, &outlet_ids, latest).await?;
    let mut checked = Vec::with_capacity(parsed.len());
    let mut recorded = Recorded::default();
    for (i, p) in parsed.into_iter().enumerate() {
        match check(principal, &data, p, &path(i), mode)? {
            Some(c) => checked.push((i, c)),
            None => recorded.skipped += 1,
        }
    }
    let created = Utc::now();
    for chunk in checked.chunks(INSERT_CHUNK) {
        let inserted = insert_chunk(&txn, principal, chunk, created).await?;
        recorded.inserted += inserted;
        if (inserted as usize) < chunk.len() {
            // Some keys were stored already: the same reading again is fine, another value
            // under the same key is a conflict.
            check_stored(&txn, chunk, &path).await?;
        }
    }
    recorded.unchanged = checked.len() as u64 - recorded.inserted;
    if checked.is_empty() {
        txn.commit().await?;
        return Ok(recorded);
    }
    let flagged: Vec<&Checked> = checked
        .iter()
        .map(|(_, c)| c)
        .filter(|c| c.exceeds.is_some() || c.unpermitted)
        .collect();
    if !flagged.is_empty() {
        recorded.candidates = raised_candidates(&txn, principal, &flagged).await?;
    }
    changes::audit(&txn, principal, "RECORD_READINGS", None, &[]).await?;
    txn.commit().await?;
    Ok(recorded)
}

async fn insert_chunk(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    chunk: &[(usize, Checked)],
    created: DateTime<Utc>,
) -> AppResult<u64> {
    use readings::Column as C;
    let mut insert = Query::insert();
    insert.into_table(readings::Entity).columns([
        C::OutletId,
        C::PermitId,
        C::UnitId,
        C::DistrictCode,
        C::Pollutant,
        C::MeasuredAt,
        C::Value,
        C::Unit,
        C::Source,
        C::Flag,
        C::RecordedBySubject,
        C::RecordedByAgency,
        C::CreatedAt,
    ]);
    for (_, c) in chunk {
        let p = &c.parsed;
        insert
            .values([
                p.outlet_id.into(),
                c.permit_id.into(),
                c.unit_id.into(),
                c.district.clone().into(),
                p.pollutant.clone().into(),
                p.measured_at.into(),
                p.value.into(),
                p.unit.clone().into(),
                source_key(p.source).into(),
                p.flag.clone().into(),
                principal.subject.clone().into(),
                principal.agency_code.clone().into(),
                created.into(),
            ])
            .map_err(AppError::internal)?;
    }
    insert.on_conflict(
        OnConflict::columns([C::OutletId, C::Pollutant, C::MeasuredAt, C::Source])
            .do_nothing()
            .to_owned(),
    );
    let backend = txn.get_database_backend();
    let result = txn
        .execute_raw(StatementBuilder::build(&insert, &backend))
        .await?;
    Ok(result.rows_affected())
}

/// The rows of `chunk` that were not inserted now must be stored with the same values.
async fn check_stored(
    txn: &impl ConnectionTrait,
    chunk: &[(usize, Checked)],
    path: &impl Fn(usize) -> String,
) -> AppResult<()> {
    // One flat `(outlet, pollutant, time, source) IN (…)`: a nested OR of a thousand terms
    // would recurse as deep when it is rendered.
    let keys = chunk.iter().map(|(_, c)| {
        let p = &c.parsed;
        (
            p.outlet_id,
            p.pollutant.clone(),
            p.measured_at,
            source_key(p.source).to_owned(),
        )
    });
    let any = Expr::tuple([
        Expr::col(readings::Column::OutletId),
        Expr::col(readings::Column::Pollutant),
        Expr::col(readings::Column::MeasuredAt),
        Expr::col(readings::Column::Source),
    ])
    .in_tuples(keys);
    let stored: HashMap<Key, readings::Model> = readings::Entity::find()
        .filter(any)
        .all(txn)
        .await?
        .into_iter()
        .map(|r| {
            (
                (r.outlet_id, r.pollutant.clone(), r.measured_at, r.source),
                r,
            )
        })
        .collect();
    for (i, c) in chunk {
        if let Some(row) = stored.get(&key_of(&c.parsed))
            && !same_reading(row, &c.parsed)
        {
            return Err(AppError::Duplicate {
                field: format!("{}.value", path(*i)),
                reason: format!(
                    "a reading of this outlet, pollutant, time and source is stored already \
                     with value {} {} (flag {}); readings are not overwritten",
                    row.value, row.unit, row.flag
                ),
            });
        }
    }
    Ok(())
}

/// The candidates the stored readings raise (a few of a batch, if any): EX-1 for each reading
/// above its limit, NP-2 for readings after the permit's expiry.
async fn raised_candidates(
    txn: &sea_orm::DatabaseTransaction,
    principal: &Principal,
    flagged: &[&Checked],
) -> AppResult<u64> {
    let mut found = Vec::new();
    let mut unpermitted = Vec::new();
    for chunk in flagged.chunks(INSERT_CHUNK) {
        let keys = chunk.iter().map(|c| {
            let p = &c.parsed;
            (
                p.outlet_id,
                p.pollutant.clone(),
                p.measured_at,
                source_key(p.source).to_owned(),
            )
        });
        let stored: HashMap<Key, readings::Model> = readings::Entity::find()
            .filter(
                Expr::tuple([
                    Expr::col(readings::Column::OutletId),
                    Expr::col(readings::Column::Pollutant),
                    Expr::col(readings::Column::MeasuredAt),
                    Expr::col(readings::Column::Source),
                ])
                .in_tuples(keys),
            )
            .all(txn)
            .await?
            .into_iter()
            .map(|r| {
                (
                    (r.outlet_id, r.pollutant.clone(), r.measured_at, r.source),
                    r,
                )
            })
            .collect();
        for c in chunk {
            if let (Some(row), true) = (stored.get(&key_of(&c.parsed)), c.unpermitted) {
                unpermitted.push(crate::domain::candidates::Unpermitted {
                    reading_id: row.id,
                    permit_id: c.permit_id,
                    unit_id: c.unit_id,
                    district: c.district.clone(),
                    outlet_id: row.outlet_id,
                    pollutant: row.pollutant.clone(),
                    measured_at: row.measured_at,
                });
            }
            if let (Some(row), Some(permitted)) = (stored.get(&key_of(&c.parsed)), c.exceeds) {
                found.push(crate::domain::candidates::Exceedance {
                    reading_id: row.id,
                    permit_id: c.permit_id,
                    unit_id: c.unit_id,
                    district: c.district.clone(),
                    outlet_id: row.outlet_id,
                    pollutant: row.pollutant.clone(),
                    measured: row.value,
                    permitted,
                    unit: row.unit.clone(),
                });
            }
        }
    }
    Ok(
        crate::domain::candidates::exceedances(txn, principal, &found).await?
            + crate::domain::candidates::unpermitted_discharges(txn, principal, &unpermitted)
                .await?,
    )
}

fn source_key(source: ReadingSource) -> &'static str {
    match source {
        ReadingSource::Automatic => "AUTOMATIC",
        ReadingSource::SelfMonitoring => "SELF_MONITORING",
        ReadingSource::Supervisory => "SUPERVISORY",
    }
}

// ---------------------------------------------------------------------------------------------
// Automatic monitors (HJ 212 devices)

pub struct DeviceInput {
    /// HJ 212 `MN`: 1 to 24 letters and digits.
    pub mn: String,
    pub outlet_id: i64,
    /// HJ 212 `PW` the device's packets carry: 1 to 32 printable characters without `;`.
    pub password: String,
}

/// Registers an automatic monitor at an outlet (MONITORING anywhere, ADMIN in scope). An MN
/// registered already is `CONFLICT` on `input.mn`.
pub async fn register_device(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: DeviceInput,
) -> AppResult<entity::monitoring_devices::Model> {
    use sea_orm::{ActiveModelTrait, Set};
    let principal = access::authorize(principal, Operation::ManageMonitoringDevices)?;
    let mn = input.mn.trim();
    if mn.is_empty() || mn.len() > 24 || !mn.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(AppError::invalid(
            "input.mn",
            "1 to 24 ASCII letters and digits (HJ 212 MN)",
        ));
    }
    let password = input.password.trim();
    if password.is_empty()
        || password.len() > 32
        || !password
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b';' && b != b'&')
    {
        return Err(AppError::invalid(
            "input.password",
            "1 to 32 printable ASCII characters, no ';' or '&' (HJ 212 PW)",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let unknown = || AppError::invalid("input.outletId", "no such outlet in the caller's scope");
    let outlet = outlets::Entity::find_by_id(input.outlet_id)
        .one(&txn)
        .await?
        .ok_or_else(unknown)?;
    let permit = permit_rows::Entity::find_by_id(outlet.permit_id)
        .one(&txn)
        .await?
        .ok_or_else(unknown)?;
    if principal.role != crate::auth::Role::Monitoring
        && !access::in_scope(principal, &permit.district_code)
    {
        return Err(unknown());
    }
    let saved = entity::monitoring_devices::ActiveModel {
        mn: Set(mn.to_owned()),
        outlet_id: Set(outlet.id),
        password: Set(password.to_owned()),
        registered_by_subject: Set(principal.subject.clone()),
        registered_by_agency: Set(principal.agency_code.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    changes::audit(
        &txn,
        principal,
        "REGISTER_MONITORING_DEVICE",
        None,
        &[saved.id],
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn device_by_mn(
    db: &impl ConnectionTrait,
    mn: &str,
) -> AppResult<Option<entity::monitoring_devices::Model>> {
    Ok(entity::monitoring_devices::Entity::find()
        .filter(entity::monitoring_devices::Column::Mn.eq(mn))
        .one(db)
        .await?)
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Debug, Clone, Default)]
pub struct ReadingFilter {
    pub district: Option<String>,
    pub unit_id: Option<i64>,
    pub permit_id: Option<i64>,
    pub outlet_id: Option<i64>,
    pub pollutant: Option<String>,
    pub source: Option<ReadingSource>,
    pub flag: Option<String>,
    /// Measured at or after (Unix seconds).
    pub from: Option<i64>,
    /// Measured before (Unix seconds).
    pub to: Option<i64>,
}

fn scoped(principal: &Principal) -> Select<readings::Entity> {
    readings::Entity::find().filter(access::reading_filter(principal))
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<readings::Model>> {
    Ok(scoped(principal)
        .filter(readings::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The caller's readings matching `filter`, newest first.
pub fn list(
    principal: Option<&Principal>,
    filter: &ReadingFilter,
) -> AppResult<Listing<readings::Entity>> {
    let principal = access::authorize(principal, Operation::ReadUnits)?;
    let mut select = scoped(principal);
    use readings::Column as C;
    if let Some(d) = &filter.district {
        select = select.filter(C::DistrictCode.eq(d.clone()));
    }
    if let Some(id) = filter.unit_id {
        select = select.filter(C::UnitId.eq(id));
    }
    if let Some(id) = filter.permit_id {
        select = select.filter(C::PermitId.eq(id));
    }
    if let Some(id) = filter.outlet_id {
        select = select.filter(C::OutletId.eq(id));
    }
    if let Some(p) = &filter.pollutant {
        select = select.filter(C::Pollutant.eq(p.trim()));
    }
    if let Some(s) = filter.source {
        select = select.filter(C::Source.eq(s));
    }
    if let Some(f) = &filter.flag {
        select = select.filter(C::Flag.eq(f.trim()));
    }
    if let Some(from) = filter.from {
        select = select.filter(Expr::col(C::MeasuredAt).gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(Expr::col(C::MeasuredAt).lt(to));
    }
    Ok(Listing::new(
        select,
        Ordering {
            column: C::MeasuredAt,
            id_column: Some(C::Id),
            descending: true,
            date_sort: false,
            key: |m: &readings::Model| (SortValue::Int(m.measured_at), m.id),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReadingInput {
        ReadingInput {
            outlet_id: 1,
            pollutant: "化学需氧量".into(),
            measured_at: Utc::now() - chrono::Duration::hours(1),
            value: 12.5,
            unit: "mg/L".into(),
            source: ReadingSource::Automatic,
            flag: None,
        }
    }

    #[test]
    fn parse_refuses_what_cannot_be_a_reading() {
        let now = Utc::now().timestamp();
        assert!(parse(&input(), "input", now).is_ok());
        let field = |i: ReadingInput| match parse(&i, "input", now) {
            Err(AppError::InvalidInput { field, .. }) => field,
            _ => "accepted".to_owned(),
        };
        let future = ReadingInput {
            measured_at: Utc::now() + chrono::Duration::hours(1),
            ..input()
        };
        assert_eq!(field(future), "input.measuredAt");
        assert_eq!(
            field(ReadingInput {
                value: -1.0,
                ..input()
            }),
            "input.value"
        );
        assert_eq!(
            field(ReadingInput {
                value: f64::NAN,
                ..input()
            }),
            "input.value"
        );
        assert_eq!(
            field(ReadingInput {
                flag: Some("X".into()),
                ..input()
            }),
            "input.flag"
        );
        assert_eq!(
            field(ReadingInput {
                pollutant: "pH".into(),
                value: 15.0,
                ..input()
            }),
            "input.value"
        );
    }
}
