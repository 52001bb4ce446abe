//! A finding against the permit: the permit the violation code demands, as it stood on the
//! inspection date (`taxonomy::permit_requirement`), and for an exceedance (EX-1) the outlet and
//! limit in force that day, which the measurement must exceed in the limit's own unit.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};

use super::recording::RecordFindingInput;
use crate::domain::permits;
use crate::domain::taxonomy::{self, PermitRequirement};
use crate::error::{AppError, AppResult};
use entity::enums::{ManagementCategory, PermitStatus, RegistrationStatus};
use entity::{outlets, permit_limits, permits as permit_rows, registrations, units};

/// mg/m3 and mg/m³ are the same unit; compare units in one spelling.
pub(crate) fn normalise_unit(unit: &str) -> String {
    unit.trim().replace("m3", "m³").replace("ug", "μg")
}

/// A permit of the inspected unit with its status on the inspection date (`None`: not yet
/// issued).
type Standing = (permit_rows::Model, Option<PermitStatus>);

/// The permit the code demands, as it stood on the inspection date (see `taxonomy`), with its
/// version in force that day.
pub(super) async fn check_permit(
    txn: &DatabaseTransaction,
    unit: &units::Model,
    code: &str,
    permit_id: Option<i64>,
    date: NaiveDate,
) -> AppResult<Option<(permit_rows::Model, i32)>> {
    let with_versions = permits::standing_versions_on(txn, unit.id, date).await?;
    let version_of = |permit: &permit_rows::Model| {
        with_versions
            .iter()
            .find(|(p, _, _)| p.id == permit.id)
            .map_or(permit.version, |(_, _, version)| *version)
    };
    let standing: Vec<Standing> = with_versions
        .iter()
        .map(|(p, status, _)| (p.clone(), *status))
        .collect();
    let permit = check_standing(txn, unit, code, permit_id, date, &standing).await?;
    Ok(permit.map(|p| {
        let version = version_of(&p);
        (p, version)
    }))
}

async fn check_standing(
    txn: &DatabaseTransaction,
    unit: &units::Model,
    code: &str,
    permit_id: Option<i64>,
    date: NaiveDate,
    standing: &[Standing],
) -> AppResult<Option<permit_rows::Model>> {
    let valid_one = standing
        .iter()
        .find(|(_, s)| *s == Some(PermitStatus::Valid));
    let named = match permit_id {
        Some(id) => Some(standing.iter().find(|(p, _)| p.id == id).ok_or_else(|| {
            AppError::invalid("input.permitId", "not a permit of the inspected unit")
        })?),
        None => None,
    };
    match taxonomy::permit_requirement(code) {
        PermitRequirement::NoPermit => check_no_permit(unit, valid_one, named, date),
        PermitRequirement::RegistrationTier => {
            check_unregistered(txn, unit, named.is_some(), date).await
        }
        requirement @ (PermitRequirement::ExpiredPermit | PermitRequirement::EndedPermit) => {
            check_ended_permit(requirement, code, valid_one, named, date)
        }
        PermitRequirement::ValidPermit => check_valid_permit(code, named, date),
    }
}

/// How a permit's status on a day reads in a message.
fn status_on_day(status: Option<PermitStatus>) -> &'static str {
    status.map(permits::status_name).unwrap_or("not yet issued")
}

/// NP-1: a unit that needs a permit had none valid that day, and the finding names none.
fn check_no_permit(
    unit: &units::Model,
    valid_one: Option<&Standing>,
    named: Option<&Standing>,
    date: NaiveDate,
) -> AppResult<Option<permit_rows::Model>> {
    if unit.management_category == ManagementCategory::Registration {
        return Err(AppError::invalid(
            "input.code",
            "NP-1 applies to units that need a permit; a REGISTRATION-tier unit is RG-1",
        ));
    }
    if let Some((p, _)) = valid_one {
        return Err(AppError::invalid(
            "input.code",
            format!(
                "NP-1 needs a unit without a valid permit, but {} was valid on {date}",
                p.permit_number
            ),
        ));
    }
    if named.is_some() {
        return Err(AppError::invalid("input.permitId", "NP-1 names no permit"));
    }
    Ok(None)
}

/// RG-1: a REGISTRATION-tier unit with no registration in force that day.
async fn check_unregistered(
    txn: &DatabaseTransaction,
    unit: &units::Model,
    names_permit: bool,
    date: NaiveDate,
) -> AppResult<Option<permit_rows::Model>> {
    if unit.management_category != ManagementCategory::Registration {
        return Err(AppError::invalid(
            "input.code",
            "RG-1 applies to REGISTRATION-tier units only",
        ));
    }
    if names_permit {
        return Err(AppError::invalid("input.permitId", "RG-1 names no permit"));
    }
    // Art 43: "not registered" on the inspection date, so a registration in force
    // that day rules it out.
    let registered = registrations::Entity::find()
        .filter(registrations::Column::UnitId.eq(unit.id))
        .filter(registrations::Column::Status.eq(RegistrationStatus::Valid))
        .filter(registrations::Column::RegisteredOn.lte(date))
        .filter(registrations::Column::ValidTo.gte(date))
        .one(txn)
        .await?;
    if let Some(registration) = registered {
        return Err(AppError::invalid(
            "input.code",
            format!(
                "RG-1 needs an unregistered unit, but registration {} was in force on {date} (registered {})",
                registration.registration_number, registration.registered_on
            ),
        ));
    }
    Ok(None)
}

/// A code of an expired or ended (revoked, cancelled, withdrawn) permit: the named permit was
/// so that day, and no other permit of the unit was valid.
fn check_ended_permit(
    requirement: PermitRequirement,
    code: &str,
    valid_one: Option<&Standing>,
    named: Option<&Standing>,
    date: NaiveDate,
) -> AppResult<Option<permit_rows::Model>> {
    let (permit, status) = named.ok_or_else(|| {
        AppError::invalid(
            "input.permitId",
            format!("{code} names the permit concerned"),
        )
    })?;
    let fits = match requirement {
        PermitRequirement::ExpiredPermit => *status == Some(PermitStatus::Expired),
        _ => matches!(
            status,
            Some(PermitStatus::Revoked | PermitStatus::Cancelled | PermitStatus::Withdrawn)
        ),
    };
    if !fits {
        let wanted = if requirement == PermitRequirement::ExpiredPermit {
            "an expired permit"
        } else {
            "a revoked, cancelled or withdrawn permit"
        };
        return Err(AppError::invalid(
            "input.permitId",
            format!(
                "{code} needs {wanted}; {} was {} on {date}",
                permit.permit_number,
                status_on_day(*status)
            ),
        ));
    }
    if let Some((other, _)) = valid_one {
        return Err(AppError::invalid(
            "input.code",
            format!(
                "{code} does not apply: {} was valid on {date}",
                other.permit_number
            ),
        ));
    }
    Ok(Some(permit.clone()))
}

/// A breach of a permit: the named permit was valid that day.
fn check_valid_permit(
    code: &str,
    named: Option<&Standing>,
    date: NaiveDate,
) -> AppResult<Option<permit_rows::Model>> {
    let (permit, status) = named.ok_or_else(|| {
        AppError::invalid(
            "input.permitId",
            format!("{code} names the permit it breaches"),
        )
    })?;
    if *status != Some(PermitStatus::Valid) {
        return Err(AppError::invalid(
            "input.permitId",
            format!(
                "{code} breaches a valid permit, but {} was {} on {date}",
                permit.permit_number,
                status_on_day(*status)
            ),
        ));
    }
    Ok(Some(permit.clone()))
}

/// EX-1: the measurement must exceed the permitted limit of that outlet and pollutant.
pub(super) struct Exceedance {
    pub(super) outlet_id: i64,
    pub(super) limit_id: i64,
    pub(super) pollutant: String,
    pub(super) measured_value: f64,
    pub(super) measured_unit: String,
    pub(super) permitted_value: f64,
}

pub(super) async fn check_exceedance(
    txn: &DatabaseTransaction,
    permit: &permit_rows::Model,
    version: i32,
    input: &RecordFindingInput,
) -> AppResult<Exceedance> {
    let outlet_code = input
        .outlet_code
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .ok_or_else(|| AppError::invalid("input.outletCode", "EX-1 names the outlet"))?;
    let pollutant = input
        .pollutant
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| AppError::invalid("input.pollutant", "EX-1 names the pollutant"))?;
    let measured = input
        .measured_value
        .ok_or_else(|| AppError::invalid("input.measuredValue", "EX-1 needs the measured value"))?;
    if !measured.is_finite() || measured < 0.0 {
        return Err(AppError::invalid(
            "input.measuredValue",
            "a finite, non-negative number",
        ));
    }
    if permits::is_ph(pollutant) && measured > permits::PH_MAX {
        return Err(AppError::invalid(
            "input.measuredValue",
            format!("pH lies between 0 and {}", permits::PH_MAX),
        ));
    }
    let unit = input
        .measured_unit
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| {
            AppError::invalid(
                "input.measuredUnit",
                "EX-1 needs the unit of the measurement",
            )
        })?;
    // The outlet and limit as they stood in the version in force on the inspection date.
    let outlet = outlets::Entity::find()
        .filter(outlets::Column::PermitId.eq(permit.id))
        .filter(outlets::Column::Code.eq(outlet_code.clone()))
        .all(txn)
        .await?
        .into_iter()
        .find(|o| permits::outlet_in_version(o, version))
        .ok_or_else(|| {
            AppError::invalid(
                "input.outletCode",
                format!(
                    "permit {} has no outlet {outlet_code}",
                    permit.permit_number
                ),
            )
        })?;
    let limit = permit_limits::Entity::find()
        .filter(permit_limits::Column::OutletId.eq(outlet.id))
        .filter(permit_limits::Column::Pollutant.eq(pollutant))
        .filter(permit_limits::Column::ConcentrationLimit.is_not_null())
        .order_by_asc(permit_limits::Column::Id)
        .all(txn)
        .await?
        .into_iter()
        .find(|l| permits::limit_in_version(l, version))
        .ok_or_else(|| {
            AppError::invalid(
                "input.pollutant",
                format!("no concentration limit for {pollutant} at {outlet_code}"),
            )
        })?;
    let permitted = limit.concentration_limit.unwrap_or(f64::INFINITY);
    let limit_unit = limit.concentration_unit.clone().unwrap_or_default();
    if normalise_unit(unit) != normalise_unit(&limit_unit) {
        return Err(AppError::invalid(
            "input.measuredUnit",
            format!(
                "the limit for {pollutant} at {outlet_code} is in {limit_unit}; measure in the same unit"
            ),
        ));
    }
    if measured <= permitted {
        return Err(AppError::invalid(
            "input.measuredValue",
            format!(
                "{measured} {unit} is within the permitted {permitted} {limit_unit} for {pollutant} at {outlet_code}: not an exceedance"
            ),
        ));
    }
    Ok(Exceedance {
        outlet_id: outlet.id,
        limit_id: limit.id,
        pollutant: pollutant.to_owned(),
        measured_value: measured,
        measured_unit: unit.trim().to_owned(),
        permitted_value: permitted,
    })
}
