//! Demo data: a realistic, reproducible population of discharge units with their permits and
//! registrations, and about two years of enforcement, campaigns and monitoring, for demos, load
//! tests and UI work.
//!
//! - **Base tables in bulk** ([`base`]): units spread over the districts by size with valid
//!   GB 32100 credit codes, permits as issued (version 1, outlets, limits, the monitoring plan,
//!   report duties) and registrations go in with multi-row `INSERT`s, so a benchmark-sized seed
//!   (`--units 100000`) stays fast. Their outlets pass the domain's own checks
//!   (`permits::validate_outlets`), their snapshots and feed and audit rows are built by the
//!   domain's functions (`permits::snapshot_item`, `changes::feed_insert`, `changes::audit_row`).
//! - **Everything after, through the domain** ([`replay`]): permit changes, renewals and ends,
//!   the inspector lists and conflicts, inspections, findings and their lifecycles, enforcement
//!   actions, the campaigns with their random draws and summary reports, readings and execution
//!   reports are the domain's commands, run in date order under `clock::at` with a principal of
//!   the agency that acted. Every derived row (versions, transitions, feed, audit, pattern
//!   cells, EX-1 candidates, summaries) is therefore what the service itself writes. At
//!   benchmark scale the replayed history covers a sample of [`REPLAYED_UNITS`] units.
//! - **Once**: if `units` already has rows, nothing is written (`skipped: true`).
//! - **Reproducible**: the same `seed` and `today` give the same rows. Randomness comes from
//!   `permit_core::rng` (fixed arithmetic), each unit draws from its own stream, and dates are
//!   relative to `today`, never to the wall clock.

mod base;
mod campaigns;
mod locations;
pub mod monitoring;
pub mod names;
mod replay;
mod story;

use permit_core::rng;

use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, Insert, Iterable,
};

use entity::enums::AgencyKind;
use entity::{agencies, units, violation_codes};
use permit_core::auth::{Principal, RequestTag, Role};
use permit_core::domain::codes::DistrictCode;
use permit_core::domain::reference;
use permit_core::error::AppError;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOptions {
    /// Number of discharge units.
    pub units: usize,
    /// Seed of the generator: same seed and `today`, same rows.
    pub seed: u64,
    /// The day the data set is "as of": validity periods, expiries and history are placed
    /// relative to it, so a demo always has permits expiring next month.
    pub today: NaiveDate,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            units: 2000,
            seed: 2021,
            today: permit_core::domain::clock::today(),
        }
    }
}

/// What was written (all zero, with `skipped`, when `units` already had rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub units: usize,
    pub permits: usize,
    /// Permit versions: the issued ones, and every change, renewal or end replayed.
    pub permit_versions: usize,
    pub outlets: usize,
    pub limits: usize,
    pub registrations: usize,
    /// Inspector-list entries (执法人员名录库) of every enforcement agency.
    pub inspectors: usize,
    /// Declared conflicts of interest (回避).
    pub inspector_conflicts: usize,
    /// Inspections, re-inspections (复查) included.
    pub inspections: usize,
    pub findings: usize,
    /// Moves of the findings after their creation.
    pub finding_transitions: usize,
    /// Evidence metadata rows.
    pub finding_evidence: usize,
    /// Enforcement actions (correction orders, fines, …).
    pub actions: usize,
    /// Special enforcement campaigns (the 2021 one and the current year's).
    pub campaigns: usize,
    /// Random draws (双随机): per-district unit draws and the municipal joint-group draw.
    pub draws: usize,
    /// District summary reports (总结报告).
    pub summary_reports: usize,
    pub readings: usize,
    /// Violation candidates the readings raised.
    pub candidates: usize,
    pub execution_reports: usize,
    pub skipped: bool,
}

/// Token subject recorded as the author of everything seeded.
pub const SEED_SUBJECT: &str = "seed:demo";

/// Units whose later history is replayed through the domain's commands; above it (benchmark
/// scale) a sample of this many, spread evenly over the units, is.
pub const REPLAYED_UNITS: usize = 2500;

/// Bind parameters per statement: SQLite's SQLITE_MAX_VARIABLE_NUMBER (32766 since 3.32) and
/// PostgreSQL's protocol limit (a 16-bit count).
const SQLITE_MAX_PARAMS: usize = 32766;
const POSTGRES_MAX_PARAMS: usize = 65535;

const MUNICIPAL_PERMIT_OFFICE: &str = "500000-PMT";
const MUNICIPAL_ENFORCEMENT: &str = "500000-ENF";
const MUNICIPAL_SUPERVISION: &str = "500000-SUP";

/// Seeds the demo data set unless `units` already has rows. See the module documentation.
pub async fn seed_demo(db: &DatabaseConnection, opts: &SeedOptions) -> Result<SeedReport, DbErr> {
    let started = Instant::now();
    if units::Entity::find().one(db).await?.is_some() {
        tracing::info!("demo seed skipped: the units table already has rows");
        return Ok(SeedReport {
            skipped: true,
            ..SeedReport::default()
        });
    }
    let ctx = Context::load(db, opts).await?;
    let mut report = SeedReport::default();
    let subjects = base::write(db, &ctx, &mut report).await?;
    replay::run(db, &ctx, &subjects, &mut report).await?;
    tracing::info!(
        ?report,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo seed written"
    );
    Ok(report)
}

/// `?` on a domain command: its refusal (the seed planned something the rules refuse) as the
/// seed's error.
trait Refused<T> {
    fn refused(self, what: &str) -> Result<T, DbErr>;
}

impl<T> Refused<T> for Result<T, AppError> {
    fn refused(self, what: &str) -> Result<T, DbErr> {
        self.map_err(|e| DbErr::Custom(format!("demo seed: the domain refused {what}: {e:?}")))
    }
}

/// One district as the seed uses it.
struct District {
    code: String,
    name: String,
    towns: &'static [&'static str],
    weight: u32,
    /// The permit office that issues this district's permits.
    permit_office: String,
    /// Its own enforcement detachment (`{code}-ENF`), or the municipal one.
    enforcement: String,
    /// Short name for decision numbers (江北环罚〔2024〕12号).
    short: String,
}

/// Reference data the generator needs, read once.
struct Context {
    districts: Vec<District>,
    municipal_office: Option<String>,
    municipal_enforcement: Option<String>,
    supervision: Option<String>,
    codes: Vec<violation_codes::Model>,
    seed: u64,
    today: NaiveDate,
    units: usize,
}

impl Context {
    async fn load(db: &DatabaseConnection, opts: &SeedOptions) -> Result<Self, DbErr> {
        // Sorted by code so the weighted draw does not depend on the database's row order.
        let rows = reference::districts(db).await.refused("the districts")?;
        let agency_rows = agencies::Entity::find().all(db).await?;
        let has = |code: &str, kind: Option<AgencyKind>| {
            agency_rows
                .iter()
                .any(|a| a.code == code && kind.is_none_or(|k| a.kind == k))
        };
        let municipal_office =
            has(MUNICIPAL_PERMIT_OFFICE, None).then_some(MUNICIPAL_PERMIT_OFFICE);
        let municipal_enforcement = has(MUNICIPAL_ENFORCEMENT, Some(AgencyKind::Enforcement))
            .then_some(MUNICIPAL_ENFORCEMENT);
        let missing = |what: &str, code: &str| {
            DbErr::Custom(format!(
                "demo seed: no {what} for district {code}; load the reference data first \
                 (migration::reference::load)"
            ))
        };
        let mut districts = Vec::with_capacity(rows.len());
        for row in rows {
            let known = names::district_info(&row.code);
            let own_office = format!("{}-PMT", row.code);
            let permit_office = if has(&own_office, None) {
                own_office
            } else {
                municipal_office
                    .map(str::to_owned)
                    .ok_or_else(|| missing("permit office", &row.code))?
            };
            let own_detachment = format!("{}-ENF", row.code);
            let enforcement = if has(&own_detachment, Some(AgencyKind::Enforcement)) {
                own_detachment
            } else {
                municipal_enforcement
                    .map(str::to_owned)
                    .ok_or_else(|| missing("enforcement agency", &row.code))?
            };
            districts.push(District {
                short: names::district_short_name(&row.name_zh),
                towns: known.map_or(names::FALLBACK_TOWNS, |d| d.towns),
                weight: known.map_or(1, |d| d.weight),
                code: row.code,
                name: row.name_zh,
                permit_office,
                enforcement,
            });
        }
        if districts.is_empty() {
            return Err(missing("district table", "(any)"));
        }
        let mut codes = reference::violation_codes(db, None)
            .await
            .refused("the codes")?;
        codes.sort_by_key(|c| (c.sort_order, c.code.clone()));
        Ok(Self {
            districts,
            municipal_office: municipal_office.map(str::to_owned),
            municipal_enforcement: municipal_enforcement.map(str::to_owned),
            supervision: has(MUNICIPAL_SUPERVISION, None).then(|| MUNICIPAL_SUPERVISION.to_owned()),
            codes,
            seed: opts.seed,
            today: opts.today,
            units: opts.units,
        })
    }
}

/// A principal of `agency` in `role`, scoped to its district (none for municipal agencies).
fn principal(role: Role, agency: &str) -> Principal {
    Principal {
        subject: SEED_SUBJECT.to_owned(),
        role,
        agency_code: Some(agency.to_owned()),
        district: agency_district(agency).and_then(|d| DistrictCode::parse(d).ok()),
        request: RequestTag::default(),
    }
}

/// The district an agency acts for: `500101-ENF` for 500101, none for the `500000-*` ones.
fn agency_district(agency: &str) -> Option<&str> {
    agency
        .split_once('-')
        .map(|(d, _)| d)
        .filter(|d| *d != "500000")
}

fn plus_days(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(Duration::days(days))
        .unwrap_or(date)
}

/// `date` at `local_seconds` after midnight in Chongqing (UTC+8).
fn at_local(date: NaiveDate, local_seconds: i64) -> DateTime<Utc> {
    (date.and_time(NaiveTime::MIN) + Duration::seconds(local_seconds - 8 * 3600)).and_utc()
}

/// A moment during office hours (08:30–18:00 Chongqing time) on `date`.
fn office_hours(rng: &mut rng::Rng, date: NaiveDate) -> DateTime<Utc> {
    at_local(date, rng.range(8 * 3600 + 30 * 60, 18 * 3600 - 1))
}

/// The last id in a table; the bulk path numbers its rows after it.
async fn max_id(db: &impl ConnectionTrait, table: &str) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COALESCE(MAX(id), 0) AS max_id FROM {table}"),
        ))
        .await?;
    row.map_or(Ok(0), |row| row.try_get::<i64>("", "max_id"))
}

/// On PostgreSQL the bulk path chose the ids, so the sequences never advanced: move them past
/// the new rows before the domain's own INSERTs draw from them.
async fn move_sequences(txn: &DatabaseTransaction, tables: &[&str]) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in tables {
        // setval is strict: on a table still empty (MAX is NULL) it leaves the sequence.
        txn.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             (SELECT MAX(id) FROM {table}))"
        ))
        .await?;
    }
    Ok(())
}

/// Multi-row INSERTs under the driver's bind-parameter limit (every column of every row is one
/// parameter, NULLs included).
async fn insert_chunked<A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
{
    let max_params = match txn.get_database_backend() {
        DbBackend::Sqlite => SQLITE_MAX_PARAMS,
        _ => POSTGRES_MAX_PARAMS,
    };
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    let per_statement = (max_params / columns).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        Insert::many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
