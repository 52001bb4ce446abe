//! Demo data: a realistic, reproducible population of discharge units with their permits
//! (versions, outlets, limits) and registrations, and the enforcement side — inspectors,
//! inspections, findings with their histories and evidence, enforcement actions — for demos,
//! load tests and UI work.
//!
//! - **Once**: if `units` already has rows, nothing is written (`skipped: true`), so the seed can
//!   run on every start of a demo deployment without duplicating or touching real data.
//! - **Reproducible**: the same `seed` and `today` give identical rows, ids included. Randomness
//!   comes from our own [`permit_core::rng::Rng`] (not a crate whose algorithms may change), each unit draws
//!   from its own stream, and dates are relative to `today`, never to the wall clock.
//! - **Realistic**: units spread over the 41 districts by size, valid GB 32100 credit codes,
//!   Chinese names and addresses, the KEY/SIMPLIFIED/REGISTRATION mix of Chongqing, industries
//!   and limits from [`names`], permit histories that obey the permit state machine of
//!   `domain::permits` (issued, changed, renewed, revoked, withdrawn, cancelled, expired);
//!   about two years of enforcement that obeys the rules of `domain::taxonomy`, `findings`,
//!   `inspections` and `cases` (see [`enforcement`]).
//! - **Campaigns**: the 2021 permit special enforcement of the plan, with its district
//!   self-inspections, municipal joint spot checks, verifiable random draws and district summary
//!   reports, and the current year's campaign that this year's special-campaign inspections
//!   belong to (see [`campaigns`]).
//! - **Monitoring**: report duties, self-monitoring plans and three days of hourly automatic
//!   readings (with a few exceedances and gaps) over the live permits (see [`monitoring`]).
//! - **History**: a change-feed row for every seeded record and every later version or status
//!   move of it, in the order they happened, as the service writes them (see [`history`]).
//! - **Fast**: ids are assigned here (after each table's current maximum), rows go in with
//!   multi-row `INSERT`s sized under the driver's bind-parameter limit, a transaction a
//!   batch (an interrupted seed leaves part of the data: drop the database and seed again),
//!   generated and written in batches so memory stays flat (only the enforcement actions,
//!   the small records the campaigns need and the compact change-feed entries wait for the
//!   end).

mod campaigns;
mod enforcement;
mod history;
mod locations;
pub mod monitoring;
pub mod names;
mod reviews;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Duration, Months, NaiveDate, NaiveTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, Insert, IntoActiveModel, Iterable, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::{Value, json};

use campaigns::CampaignState;
use enforcement::{
    CodeInfo, EnforcementState, Holding, LimitFacts, OutletFacts, PermitFacts, UnitFacts,
};
use entity::enums::{
    AgencyKind, AveragingPeriod, CreditLevel, ManagementCategory, OutletCategory, OutletMedium,
    PermitChangeKind, PermitStatus, RegistrationStatus,
};
use entity::{
    agencies, campaign_phases, campaign_sampling_rules, campaigns as campaign_rows, change_events,
    districts, enforcement_actions, finding_evidence, finding_transitions, findings,
    inspection_inspectors, inspections, inspector_conflicts, inspectors, outlets, permit_limits,
    permit_versions, permits, random_draw_items, random_draws, registrations, summary_reports,
    units, violation_codes,
};
use history::History;
use names::{Industry, Media, NameStyle, Pollutant};
use permit_core::domain::codes::{CreditCode, PermitNumber, registration_number};
use permit_core::domain::permits::default_valid_to;
use permit_core::domain::taxonomy::permit_requirement;
use permit_core::rng::Rng;

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
    /// Status-history rows of the findings (one per move, creation included).
    pub finding_transitions: usize,
    /// Evidence metadata rows.
    pub finding_evidence: usize,
    /// Enforcement actions (correction orders, fines, …).
    pub actions: usize,
    /// Special enforcement campaigns (the 2021 one and the current year's).
    pub campaigns: usize,
    /// Random draws (双随机): per-district unit draws and the municipal joint-group draw.
    pub draws: usize,
    /// District summary reports (总结报告) of the 2021 campaign.
    pub summary_reports: usize,
    /// Change-feed rows (`change_events`).
    pub change_events: usize,
    pub skipped: bool,
}

/// Token subject recorded as the author of the seeded permit versions, inspections, finding
/// transitions and actions.
pub const SEED_SUBJECT: &str = "seed:demo";

/// Sub-streams of unit positions (`locations`), apart from every other stream.
const LOCATION_STREAMS: u64 = 0x4C4F_4341_5449_4F4E; // "LOCATION"

/// Units generated (and written) per batch: large enough for big INSERTs, small enough that a
/// 100 000-unit seed never holds more than a few thousand rows in memory.
const UNITS_PER_BATCH: usize = 2000;

/// Bind parameters per statement: SQLite's SQLITE_MAX_VARIABLE_NUMBER (32766 since 3.32) and
/// PostgreSQL's protocol limit (a 16-bit count). MySQL's limit is the same as PostgreSQL's.
const SQLITE_MAX_PARAMS: usize = 32766;
const POSTGRES_MAX_PARAMS: usize = 65535;

/// The municipal permit office (总量处), which issues some KEY permits itself.
const MUNICIPAL_PERMIT_OFFICE: &str = "500000-PMT";

/// The municipal 执法总队, which runs joint checks and acts for a district without a detachment.
const MUNICIPAL_ENFORCEMENT: &str = "500000-ENF";

/// Municipal supervision (执法督导), which creates the campaigns and draws the joint groups.
const MUNICIPAL_SUPERVISION: &str = "500000-SUP";

/// Management categories as the brief describes Chongqing's mix.
const CATEGORIES: [(ManagementCategory, u32); 3] = [
    (ManagementCategory::Key, 15),
    (ManagementCategory::Simplified, 45),
    (ManagementCategory::Registration, 40),
];

/// Credit levels: mostly good, some warning or poor.
const CREDIT_LEVELS: [(CreditLevel, u32); 4] = [
    (CreditLevel::Trustworthy, 22),
    (CreditLevel::Good, 62),
    (CreditLevel::Warning, 12),
    (CreditLevel::Poor, 4),
];

/// How a permit's life ends up as of `today`, in per mille.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Valid,
    /// Valid, but `valid_to` within 60 days: due for renewal (Art 14).
    Expiring,
    Expired,
    Revoked,
    Withdrawn,
    Cancelled,
}

const SCENARIOS: [(Scenario, u32); 6] = [
    (Scenario::Valid, 850),
    (Scenario::Expiring, 50),
    (Scenario::Expired, 50),
    (Scenario::Revoked, 20),
    (Scenario::Withdrawn, 10),
    (Scenario::Cancelled, 20),
];

/// The national permit programme started issuing in 2017; no renewal predates that.
fn programme_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2017, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Seeds the demo data set unless `units` already has rows. See the module documentation.
pub async fn seed_demo(db: &DatabaseConnection, opts: &SeedOptions) -> Result<SeedReport, DbErr> {
    let report = seed_with_param_limit(db, opts, None).await?;
    if !report.skipped {
        let monitoring = monitoring::seed(db, opts.today).await?;
        tracing::info!(
            requirements = monitoring.requirements,
            duties = monitoring.duties,
            readings = monitoring.readings,
            candidates = monitoring.candidates,
            reports = monitoring.reports,
            "demo seed: monitoring data written"
        );
    }
    Ok(report)
}

/// [`seed_demo`] with an optional lower bind-parameter limit (tests use it to force many small
/// statements and check they give the same rows).
async fn seed_with_param_limit(
    db: &DatabaseConnection,
    opts: &SeedOptions,
    param_limit: Option<usize>,
) -> Result<SeedReport, DbErr> {
    let started = Instant::now();
    let mut txn = db.begin().await?;
    if units::Entity::find().one(&txn).await?.is_some() {
        txn.rollback().await?;
        tracing::info!("demo seed skipped: the units table already has rows");
        return Ok(SeedReport {
            skipped: true,
            ..SeedReport::default()
        });
    }

    let mut context = Context::load(&txn, opts).await?;
    let max_params = match txn.get_database_backend() {
        DbBackend::Sqlite => SQLITE_MAX_PARAMS,
        _ => POSTGRES_MAX_PARAMS,
    }
    .min(param_limit.unwrap_or(usize::MAX));
    let mut ids = Ids::after_current(&txn).await?;
    // The campaigns are planned first: this year's special-campaign inspections name theirs.
    let campaign_state = CampaignState::plan(&txn, &mut context, &mut ids).await?;
    let mut generator = Generator {
        ctx: &context,
        ids,
        seen_codes: HashSet::with_capacity(opts.units),
        seen_names: HashSet::with_capacity(opts.units),
        report: SeedReport::default(),
        enf: EnforcementState::default(),
        camp: campaign_state,
        history: History::default(),
    };

    // The inspector lists come first: every unit's inspections draw their teams from them.
    let existing_certificates: HashSet<String> = inspectors::Entity::find()
        .select_only()
        .column(inspectors::Column::CertificateNumber)
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let inspector_rows = generator.inspectors(existing_certificates);
    generator.camp.note_inspectors(&inspector_rows);
    generator.history.inspectors(&inspector_rows, &context);
    insert_chunked::<inspectors::Entity>(&txn, inspector_rows, max_params).await?;

    let mut batch = Batch::default();
    let mut index = 0usize;
    while index < opts.units {
        let end = (index + UNITS_PER_BATCH).min(opts.units);
        for i in index..end {
            generator.unit(i as u64, &mut batch)?;
        }
        generator.camp.note_conflicts(&batch.conflicts);
        generator.history.batch(&batch, &context);
        batch.write(&txn, max_params).await?;
        // A transaction per batch: a long one would hold back the change feed of every other
        // database on the cluster (it waits for older transactions) for the whole seed.
        txn.commit().await?;
        txn = db.begin().await?;
        index = end;
    }
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo seed: units written"
    );
    let penalties = generator.penalties();
    let (actions, penalised) = generator.finish_enforcement();
    generator.history.actions(&actions, &penalised);
    insert_chunked::<enforcement_actions::Entity>(&txn, actions, max_params).await?;
    insert_chunked::<finding_transitions::Entity>(&txn, penalised, max_params).await?;

    // The campaigns, their draws and inspections, then the summary reports computed from
    // everything written so far, then the change feed of it all.
    generator.campaigns(&txn, &penalties, max_params).await?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo seed: campaigns written"
    );
    txn.commit().await?;
    let history = std::mem::take(&mut generator.history);
    generator.report.change_events = history
        .write(db, &mut generator.ids.change_event, max_params)
        .await?;
    let txn = db.begin().await?;

    if txn.get_database_backend() == DbBackend::Postgres {
        // The ids were chosen here, so the bigserial sequences never advanced; move them past
        // the new rows or the service's next INSERT would collide with a seeded id.
        for table in [
            "units",
            "permits",
            "permit_versions",
            "outlets",
            "permit_limits",
            "registrations",
            "inspectors",
            "inspector_conflicts",
            "inspections",
            "findings",
            "finding_evidence",
            "finding_transitions",
            "enforcement_actions",
            "campaigns",
            "campaign_phases",
            "campaign_sampling_rules",
            "random_draws",
            "random_draw_items",
            "summary_reports",
            "change_events",
        ] {
            // setval is strict: on a table still empty (MAX is NULL) it leaves the sequence.
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT MAX(id) FROM {table}))"
            ))
            .await?;
        }
    }
    // The pattern cells the writes of the service keep current, computed once for the bulk.
    txn.execute_unprepared("DELETE FROM violation_pattern_cells")
        .await?;
    txn.execute_unprepared(migration::m20261128_000007_pattern_cells::REBUILD)
        .await?;
    txn.commit().await?;

    let report = generator.report;
    tracing::info!(
        units = report.units,
        permits = report.permits,
        permit_versions = report.permit_versions,
        outlets = report.outlets,
        limits = report.limits,
        registrations = report.registrations,
        inspectors = report.inspectors,
        inspections = report.inspections,
        findings = report.findings,
        actions = report.actions,
        campaigns = report.campaigns,
        draws = report.draws,
        summary_reports = report.summary_reports,
        change_events = report.change_events,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo seed written"
    );
    Ok(report)
}

/// Reference data the generator needs, read once.
struct Context {
    districts: Vec<DistrictChoice>,
    district_weights: Vec<u32>,
    /// The municipal permit office, when the reference data has it.
    municipal_office: Option<String>,
    /// The municipal 执法总队, when the reference data has it.
    municipal_enforcement: Option<String>,
    /// The violation codes of the reference data, in display order.
    codes: Vec<CodeInfo>,
    /// Decision-number prefix of each enforcement agency (江北环, 渝环执).
    document_prefixes: HashMap<String, String>,
    /// Municipal supervision, when the reference data has it.
    supervision: Option<String>,
    /// The district of every district-level agency (municipal ones are absent).
    agency_districts: HashMap<String, String>,
    /// Index into `districts` by district code.
    district_index: HashMap<String, usize>,
    /// The campaigns the seed creates (set by [`CampaignState::plan`]), in id order.
    campaigns: Vec<campaigns::CampaignPlan>,
    seed: u64,
    today: NaiveDate,
}

struct DistrictChoice {
    code: String,
    name: String,
    towns: &'static [&'static str],
    /// The permit office that issues this district's permits.
    permit_office: String,
    /// The enforcement agency that records this district's inspections: its own detachment
    /// (`{code}-ENF`), or the municipal one where the reference data has none.
    enforcement_agency: String,
    own_detachment: bool,
}

impl Context {
    /// The decision-number prefix of an agency: the district's short name + 环, 渝环执 for the
    /// municipal 执法总队 (the agency code for one the reference data added since).
    fn document_prefix<'a>(&'a self, agency: &'a str) -> &'a str {
        self.document_prefixes
            .get(agency)
            .map_or(agency, String::as_str)
    }
}

impl Context {
    async fn load(txn: &DatabaseTransaction, opts: &SeedOptions) -> Result<Self, DbErr> {
        // Sorted by code so the weighted draw does not depend on the database's row order.
        let rows = districts::Entity::find()
            .order_by_asc(districts::Column::Code)
            .all(txn)
            .await?;
        if rows.is_empty() {
            return Err(DbErr::Custom(
                "demo seed: the districts table is empty; load the reference data first \
                 (migration::reference::load)"
                    .to_owned(),
            ));
        }
        let agency_rows = agencies::Entity::find().all(txn).await?;
        let agency_codes: HashSet<String> = agency_rows.iter().map(|a| a.code.clone()).collect();
        let enforcement_codes: HashSet<&str> = agency_rows
            .iter()
            .filter(|a| a.kind == AgencyKind::Enforcement)
            .map(|a| a.code.as_str())
            .collect();
        let municipal_office = agency_codes
            .contains(MUNICIPAL_PERMIT_OFFICE)
            .then(|| MUNICIPAL_PERMIT_OFFICE.to_owned());
        let supervision = agency_codes
            .contains(MUNICIPAL_SUPERVISION)
            .then(|| MUNICIPAL_SUPERVISION.to_owned());
        let agency_districts: HashMap<String, String> = agency_rows
            .iter()
            .filter_map(|a| Some((a.code.clone(), a.district_code.clone()?)))
            .collect();
        let municipal_enforcement = enforcement_codes
            .contains(MUNICIPAL_ENFORCEMENT)
            .then(|| MUNICIPAL_ENFORCEMENT.to_owned());
        let mut document_prefixes = HashMap::new();
        if let Some(municipal) = &municipal_enforcement {
            document_prefixes.insert(municipal.clone(), "渝环执".to_owned());
        }
        let mut short_names_used: HashSet<String> = HashSet::new();

        let mut districts = Vec::with_capacity(rows.len());
        let mut district_weights = Vec::with_capacity(rows.len());
        for row in rows {
            let known = names::district_info(&row.code);
            let own_office = format!("{}-PMT", row.code);
            let permit_office = if agency_codes.contains(&own_office) {
                own_office
            } else if let Some(municipal) = &municipal_office {
                municipal.clone()
            } else {
                return Err(DbErr::Custom(format!(
                    "demo seed: no permit office for district {} (expected agency {own_office} \
                     or {MUNICIPAL_PERMIT_OFFICE}); load the reference data first",
                    row.code
                )));
            };
            let own_detachment_code = format!("{}-ENF", row.code);
            let own_detachment = enforcement_codes.contains(own_detachment_code.as_str());
            let enforcement_agency = if own_detachment {
                // Short names are unique in Chongqing; should two ever clash, the code keeps
                // decision numbers apart.
                let short = names::district_short_name(&row.name_zh);
                let short = if short_names_used.insert(short.clone()) {
                    short
                } else {
                    row.code.clone()
                };
                document_prefixes.insert(own_detachment_code.clone(), format!("{short}环"));
                own_detachment_code
            } else if let Some(municipal) = &municipal_enforcement {
                municipal.clone()
            } else {
                return Err(DbErr::Custom(format!(
                    "demo seed: no enforcement agency for district {} (expected agency \
                     {own_detachment_code} or {MUNICIPAL_ENFORCEMENT}); load the reference data first",
                    row.code
                )));
            };
            district_weights.push(known.map_or(1, |d| d.weight));
            districts.push(DistrictChoice {
                towns: known.map_or(names::FALLBACK_TOWNS, |d| d.towns),
                code: row.code,
                name: row.name_zh,
                permit_office,
                enforcement_agency,
                own_detachment,
            });
        }

        let codes = violation_codes::Entity::find()
            .order_by_asc(violation_codes::Column::SortOrder)
            .order_by_asc(violation_codes::Column::Code)
            .all(txn)
            .await?
            .into_iter()
            .map(|c| CodeInfo {
                requirement: permit_requirement(&c.code),
                code: c.code,
                category: c.category,
                label: c.label_zh,
                fine_min: c.fine_min,
                fine_max: c.fine_max,
            })
            .collect();
        let district_index = districts
            .iter()
            .enumerate()
            .map(|(i, d)| (d.code.clone(), i))
            .collect();
        Ok(Self {
            districts,
            district_weights,
            municipal_office,
            municipal_enforcement,
            codes,
            document_prefixes,
            supervision,
            agency_districts,
            district_index,
            campaigns: Vec::new(),
            seed: opts.seed,
            today: opts.today,
        })
    }
}

/// The last id used in each table; new rows continue from there.
struct Ids {
    unit: i64,
    permit: i64,
    version: i64,
    outlet: i64,
    limit: i64,
    registration: i64,
    inspector: i64,
    conflict: i64,
    inspection: i64,
    finding: i64,
    evidence: i64,
    transition: i64,
    action: i64,
    campaign: i64,
    phase: i64,
    rule: i64,
    draw: i64,
    draw_item: i64,
    summary_report: i64,
    change_event: i64,
}

impl Ids {
    async fn after_current(txn: &DatabaseTransaction) -> Result<Self, DbErr> {
        Ok(Self {
            unit: max_id::<units::Entity>(txn, units::Column::Id).await?,
            permit: max_id::<permits::Entity>(txn, permits::Column::Id).await?,
            version: max_id::<permit_versions::Entity>(txn, permit_versions::Column::Id).await?,
            outlet: max_id::<outlets::Entity>(txn, outlets::Column::Id).await?,
            limit: max_id::<permit_limits::Entity>(txn, permit_limits::Column::Id).await?,
            registration: max_id::<registrations::Entity>(txn, registrations::Column::Id).await?,
            inspector: max_id::<inspectors::Entity>(txn, inspectors::Column::Id).await?,
            conflict: max_id::<inspector_conflicts::Entity>(txn, inspector_conflicts::Column::Id)
                .await?,
            inspection: max_id::<inspections::Entity>(txn, inspections::Column::Id).await?,
            finding: max_id::<findings::Entity>(txn, findings::Column::Id).await?,
            evidence: max_id::<finding_evidence::Entity>(txn, finding_evidence::Column::Id).await?,
            transition: max_id::<finding_transitions::Entity>(txn, finding_transitions::Column::Id)
                .await?,
            action: max_id::<enforcement_actions::Entity>(txn, enforcement_actions::Column::Id)
                .await?,
            campaign: max_id::<campaign_rows::Entity>(txn, campaign_rows::Column::Id).await?,
            phase: max_id::<campaign_phases::Entity>(txn, campaign_phases::Column::Id).await?,
            rule: max_id::<campaign_sampling_rules::Entity>(
                txn,
                campaign_sampling_rules::Column::Id,
            )
            .await?,
            draw: max_id::<random_draws::Entity>(txn, random_draws::Column::Id).await?,
            draw_item: max_id::<random_draw_items::Entity>(txn, random_draw_items::Column::Id)
                .await?,
            summary_report: max_id::<summary_reports::Entity>(txn, summary_reports::Column::Id)
                .await?,
            change_event: max_id::<change_events::Entity>(txn, change_events::Column::Id).await?,
        })
    }
}

fn next(id: &mut i64) -> i64 {
    *id += 1;
    *id
}

async fn max_id<E: EntityTrait>(txn: &DatabaseTransaction, id: E::Column) -> Result<i64, DbErr> {
    let max: Option<Option<i64>> = E::find()
        .select_only()
        .column_as(id.max(), "max_id")
        .into_tuple()
        .one(txn)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Rows generated but not yet written.
#[derive(Default)]
struct Batch {
    units: Vec<units::Model>,
    permits: Vec<permits::Model>,
    versions: Vec<permit_versions::Model>,
    outlets: Vec<outlets::Model>,
    limits: Vec<permit_limits::Model>,
    registrations: Vec<registrations::Model>,
    conflicts: Vec<inspector_conflicts::Model>,
    inspections: Vec<inspections::Model>,
    inspection_inspectors: Vec<inspection_inspectors::Model>,
    findings: Vec<findings::Model>,
    evidence: Vec<finding_evidence::Model>,
    transitions: Vec<finding_transitions::Model>,
}

impl Batch {
    /// Writes and empties the batch, parents before children (the foreign keys are checked
    /// per statement).
    async fn write(&mut self, txn: &DatabaseTransaction, max_params: usize) -> Result<(), DbErr> {
        insert_chunked::<units::Entity>(txn, std::mem::take(&mut self.units), max_params).await?;
        insert_chunked::<permits::Entity>(txn, std::mem::take(&mut self.permits), max_params)
            .await?;
        insert_chunked::<permit_versions::Entity>(
            txn,
            std::mem::take(&mut self.versions),
            max_params,
        )
        .await?;
        insert_chunked::<outlets::Entity>(txn, std::mem::take(&mut self.outlets), max_params)
            .await?;
        insert_chunked::<permit_limits::Entity>(txn, std::mem::take(&mut self.limits), max_params)
            .await?;
        insert_chunked::<registrations::Entity>(
            txn,
            std::mem::take(&mut self.registrations),
            max_params,
        )
        .await?;
        insert_chunked::<inspector_conflicts::Entity>(
            txn,
            std::mem::take(&mut self.conflicts),
            max_params,
        )
        .await?;
        insert_chunked::<inspections::Entity>(
            txn,
            std::mem::take(&mut self.inspections),
            max_params,
        )
        .await?;
        insert_chunked::<inspection_inspectors::Entity>(
            txn,
            std::mem::take(&mut self.inspection_inspectors),
            max_params,
        )
        .await?;
        insert_chunked::<findings::Entity>(txn, std::mem::take(&mut self.findings), max_params)
            .await?;
        insert_chunked::<finding_evidence::Entity>(
            txn,
            std::mem::take(&mut self.evidence),
            max_params,
        )
        .await?;
        insert_chunked::<finding_transitions::Entity>(
            txn,
            std::mem::take(&mut self.transitions),
            max_params,
        )
        .await?;
        Ok(())
    }
}

/// Multi-row INSERTs of at most `max_params / columns` rows each (every column of every row is
/// one bind parameter, NULLs included).
async fn insert_chunked<E>(
    txn: &DatabaseTransaction,
    rows: Vec<E::Model>,
    max_params: usize,
) -> Result<(), DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let columns = E::Column::iter().count().max(1);
    let per_statement = (max_params / columns).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::Model> = rows.by_ref().take(per_statement).collect();
        Insert::<E::ActiveModel>::many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

struct Generator<'a> {
    ctx: &'a Context,
    ids: Ids,
    /// Credit codes handed out so far. `MA…` organisation codes leave about 4·10⁷ combinations
    /// per district, so a 100 000-unit seed draws one or two duplicates, which would break the
    /// unique index.
    seen_codes: HashSet<String>,
    /// Unit names handed out so far.
    seen_names: HashSet<String>,
    report: SeedReport,
    enf: EnforcementState,
    /// What the campaigns need of the units and inspectors, gathered as they are generated.
    camp: CampaignState,
    /// The change-feed entries of everything generated.
    history: History,
}

impl Generator<'_> {
    /// Generates unit number `index` (its own random stream) with its permit or registration.
    fn unit(&mut self, index: u64, batch: &mut Batch) -> Result<(), DbErr> {
        let ctx = self.ctx;
        let mut rng = Rng::stream(ctx.seed, index);
        let district_index = rng.weighted_index(&ctx.district_weights);
        let district = &ctx.districts[district_index];
        let category = *rng.pick_weighted(&CATEGORIES);
        let industry = pick_industry(&mut rng, category, &district.code);

        let credit_code = loop {
            let code = credit_code(&mut rng, &district.code)?;
            if self.seen_codes.insert(code.as_str().to_owned()) {
                break code;
            }
        };
        // Company names are unique within a registration authority; redraw the rare repeat
        // (after a few tries accept it rather than loop: names are not a key).
        let mut name = unit_name(&mut rng, industry, district);
        for _ in 0..20 {
            if !self.seen_names.contains(&name) {
                break;
            }
            name = unit_name(&mut rng, industry, district);
        }
        self.seen_names.insert(name.clone());
        let legal_representative = person_name(&mut rng);
        let contact_phone = mobile_phone(&mut rng);
        let address = address(&mut rng, district);
        let credit_level = *rng.pick_weighted(&CREDIT_LEVELS);
        let positive = matches!(credit_level, CreditLevel::Trustworthy | CreditLevel::Good)
            && rng.chance(0.06);
        let (positive_list_reason, positive_list_expires_on) = if positive {
            // Entries run a year; a few have lapsed and await review.
            let expires = plus_days(ctx.today, rng.range(-30, 365));
            (
                Some(rng.pick(names::POSITIVE_LIST_REASONS).to_string()),
                Some(expires),
            )
        } else {
            (None, None)
        };

        let unit_id = next(&mut self.ids.unit);
        // From a stream of its own, so locating units changes none of the other data.
        let (longitude, latitude) = locations::place(
            &mut Rng::stream(ctx.seed ^ LOCATION_STREAMS, index),
            &district.code,
        );
        let holding = match category {
            ManagementCategory::Key | ManagementCategory::Simplified => {
                Holding::Permit(Box::new(self.permit(
                    &mut rng,
                    PermitSubject {
                        unit_id,
                        credit_code: &credit_code,
                        category,
                        industry,
                        district,
                    },
                    batch,
                )?))
            }
            ManagementCategory::Registration => Holding::Registration {
                registered_on: self.registration(&mut rng, unit_id, &credit_code, district, batch),
            },
        };
        let first_event = match &holding {
            Holding::Permit(p) => p.first_issued_on,
            Holding::Registration { registered_on } => *registered_on,
        };
        // The unit was on file shortly before its first permit or registration.
        let on_file = plus_days(first_event, -rng.range(1, 45));
        let created_at = timestamp(&mut rng, on_file);
        let updated_at = match positive_list_expires_on {
            // Listing the unit on the positive list is its last update.
            Some(expires) => {
                let listed = plus_days(expires, -365).max(first_event).min(ctx.today);
                timestamp(&mut rng, listed).max(created_at)
            }
            None => created_at,
        };
        batch.units.push(units::Model {
            id: unit_id,
            credit_code: credit_code.as_str().to_owned(),
            name,
            legal_representative: Some(legal_representative),
            contact_phone: Some(contact_phone),
            address,
            district_code: district.code.clone(),
            industry_code: industry.code.to_owned(),
            management_category: category,
            credit_level,
            positive_list: positive,
            positive_list_reason,
            positive_list_expires_on,
            longitude: Some(longitude),
            latitude: Some(latitude),
            version: 1,
            created_at,
            updated_at,
        });
        self.report.units += 1;

        // Its enforcement history, from a stream of its own (see `enforcement`), then what the
        // 2021 campaign may do with it (from another stream, see `campaigns`).
        let facts = UnitFacts {
            index,
            id: unit_id,
            district: district_index,
            category,
            credit_level,
            positive_list: positive,
            on_file,
            holding,
        };
        self.enforcement(&facts, batch);
        self.campaign_prospects(&facts, batch);
        Ok(())
    }

    /// A registration (排污登记) valid five years; returns the registration date.
    fn registration(
        &mut self,
        rng: &mut Rng,
        unit_id: i64,
        credit_code: &CreditCode,
        district: &DistrictChoice,
        batch: &mut Batch,
    ) -> NaiveDate {
        let today = self.ctx.today;
        let registered_on = plus_days(today, -rng.range(1, 1800));
        let status = if rng.chance(0.04) {
            RegistrationStatus::Cancelled
        } else {
            RegistrationStatus::Valid
        };
        batch.registrations.push(registrations::Model {
            id: next(&mut self.ids.registration),
            registration_number: registration_number(credit_code, 1),
            unit_id,
            district_code: district.code.clone(),
            registered_on,
            valid_to: default_valid_to(registered_on),
            status,
            created_at: timestamp(rng, registered_on),
        });
        self.report.registrations += 1;
        registered_on
    }

    /// A permit with its history, outlets and limits; returns what the enforcement history
    /// needs to know of it.
    fn permit(
        &mut self,
        rng: &mut Rng,
        subject: PermitSubject<'_>,
        batch: &mut Batch,
    ) -> Result<PermitFacts, DbErr> {
        let ctx = self.ctx;
        let today = ctx.today;
        let number = PermitNumber::new(subject.credit_code, 1).map_err(code_error)?;
        let agency = match (&ctx.municipal_office, subject.category) {
            (Some(municipal), ManagementCategory::Key) if rng.chance(0.2) => municipal.clone(),
            _ => subject.district.permit_office.clone(),
        };
        let plan_outlets = plan_outlets(rng, subject.industry, subject.category);
        let life = plan_life(rng, today);

        // Outlets and limits as they stand now.
        let permit_id = next(&mut self.ids.permit);
        let mut outlet_facts = Vec::with_capacity(plan_outlets.len());
        for outlet in &plan_outlets {
            let outlet_id = next(&mut self.ids.outlet);
            outlet_facts.push(OutletFacts {
                id: outlet_id,
                code: outlet.code.clone(),
                name: outlet.name.clone(),
                medium: outlet.medium,
                category: outlet.category,
                added_on: None,
                limits: outlet
                    .limits
                    .iter()
                    .map(|l| LimitFacts {
                        pollutant: l.pollutant,
                        value: l.concentration,
                        unit: l.unit,
                        tightened_on: None,
                    })
                    .collect(),
            });
            batch.outlets.push(outlets::Model {
                id: outlet_id,
                permit_id,
                code: outlet.code.clone(),
                medium: outlet.medium,
                category: outlet.category,
                name: Some(outlet.name.clone()),
                since_version: 1,
                retired_in_version: None,
            });
            for limit in &outlet.limits {
                batch.limits.push(permit_limits::Model {
                    id: next(&mut self.ids.limit),
                    permit_id,
                    outlet_id,
                    pollutant: limit.pollutant.to_owned(),
                    concentration_limit: Some(limit.concentration),
                    concentration_unit: Some(limit.unit.to_owned()),
                    averaging_period: Some(limit.period),
                    annual_quantity_tpa: limit.annual_tpa,
                    since_version: 1,
                    retired_in_version: None,
                });
                self.report.limits += 1;
            }
            self.report.outlets += 1;
        }

        let events = plan_events(rng, &life, &plan_outlets, today);
        // What each change did, for findings that must name what stood on their day.
        for event in &events {
            match event.undo {
                Undo::Nothing => {}
                Undo::AddedOutlet(i) => {
                    if let Some(o) = outlet_facts.get_mut(i) {
                        o.added_on = Some(event.date);
                    }
                }
                Undo::TightenedLimit { outlet, limit, .. } => {
                    if let Some(l) = outlet_facts
                        .get_mut(outlet)
                        .and_then(|o| o.limits.get_mut(limit))
                    {
                        l.tightened_on = Some(event.date);
                    }
                }
            }
        }
        let snapshots = snapshots(&plan_outlets, &events);
        let first_version = batch.versions.len();
        let mut created = Vec::with_capacity(events.len());
        for (i, (event, snapshot)) in events.iter().zip(snapshots).enumerate() {
            let at = timestamp(rng, event.date);
            created.push(at);
            batch.versions.push(permit_versions::Model {
                id: next(&mut self.ids.version),
                permit_id,
                version: i as i32 + 1,
                change_kind: event.kind,
                reason: event.reason.clone(),
                status: event.status,
                valid_from: event.valid_from,
                valid_to: event.valid_to,
                snapshot,
                changed_by_subject: SEED_SUBJECT.to_owned(),
                changed_by_agency: Some(agency.clone()),
                created_at: at,
            });
            self.report.permit_versions += 1;
        }

        let status = match life.end {
            Some((status, _, _)) => status,
            None if life.valid_to < today => PermitStatus::Expired,
            None => PermitStatus::Valid,
        };
        let first = created
            .first()
            .copied()
            .unwrap_or_else(|| timestamp(rng, life.issued_on));
        let last = created.last().copied().unwrap_or(first);
        let model = permits::Model {
            id: permit_id,
            permit_number: number.as_str().to_owned(),
            unit_id: subject.unit_id,
            district_code: subject.district.code.clone(),
            issuing_agency_code: agency,
            management_category: subject.category,
            status,
            issued_on: life.issued_on,
            valid_from: life.valid_from,
            valid_to: life.valid_to,
            version: events.len() as i32,
            created_at: first,
            updated_at: last,
        };
        // `status_on` reads the kinds, dates and periods; the snapshots stay out of the copy.
        let versions = batch.versions[first_version..]
            .iter()
            .map(|v| permit_versions::Model {
                snapshot: Value::Null,
                reason: None,
                ..v.clone()
            })
            .collect();
        let facts = PermitFacts {
            model: model.clone(),
            versions,
            first_issued_on: life.first_issued_on,
            outlets: outlet_facts,
            end: life.end.map(|(status, on, _)| (status, on)),
            withdrawal_reason: match life.end {
                Some((PermitStatus::Withdrawn, _, reason)) => {
                    names::WITHDRAWAL_REASONS.iter().position(|r| *r == reason)
                }
                _ => None,
            },
        };
        batch.permits.push(model);
        self.report.permits += 1;
        Ok(facts)
    }
}

struct PermitSubject<'a> {
    unit_id: i64,
    credit_code: &'a CreditCode,
    category: ManagementCategory,
    industry: &'static Industry,
    district: &'a DistrictChoice,
}

fn code_error(e: permit_core::domain::codes::CodeError) -> DbErr {
    DbErr::Custom(format!("demo seed generated an invalid code: {e}"))
}

/// An industry for the category, favouring the district's industrial clusters.
fn pick_industry(rng: &mut Rng, category: ManagementCategory, district: &str) -> &'static Industry {
    let slot = match category {
        ManagementCategory::Key => 0,
        ManagementCategory::Simplified => 1,
        ManagementCategory::Registration => 2,
    };
    let weights: Vec<u32> = names::INDUSTRIES
        .iter()
        .map(|i| i.weights[slot] * if i.hubs.contains(&district) { 4 } else { 1 })
        .collect();
    &names::INDUSTRIES[rng.weighted_index(&weights)]
}

/// The GB 32100 alphabet; the check character is computed by `CreditCode::complete`.
const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CODE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRTUWXY";

/// `91` (enterprise, registered with market regulation) + the district as region code + the
/// 9-character organisation code + the GB 32100 check character.
///
/// The organisation code is made like real ones: since 2015 most are `MA` followed by letters and
/// digits, older ones 8 digits; the 9th character is the GB 11714 check of the first 8. Nothing
/// validates that inner check, but it makes the codes look right to anyone who knows them.
fn credit_code(rng: &mut Rng, district: &str) -> Result<CreditCode, DbErr> {
    let mut body = String::with_capacity(8);
    if rng.chance(0.6) {
        body.push_str("MA");
        body.push(if rng.chance(0.7) { '5' } else { '6' });
        body.push(*rng.pick(CODE_LETTERS) as char);
        for _ in 0..4 {
            body.push(*rng.pick(CODE_ALPHABET) as char);
        }
    } else {
        for _ in 0..8 {
            body.push(char::from(b'0' + rng.below(10) as u8));
        }
    }
    let first17 = format!("91{district}{body}{}", organisation_check(&body));
    CreditCode::complete(&first17).map_err(code_error)
}

/// GB 11714-1997 check character of an 8-character organisation code body.
fn organisation_check(body: &str) -> char {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(36).unwrap_or(0) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from(b'0' + n as u8),
    }
}

/// A 字号: two different characters, or now and then a two-character place name.
fn shop_name(rng: &mut Rng) -> String {
    if rng.chance(0.08) {
        return (*rng.pick(names::SHOP_PLACES)).to_owned();
    }
    let chars = names::SHOP_CHARS;
    let first = rng.index(chars.len());
    // Draw from the others: shift past `first` so the two differ without retrying.
    let mut second = rng.index(chars.len() - 1);
    if second >= first {
        second += 1;
    }
    format!("{}{}", chars[first], chars[second])
}

fn unit_name(rng: &mut Rng, industry: &Industry, district: &DistrictChoice) -> String {
    let shop = shop_name(rng);
    match industry.style {
        NameStyle::Hospital => match rng.below(5) {
            0 => format!("重庆市{}人民医院", district.name),
            1 => format!("重庆{shop}中西医结合医院"),
            2 => format!("重庆{shop}骨科医院"),
            _ => format!("重庆{shop}医院"),
        },
        NameStyle::WaterWorks if rng.chance(0.5) => {
            let town = rng.pick(district.towns);
            let place = town.trim_end_matches("街道").trim_end_matches('镇');
            format!("{}{place}污水处理厂", city_prefix(&district.name))
        }
        NameStyle::Company | NameStyle::WaterWorks => {
            let prefix = match rng.below(10) {
                0 | 1 => city_prefix(&district.name),
                2 => "重庆市".to_owned(),
                _ => "重庆".to_owned(),
            };
            let trade = rng.pick(industry.trades);
            let mut suffix = *rng.pick_weighted(names::COMPANY_SUFFIXES);
            if suffix == "厂" && trade.ends_with('厂') {
                suffix = "有限公司";
            }
            format!("{prefix}{shop}{trade}{suffix}")
        }
    }
}

/// "重庆市江津区" for addresses and place-named plants; "重庆高新区" already names the city.
fn city_prefix(district_name: &str) -> String {
    if district_name.starts_with("重庆") {
        district_name.to_owned()
    } else {
        format!("重庆市{district_name}")
    }
}

fn person_name(rng: &mut Rng) -> String {
    let surname = rng.pick_weighted(names::SURNAMES);
    let first = rng.pick(names::GIVEN_CHARS);
    if rng.chance(0.7) {
        format!("{surname}{first}{}", rng.pick(names::GIVEN_CHARS))
    } else {
        format!("{surname}{first}")
    }
}

fn mobile_phone(rng: &mut Rng) -> String {
    format!(
        "{}{:08}",
        rng.pick(names::MOBILE_PREFIXES),
        rng.below(100_000_000)
    )
}

fn address(rng: &mut Rng, district: &DistrictChoice) -> String {
    let town = rng.pick(district.towns);
    let road = rng.pick(names::ROADS);
    format!(
        "{}{town}{road}{}号",
        city_prefix(&district.name),
        rng.range(1, 999)
    )
}

fn plus_days(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(Duration::days(days))
        .unwrap_or(date)
}

/// A moment during office hours (08:30–18:00 Chongqing time, UTC+8) on `date`.
fn timestamp(rng: &mut Rng, date: NaiveDate) -> DateTime<Utc> {
    let local_seconds = rng.range(8 * 3600 + 30 * 60, 18 * 3600 - 1);
    (date.and_time(NaiveTime::MIN) + Duration::seconds(local_seconds - 8 * 3600)).and_utc()
}

/// An outlet as the permit states it now.
#[derive(Debug, Clone)]
struct PlanOutlet {
    code: String,
    medium: OutletMedium,
    category: OutletCategory,
    name: String,
    limits: Vec<PlanLimit>,
}

#[derive(Debug, Clone)]
struct PlanLimit {
    pollutant: &'static str,
    concentration: f64,
    unit: &'static str,
    period: AveragingPeriod,
    annual_tpa: Option<f64>,
    /// A laxer value of the same standard, which an earlier version may have had before a
    /// "收严" change (for the generated history).
    laxer: Option<f64>,
}

/// Outlets per Art 13 and the brief: KEY 2–6 with at least one MAIN, SIMPLIFIED 1–2 GENERAL; the
/// media follow the industry.
fn plan_outlets(
    rng: &mut Rng,
    industry: &Industry,
    category: ManagementCategory,
) -> Vec<PlanOutlet> {
    let (primary, secondary) = match industry.media {
        Media::Air => (OutletMedium::Air, None),
        Media::Water => (OutletMedium::Water, None),
        Media::AirThenWater => (OutletMedium::Air, Some(OutletMedium::Water)),
        Media::WaterThenAir => (OutletMedium::Water, Some(OutletMedium::Air)),
    };
    let key = category == ManagementCategory::Key;
    let count = if key {
        rng.range(2, 6)
    } else {
        rng.range(1, 2)
    } as usize;
    let mut media = Vec::with_capacity(count);
    for i in 0..count {
        let medium = match secondary {
            // The second outlet of a two-media unit is on the other medium, so both show up.
            Some(other) if i == 1 => other,
            Some(other) if i > 1 && rng.chance(0.3) => other,
            _ => primary,
        };
        media.push(medium);
    }

    let (mut air_seq, mut water_seq) = (0usize, 0usize);
    let mut outlets = Vec::with_capacity(count);
    for (i, &medium) in media.iter().enumerate() {
        let (prefix, seq, sources, pollutants) = match medium {
            OutletMedium::Air => ("DA", &mut air_seq, industry.air_sources, industry.air),
            OutletMedium::Water => ("DW", &mut water_seq, industry.water_sources, industry.water),
        };
        let nth = *seq;
        *seq += 1;
        let main = key && (i == 0 || (medium == primary && rng.chance(0.35)));
        let source = sources
            .get(nth % sources.len().max(1))
            .copied()
            .unwrap_or("排放口");
        let name = match nth / sources.len().max(1) {
            0 => source.to_owned(),
            round => format!("{}#{source}", round + 1),
        };
        outlets.push(PlanOutlet {
            code: format!("{prefix}{:03}", nth + 1),
            medium,
            category: if main {
                OutletCategory::Main
            } else {
                OutletCategory::General
            },
            name,
            limits: plan_limits(rng, pollutants, main),
        });
    }
    outlets
}

/// 1–4 limits: always the medium's characteristic pollutant, then others of the industry; main
/// outlets carry more of them and, for 总量控制 pollutants, an annual quantity.
fn plan_limits(rng: &mut Rng, pollutants: &'static [Pollutant], main: bool) -> Vec<PlanLimit> {
    let Some((first, rest)) = pollutants.split_first() else {
        return Vec::new();
    };
    let most = pollutants.len().min(4) as i64;
    let count = if main {
        rng.range(2.min(most), most)
    } else {
        rng.range(1, 3.min(most))
    };
    let mut others: Vec<&'static Pollutant> = rest.iter().collect();
    rng.shuffle(&mut others);
    // Keep the standard's order (characteristic pollutant first) for readability.
    let mut chosen: Vec<&'static Pollutant> = others.into_iter().take(count as usize - 1).collect();
    chosen.sort_by_key(|p| pollutants.iter().position(|q| q.name == p.name));
    // One strictness for the whole outlet, so that a plant under special limits (特别排放限值) or
    // discharging directly has strict values for every pollutant, and one discharging into a
    // sewer the lax indirect-discharge values; a few limits stray from it.
    let strictness = rng.f64();
    let mut limits = Vec::with_capacity(chosen.len() + 1);
    for p in std::iter::once(first).chain(chosen) {
        let mut values = p.limits.to_vec();
        values.sort_by(f64::total_cmp);
        let concentration = if rng.chance(0.15) {
            *rng.pick(&values)
        } else {
            values[((strictness * values.len() as f64) as usize).min(values.len() - 1)]
        };
        // The next laxer value of the same standard, if it is a plausible step (not the jump
        // from a direct to an indirect limit).
        let laxer = values
            .iter()
            .copied()
            .find(|&l| l > concentration && l <= concentration * 2.5);
        let annual_tpa = match p.annual_tpa {
            Some((lo, hi)) if main && rng.chance(0.75) => {
                Some(round_significant(rng.log_uniform(lo, hi), 3))
            }
            _ => None,
        };
        limits.push(PlanLimit {
            pollutant: p.name,
            concentration,
            unit: p.unit,
            period: p.period,
            annual_tpa,
            laxer,
        });
    }
    limits
}

/// Rounds to `digits` significant digits, as permits state quantities (12.3 t/a, 0.0456 t/a).
fn round_significant(value: f64, digits: i32) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(digits - 1 - value.log10().floor() as i32);
    (value * scale).round() / scale
}

/// Where a permit stands as of `today`.
struct Life {
    /// Start of the first validity period (the original issue).
    first_issued_on: NaiveDate,
    /// The previous period, if the current one came from a renewal (延续).
    previous: Option<(NaiveDate, NaiveDate)>,
    /// The date of the decision that started the current period.
    issued_on: NaiveDate,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
    /// A final status reached on a date, with its reason.
    end: Option<(PermitStatus, NaiveDate, &'static str)>,
}

/// First day of the five-year period ending about `valid_to` (the period itself is then
/// recomputed with `default_valid_to`, the service's own rule, so it is never over five years).
fn start_for_end(valid_to: NaiveDate) -> NaiveDate {
    plus_days(valid_to, 1)
        .checked_sub_months(Months::new(60))
        .unwrap_or(valid_to)
}

/// Draws the scenario and the dates. Windows keep a margin of a few days from their bounds so
/// that month arithmetic around 29 February cannot push a permit into the neighbouring scenario.
fn plan_life(rng: &mut Rng, today: NaiveDate) -> Life {
    let scenario = *rng.pick_weighted(&SCENARIOS);
    let target_end = match scenario {
        Scenario::Valid => plus_days(today, rng.range(63, 1820)),
        Scenario::Expiring => plus_days(today, rng.range(1, 57)),
        Scenario::Expired => plus_days(today, -rng.range(3, 730)),
        Scenario::Revoked | Scenario::Withdrawn | Scenario::Cancelled => {
            plus_days(today, rng.range(-700, 1700))
        }
    };
    let valid_from = start_for_end(target_end);
    let valid_to = default_valid_to(valid_from);

    // A status change happens while the permit is in force, at least two months after it
    // started; a permit that expired unrenewed may afterwards be cancelled (EXPIRED → CANCELLED).
    let in_force_until = valid_to.min(today);
    let end_on = |rng: &mut Rng| {
        let earliest = plus_days(valid_from, 60);
        plus_days(
            earliest,
            rng.range(0, (in_force_until - earliest).num_days()),
        )
        .min(today)
    };
    let end = match scenario {
        Scenario::Revoked => Some((
            PermitStatus::Revoked,
            end_on(rng),
            *rng.pick(names::REVOCATION_REASONS),
        )),
        Scenario::Withdrawn => Some((
            PermitStatus::Withdrawn,
            end_on(rng),
            *rng.pick(names::WITHDRAWAL_REASONS),
        )),
        Scenario::Cancelled if valid_to < today && rng.chance(0.4) => Some((
            PermitStatus::Cancelled,
            plus_days(valid_to, rng.range(1, (today - valid_to).num_days())),
            "排污许可证有效期届满未延续，依法注销",
        )),
        Scenario::Cancelled => Some((
            PermitStatus::Cancelled,
            end_on(rng),
            *rng.pick(names::CANCELLATION_REASONS),
        )),
        _ => None,
    };

    // A renewal (延续) replaced an earlier five-year period, if the programme existed then.
    let previous_from = valid_from.checked_sub_months(Months::new(60));
    let renewable = !matches!(scenario, Scenario::Expired)
        && previous_from.is_some_and(|from| from >= programme_start());
    match previous_from {
        Some(previous_from) if renewable && rng.chance(0.25) => {
            let previous_to = default_valid_to(previous_from).min(plus_days(valid_from, -1));
            Life {
                first_issued_on: previous_from,
                previous: Some((previous_from, previous_to)),
                // Decided some weeks before the new period starts.
                issued_on: plus_days(valid_from, -rng.range(5, 50)),
                valid_from,
                valid_to,
                end,
            }
        }
        _ => Life {
            first_issued_on: valid_from,
            previous: None,
            issued_on: valid_from,
            valid_from,
            valid_to,
            end,
        },
    }
}

/// One permit version to write.
struct Event {
    kind: PermitChangeKind,
    date: NaiveDate,
    reason: Option<String>,
    status: PermitStatus,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
    /// What this change did to the outlets, undone to get the earlier snapshots.
    undo: Undo,
}

#[derive(Debug, Clone, Copy)]
enum Undo {
    Nothing,
    /// The change added this outlet (index into the current outlets).
    AddedOutlet(usize),
    /// The change tightened this limit from `from`.
    TightenedLimit {
        outlet: usize,
        limit: usize,
        from: f64,
    },
}

/// The versions: ISSUED, then 0–2 CHANGED and possibly RENEWED in date order, then the final
/// REVOKED / WITHDRAWN / CANCELLED if any. Every date is on or before `today`.
fn plan_events(rng: &mut Rng, life: &Life, outlets: &[PlanOutlet], today: NaiveDate) -> Vec<Event> {
    let current = (life.valid_from, life.valid_to);
    let first_period = life.previous.unwrap_or(current);
    let renewal_on = life.previous.map(|_| life.issued_on);
    let period_on = |date: NaiveDate| match renewal_on {
        Some(renewed) if date < renewed => first_period,
        _ => current,
    };

    // Changes happen while the permit is in force: after issue, before its end or expiry.
    let last_change = match life.end {
        Some((_, end_on, _)) => plus_days(end_on, -1),
        None => plus_days(life.valid_to.min(today), -1),
    }
    .min(life.valid_to);
    let first_change = plus_days(life.first_issued_on, 30);
    let mut change_dates = Vec::new();
    if first_change < last_change {
        let span = (last_change - first_change).num_days();
        let changes = *rng.pick_weighted(&[(0usize, 76u32), (1, 19), (2, 5)]);
        for _ in 0..changes {
            let date = plus_days(first_change, rng.range(0, span));
            if Some(date) != renewal_on && !change_dates.contains(&date) {
                change_dates.push(date);
            }
        }
        change_dates.sort_unstable();
    }

    // Decide what each change did, latest first: an outlet added by a later change cannot be
    // tightened by an earlier one, and outlets are added in code order.
    let mut removed = vec![false; outlets.len()];
    let mut tightened: HashSet<(usize, usize)> = HashSet::new();
    let mut changes = Vec::with_capacity(change_dates.len());
    for &date in change_dates.iter().rev() {
        let (reason, undo) = change(rng, outlets, &mut removed, &mut tightened);
        changes.push(Event {
            kind: PermitChangeKind::Changed,
            date,
            reason: Some(reason),
            status: PermitStatus::Valid,
            valid_from: period_on(date).0,
            valid_to: period_on(date).1,
            undo,
        });
    }
    changes.reverse();

    let mut events = Vec::with_capacity(changes.len() + 3);
    events.push(Event {
        kind: PermitChangeKind::Issued,
        date: life.first_issued_on,
        reason: None,
        status: PermitStatus::Valid,
        valid_from: first_period.0,
        valid_to: first_period.1,
        undo: Undo::Nothing,
    });
    let mut changes = changes.into_iter().peekable();
    if let Some(renewed) = renewal_on {
        while let Some(c) = changes.next_if(|c| c.date < renewed) {
            events.push(c);
        }
        events.push(Event {
            kind: PermitChangeKind::Renewed,
            date: renewed,
            reason: Some((*rng.pick(names::RENEWAL_REASONS)).to_owned()),
            status: PermitStatus::Valid,
            valid_from: current.0,
            valid_to: current.1,
            undo: Undo::Nothing,
        });
    }
    events.extend(changes);
    if let Some((status, date, reason)) = life.end {
        let kind = match status {
            PermitStatus::Revoked => PermitChangeKind::Revoked,
            PermitStatus::Withdrawn => PermitChangeKind::Withdrawn,
            _ => PermitChangeKind::Cancelled,
        };
        let (valid_from, valid_to) = period_on(date);
        events.push(Event {
            kind,
            date,
            reason: Some(reason.to_owned()),
            status,
            valid_from,
            valid_to,
            undo: Undo::Nothing,
        });
    }
    events
}

/// One 变更: an administrative change, a new outlet, or a tightened limit.
fn change(
    rng: &mut Rng,
    outlets: &[PlanOutlet],
    removed: &mut [bool],
    tightened: &mut HashSet<(usize, usize)>,
) -> (String, Undo) {
    // A quarter add an outlet, a quarter tighten a limit, half are administrative; when the
    // drawn kind is impossible (single outlet, nothing to tighten) it falls back to the latter.
    match rng.below(4) {
        0 => {
            // The newest outlet still present; never the first, a permit keeps at least one.
            if let Some(i) = (1..outlets.len()).rev().find(|&i| !removed[i]) {
                removed[i] = true;
                let o = &outlets[i];
                return (
                    format!("新增排放口{}（{}）", o.code, o.name),
                    Undo::AddedOutlet(i),
                );
            }
        }
        1 => {
            let candidates: Vec<(usize, usize, f64)> = outlets
                .iter()
                .enumerate()
                .filter(|(i, _)| !removed[*i])
                .flat_map(|(i, o)| {
                    o.limits
                        .iter()
                        .enumerate()
                        .filter_map(move |(j, l)| l.laxer.map(|v| (i, j, v)))
                })
                .filter(|(i, j, _)| !tightened.contains(&(*i, *j)))
                .collect();
            if !candidates.is_empty() {
                let (i, j, from) = *rng.pick(&candidates);
                tightened.insert((i, j));
                let o = &outlets[i];
                let l = &o.limits[j];
                return (
                    format!(
                        "执行特别排放限值，{}{}许可排放浓度由{}{}收严至{}{}",
                        o.code, l.pollutant, from, l.unit, l.concentration, l.unit
                    ),
                    Undo::TightenedLimit {
                        outlet: i,
                        limit: j,
                        from,
                    },
                );
            }
        }
        _ => {}
    }
    (
        (*rng.pick(names::ADMIN_CHANGE_REASONS)).to_owned(),
        Undo::Nothing,
    )
}

/// The snapshot of every version, in the shape `domain::permits` writes: an array of outlets,
/// each with its limits. Built from the current outlets backwards, undoing each change.
fn snapshots(outlets: &[PlanOutlet], events: &[Event]) -> Vec<Value> {
    let mut state: Vec<PlanOutlet> = outlets.to_vec();
    let mut present = vec![true; outlets.len()];
    let mut out = vec![Value::Null; events.len()];
    for (k, event) in events.iter().enumerate().rev() {
        out[k] = render(&state, &present);
        match event.undo {
            Undo::Nothing => {}
            Undo::AddedOutlet(i) => present[i] = false,
            Undo::TightenedLimit {
                outlet,
                limit,
                from,
            } => {
                if let Some(l) = state.get_mut(outlet).and_then(|o| o.limits.get_mut(limit)) {
                    l.concentration = from;
                }
            }
        }
    }
    out
}

fn render(outlets: &[PlanOutlet], present: &[bool]) -> Value {
    Value::Array(
        outlets
            .iter()
            .zip(present)
            .filter(|(_, p)| **p)
            .map(|(o, _)| {
                json!({
                    "code": o.code,
                    "medium": o.medium,
                    "category": o.category,
                    "name": o.name,
                    "limits": o.limits.iter().map(|l| json!({
                        "pollutant": l.pollutant,
                        "concentration_limit": l.concentration,
                        "concentration_unit": l.unit,
                        "averaging_period": l.period,
                        "annual_quantity_tpa": l.annual_tpa,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
