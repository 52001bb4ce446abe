//! Pollutant-discharge permits (排污许可证) and their permitted items (Regulation Art 13–15).
//!
//! - Number per HJ 608: the unit's credit code + 3-digit sequence + `P`, checked against the unit.
//! - Valid 5 years (Art 14); renewal is applied for 60 days before expiry.
//! - Every change, renewal or status move writes a new version with its reason and a snapshot of
//!   the outlets and limits: history is never overwritten.
//! - Status moves go through `transition`, the one permit state machine. `EXPIRED` is also
//!   derived from the date: a VALID permit past its `validTo` reads as EXPIRED.

use chrono::{Months, NaiveDate, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DerivePartialModel, EntityTrait, QueryFilter, QueryOrder, Select, Set,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::codes::{CreditCode, OutletMediumCode, PermitNumber, parse_outlet_code};
use crate::domain::idempotency::{self, IdempotentRequest};
use crate::domain::page::{self, Ordering, Page, PageArgs, SortValue};
use crate::domain::text;
use crate::domain::units::like_pattern;
use crate::error::{AppError, AppResult};
use entity::enums::{
    AgencyKind, AveragingPeriod, ManagementCategory, MonitoringFrequency, MonitoringMethod,
    OutletCategory, OutletMedium, PermitChangeKind, PermitStatus, ReportFrequency,
};
use entity::{
    agencies, monitoring_requirements, outlets, permit_limits, permit_versions, permits,
    report_duties, units,
};

/// Art 14: a permit is valid for five years.
pub const VALIDITY_YEARS: u32 = 5;
/// Art 14: renewal is applied for at least 60 days before expiry.
pub const RENEWAL_WINDOW_DAYS: i64 = 60;

/// The status a reader sees: a VALID permit past its end date has expired.
pub fn effective_status(permit: &permits::Model, today: NaiveDate) -> PermitStatus {
    if permit.status == PermitStatus::Valid && permit.valid_to < today {
        PermitStatus::Expired
    } else {
        permit.status
    }
}

/// Whether the permit is within Art 14's renewal window (or past it while still VALID).
pub fn renewal_due(permit: &permits::Model, today: NaiveDate) -> bool {
    effective_status(permit, today) == PermitStatus::Valid
        && (permit.valid_to - today).num_days() <= RENEWAL_WINDOW_DAYS
}

/// The last day of a full validity period starting on `from`.
pub fn default_valid_to(from: NaiveDate) -> NaiveDate {
    from.checked_add_months(Months::new(12 * VALIDITY_YEARS))
        .and_then(|d| d.pred_opt())
        .unwrap_or(from)
}

/// What an office does to a permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitAction {
    Change,
    Renew,
    /// 撤销: the permit was obtained improperly (Art 40) or issued unlawfully.
    Revoke,
    /// 注销: the unit closed, the permit expired unrenewed, or was otherwise ended by law.
    Cancel,
    /// 吊销: withdrawn as a penalty (Art 34, 41 and others).
    Withdraw,
}

impl PermitAction {
    fn target(self) -> PermitStatus {
        match self {
            Self::Change | Self::Renew => PermitStatus::Valid,
            Self::Revoke => PermitStatus::Revoked,
            Self::Cancel => PermitStatus::Cancelled,
            Self::Withdraw => PermitStatus::Withdrawn,
        }
    }

    fn change_kind(self) -> PermitChangeKind {
        match self {
            Self::Change => PermitChangeKind::Changed,
            Self::Renew => PermitChangeKind::Renewed,
            Self::Revoke => PermitChangeKind::Revoked,
            Self::Cancel => PermitChangeKind::Cancelled,
            Self::Withdraw => PermitChangeKind::Withdrawn,
        }
    }
}

pub fn status_name(status: PermitStatus) -> &'static str {
    match status {
        PermitStatus::Valid => "VALID",
        PermitStatus::Expired => "EXPIRED",
        PermitStatus::Revoked => "REVOKED",
        PermitStatus::Cancelled => "CANCELLED",
        PermitStatus::Withdrawn => "WITHDRAWN",
    }
}

/// The permit state machine. `from` is the effective status.
///
/// VALID → VALID (change, renew) · VALID → REVOKED | CANCELLED | WITHDRAWN ·
/// EXPIRED → CANCELLED · REVOKED, CANCELLED, WITHDRAWN are final. An expired permit cannot be
/// renewed: the unit applies anew (Art 14–15).
pub fn transition(from: PermitStatus, action: PermitAction) -> AppResult<PermitStatus> {
    use PermitStatus::*;
    let allowed = matches!((from, action), (Valid, _) | (Expired, PermitAction::Cancel));
    if allowed {
        return Ok(action.target());
    }
    let reason = match (from, action) {
        (Expired, PermitAction::Renew) => {
            "an expired permit cannot be renewed; apply for a new one"
        }
        (Expired, _) => "an expired permit can only be cancelled",
        _ => "the permit's status is final",
    };
    Err(AppError::InvalidTransition {
        from: status_name(from).to_owned(),
        to: status_name(action.target()).to_owned(),
        reason: reason.to_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Debug, Clone, Default)]
pub struct PermitFilter {
    pub district: Option<String>,
    pub category: Option<ManagementCategory>,
    pub status: Option<PermitStatus>,
    /// GB/T 4754 code or prefix, of the permit's unit.
    pub industry: Option<String>,
    pub unit_name_contains: Option<String>,
    pub unit_id: Option<i64>,
    pub credit_code: Option<String>,
    pub valid_to_before: Option<NaiveDate>,
    pub valid_to_after: Option<NaiveDate>,
    pub renewal_due: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PermitOrderField {
    #[default]
    Id,
    PermitNumber,
    ValidTo,
}

fn scoped(principal: &Principal) -> Select<permits::Entity> {
    permits::Entity::find().filter(access::district_filter(
        principal,
        permits::Column::DistrictCode,
    ))
}

/// SQL form of `effective_status`.
fn status_condition(status: PermitStatus, today: NaiveDate) -> Condition {
    let col = permits::Column::Status;
    match status {
        PermitStatus::Valid => Condition::all()
            .add(col.eq(PermitStatus::Valid))
            .add(permits::Column::ValidTo.gte(today)),
        PermitStatus::Expired => Condition::any().add(col.eq(PermitStatus::Expired)).add(
            Condition::all()
                .add(col.eq(PermitStatus::Valid))
                .add(permits::Column::ValidTo.lt(today)),
        ),
        other => Condition::all().add(col.eq(other)),
    }
}

fn units_matching(filter: &PermitFilter) -> Option<Select<units::Entity>> {
    if filter.industry.is_none()
        && filter.unit_name_contains.is_none()
        && filter.credit_code.is_none()
    {
        return None;
    }
    let mut units_select = units::Entity::find();
    if let Some(i) = &filter.industry {
        units_select = units_select
            .filter(units::Column::IndustryCode.starts_with(i.trim().to_ascii_uppercase()));
    }
    if let Some(text) = filter
        .unit_name_contains
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        units_select = units_select.filter(
            Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                units::Column::Name,
            )))
            .like(
                sea_orm::sea_query::LikeExpr::new(like_pattern(&text.to_lowercase())).escape('\\'),
            ),
        );
    }
    if let Some(code) = &filter.credit_code {
        units_select =
            units_select.filter(units::Column::CreditCode.eq(code.trim().to_ascii_uppercase()));
    }
    Some(units_select)
}

fn apply_filter(
    mut select: Select<permits::Entity>,
    filter: &PermitFilter,
    today: NaiveDate,
) -> Select<permits::Entity> {
    use sea_orm::{QuerySelect, QueryTrait};
    if let Some(d) = &filter.district {
        select = select.filter(permits::Column::DistrictCode.eq(d.clone()));
    }
    if let Some(c) = filter.category {
        select = select.filter(permits::Column::ManagementCategory.eq(c));
    }
    if let Some(s) = filter.status {
        select = select.filter(status_condition(s, today));
    }
    if let Some(u) = filter.unit_id {
        select = select.filter(permits::Column::UnitId.eq(u));
    }
    if let Some(before) = filter.valid_to_before {
        select = select.filter(permits::Column::ValidTo.lt(before));
    }
    if let Some(after) = filter.valid_to_after {
        select = select.filter(permits::Column::ValidTo.gt(after));
    }
    if let Some(due) = filter.renewal_due {
        let window_end = today + chrono::Duration::days(RENEWAL_WINDOW_DAYS);
        let due_condition = Condition::all()
            .add(permits::Column::Status.eq(PermitStatus::Valid))
            .add(permits::Column::ValidTo.gte(today))
            .add(permits::Column::ValidTo.lte(window_end));
        select = select.filter(if due {
            due_condition
        } else {
            due_condition.not()
        });
    }
    if let Some(units_select) = units_matching(filter) {
        let ids = units_select
            .select_only()
            .column(units::Column::Id)
            .into_query();
        select = select.filter(permits::Column::UnitId.in_subquery(ids));
    }
    select
}

fn ordering(field: PermitOrderField, descending: bool) -> Ordering<permits::Entity> {
    let (column, key, date_sort): (permits::Column, page::CursorKey<permits::Entity>, bool) =
        match field {
            PermitOrderField::Id => (permits::Column::Id, |m| (SortValue::Int(m.id), m.id), false),
            PermitOrderField::PermitNumber => (
                permits::Column::PermitNumber,
                |m| (SortValue::Text(m.permit_number.clone()), m.id),
                false,
            ),
            PermitOrderField::ValidTo => (
                permits::Column::ValidTo,
                |m| (SortValue::Date(m.valid_to), m.id),
                true,
            ),
        };
    Ordering {
        column,
        id_column: Some(permits::Column::Id),
        descending,
        date_sort,
        key,
    }
}

pub struct PermitList {
    select: Select<permits::Entity>,
}

impl PermitList {
    pub async fn page(
        &self,
        db: &DatabaseConnection,
        order: PermitOrderField,
        descending: bool,
        args: &PageArgs,
    ) -> AppResult<Page<permits::Model>> {
        page::fetch_page(db, self.select.clone(), &ordering(order, descending), args).await
    }

    pub fn count_query(&self) -> page::CountQuery {
        page::CountQuery::new(self.select.clone())
    }
}

pub fn list(principal: Option<&Principal>, filter: &PermitFilter) -> AppResult<PermitList> {
    let principal = access::authorize(principal, Operation::ReadPermits)?;
    Ok(PermitList {
        select: apply_filter(scoped(principal), filter, clock::today()),
    })
}

pub async fn get(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<permits::Model>> {
    let principal = access::authorize(principal, Operation::ReadPermits)?;
    Ok(scoped(principal)
        .filter(permits::Column::Id.eq(id))
        .one(db)
        .await?)
}

pub async fn by_number(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    number: &str,
) -> AppResult<Option<permits::Model>> {
    let principal = access::authorize(principal, Operation::ReadPermits)?;
    let number =
        PermitNumber::parse(number).map_err(|e| AppError::code_error("permitNumber", e))?;
    Ok(scoped(principal)
        .filter(permits::Column::PermitNumber.eq(number.as_str()))
        .one(db)
        .await?)
}

/// Batch loads for DataLoaders: one statement per batch, whatever the page size.
pub async fn by_unit_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    unit_ids: &[i64],
) -> AppResult<Vec<permits::Model>> {
    Ok(scoped(principal)
        .filter(permits::Column::UnitId.is_in(unit_ids.iter().copied()))
        .order_by_asc(permits::Column::Id)
        .all(db)
        .await?)
}

pub async fn outlets_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<outlets::Model>> {
    Ok(outlets::Entity::find()
        .filter(outlets::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(outlets::Column::PermitId)
        .order_by_asc(outlets::Column::Code)
        .all(db)
        .await?)
}

pub async fn limits_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<permit_limits::Model>> {
    Ok(permit_limits::Entity::find()
        .filter(permit_limits::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(permit_limits::Column::Id)
        .all(db)
        .await?)
}

pub async fn requirements_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<monitoring_requirements::Model>> {
    Ok(monitoring_requirements::Entity::find()
        .filter(monitoring_requirements::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(monitoring_requirements::Column::Id)
        .all(db)
        .await?)
}

pub async fn duties_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<report_duties::Model>> {
    Ok(report_duties::Entity::find()
        .filter(report_duties::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(report_duties::Column::Id)
        .all(db)
        .await?)
}

pub async fn versions_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<permit_versions::Model>> {
    Ok(permit_versions::Entity::find()
        .filter(permit_versions::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(permit_versions::Column::PermitId)
        .order_by_asc(permit_versions::Column::Version)
        .all(db)
        .await?)
}

// ---------------------------------------------------------------------------------------------
// Writing

#[derive(Debug, Clone, Serialize)]
pub struct LimitInput {
    pub pollutant: String,
    pub concentration_limit: Option<f64>,
    pub concentration_unit: Option<String>,
    pub averaging_period: Option<AveragingPeriod>,
    pub annual_quantity_tpa: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutletInput {
    pub code: String,
    pub category: OutletCategory,
    pub name: Option<String>,
    pub limits: Vec<LimitInput>,
    /// The self-monitoring plan of this outlet (Art 19). Left out of the idempotency
    /// fingerprint when empty, so keys stored before it existed still replay.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub monitoring: Vec<MonitoringInput>,
}

/// One self-monitoring requirement: a pollutant at an outlet, how, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitoringInput {
    pub pollutant: String,
    pub method: MonitoringMethod,
    pub frequency: MonitoringFrequency,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssuePermitInput {
    pub unit_id: i64,
    /// When absent, the next free sequence for the unit is assigned.
    pub permit_number: Option<String>,
    pub issuing_agency_code: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub outlets: Vec<OutletInput>,
    /// The execution reports the permit requires (Art 22).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub report_duties: Vec<ReportFrequency>,
}

/// Concentration units accepted per medium; anything else is refused at entry (BRIEF: "wrong
/// units refused with a clear message").
const AIR_UNITS: [&str; 5] = ["mg/m³", "mg/m3", "μg/m³", "ug/m3", "ng-TEQ/m³"];
const WATER_UNITS: [&str; 6] = ["mg/L", "μg/L", "ug/L", "MPN/L", "个/L", "个/100mL"];
const DIMENSIONLESS: &str = "无量纲";
/// Above this a concentration limit is not a plausible permit condition.
const MAX_CONCENTRATION: f64 = 100_000.0;
const MAX_ANNUAL_TONNES: f64 = 10_000_000.0;

/// The top of the pH scale.
pub const PH_MAX: f64 = 14.0;

/// Whether a pollutant is pH (`pH`, `pH值`), whose values lie on the 0–14 scale.
pub fn is_ph(pollutant: &str) -> bool {
    let name = pollutant.trim().to_lowercase();
    name == "ph" || name == "ph值"
}

struct ValidOutlet {
    code: String,
    medium: OutletMedium,
    input: OutletInput,
}

fn validate_outlets(
    outlets: &[OutletInput],
    category: ManagementCategory,
) -> AppResult<Vec<ValidOutlet>> {
    if outlets.is_empty() {
        return Err(AppError::invalid(
            "input.outlets",
            "a permit names at least one outlet",
        ));
    }
    if outlets.len() > 200 {
        return Err(AppError::invalid("input.outlets", "at most 200 outlets"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut valid = Vec::with_capacity(outlets.len());
    for (i, outlet) in outlets.iter().enumerate() {
        let field = format!("input.outlets[{i}]");
        let (code, medium) = parse_outlet_code(&outlet.code)
            .map_err(|e| AppError::code_error(&format!("{field}.code"), e))?;
        if !seen.insert(code.clone()) {
            return Err(AppError::invalid(
                format!("{field}.code"),
                format!("{code} appears twice"),
            ));
        }
        text::optional(&format!("{field}.name"), outlet.name.as_deref(), 100)?;
        if outlet.limits.len() > 50 {
            return Err(AppError::invalid(
                format!("{field}.limits"),
                "at most 50 limits per outlet",
            ));
        }
        for (j, limit) in outlet.limits.iter().enumerate() {
            validate_limit(&format!("{field}.limits[{j}]"), limit, medium)?;
        }
        validate_monitoring(&field, &outlet.monitoring)?;
        let medium = match medium {
            OutletMediumCode::Air => OutletMedium::Air,
            OutletMediumCode::Water => OutletMedium::Water,
        };
        valid.push(ValidOutlet {
            code,
            medium,
            input: outlet.clone(),
        });
    }
    if category == ManagementCategory::Key
        && !valid
            .iter()
            .any(|o| o.input.category == OutletCategory::Main)
    {
        return Err(AppError::invalid(
            "input.outlets",
            "a KEY unit's permit names at least one MAIN outlet",
        ));
    }
    Ok(valid)
}

/// A plan names each pollutant once per outlet.
fn validate_monitoring(field: &str, monitoring: &[MonitoringInput]) -> AppResult<()> {
    if monitoring.len() > 50 {
        return Err(AppError::invalid(
            format!("{field}.monitoring"),
            "at most 50 requirements per outlet",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (j, m) in monitoring.iter().enumerate() {
        let pollutant = m.pollutant.trim();
        if pollutant.is_empty() || pollutant.chars().count() > 64 {
            return Err(AppError::invalid(
                format!("{field}.monitoring[{j}].pollutant"),
                "1 to 64 characters",
            ));
        }
        if !seen.insert(pollutant.to_owned()) {
            return Err(AppError::invalid(
                format!("{field}.monitoring[{j}].pollutant"),
                format!("{pollutant} appears twice"),
            ));
        }
    }
    Ok(())
}

fn validate_duties(field: &str, duties: &[ReportFrequency]) -> AppResult<()> {
    let mut seen = std::collections::HashSet::new();
    for (i, d) in duties.iter().enumerate() {
        if !seen.insert(*d) {
            return Err(AppError::invalid(
                format!("{field}[{i}]"),
                "each report frequency once",
            ));
        }
    }
    Ok(())
}

/// Whether a requirement belongs to permit version `version`.
pub fn requirement_in_version(row: &monitoring_requirements::Model, version: i32) -> bool {
    row.since_version <= version && row.retired_in_version.is_none_or(|r| r > version)
}

/// Whether a report duty belongs to permit version `version`.
pub fn duty_in_version(row: &report_duties::Model, version: i32) -> bool {
    row.since_version <= version && row.retired_in_version.is_none_or(|r| r > version)
}

fn validate_limit(field: &str, limit: &LimitInput, medium: OutletMediumCode) -> AppResult<()> {
    if limit.pollutant.trim().is_empty() || limit.pollutant.chars().count() > 64 {
        return Err(AppError::invalid(
            format!("{field}.pollutant"),
            "1 to 64 characters",
        ));
    }
    text::optional(
        &format!("{field}.concentrationUnit"),
        limit.concentration_unit.as_deref(),
        16,
    )?;
    if limit.concentration_limit.is_none() && limit.annual_quantity_tpa.is_none() {
        return Err(AppError::invalid(
            field,
            "give a concentration limit, an annual quantity, or both",
        ));
    }
    if let Some(value) = limit.concentration_limit {
        if !value.is_finite() || value <= 0.0 || value > MAX_CONCENTRATION {
            return Err(AppError::invalid(
                format!("{field}.concentrationLimit"),
                format!("must be above 0 and at most {MAX_CONCENTRATION}"),
            ));
        }
        let unit = limit
            .concentration_unit
            .as_deref()
            .map(str::trim)
            .unwrap_or_default();
        let allowed: &[&str] = match medium {
            OutletMediumCode::Air => &AIR_UNITS,
            OutletMediumCode::Water => &WATER_UNITS,
        };
        // pH is dimensionless and lies on its 0–14 scale; other pollutants have units.
        if is_ph(&limit.pollutant) {
            if unit != DIMENSIONLESS {
                return Err(AppError::invalid(
                    format!("{field}.concentrationUnit"),
                    format!("pH is dimensionless: use '{DIMENSIONLESS}'"),
                ));
            }
            if value > PH_MAX {
                return Err(AppError::invalid(
                    format!("{field}.concentrationLimit"),
                    format!("pH lies between 0 and {PH_MAX}"),
                ));
            }
        }
        if !allowed.contains(&unit) && unit != DIMENSIONLESS {
            return Err(AppError::invalid(
                format!("{field}.concentrationUnit"),
                format!(
                    "'{unit}' is not a concentration unit for this outlet; use one of {}",
                    allowed.join(", ")
                ),
            ));
        }
        if limit.averaging_period.is_none() {
            return Err(AppError::invalid(
                format!("{field}.averagingPeriod"),
                "a concentration limit needs its averaging period",
            ));
        }
    }
    if let Some(tonnes) = limit.annual_quantity_tpa
        && (!tonnes.is_finite() || !(0.0..=MAX_ANNUAL_TONNES).contains(&tonnes))
    {
        return Err(AppError::invalid(
            format!("{field}.annualQuantityTpa"),
            format!("must be between 0 and {MAX_ANNUAL_TONNES} t/a"),
        ));
    }
    Ok(())
}

fn validate_validity(valid_from: NaiveDate, valid_to: NaiveDate) -> AppResult<()> {
    if valid_to <= valid_from {
        return Err(AppError::invalid(
            "input.validTo",
            "must be after validFrom",
        ));
    }
    if valid_to > default_valid_to(valid_from) {
        return Err(AppError::invalid(
            "input.validTo",
            format!("a permit is valid at most {VALIDITY_YEARS} years (Art 14)"),
        ));
    }
    Ok(())
}

/// The issuing agency: given, or the principal's own; it must be a permit office in scope.
async fn issuing_agency(
    txn: &DatabaseTransaction,
    principal: &Principal,
    given: Option<&str>,
    unit_district: &str,
) -> AppResult<String> {
    let code = match given.or(principal.agency_code.as_deref()) {
        Some(code) => code.to_owned(),
        None => format!("{unit_district}-PMT"),
    };
    let agency = agencies::Entity::find_by_id(code.clone())
        .one(txn)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "input.issuingAgencyCode",
                format!("unknown agency '{code}'"),
            )
        })?;
    if agency.kind != AgencyKind::PermitOffice {
        return Err(AppError::invalid(
            "input.issuingAgencyCode",
            format!("{code} is not a permit office"),
        ));
    }
    if let Some(district) = &agency.district_code
        && district != unit_district
    {
        return Err(AppError::invalid(
            "input.issuingAgencyCode",
            format!("{code} is the permit office of district {district}, not {unit_district}"),
        ));
    }
    Ok(code)
}

/// Whether an outlet belongs to permit version `version` (outlets and limits are versioned).
pub fn outlet_in_version(outlet: &outlets::Model, version: i32) -> bool {
    outlet.since_version <= version && outlet.retired_in_version.is_none_or(|r| r > version)
}

/// Whether a limit belongs to permit version `version`.
pub fn limit_in_version(limit: &permit_limits::Model, version: i32) -> bool {
    limit.since_version <= version && limit.retired_in_version.is_none_or(|r| r > version)
}

/// The permit version in force on `date`: the newest one made on or before that day, or the
/// first when the day precedes them all (a permit recorded after its validity began).
pub fn version_on(versions: &[impl VersionDates], date: NaiveDate) -> Option<i32> {
    versions
        .iter()
        .map(VersionDates::span)
        .filter(|v| clock::date_of(v.created_at) <= date)
        .map(|v| v.version)
        .max()
        .or_else(|| versions.iter().map(|v| v.span().version).min())
}

/// What the date rules (`status_on`, `version_on`) read of a version: not its snapshot, which
/// a batch of readings would otherwise fetch and parse for nothing (issue 17's intake bench:
/// about 1.8 MB for one batch of 1000 series).
#[derive(Debug, Clone, PartialEq, Eq, DerivePartialModel)]
#[sea_orm(entity = "permit_versions::Entity")]
pub struct VersionSpan {
    pub permit_id: i64,
    pub version: i32,
    pub change_kind: PermitChangeKind,
    pub status: PermitStatus,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub created_at: chrono::DateTime<Utc>,
}

/// A version as the date rules read it: a whole row or its span.
pub trait VersionDates {
    fn span(&self) -> VersionSpan;
}

impl VersionDates for VersionSpan {
    fn span(&self) -> VersionSpan {
        self.clone()
    }
}

impl VersionDates for permit_versions::Model {
    fn span(&self) -> VersionSpan {
        VersionSpan {
            permit_id: self.permit_id,
            version: self.version,
            change_kind: self.change_kind,
            status: self.status,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            created_at: self.created_at,
        }
    }
}

/// The versions of permits as the date rules read them, by permit and version.
pub async fn spans_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<VersionSpan>> {
    Ok(permit_versions::Entity::find()
        .filter(permit_versions::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(permit_versions::Column::PermitId)
        .order_by_asc(permit_versions::Column::Version)
        .into_partial_model::<VersionSpan>()
        .all(db)
        .await?)
}

fn limit_row(
    permit_id: i64,
    outlet_id: i64,
    version: i32,
    limit: &LimitInput,
) -> permit_limits::ActiveModel {
    permit_limits::ActiveModel {
        permit_id: Set(permit_id),
        outlet_id: Set(outlet_id),
        pollutant: Set(limit.pollutant.trim().to_owned()),
        concentration_limit: Set(limit.concentration_limit),
        concentration_unit: Set(limit
            .concentration_unit
            .as_ref()
            .map(|u| u.trim().to_owned())),
        averaging_period: Set(limit.averaging_period),
        annual_quantity_tpa: Set(limit.annual_quantity_tpa),
        since_version: Set(version),
        retired_in_version: Set(None),
        ..Default::default()
    }
}

/// Whether a stored limit says what `input` says (then a change keeps the row).
fn same_limit(row: &permit_limits::Model, input: &LimitInput) -> bool {
    row.pollutant == input.pollutant.trim()
        && row.concentration_limit == input.concentration_limit
        && row.concentration_unit.as_deref() == input.concentration_unit.as_deref().map(str::trim)
        && row.averaging_period == input.averaging_period
        && row.annual_quantity_tpa == input.annual_quantity_tpa
}

/// Writes the outlets and limits of permit version `version`, replacing those of the version
/// before. Rows are never deleted (findings point at them): an outlet whose code stays keeps
/// its row, a limit that stays the same keeps its row, and whatever is dropped or changed is
/// retired in `version`. Returns the version's snapshot.
async fn write_outlets(
    txn: &DatabaseTransaction,
    permit_id: i64,
    version: i32,
    outlets: &[ValidOutlet],
) -> AppResult<serde_json::Value> {
    let current_outlets: Vec<outlets::Model> = outlets::Entity::find()
        .filter(outlets::Column::PermitId.eq(permit_id))
        .filter(outlets::Column::RetiredInVersion.is_null())
        .all(txn)
        .await?;
    let current_limits: Vec<permit_limits::Model> = permit_limits::Entity::find()
        .filter(permit_limits::Column::PermitId.eq(permit_id))
        .filter(permit_limits::Column::RetiredInVersion.is_null())
        .all(txn)
        .await?;
    let current_plan: Vec<monitoring_requirements::Model> = monitoring_requirements::Entity::find()
        .filter(monitoring_requirements::Column::PermitId.eq(permit_id))
        .filter(monitoring_requirements::Column::RetiredInVersion.is_null())
        .all(txn)
        .await?;
    let mut kept_plan = std::collections::HashSet::new();
    let mut fresh_plan = Vec::new();
    let mut retired_outlets = Vec::new();
    for old in &current_outlets {
        if !outlets.iter().any(|o| o.code == old.code) {
            retired_outlets.push(old.id);
        }
    }
    let mut retired_limits = Vec::new();
    let mut snapshot = Vec::with_capacity(outlets.len());
    for outlet in outlets {
        let name = outlet.input.name.clone().filter(|n| !n.trim().is_empty());
        let kept = current_outlets.iter().find(|o| o.code == outlet.code);
        let outlet_id = match kept {
            Some(old) => {
                if old.category != outlet.input.category || old.name != name {
                    let mut active: outlets::ActiveModel = old.clone().into();
                    active.category = Set(outlet.input.category);
                    active.name = Set(name);
                    active.update(txn).await?;
                }
                old.id
            }
            None => {
                outlets::ActiveModel {
                    permit_id: Set(permit_id),
                    code: Set(outlet.code.clone()),
                    medium: Set(outlet.medium),
                    category: Set(outlet.input.category),
                    name: Set(name),
                    since_version: Set(version),
                    retired_in_version: Set(None),
                    ..Default::default()
                }
                .insert(txn)
                .await?
                .id
            }
        };
        let mut unchanged = std::collections::HashSet::new();
        let mut fresh = Vec::new();
        for limit in &outlet.input.limits {
            match current_limits.iter().find(|row| {
                row.outlet_id == outlet_id && !unchanged.contains(&row.id) && same_limit(row, limit)
            }) {
                Some(row) => {
                    unchanged.insert(row.id);
                }
                None => fresh.push(limit_row(permit_id, outlet_id, version, limit)),
            }
        }
        retired_limits.extend(
            current_limits
                .iter()
                .filter(|row| row.outlet_id == outlet_id && !unchanged.contains(&row.id))
                .map(|row| row.id),
        );
        if !fresh.is_empty() {
            permit_limits::Entity::insert_many(fresh).exec(txn).await?;
        }
        for m in &outlet.input.monitoring {
            let pollutant = m.pollutant.trim();
            match current_plan.iter().find(|row| {
                row.outlet_id == outlet_id
                    && row.pollutant == pollutant
                    && row.method == m.method
                    && row.frequency == m.frequency
            }) {
                Some(row) => {
                    kept_plan.insert(row.id);
                }
                None => fresh_plan.push(monitoring_requirements::ActiveModel {
                    permit_id: Set(permit_id),
                    outlet_id: Set(outlet_id),
                    pollutant: Set(pollutant.to_owned()),
                    method: Set(m.method),
                    frequency: Set(m.frequency),
                    since_version: Set(version),
                    retired_in_version: Set(None),
                    ..Default::default()
                }),
            }
        }
        let mut item = serde_json::json!({
            "code": outlet.code,
            "medium": outlet.medium,
            "category": outlet.input.category,
            "name": outlet.input.name,
            "limits": outlet.input.limits,
        });
        if !outlet.input.monitoring.is_empty()
            && let Some(map) = item.as_object_mut()
        {
            map.insert(
                "monitoring".to_owned(),
                serde_json::json!(outlet.input.monitoring),
            );
        }
        snapshot.push(item);
    }
    retired_limits.extend(
        current_limits
            .iter()
            .filter(|row| retired_outlets.contains(&row.outlet_id))
            .map(|row| row.id),
    );
    if !retired_limits.is_empty() {
        permit_limits::Entity::update_many()
            .col_expr(
                permit_limits::Column::RetiredInVersion,
                Expr::value(version),
            )
            .filter(permit_limits::Column::Id.is_in(retired_limits))
            .exec(txn)
            .await?;
    }
    let retired_plan: Vec<i64> = current_plan
        .iter()
        .filter(|row| !kept_plan.contains(&row.id))
        .map(|row| row.id)
        .collect();
    if !retired_plan.is_empty() {
        monitoring_requirements::Entity::update_many()
            .col_expr(
                monitoring_requirements::Column::RetiredInVersion,
                Expr::value(version),
            )
            .filter(monitoring_requirements::Column::Id.is_in(retired_plan))
            .exec(txn)
            .await?;
    }
    if !fresh_plan.is_empty() {
        monitoring_requirements::Entity::insert_many(fresh_plan)
            .exec(txn)
            .await?;
    }
    if !retired_outlets.is_empty() {
        outlets::Entity::update_many()
            .col_expr(outlets::Column::RetiredInVersion, Expr::value(version))
            .filter(outlets::Column::Id.is_in(retired_outlets))
            .exec(txn)
            .await?;
    }
    Ok(serde_json::Value::Array(snapshot))
}

/// Writes the report duties of permit version `version`: unchanged ones keep their row, the
/// rest are retired in `version`.
async fn write_duties(
    txn: &DatabaseTransaction,
    permit_id: i64,
    version: i32,
    duties: &[ReportFrequency],
) -> AppResult<()> {
    let current: Vec<report_duties::Model> = report_duties::Entity::find()
        .filter(report_duties::Column::PermitId.eq(permit_id))
        .filter(report_duties::Column::RetiredInVersion.is_null())
        .all(txn)
        .await?;
    let retired: Vec<i64> = current
        .iter()
        .filter(|row| !duties.contains(&row.frequency))
        .map(|row| row.id)
        .collect();
    if !retired.is_empty() {
        report_duties::Entity::update_many()
            .col_expr(
                report_duties::Column::RetiredInVersion,
                Expr::value(version),
            )
            .filter(report_duties::Column::Id.is_in(retired))
            .exec(txn)
            .await?;
    }
    let fresh: Vec<report_duties::ActiveModel> = duties
        .iter()
        .filter(|d| !current.iter().any(|row| row.frequency == **d))
        .map(|d| report_duties::ActiveModel {
            permit_id: Set(permit_id),
            frequency: Set(*d),
            since_version: Set(version),
            retired_in_version: Set(None),
            ..Default::default()
        })
        .collect();
    if !fresh.is_empty() {
        report_duties::Entity::insert_many(fresh).exec(txn).await?;
    }
    Ok(())
}

async fn current_snapshot(
    txn: &DatabaseTransaction,
    permit_id: i64,
) -> AppResult<serde_json::Value> {
    Ok(permit_versions::Entity::find()
        .filter(permit_versions::Column::PermitId.eq(permit_id))
        .order_by_desc(permit_versions::Column::Version)
        .one(txn)
        .await?
        .map(|v| v.snapshot)
        .unwrap_or(serde_json::Value::Null))
}

#[allow(clippy::too_many_arguments)]
async fn write_version(
    txn: &DatabaseTransaction,
    principal: &Principal,
    permit: &permits::Model,
    kind: PermitChangeKind,
    reason: Option<String>,
    snapshot: serde_json::Value,
) -> AppResult<()> {
    permit_versions::ActiveModel {
        permit_id: Set(permit.id),
        version: Set(permit.version),
        change_kind: Set(kind),
        reason: Set(reason),
        status: Set(permit.status),
        valid_from: Set(permit.valid_from),
        valid_to: Set(permit.valid_to),
        snapshot: Set(snapshot),
        changed_by_subject: Set(principal.subject.clone()),
        changed_by_agency: Set(principal.agency_code.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

pub async fn issue(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: IssuePermitInput,
    idempotency_key: Option<&str>,
) -> AppResult<permits::Model> {
    let principal = access::authorize(principal, Operation::WritePermits)?;
    let idempotent = idempotency_key
        .map(|key| IdempotentRequest::new("issuePermit", key, &input))
        .transpose()?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(existing) =
        idempotency::replayed::<permits::Entity>(idempotent.as_ref(), &txn, principal).await?
    {
        txn.commit().await?;
        return Ok(existing);
    }
    let unit = units::Entity::find_by_id(input.unit_id)
        .filter(access::district_filter(
            principal,
            units::Column::DistrictCode,
        ))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("unit {}", input.unit_id)))?;
    access::check_district(principal, &unit.district_code)?;
    if unit.management_category == ManagementCategory::Registration {
        return Err(AppError::invalid(
            "input.unitId",
            "a REGISTRATION-tier unit is registered (registerDischarge), not permitted",
        ));
    }
    let credit_code = CreditCode::parse(&unit.credit_code).map_err(AppError::internal)?;
    let existing = permits::Entity::find()
        .filter(permits::Column::UnitId.eq(unit.id))
        .all(&txn)
        .await?;
    let number = match &input.permit_number {
        Some(given) => {
            let number = PermitNumber::parse(given)
                .map_err(|e| AppError::code_error("input.permitNumber", e))?;
            if number.credit_code() != credit_code.as_str() {
                return Err(AppError::invalid(
                    "input.permitNumber",
                    format!(
                        "starts with {}, but the unit's credit code is {credit_code} (HJ 608)",
                        number.credit_code()
                    ),
                ));
            }
            if existing.iter().any(|p| p.permit_number == number.as_str()) {
                return Err(AppError::Conflict(format!(
                    "permit number {number} is already taken"
                )));
            }
            number
        }
        None => {
            let next = existing
                .iter()
                .filter_map(|p| PermitNumber::parse(&p.permit_number).ok())
                .map(|n| n.sequence())
                .max()
                .unwrap_or(0)
                + 1;
            PermitNumber::new(&credit_code, next)
                .map_err(|e| AppError::code_error("input.permitNumber", e))?
        }
    };
    let valid_to = input
        .valid_to
        .unwrap_or_else(|| default_valid_to(input.valid_from));
    validate_validity(input.valid_from, valid_to)?;
    if let Some(clash) = overlapping(&existing, None, input.valid_from, valid_to) {
        return Err(overlap_error(input.valid_from, valid_to, clash));
    }
    let outlets = validate_outlets(&input.outlets, unit.management_category)?;
    validate_duties("input.reportDuties", &input.report_duties)?;
    let agency = issuing_agency(
        &txn,
        principal,
        input.issuing_agency_code.as_deref(),
        &unit.district_code,
    )
    .await?;
    let now = Utc::now();
    let permit = permits::ActiveModel {
        permit_number: Set(number.to_string()),
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        issuing_agency_code: Set(agency),
        management_category: Set(unit.management_category),
        status: Set(PermitStatus::Valid),
        issued_on: Set(input.issued_on.unwrap_or_else(clock::today)),
        valid_from: Set(input.valid_from),
        valid_to: Set(valid_to),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let snapshot = write_outlets(&txn, permit.id, permit.version, &outlets).await?;
    write_duties(&txn, permit.id, permit.version, &input.report_duties).await?;
    write_version(
        &txn,
        principal,
        &permit,
        PermitChangeKind::Issued,
        None,
        snapshot,
    )
    .await?;
    changes::record(
        &txn,
        principal,
        Change {
            kind: ChangeKind::Permit,
            record_id: permit.id,
            version: Some(permit.version),
            operation: ChangeOperation::Created,
            state: Some(status_name(permit.status)),
            district: Some(&permit.district_code),
        },
    )
    .await?;
    if let Some(request) = &idempotent {
        request.remember(&txn, principal, permit.id).await?;
    }
    txn.commit().await?;
    Ok(permit)
}

/// One unit holds one permit at a time: validity periods of live permits must not overlap
/// (issue, renewal and a change of `validTo` alike). `except` is the permit being moved.
fn overlapping(
    permits: &[permits::Model],
    except: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
) -> Option<&permits::Model> {
    permits.iter().find(|p| {
        Some(p.id) != except
            && p.status == PermitStatus::Valid
            && p.valid_from <= to
            && from <= p.valid_to
    })
}

fn overlap_error(from: NaiveDate, to: NaiveDate, clash: &permits::Model) -> AppError {
    AppError::Conflict(format!(
        "validity {from}..{to} overlaps permit {} ({}..{}); change or renew that permit instead",
        clash.permit_number, clash.valid_from, clash.valid_to
    ))
}

/// The overlap check for a permit whose validity moves to `from..to`.
async fn check_overlap(
    txn: &DatabaseTransaction,
    permit: &permits::Model,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<()> {
    let siblings = permits::Entity::find()
        .filter(permits::Column::UnitId.eq(permit.unit_id))
        .filter(permits::Column::Id.ne(permit.id))
        .all(txn)
        .await?;
    match overlapping(&siblings, Some(permit.id), from, to) {
        Some(clash) => Err(overlap_error(from, to, clash)),
        None => Ok(()),
    }
}

/// What a change or status move carries besides the action itself.
#[derive(Debug, Clone, Default)]
pub struct PermitChange {
    pub reason: String,
    /// Replaces the permitted items (change only).
    pub outlets: Option<Vec<OutletInput>>,
    /// New end of validity (renewal: defaults to a full period after the current end).
    pub valid_to: Option<NaiveDate>,
    /// Replaces the execution-report duties (change only).
    pub report_duties: Option<Vec<ReportFrequency>>,
}

/// Applies `action` to a permit: the state machine, the optimistic version check, the new
/// version row and, for a change, the replaced outlets and limits — in one transaction.
pub async fn apply(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    permit_id: i64,
    expected_version: i32,
    action: PermitAction,
    change: PermitChange,
) -> AppResult<permits::Model> {
    let principal = access::authorize(principal, Operation::WritePermits)?;
    let txn = crate::db::begin_write(db).await?;
    let updated = apply_in(
        &txn,
        principal,
        permit_id,
        Some(expected_version),
        action,
        change,
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// `apply` inside the caller's transaction, for callers that authorised the move themselves
/// (an enforcement decision withdrawing a permit as a penalty). `expected_version` `None`
/// means "as read in this transaction".
pub(crate) async fn apply_in(
    txn: &DatabaseTransaction,
    principal: &Principal,
    permit_id: i64,
    expected_version: Option<i32>,
    action: PermitAction,
    change: PermitChange,
) -> AppResult<permits::Model> {
    let reason = change.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::invalid(
            "input.reason",
            "give the reason (1 to 2000 characters)",
        ));
    }
    let txn_ref = txn;
    let current = scoped(principal)
        .filter(permits::Column::Id.eq(permit_id))
        .one(txn_ref)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("permit {permit_id}")))?;
    access::check_district(principal, &current.district_code)?;
    let expected_version = expected_version.unwrap_or(current.version);
    if current.version != expected_version {
        return Err(AppError::Conflict(format!(
            "permit {} is at version {}, not {expected_version}: reload and retry",
            current.permit_number, current.version
        )));
    }
    let today = clock::today();
    let new_status = transition(effective_status(&current, today), action)?;
    let mut active: permits::ActiveModel = current.clone().into();
    let mut snapshot = None;
    match action {
        PermitAction::Change => {
            if let Some(valid_to) = change.valid_to {
                validate_validity(current.valid_from, valid_to)?;
                check_overlap(txn_ref, &current, current.valid_from, valid_to).await?;
                active.valid_to = Set(valid_to);
            }
            if let Some(new_outlets) = &change.outlets {
                let outlets = validate_outlets(new_outlets, current.management_category)?;
                snapshot =
                    Some(write_outlets(txn_ref, permit_id, current.version + 1, &outlets).await?);
            }
            if let Some(duties) = &change.report_duties {
                validate_duties("input.reportDuties", duties)?;
                write_duties(txn_ref, permit_id, current.version + 1, duties).await?;
            }
            if change.valid_to.is_none()
                && change.outlets.is_none()
                && change.report_duties.is_none()
            {
                return Err(AppError::invalid(
                    "input",
                    "a change names new outlets, report duties or a new validTo",
                ));
            }
        }
        PermitAction::Renew => {
            let from = current.valid_to.succ_opt().unwrap_or(current.valid_to);
            let to = change.valid_to.unwrap_or_else(|| default_valid_to(from));
            validate_validity(from, to)?;
            check_overlap(txn_ref, &current, from, to).await?;
            active.valid_from = Set(from);
            active.valid_to = Set(to);
        }
        PermitAction::Revoke | PermitAction::Cancel | PermitAction::Withdraw => {}
    }
    active.status = Set(new_status);
    active.version = Set(current.version + 1);
    active.updated_at = Set(Utc::now());
    let result = permits::Entity::update_many()
        .set(active)
        .filter(permits::Column::Id.eq(permit_id))
        .filter(permits::Column::Version.eq(expected_version))
        .exec(txn_ref)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "permit {permit_id} changed meanwhile: reload and retry"
        )));
    }
    let updated = permits::Entity::find_by_id(permit_id)
        .one(txn_ref)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("permit {permit_id}")))?;
    let snapshot = match snapshot {
        Some(s) => s,
        None => current_snapshot(txn_ref, permit_id).await?,
    };
    write_version(
        txn_ref,
        principal,
        &updated,
        action.change_kind(),
        Some(reason),
        snapshot,
    )
    .await?;
    let operation = match action {
        PermitAction::Change | PermitAction::Renew => ChangeOperation::Updated,
        _ => ChangeOperation::StateChanged,
    };
    changes::record(
        txn_ref,
        principal,
        Change {
            kind: ChangeKind::Permit,
            record_id: updated.id,
            version: Some(updated.version),
            operation,
            state: Some(status_name(updated.status)),
            district: Some(&updated.district_code),
        },
    )
    .await?;
    Ok(updated)
}

/// What a permit was on `date`, from its versions (history is never overwritten); `None` when
/// it had not yet been issued. A termination (revoke, cancel, withdraw) counts from the day it
/// was decided; validity from the periods the versions carried.
pub fn status_on(
    permit: &permits::Model,
    versions: &[impl VersionDates],
    date: NaiveDate,
) -> Option<PermitStatus> {
    let ended = versions
        .iter()
        .map(VersionDates::span)
        .filter(|v| {
            matches!(
                v.change_kind,
                PermitChangeKind::Revoked
                    | PermitChangeKind::Cancelled
                    | PermitChangeKind::Withdrawn
            )
        })
        .map(|v| (crate::domain::clock::date_of(v.created_at), v.status))
        .min_by_key(|(day, _)| *day);
    if let Some((day, status)) = ended
        && day <= date
    {
        return Some(status);
    }
    let periods = versions
        .iter()
        .map(|v| {
            let v = v.span();
            (v.valid_from, v.valid_to)
        })
        .chain(std::iter::once((permit.valid_from, permit.valid_to)));
    let mut first_from = None::<NaiveDate>;
    for (from, to) in periods {
        if from <= date && date <= to {
            return Some(PermitStatus::Valid);
        }
        first_from = Some(first_from.map_or(from, |f| std::cmp::min(f, from)));
    }
    match first_from {
        Some(from) if date >= from => Some(PermitStatus::Expired),
        _ => None,
    }
}

/// The unit's permits with their status on `date`.
pub async fn standing_on(
    db: &impl ConnectionTrait,
    unit_id: i64,
    date: NaiveDate,
) -> AppResult<Vec<(permits::Model, Option<PermitStatus>)>> {
    let unit_permits = permits::Entity::find()
        .filter(permits::Column::UnitId.eq(unit_id))
        .order_by_asc(permits::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = unit_permits.iter().map(|p| p.id).collect();
    let versions = spans_of(db, &ids).await?;
    Ok(unit_permits
        .into_iter()
        .map(|p| {
            let own: Vec<VersionSpan> = versions
                .iter()
                .filter(|v| v.permit_id == p.id)
                .cloned()
                .collect();
            let status = status_on(&p, &own, date);
            (p, status)
        })
        .collect())
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<permits::Model>> {
    Ok(scoped(principal)
        .filter(permits::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn outlets_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<outlets::Model>> {
    Ok(outlets::Entity::find()
        .filter(outlets::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The permit as it was at `at`, from its stored versions; `None` before it was issued.
pub async fn as_of(
    db: &impl ConnectionTrait,
    permit: permits::Model,
    at: chrono::DateTime<Utc>,
) -> AppResult<Option<permits::Model>> {
    let versions = versions_of(db, &[permit.id]).await?;
    let Some(version) = versions.into_iter().rfind(|v| v.created_at <= at) else {
        return Ok(None);
    };
    Ok(Some(permits::Model {
        status: version.status,
        valid_from: version.valid_from,
        valid_to: version.valid_to,
        version: version.version,
        updated_at: version.created_at,
        ..permit
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine_table() {
        use PermitAction::*;
        use PermitStatus::*;
        let cases = [
            (Valid, Change, Some(Valid)),
            (Valid, Renew, Some(Valid)),
            (Valid, Revoke, Some(Revoked)),
            (Valid, Cancel, Some(Cancelled)),
            (Valid, Withdraw, Some(Withdrawn)),
            (Expired, Cancel, Some(Cancelled)),
            (Expired, Renew, None),
            (Expired, Change, None),
            (Expired, Withdraw, None),
            (Revoked, Cancel, None),
            (Cancelled, Renew, None),
            (Withdrawn, Change, None),
            (Withdrawn, Withdraw, None),
        ];
        for (from, action, expected) in cases {
            let got = transition(from, action);
            match expected {
                Some(to) => assert_eq!(got.ok(), Some(to), "{from:?} {action:?}"),
                None => assert!(
                    matches!(got, Err(AppError::InvalidTransition { .. })),
                    "{from:?} {action:?} should be refused"
                ),
            }
        }
    }

    #[test]
    fn five_year_validity() {
        let from = NaiveDate::from_ymd_opt(2021, 3, 1).expect("date");
        assert_eq!(
            default_valid_to(from),
            NaiveDate::from_ymd_opt(2026, 2, 28).expect("date")
        );
        assert!(
            validate_validity(from, NaiveDate::from_ymd_opt(2026, 3, 1).expect("date")).is_err()
        );
        assert!(validate_validity(from, from).is_err());
    }
}
