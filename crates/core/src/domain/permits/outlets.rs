//! The permitted items of a permit version (Art 13, 19, 22): outlets with their limits and
//! self-monitoring plan, and the execution-report duties — as an issue or change names them,
//! checked, then written so that rows that stay keep their ids and the rest are retired.

use std::collections::HashSet;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde::Serialize;

use crate::domain::codes::{OutletMediumCode, parse_outlet_code};
use crate::domain::text;
use crate::error::{AppError, AppResult};
use entity::enums::{
    AveragingPeriod, ManagementCategory, MonitoringFrequency, MonitoringMethod, OutletCategory,
    OutletMedium, ReportFrequency,
};
use entity::{monitoring_requirements, outlets, permit_limits, report_duties};

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

/// An outlet input that passed `validate_outlets`, with its code and medium.
pub struct ValidOutlet {
    pub code: String,
    pub medium: OutletMedium,
    pub input: OutletInput,
}

pub fn validate_outlets(
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

pub(super) fn validate_duties(field: &str, duties: &[ReportFrequency]) -> AppResult<()> {
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

pub fn limit_row(
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

/// The outlets, limits and monitoring plan of a permit as they stand (not yet retired).
struct CurrentItems {
    outlets: Vec<outlets::Model>,
    limits: Vec<permit_limits::Model>,
    plan: Vec<monitoring_requirements::Model>,
}

impl CurrentItems {
    async fn load(txn: &DatabaseTransaction, permit_id: i64) -> AppResult<Self> {
        let outlets: Vec<outlets::Model> = outlets::Entity::find()
            .filter(outlets::Column::PermitId.eq(permit_id))
            .filter(outlets::Column::RetiredInVersion.is_null())
            .all(txn)
            .await?;
        let limits: Vec<permit_limits::Model> = permit_limits::Entity::find()
            .filter(permit_limits::Column::PermitId.eq(permit_id))
            .filter(permit_limits::Column::RetiredInVersion.is_null())
            .all(txn)
            .await?;
        let plan: Vec<monitoring_requirements::Model> = monitoring_requirements::Entity::find()
            .filter(monitoring_requirements::Column::PermitId.eq(permit_id))
            .filter(monitoring_requirements::Column::RetiredInVersion.is_null())
            .all(txn)
            .await?;
        Ok(Self {
            outlets,
            limits,
            plan,
        })
    }
}

/// The monitoring plan of a version being written: the current rows it keeps and the new rows.
#[derive(Default)]
struct PlanChanges {
    kept: HashSet<i64>,
    fresh: Vec<monitoring_requirements::ActiveModel>,
}

/// Writes the outlets and limits of permit version `version`, replacing those of the version
/// before. Rows are never deleted (findings point at them): an outlet whose code stays keeps
/// its row, a limit that stays the same keeps its row, and whatever is dropped or changed is
/// retired in `version`. Returns the version's snapshot.
pub(super) async fn write_outlets(
    txn: &DatabaseTransaction,
    permit_id: i64,
    version: i32,
    outlets: &[ValidOutlet],
) -> AppResult<serde_json::Value> {
    let current = CurrentItems::load(txn, permit_id).await?;
    let mut plan = PlanChanges::default();
    let mut retired_outlets = Vec::new();
    for old in &current.outlets {
        if !outlets.iter().any(|o| o.code == old.code) {
            retired_outlets.push(old.id);
        }
    }
    let mut retired_limits = Vec::new();
    let mut snapshot = Vec::with_capacity(outlets.len());
    for outlet in outlets {
        let outlet_id = keep_or_insert_outlet(txn, permit_id, version, &current, outlet).await?;
        retired_limits.extend(
            write_limits(
                txn,
                permit_id,
                outlet_id,
                version,
                &current,
                &outlet.input.limits,
            )
            .await?,
        );
        plan_outlet(permit_id, outlet_id, version, &current, outlet, &mut plan);
        snapshot.push(snapshot_item(outlet));
    }
    retired_limits.extend(
        current
            .limits
            .iter()
            .filter(|row| retired_outlets.contains(&row.outlet_id))
            .map(|row| row.id),
    );
    retire_limits(txn, version, retired_limits).await?;
    let retired_plan: Vec<i64> = current
        .plan
        .iter()
        .filter(|row| !plan.kept.contains(&row.id))
        .map(|row| row.id)
        .collect();
    replace_plan(txn, version, retired_plan, plan.fresh).await?;
    retire_outlets(txn, version, retired_outlets).await?;
    Ok(serde_json::Value::Array(snapshot))
}

/// The row of an outlet in the new version: the current one (its category and name brought up
/// to date) when the code stays, else a new row.
async fn keep_or_insert_outlet(
    txn: &DatabaseTransaction,
    permit_id: i64,
    version: i32,
    current: &CurrentItems,
    outlet: &ValidOutlet,
) -> AppResult<i64> {
    let name = outlet.input.name.clone().filter(|n| !n.trim().is_empty());
    let kept = current.outlets.iter().find(|o| o.code == outlet.code);
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
    Ok(outlet_id)
}

/// Inserts the limits of an outlet that no current row says already; returns the ids of the
/// outlet's current limits the new version drops.
async fn write_limits(
    txn: &DatabaseTransaction,
    permit_id: i64,
    outlet_id: i64,
    version: i32,
    current: &CurrentItems,
    limits: &[LimitInput],
) -> AppResult<Vec<i64>> {
    let mut unchanged = HashSet::new();
    let mut fresh = Vec::new();
    for limit in limits {
        match current.limits.iter().find(|row| {
            row.outlet_id == outlet_id && !unchanged.contains(&row.id) && same_limit(row, limit)
        }) {
            Some(row) => {
                unchanged.insert(row.id);
            }
            None => fresh.push(limit_row(permit_id, outlet_id, version, limit)),
        }
    }
    let retired: Vec<i64> = current
        .limits
        .iter()
        .filter(|row| row.outlet_id == outlet_id && !unchanged.contains(&row.id))
        .map(|row| row.id)
        .collect();
    if !fresh.is_empty() {
        permit_limits::Entity::insert_many(fresh).exec(txn).await?;
    }
    Ok(retired)
}

/// Sorts an outlet's monitoring requirements into the current rows kept and the new rows.
fn plan_outlet(
    permit_id: i64,
    outlet_id: i64,
    version: i32,
    current: &CurrentItems,
    outlet: &ValidOutlet,
    plan: &mut PlanChanges,
) {
    for m in &outlet.input.monitoring {
        let pollutant = m.pollutant.trim();
        match current.plan.iter().find(|row| {
            row.outlet_id == outlet_id
                && row.pollutant == pollutant
                && row.method == m.method
                && row.frequency == m.frequency
        }) {
            Some(row) => {
                plan.kept.insert(row.id);
            }
            None => plan.fresh.push(monitoring_requirements::ActiveModel {
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
}

/// An outlet as the version's snapshot records it (its plan only when it has one, so that
/// snapshots written before plans existed keep their shape). The demo seed's bulk path writes
/// these too.
pub fn snapshot_item(outlet: &ValidOutlet) -> serde_json::Value {
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
    item
}

async fn retire_limits(txn: &DatabaseTransaction, version: i32, ids: Vec<i64>) -> AppResult<()> {
    if !ids.is_empty() {
        permit_limits::Entity::update_many()
            .col_expr(
                permit_limits::Column::RetiredInVersion,
                Expr::value(version),
            )
            .filter(permit_limits::Column::Id.is_in(ids))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Retires the requirements the new version drops, then inserts the ones it adds.
async fn replace_plan(
    txn: &DatabaseTransaction,
    version: i32,
    retired: Vec<i64>,
    fresh: Vec<monitoring_requirements::ActiveModel>,
) -> AppResult<()> {
    if !retired.is_empty() {
        monitoring_requirements::Entity::update_many()
            .col_expr(
                monitoring_requirements::Column::RetiredInVersion,
                Expr::value(version),
            )
            .filter(monitoring_requirements::Column::Id.is_in(retired))
            .exec(txn)
            .await?;
    }
    if !fresh.is_empty() {
        monitoring_requirements::Entity::insert_many(fresh)
            .exec(txn)
            .await?;
    }
    Ok(())
}

async fn retire_outlets(txn: &DatabaseTransaction, version: i32, ids: Vec<i64>) -> AppResult<()> {
    if !ids.is_empty() {
        outlets::Entity::update_many()
            .col_expr(outlets::Column::RetiredInVersion, Expr::value(version))
            .filter(outlets::Column::Id.is_in(ids))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Writes the report duties of permit version `version`: unchanged ones keep their row, the
/// rest are retired in `version`.
pub(super) async fn write_duties(
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
