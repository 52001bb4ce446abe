//! Violation candidates (issue 17): what the monitoring data suggests against a permit, for an
//! officer to confirm as a finding (`recordFinding` with `candidateId`) or dismiss with a
//! reason. ECHO/ICIS computes effluent exceedances from the facilities' reports; here from the
//! readings, as they arrive or in SQL, never by loading readings into memory.
//!
//! - **EX-1** (Art 34(1)): on write. A reading with a normal flag (`N`, or `T` over the range)
//!   above the concentration limit in force on its day at its outlet (pH excepted: its limit is
//!   a range) is a candidate, with the measured and the permitted value (`monitoring::record`).
//! - **AM-2** (Art 36(4)) and **SM-1** (Art 36(5)): `detect`, one aggregate statement over a
//!   window of whole days that have ended. Per requirement of a valid permit in force
//!   throughout the window (in the versions in force on its first and its last day), the
//!   readings of the window are counted in SQL (automatic requirements: AUTOMATIC readings with
//!   flag `N` or `T`; manual ones: SELF_MONITORING readings). An automatic requirement missing
//!   more than `am_missing` of the values its frequency expects is an AM-2 candidate; a manual
//!   one with fewer results than its frequency asks for in the window is an SM-1 candidate.
//!
//! - **NP-2** (Art 33(2)): on write. A reading measured after its permit expired, when no other
//!   permit of the unit is in force that day, is stored (not refused) and raises one candidate
//!   a permit and month, with the month's first such reading as its evidence.
//! - **ER-1** (Art 37(3)): `detect`, execution reports due in the window and not submitted by
//!   their due day.
//! - **LG-1** / **LG-2** (Art 37(1), 37(2)): a ledger check (`ledgers::record`) that found the
//!   ledger not kept or incomplete, or untrue.
//!
//! Each candidate has a `dedupe_key` (unique), so writing or detecting twice adds nothing.
//! Read like findings (`access::candidate_filter`: the caller's district; integrators and
//! monitoring none); dismissing and confirming are enforcement writes in scope, each in the
//! change feed and the audit trail.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, Set, Statement,
};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::codes::DistrictCode;
use crate::domain::page::{Listing, Ordering, SortValue};
use crate::error::{AppError, AppResult};
use entity::enums::{CandidateStatus, MonitoringFrequency, MonitoringMethod};
use entity::violation_candidates as rows;

pub const EX1: &str = "EX-1";
pub const AM2: &str = "AM-2";
pub const SM1: &str = "SM-1";
pub const ER1: &str = "ER-1";
pub const NP2: &str = "NP-2";
pub const LG1: &str = "LG-1";
pub const LG2: &str = "LG-2";

/// The longest window `detect` counts over.
pub const MAX_WINDOW_DAYS: i64 = 366;

pub fn status_name(status: CandidateStatus) -> &'static str {
    match status {
        CandidateStatus::Open => "OPEN",
        CandidateStatus::Dismissed => "DISMISSED",
        CandidateStatus::Confirmed => "CONFIRMED",
    }
}

/// A stored reading above its limit (from `monitoring::record`).
pub(crate) struct Exceedance {
    pub reading_id: i64,
    pub permit_id: i64,
    pub unit_id: i64,
    pub district: String,
    pub outlet_id: i64,
    pub pollutant: String,
    pub measured: f64,
    pub permitted: f64,
    pub unit: String,
}

/// EX-1 candidates of readings written in this transaction; returns how many were new.
pub(crate) async fn exceedances(
    txn: &DatabaseTransaction,
    principal: &Principal,
    found: &[Exceedance],
) -> AppResult<u64> {
    let now = clock::now();
    let models: Vec<rows::ActiveModel> = found
        .iter()
        .map(|e| rows::ActiveModel {
            code: Set(EX1.to_owned()),
            district_code: Set(e.district.clone()),
            unit_id: Set(e.unit_id),
            permit_id: Set(e.permit_id),
            outlet_id: Set(Some(e.outlet_id)),
            pollutant: Set(Some(e.pollutant.clone())),
            reading_id: Set(Some(e.reading_id)),
            measured_value: Set(Some(e.measured)),
            permitted_value: Set(Some(e.permitted)),
            unit: Set(Some(e.unit.clone())),
            status: Set(CandidateStatus::Open),
            dedupe_key: Set(format!("{EX1}:r{}", e.reading_id)),
            detected_at: Set(now),
            ..Default::default()
        })
        .collect();
    Ok(store_new(txn, principal, models).await?.len() as u64)
}

/// A stored reading measured after its permit expired, no permit of the unit in force that day
/// (from `monitoring::record`).
pub(crate) struct Unpermitted {
    pub reading_id: i64,
    pub permit_id: i64,
    pub unit_id: i64,
    pub district: String,
    pub outlet_id: i64,
    pub pollutant: String,
    pub measured_at: i64,
}

/// NP-2 candidates of readings after expiry: one a permit and calendar month (a unit that goes
/// on discharging is one case a month, not one a reading), the month's first such reading
/// written as its evidence; returns how many were new.
pub(crate) async fn unpermitted_discharges(
    txn: &DatabaseTransaction,
    principal: &Principal,
    found: &[Unpermitted],
) -> AppResult<u64> {
    let now = clock::now();
    let mut first: std::collections::BTreeMap<(i64, NaiveDate), &Unpermitted> = Default::default();
    for u in found {
        let day = DateTime::<Utc>::from_timestamp(u.measured_at, 0)
            .map(clock::date_of)
            .unwrap_or_else(clock::today);
        let month = day.with_day(1).unwrap_or(day);
        let earliest = first.entry((u.permit_id, month)).or_insert(u);
        if u.measured_at < earliest.measured_at {
            *earliest = u;
        }
    }
    let models = first
        .into_iter()
        .map(|((permit_id, month), u)| {
            let next = month
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(month);
            rows::ActiveModel {
                code: Set(NP2.to_owned()),
                district_code: Set(u.district.clone()),
                unit_id: Set(u.unit_id),
                permit_id: Set(permit_id),
                outlet_id: Set(Some(u.outlet_id)),
                pollutant: Set(Some(u.pollutant.clone())),
                reading_id: Set(Some(u.reading_id)),
                window_from: Set(Some(midnight(month))),
                window_to: Set(Some(midnight(next))),
                status: Set(CandidateStatus::Open),
                dedupe_key: Set(format!("{NP2}:p{permit_id}:{}", month.format("%Y-%m"))),
                detected_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    Ok(store_new(txn, principal, models).await?.len() as u64)
}

/// The candidate a ledger check raises: LG-1 for a ledger not kept or kept with gaps, LG-2 for
/// an untrue one, over the period checked; none for a ledger kept.
pub(crate) async fn of_ledger_check(
    txn: &DatabaseTransaction,
    principal: &Principal,
    check: &entity::ledger_checks::Model,
) -> AppResult<Option<i64>> {
    use entity::enums::LedgerResult;
    let code = match check.result {
        LedgerResult::Kept => return Ok(None),
        LedgerResult::Incomplete | LedgerResult::NotKept => LG1,
        LedgerResult::Untrue => LG2,
    };
    let model = rows::ActiveModel {
        code: Set(code.to_owned()),
        district_code: Set(check.district_code.clone()),
        unit_id: Set(check.unit_id),
        permit_id: Set(check.permit_id),
        window_from: Set(Some(midnight(check.period_start))),
        window_to: Set(Some(midnight(
            check.period_end.succ_opt().unwrap_or(check.period_end),
        ))),
        status: Set(CandidateStatus::Open),
        dedupe_key: Set(format!("{code}:l{}", check.id)),
        detected_at: Set(clock::now()),
        ..Default::default()
    };
    Ok(store_new(txn, principal, vec![model])
        .await?
        .first()
        .map(|(id, _, _)| *id))
}

/// Stores the candidates whose `dedupe_key` is new, each with its feed row (so that
/// `violationCandidateDetected` announces it), and returns them; the others are known already.
/// One `INSERT … ON CONFLICT DO NOTHING RETURNING` a chunk: the rows it returns are exactly the
/// ones this transaction added, also when another one detects the same candidate meanwhile.
async fn store_new(
    txn: &DatabaseTransaction,
    principal: &Principal,
    models: Vec<rows::ActiveModel>,
) -> AppResult<Vec<(i64, String, String)>> {
    use sea_orm::QueryTrait;
    let backend = txn.get_database_backend();
    let mut stored = Vec::new();
    for chunk in models.chunks(STORE_CHUNK) {
        let mut insert = rows::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(rows::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .into_query();
        insert.returning(Query::returning().columns([
            rows::Column::Id,
            rows::Column::Code,
            rows::Column::DistrictCode,
        ]));
        for row in txn.query_all_raw(backend.build(&insert)).await? {
            stored.push((
                row.try_get_by_index::<i64>(0)?,
                row.try_get_by_index::<String>(1)?,
                row.try_get_by_index::<String>(2)?,
            ));
        }
    }
    for (id, _, district) in &stored {
        changes::record(
            txn,
            principal,
            Change {
                kind: ChangeKind::ViolationCandidate,
                record_id: *id,
                version: None,
                operation: ChangeOperation::Created,
                state: Some(status_name(CandidateStatus::Open)),
                district: Some(district),
            },
        )
        .await?;
    }
    Ok(stored)
}

/// Candidates a statement inserts: well under both databases' bound on parameters.
const STORE_CHUNK: usize = 200;

pub struct DetectInput {
    pub district: Option<String>,
    /// First day of the window (Chongqing's calendar).
    pub from: NaiveDate,
    /// Last day of the window; it must have ended.
    pub to: NaiveDate,
    /// AM-2 when more automatic values than this are missing in the window.
    pub am_missing: i64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub am2: u64,
    pub sm1: u64,
    pub er1: u64,
}

fn midnight(day: NaiveDate) -> i64 {
    clock::service_offset()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc).timestamp())
        .unwrap_or_default()
}

/// Seconds between two results a frequency asks for.
fn interval(frequency: MonitoringFrequency) -> i64 {
    let day = 86_400;
    match frequency {
        MonitoringFrequency::Hourly => 3_600,
        MonitoringFrequency::Daily => day,
        MonitoringFrequency::Weekly => 7 * day,
        MonitoringFrequency::Monthly => 30 * day,
        MonitoringFrequency::Quarterly => 91 * day,
        MonitoringFrequency::Semiannual => 182 * day,
        MonitoringFrequency::Annual => 365 * day,
    }
}

/// How many results a requirement expects in a window of `seconds`.
pub fn expected(frequency: MonitoringFrequency, seconds: i64) -> i64 {
    seconds / interval(frequency)
}

/// Detects AM-2 and SM-1 candidates over a window of ended days (ENFORCEMENT_OFFICER in its
/// district, SUPERVISOR and ADMIN in scope).
pub async fn detect(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: DetectInput,
) -> AppResult<Detected> {
    let principal = access::authorize(principal, Operation::DetectCandidates)?;
    let district = detect_district(principal, &input)?;
    let from = midnight(input.from);
    let to = midnight(input.to.succ_opt().unwrap_or(input.to));
    let seconds = to - from;
    let sql = requirement_counts_sql(district.as_ref(), &input, from, to);
    let txn = crate::db::begin_write(db).await?;
    let backend = txn.get_database_backend();
    let counted = txn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let versions = versions_of_counted(&txn, &counted).await?;
    let now = clock::now();
    let mut fresh = monitoring_gaps(
        counted,
        &versions,
        &input,
        Window { from, to, seconds },
        now,
    )?;
    fresh.extend(late_reports(&txn, district.as_ref(), input.from, input.to, now).await?);
    let mut detected = Detected::default();
    for (_, code, _) in store_new(&txn, principal, fresh).await? {
        match code.as_str() {
            AM2 => detected.am2 += 1,
            SM1 => detected.sm1 += 1,
            ER1 => detected.er1 += 1,
            _ => {}
        }
    }
    changes::audit(&txn, principal, "DETECT_CANDIDATES", None, &[]).await?;
    txn.commit().await?;
    Ok(detected)
}

/// The district detected in (given and in scope, or the caller's own), once the window is
/// checked: ended, in order, and at most `MAX_WINDOW_DAYS` long.
fn detect_district(principal: &Principal, input: &DetectInput) -> AppResult<Option<DistrictCode>> {
    let district = match input.district.as_deref().map(str::trim) {
        Some(d) => {
            let code = DistrictCode::parse(d)
                .map_err(|e| AppError::code_error("input.districtCode", e))?;
            access::check_district(principal, code.as_str())?;
            Some(code)
        }
        None => principal.district.clone(),
    };
    if input.to < input.from {
        return Err(AppError::invalid("input.to", "on or after input.from"));
    }
    if input.to >= clock::today() {
        return Err(AppError::invalid(
            "input.to",
            "the window must have ended: its last day is before today",
        ));
    }
    if (input.to - input.from).num_days() >= MAX_WINDOW_DAYS {
        return Err(AppError::invalid(
            "input.to",
            format!("a window of at most {MAX_WINDOW_DAYS} days"),
        ));
    }
    if input.am_missing < 0 {
        return Err(AppError::invalid("input.amMissing", "not negative"));
    }
    Ok(district)
}

/// The one aggregate statement of `detect`: per monitoring requirement of a permit valid
/// throughout the window, the readings of the window that count for it.
fn requirement_counts_sql(
    district: Option<&DistrictCode>,
    input: &DetectInput,
    from: i64,
    to: i64,
) -> String {
    // Only literals the service made go into the text: two integers, two dates and a
    // district code checked by `DistrictCode::parse`.
    let district_clause = district
        .map(|d| format!(" AND p.district_code = '{}'", d.as_str()))
        .unwrap_or_default();
    format!(
        "SELECT mr.id, mr.permit_id, mr.outlet_id, mr.pollutant, mr.method, mr.frequency, \
                p.unit_id, p.district_code, COUNT(r.id) AS observed, \
                mr.since_version, mr.retired_in_version \
         FROM monitoring_requirements mr \
         JOIN permits p ON p.id = mr.permit_id \
         LEFT JOIN readings r ON r.outlet_id = mr.outlet_id AND r.pollutant = mr.pollutant \
              AND r.measured_at >= {from} AND r.measured_at < {to} \
              AND ((mr.method = 'AUTOMATIC' AND r.source = 'AUTOMATIC' AND r.flag IN ('N', 'T')) \
                OR (mr.method = 'MANUAL' AND r.source = 'SELF_MONITORING')) \
         WHERE p.status = 'VALID' \
              AND p.valid_from <= '{first}' AND p.valid_to >= '{last}'{district_clause} \
         GROUP BY mr.id, mr.permit_id, mr.outlet_id, mr.pollutant, mr.method, mr.frequency, \
                p.unit_id, p.district_code, mr.since_version, mr.retired_in_version",
        first = input.from,
        last = input.to,
    )
}

type VersionsByPermit = std::collections::HashMap<i64, Vec<crate::domain::permits::VersionSpan>>;

/// The versions of the permits of the counted requirements, by permit.
async fn versions_of_counted(
    txn: &DatabaseTransaction,
    counted: &[sea_orm::QueryResult],
) -> AppResult<VersionsByPermit> {
    // A requirement counts over the window only if the permit asked for it throughout: in
    // the version in force on the first day and in the one in force on the last.
    let permit_ids: Vec<i64> = counted
        .iter()
        .map(|row| row.try_get_by_index::<i64>(1))
        .collect::<Result<std::collections::BTreeSet<_>, _>>()?
        .into_iter()
        .collect();
    let mut versions: VersionsByPermit = Default::default();
    for v in crate::domain::permits::spans_of(txn, &permit_ids).await? {
        versions.entry(v.permit_id).or_default().push(v);
    }
    Ok(versions)
}

/// The window counted over, in Unix seconds: `from` inclusive, `to` exclusive.
#[derive(Clone, Copy)]
struct Window {
    from: i64,
    to: i64,
    seconds: i64,
}

/// AM-2 and SM-1: the counted requirements, in force on the window's first and last day, with
/// fewer results than their frequency asks for.
fn monitoring_gaps(
    counted: Vec<sea_orm::QueryResult>,
    versions: &VersionsByPermit,
    input: &DetectInput,
    window: Window,
    now: DateTime<Utc>,
) -> AppResult<Vec<rows::ActiveModel>> {
    let Window { from, to, seconds } = window;
    let mut fresh = Vec::new();
    for row in counted {
        let id: i64 = row.try_get_by_index(0)?;
        let permit_id: i64 = row.try_get_by_index(1)?;
        let since: i32 = row.try_get_by_index(9)?;
        let retired: Option<i32> = row.try_get_by_index(10)?;
        let permit_versions = versions.get(&permit_id).map(Vec::as_slice).unwrap_or(&[]);
        let in_force = |day: NaiveDate| {
            crate::domain::permits::version_on(permit_versions, day)
                .is_some_and(|v| since <= v && retired.is_none_or(|r| r > v))
        };
        if !in_force(input.from) || !in_force(input.to) {
            continue;
        }
        let method: MonitoringMethod = match row.try_get_by_index::<String>(4)?.as_str() {
            "AUTOMATIC" => MonitoringMethod::Automatic,
            _ => MonitoringMethod::Manual,
        };
        let frequency = frequency_of(&row.try_get_by_index::<String>(5)?);
        let observed: i64 = row.try_get_by_index(8)?;
        let want = expected(frequency, seconds);
        let code = match method {
            MonitoringMethod::Automatic if want - observed > input.am_missing => AM2,
            MonitoringMethod::Manual if observed < want => SM1,
            _ => continue,
        };
        fresh.push(rows::ActiveModel {
            code: Set(code.to_owned()),
            district_code: Set(row.try_get_by_index(7)?),
            unit_id: Set(row.try_get_by_index(6)?),
            permit_id: Set(permit_id),
            outlet_id: Set(Some(row.try_get_by_index(2)?)),
            pollutant: Set(Some(row.try_get_by_index(3)?)),
            window_from: Set(Some(from)),
            window_to: Set(Some(to)),
            expected: Set(Some(i32::try_from(want).unwrap_or(i32::MAX))),
            observed: Set(Some(i32::try_from(observed).unwrap_or(i32::MAX))),
            status: Set(CandidateStatus::Open),
            dedupe_key: Set(format!("{code}:q{id}:{from}:{to}")),
            detected_at: Set(now),
            ..Default::default()
        });
    }
    Ok(fresh)
}

/// ER-1: the report periods of valid permits' duties that fell due in the window (the period
/// within the permit's validity) without a report submitted by the due day.
async fn late_reports(
    txn: &DatabaseTransaction,
    district: Option<&DistrictCode>,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<rows::ActiveModel>> {
    use crate::domain::reports;
    use entity::enums::PermitStatus;
    use entity::{execution_reports, permits, report_duties};
    let mut valid = permits::Entity::find()
        .filter(permits::Column::Status.eq(PermitStatus::Valid))
        .filter(permits::Column::ValidTo.gte(from - chrono::Duration::days(400)));
    if let Some(d) = district {
        valid = valid.filter(permits::Column::DistrictCode.eq(d.as_str()));
    }
    let valid: std::collections::HashMap<i64, permits::Model> = valid
        .all(txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let ids: Vec<i64> = valid.keys().copied().collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        let duties = report_duties::Entity::find()
            .filter(report_duties::Column::PermitId.is_in(chunk.iter().copied()))
            .filter(report_duties::Column::RetiredInVersion.is_null())
            .all(txn)
            .await?;
        let submitted = execution_reports::Entity::find()
            .filter(execution_reports::Column::PermitId.is_in(chunk.iter().copied()))
            .filter(execution_reports::Column::PeriodEnd.gte(from - chrono::Duration::days(40)))
            .all(txn)
            .await?;
        for duty in duties {
            let Some(permit) = valid.get(&duty.permit_id) else {
                continue;
            };
            // Periods whose due day falls in the window: they ended at most 31 days before it.
            let mut day = from - chrono::Duration::days(40);
            while let Some((start, end)) = reports::period_of(duty.frequency, day) {
                day = end.succ_opt().unwrap_or(end);
                let due = reports::due_on(duty.frequency, end);
                if due > to {
                    break;
                }
                if due < from || start < permit.valid_from || end > permit.valid_to {
                    continue;
                }
                let report = submitted.iter().find(|r| {
                    r.permit_id == permit.id
                        && r.frequency == duty.frequency
                        && r.period_start == start
                });
                let observed = match report {
                    Some(r) if r.submitted_on <= due => continue,
                    Some(_) => 1,
                    None => 0,
                };
                out.push(rows::ActiveModel {
                    code: Set(ER1.to_owned()),
                    district_code: Set(permit.district_code.clone()),
                    unit_id: Set(permit.unit_id),
                    permit_id: Set(permit.id),
                    window_from: Set(Some(midnight(start))),
                    window_to: Set(Some(midnight(end.succ_opt().unwrap_or(end)))),
                    expected: Set(Some(1)),
                    observed: Set(Some(observed)),
                    status: Set(CandidateStatus::Open),
                    dedupe_key: Set(format!("{ER1}:d{}:{start}", duty.id)),
                    detected_at: Set(now),
                    ..Default::default()
                });
            }
        }
    }
    Ok(out)
}

fn frequency_of(text: &str) -> MonitoringFrequency {
    match text {
        "HOURLY" => MonitoringFrequency::Hourly,
        "DAILY" => MonitoringFrequency::Daily,
        "WEEKLY" => MonitoringFrequency::Weekly,
        "MONTHLY" => MonitoringFrequency::Monthly,
        "QUARTERLY" => MonitoringFrequency::Quarterly,
        "SEMIANNUAL" => MonitoringFrequency::Semiannual,
        _ => MonitoringFrequency::Annual,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading and deciding

#[derive(Debug, Clone, Default)]
pub struct CandidateFilter {
    pub district: Option<String>,
    pub code: Option<String>,
    pub status: Option<CandidateStatus>,
    pub permit_id: Option<i64>,
    pub unit_id: Option<i64>,
}

/// The caller's candidates, newest first.
pub fn list(
    principal: Option<&Principal>,
    filter: &CandidateFilter,
) -> AppResult<Listing<rows::Entity>> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    let mut select = rows::Entity::find().filter(access::candidate_filter(principal));
    if let Some(d) = &filter.district {
        select = select.filter(rows::Column::DistrictCode.eq(d.trim()));
    }
    if let Some(c) = &filter.code {
        select = select.filter(rows::Column::Code.eq(c.trim()));
    }
    if let Some(s) = filter.status {
        select = select.filter(rows::Column::Status.eq(s));
    }
    if let Some(id) = filter.permit_id {
        select = select.filter(rows::Column::PermitId.eq(id));
    }
    if let Some(id) = filter.unit_id {
        select = select.filter(rows::Column::UnitId.eq(id));
    }
    Ok(Listing::new(
        select,
        Ordering {
            column: rows::Column::Id,
            id_column: None,
            descending: true,
            date_sort: false,
            key: |m: &rows::Model| (SortValue::Int(m.id), m.id),
        },
    ))
}

/// One candidate, if the principal may read it (the subscription's load).
pub async fn get(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<rows::Model>> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(by_ids(db, principal, &[id]).await?.into_iter().next())
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<rows::Model>> {
    Ok(rows::Entity::find()
        .filter(access::candidate_filter(principal))
        .filter(rows::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The candidates findings were recorded from.
pub async fn of_findings(
    db: &impl ConnectionTrait,
    principal: &Principal,
    finding_ids: &[i64],
) -> AppResult<Vec<rows::Model>> {
    Ok(rows::Entity::find()
        .filter(access::candidate_filter(principal))
        .filter(rows::Column::FindingId.is_in(finding_ids.iter().copied()))
        .all(db)
        .await?)
}

/// An open candidate the principal may decide, read in its transaction.
pub(crate) async fn open_one(
    txn: &DatabaseTransaction,
    principal: &Principal,
    id: i64,
    field: &str,
) -> AppResult<rows::Model> {
    let found = rows::Entity::find_by_id(id)
        .filter(access::candidate_filter(principal))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::invalid(field, "no such candidate in the caller's scope"))?;
    access::check_district(principal, &found.district_code)?;
    if found.status != CandidateStatus::Open {
        return Err(AppError::InvalidTransition {
            from: status_name(found.status).to_owned(),
            to: "decided".to_owned(),
            reason: "the candidate was decided already".to_owned(),
        });
    }
    Ok(found)
}

/// Marks a candidate decided (dismissed, or confirmed by `finding`), with its feed row.
pub(crate) async fn decide(
    txn: &DatabaseTransaction,
    principal: &Principal,
    candidate: rows::Model,
    status: CandidateStatus,
    reason: Option<String>,
    finding: Option<i64>,
) -> AppResult<rows::Model> {
    let district = candidate.district_code.clone();
    let mut active: rows::ActiveModel = candidate.into();
    active.status = Set(status);
    active.dismissed_reason = Set(reason);
    active.finding_id = Set(finding);
    active.decided_by_subject = Set(Some(principal.subject.clone()));
    active.decided_at = Set(Some(clock::now()));
    let saved = active.update(txn).await?;
    changes::record(
        txn,
        principal,
        Change {
            kind: ChangeKind::ViolationCandidate,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::StateChanged,
            state: Some(status_name(status)),
            district: Some(&district),
        },
    )
    .await?;
    Ok(saved)
}

/// Dismisses an open candidate with a reason (ENFORCEMENT_OFFICER in scope, ADMIN).
pub async fn dismiss(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
    reason: &str,
) -> AppResult<rows::Model> {
    let principal = access::authorize(principal, Operation::WriteEnforcement)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::invalid(
            "reason",
            "give the reason (1 to 2000 characters)",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let candidate = open_one(&txn, principal, id, "id").await?;
    let saved = decide(
        &txn,
        principal,
        candidate,
        CandidateStatus::Dismissed,
        Some(reason.to_owned()),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The instant of Unix seconds, for answers.
pub fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}
