//! The base tables in bulk: units, permits as issued (version 1 with its outlets, limits,
//! monitoring plan and report duties), registrations, and the feed and audit rows the service
//! writes for them. Generated and written a batch at a time so memory stays flat at benchmark
//! scale; a transaction a batch (an interrupted seed leaves part of the data: drop the database
//! and seed again).
//!
//! What is planned here but happens later (changes, renewals, ends of permits) is returned in
//! the [`Subject`]s and replayed through `domain::permits` (see `replay`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr, IntoActiveModel, Set, TransactionTrait};

use super::names::{self, Industry, NameStyle};
use super::story::{self, PermitStory};
use super::{Context, District, Refused, SeedReport, insert_chunked, office_hours, plus_days};
use entity::enums::{
    CreditLevel, ManagementCategory, PermitChangeKind, PermitStatus, RegistrationStatus,
    ReportFrequency,
};
use entity::{
    audit_events, monitoring_requirements, outlets, permit_versions, permits, registrations,
    report_duties, units,
};
use permit_core::auth::Role;
use permit_core::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use permit_core::domain::codes::{CreditCode, PermitNumber, registration_number};
use permit_core::domain::permits::{
    default_valid_to, limit_row, snapshot_item, validate_outlets, version_row,
};
use permit_core::rng::Rng;

/// Units generated (and written) per batch.
const UNITS_PER_BATCH: usize = 2000;

/// Sub-streams of unit positions, apart from every other stream.
const LOCATION_STREAMS: u64 = 0x4C4F_4341_5449_4F4E; // "LOCATION"

/// Management categories as the brief describes Chongqing's mix.
const CATEGORIES: [(ManagementCategory, u32); 3] = [
    (ManagementCategory::Key, 15),
    (ManagementCategory::Simplified, 45),
    (ManagementCategory::Registration, 40),
];

const CREDIT_LEVELS: [(CreditLevel, u32); 4] = [
    (CreditLevel::Trustworthy, 22),
    (CreditLevel::Good, 62),
    (CreditLevel::Warning, 12),
    (CreditLevel::Poor, 4),
];

/// A unit as the replay needs it.
pub(super) struct Subject {
    pub index: u64,
    pub unit_id: i64,
    pub district: usize,
    pub category: ManagementCategory,
    /// The day it was on file.
    pub on_file: chrono::NaiveDate,
    pub permit: Option<PermitStory>,
    /// Whether its enforcement history is replayed (every unit up to `REPLAYED_UNITS`).
    pub replayed: bool,
}

/// Rows of one batch.
#[derive(Default)]
struct Batch {
    units: Vec<units::ActiveModel>,
    permits: Vec<permits::ActiveModel>,
    versions: Vec<permit_versions::ActiveModel>,
    outlets: Vec<outlets::ActiveModel>,
    limits: Vec<entity::permit_limits::ActiveModel>,
    plan: Vec<monitoring_requirements::ActiveModel>,
    duties: Vec<report_duties::ActiveModel>,
    registrations: Vec<registrations::ActiveModel>,
    feed: Vec<Created>,
}

/// The creation of a record, for its feed and audit rows.
struct Created {
    kind: ChangeKind,
    id: i64,
    version: Option<i32>,
    state: Option<&'static str>,
    district: String,
    /// The office that made it.
    agency: String,
    at: DateTime<Utc>,
}

/// The tables written here, in the order of [`Ids`].
const TABLES: [&str; 8] = [
    "units",
    "permits",
    "permit_versions",
    "outlets",
    "permit_limits",
    "monitoring_requirements",
    "report_duties",
    "registrations",
];
const UNIT: usize = 0;
const PERMIT: usize = 1;
const VERSION: usize = 2;
const OUTLET: usize = 3;
const LIMIT: usize = 4;
const PLAN: usize = 5;
const DUTY: usize = 6;
const REGISTRATION: usize = 7;

/// The last id used in each of [`TABLES`]: rows are numbered after the table's current maximum.
struct Ids([i64; 8]);

impl Ids {
    fn next(&mut self, table: usize) -> i64 {
        self.0[table] += 1;
        self.0[table]
    }
}

/// Generates and writes every unit; returns what the replay needs of each.
pub(super) async fn write(
    db: &DatabaseConnection,
    ctx: &Context,
    report: &mut SeedReport,
) -> Result<Vec<Subject>, DbErr> {
    let mut ids = Ids([0; 8]);
    for (last, table) in ids.0.iter_mut().zip(TABLES) {
        *last = super::max_id(db, table).await?;
    }
    let weights: Vec<u32> = ctx.districts.iter().map(|d| d.weight).collect();
    let every = ctx.units.div_ceil(super::REPLAYED_UNITS).max(1);
    let mut seen = HashSet::with_capacity(ctx.units);
    let mut subjects = Vec::with_capacity(ctx.units);
    let mut start = 0;
    while start < ctx.units {
        let end = (start + UNITS_PER_BATCH).min(ctx.units);
        let mut batch = Batch::default();
        for index in start..end {
            let mut rng = Rng::stream(ctx.seed, index as u64);
            let district = rng.weighted_index(&weights);
            let mut subject = unit(ctx, &mut rng, &mut ids, &mut batch, &mut seen, district)?;
            subject.index = index as u64;
            subject.replayed = index % every == 0;
            subjects.push(subject);
        }
        count(report, &batch);
        let txn = db.begin().await?;
        write_batch(&txn, batch).await?;
        txn.commit().await?;
        start = end;
    }
    let txn = db.begin().await?;
    super::move_sequences(&txn, &TABLES).await?;
    txn.commit().await?;
    Ok(subjects)
}

fn count(report: &mut SeedReport, batch: &Batch) {
    report.units += batch.units.len();
    report.permits += batch.permits.len();
    report.permit_versions += batch.versions.len();
    report.outlets += batch.outlets.len();
    report.limits += batch.limits.len();
    report.registrations += batch.registrations.len();
}

async fn write_batch(txn: &sea_orm::DatabaseTransaction, batch: Batch) -> Result<(), DbErr> {
    use sea_orm::{ConnectionTrait, StatementBuilder};
    insert_chunked(txn, batch.units).await?;
    insert_chunked(txn, batch.permits).await?;
    insert_chunked(txn, batch.versions).await?;
    insert_chunked(txn, batch.outlets).await?;
    insert_chunked(txn, batch.limits).await?;
    insert_chunked(txn, batch.plan).await?;
    insert_chunked(txn, batch.duties).await?;
    insert_chunked(txn, batch.registrations).await?;
    // The feed and audit rows of each creation, as the office that made it has them.
    let backend = txn.get_database_backend();
    let who: Vec<_> = batch
        .feed
        .iter()
        .map(|c| super::principal(Role::PermitOfficer, &c.agency))
        .collect();
    let audit: Vec<audit_events::ActiveModel> = batch
        .feed
        .iter()
        .zip(&who)
        .map(|(c, who)| changes::audit_row(who, "MUTATION", Some(c.kind), &[c.id], c.at))
        .collect();
    // Feed rows are wide (12 parameters); a few thousand a statement.
    for (chunk, who) in batch.feed.chunks(2000).zip(who.chunks(2000)) {
        let rows = chunk.iter().zip(who).map(|(c, who)| {
            let change = Change {
                kind: c.kind,
                record_id: c.id,
                version: c.version,
                operation: ChangeOperation::Created,
                state: c.state,
                district: Some(c.district.as_str()),
            };
            (who, change, c.at)
        });
        let insert = changes::feed_insert(backend, rows);
        txn.execute_raw(StatementBuilder::build(&insert, &backend))
            .await?;
    }
    insert_chunked(txn, audit).await
}

/// One unit with its permit or registration.
fn unit(
    ctx: &Context,
    rng: &mut Rng,
    ids: &mut Ids,
    batch: &mut Batch,
    seen: &mut HashSet<String>,
    district_index: usize,
) -> Result<Subject, DbErr> {
    let district = &ctx.districts[district_index];
    let category = *rng.pick_weighted(&CATEGORIES);
    let industry = pick_industry(rng, category, &district.code);
    let credit_code = loop {
        let code = credit_code(rng, &district.code)?;
        if seen.insert(code.as_str().to_owned()) {
            break code;
        }
    };
    let credit_level = *rng.pick_weighted(&CREDIT_LEVELS);
    let positive =
        matches!(credit_level, CreditLevel::Trustworthy | CreditLevel::Good) && rng.chance(0.06);
    let unit_id = ids.next(UNIT);
    let (longitude, latitude) = super::locations::place(
        &mut Rng::stream(ctx.seed ^ LOCATION_STREAMS, unit_id as u64),
        &district.code,
    );
    let (permit, first_day) = match category {
        ManagementCategory::Registration => (
            None,
            registration(ctx, rng, ids, batch, unit_id, &credit_code, district),
        ),
        _ => {
            let s = permit(
                ctx,
                rng,
                ids,
                batch,
                unit_id,
                &credit_code,
                category,
                industry,
                district,
            )?;
            let first = s.issued_on;
            (Some(s), first)
        }
    };
    let on_file = plus_days(first_day, -rng.range(1, 45));
    let created_at = office_hours(rng, on_file);
    batch.units.push(units::ActiveModel {
        id: Set(unit_id),
        credit_code: Set(credit_code.as_str().to_owned()),
        name: Set(unit_name(rng, industry, district)),
        legal_representative: Set(Some(person_name(rng))),
        contact_phone: Set(Some(format!(
            "{}{:08}",
            rng.pick(names::MOBILE_PREFIXES),
            rng.below(100_000_000)
        ))),
        address: Set(address(rng, district)),
        district_code: Set(district.code.clone()),
        industry_code: Set(industry.code.to_owned()),
        management_category: Set(category),
        credit_level: Set(credit_level),
        positive_list: Set(positive),
        positive_list_reason: Set(
            positive.then(|| rng.pick(names::POSITIVE_LIST_REASONS).to_string())
        ),
        positive_list_expires_on: Set(positive.then(|| plus_days(ctx.today, rng.range(-30, 365)))),
        longitude: Set(Some(longitude)),
        latitude: Set(Some(latitude)),
        version: Set(1),
        created_at: Set(created_at),
        updated_at: Set(created_at),
    });
    batch.feed.push(Created {
        kind: ChangeKind::Unit,
        id: unit_id,
        version: Some(1),
        state: None,
        district: district.code.clone(),
        agency: district.permit_office.clone(),
        at: created_at,
    });
    Ok(Subject {
        index: 0,
        unit_id,
        district: district_index,
        category,
        on_file,
        permit,
        replayed: false,
    })
}

/// A registration (排污登记) valid five years; returns the registration date.
fn registration(
    ctx: &Context,
    rng: &mut Rng,
    ids: &mut Ids,
    batch: &mut Batch,
    unit_id: i64,
    credit_code: &CreditCode,
    district: &District,
) -> chrono::NaiveDate {
    let registered_on = plus_days(ctx.today, -rng.range(1, 1800));
    let cancelled = rng.chance(0.04);
    let id = ids.next(REGISTRATION);
    let at = office_hours(rng, registered_on);
    batch.registrations.push(registrations::ActiveModel {
        id: Set(id),
        registration_number: Set(registration_number(credit_code, 1)),
        unit_id: Set(unit_id),
        district_code: Set(district.code.clone()),
        registered_on: Set(registered_on),
        valid_to: Set(default_valid_to(registered_on)),
        status: Set(if cancelled {
            RegistrationStatus::Cancelled
        } else {
            RegistrationStatus::Valid
        }),
        created_at: Set(at),
    });
    batch.feed.push(Created {
        kind: ChangeKind::Registration,
        id,
        version: None,
        state: Some(if cancelled { "CANCELLED" } else { "VALID" }),
        district: district.code.clone(),
        agency: district.permit_office.clone(),
        at,
    });
    registered_on
}

/// A permit as issued (its later history planned in [`PermitStory`]).
#[allow(clippy::too_many_arguments)]
fn permit(
    ctx: &Context,
    rng: &mut Rng,
    ids: &mut Ids,
    batch: &mut Batch,
    unit_id: i64,
    credit_code: &CreditCode,
    category: ManagementCategory,
    industry: &'static Industry,
    district: &District,
) -> Result<PermitStory, DbErr> {
    let number = PermitNumber::new(credit_code, 1).map_err(code_error)?;
    let agency = match &ctx.municipal_office {
        Some(municipal) if category == ManagementCategory::Key && rng.chance(0.2) => {
            municipal.clone()
        }
        _ => district.permit_office.clone(),
    };
    let mut story = story::plan_permit(rng, ctx.today, industry, category);
    story.agency = agency.clone();
    let id = ids.next(PERMIT);
    story.id = id;
    let valid =
        validate_outlets(&story.issued_outlets, category).refused("a planned permit's outlets")?;
    let at = office_hours(rng, story.issued_on);
    let model = permits::Model {
        id,
        permit_number: number.as_str().to_owned(),
        unit_id,
        district_code: district.code.clone(),
        issuing_agency_code: agency.clone(),
        management_category: category,
        status: PermitStatus::Valid,
        issued_on: story.issued_on,
        valid_from: story.issued_on,
        valid_to: default_valid_to(story.issued_on),
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let who = super::principal(Role::PermitOfficer, &agency);
    let snapshot = serde_json::Value::Array(valid.iter().map(snapshot_item).collect());
    let mut version = version_row(&who, &model, PermitChangeKind::Issued, None, snapshot, at);
    version.id = Set(ids.next(VERSION));
    batch.versions.push(version);
    batch.permits.push(model.into_active_model());
    for outlet in &valid {
        let outlet_id = ids.next(OUTLET);
        batch.outlets.push(outlets::ActiveModel {
            id: Set(outlet_id),
            permit_id: Set(id),
            code: Set(outlet.code.clone()),
            medium: Set(outlet.medium),
            category: Set(outlet.input.category),
            name: Set(outlet.input.name.clone()),
            since_version: Set(1),
            retired_in_version: Set(None),
        });
        for limit in &outlet.input.limits {
            let mut row = limit_row(id, outlet_id, 1, limit);
            row.id = Set(ids.next(LIMIT));
            batch.limits.push(row);
        }
        for m in &outlet.input.monitoring {
            batch.plan.push(monitoring_requirements::ActiveModel {
                id: Set(ids.next(PLAN)),
                permit_id: Set(id),
                outlet_id: Set(outlet_id),
                pollutant: Set(m.pollutant.clone()),
                method: Set(m.method),
                frequency: Set(m.frequency),
                since_version: Set(1),
                retired_in_version: Set(None),
            });
        }
    }
    // The execution reports the permit requires (Art 22): annual, and quarterly for KEY.
    let mut duties = vec![ReportFrequency::Annual];
    if category == ManagementCategory::Key {
        duties.push(ReportFrequency::Quarterly);
    }
    for frequency in duties {
        batch.duties.push(report_duties::ActiveModel {
            id: Set(ids.next(DUTY)),
            permit_id: Set(id),
            frequency: Set(frequency),
            since_version: Set(1),
            retired_in_version: Set(None),
        });
    }
    batch.feed.push(Created {
        kind: ChangeKind::Permit,
        id,
        version: Some(1),
        state: Some("VALID"),
        district: district.code.clone(),
        agency,
        at,
    });
    Ok(story)
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

/// `91` (enterprise) + the district as region code + a 9-character organisation code (`MA…`
/// since 2015, 8 digits before; the 9th is the GB 11714 check) + the GB 32100 check character.
fn credit_code(rng: &mut Rng, district: &str) -> Result<CreditCode, DbErr> {
    let mut body = String::with_capacity(8);
    if rng.chance(0.6) {
        body.push_str(if rng.chance(0.7) { "MA5" } else { "MA6" });
        for _ in 0..5 {
            body.push(*rng.pick(&CODE_ALPHABET[10..]) as char);
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

fn unit_name(rng: &mut Rng, industry: &Industry, district: &District) -> String {
    let chars = names::SHOP_CHARS;
    let first = rng.index(chars.len());
    let second = (first + 1 + rng.index(chars.len() - 1)) % chars.len();
    let shop = format!("{}{}", chars[first], chars[second]);
    let city = city_prefix(&district.name);
    match industry.style {
        NameStyle::Hospital if rng.chance(0.3) => format!("{city}人民医院"),
        NameStyle::Hospital => format!("重庆{shop}医院"),
        NameStyle::WaterWorks if rng.chance(0.5) => {
            let town = rng.pick(district.towns);
            let place = town.trim_end_matches("街道").trim_end_matches('镇');
            format!("{city}{place}污水处理厂")
        }
        NameStyle::Company | NameStyle::WaterWorks => {
            let trade = rng.pick(industry.trades);
            let suffix = *rng.pick_weighted(names::COMPANY_SUFFIXES);
            let suffix = if suffix == "厂" && trade.ends_with('厂') {
                "有限公司"
            } else {
                suffix
            };
            format!("重庆{shop}{trade}{suffix}")
        }
    }
}

/// "重庆市江津区"; "重庆高新区" already names the city.
fn city_prefix(district_name: &str) -> String {
    if district_name.starts_with("重庆") {
        district_name.to_owned()
    } else {
        format!("重庆市{district_name}")
    }
}

pub(super) fn person_name(rng: &mut Rng) -> String {
    let surname = rng.pick_weighted(names::SURNAMES);
    let first = rng.pick(names::GIVEN_CHARS);
    if rng.chance(0.7) {
        format!("{surname}{first}{}", rng.pick(names::GIVEN_CHARS))
    } else {
        format!("{surname}{first}")
    }
}

fn address(rng: &mut Rng, district: &District) -> String {
    let town = rng.pick(district.towns);
    let road = rng.pick(names::ROADS);
    let number = rng.range(1, 999);
    format!("{}{town}{road}{number}号", city_prefix(&district.name))
}
