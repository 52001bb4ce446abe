//! Issuing permits and moving them through their lifecycle (Art 14–15): the permit number, the
//! validity period, the issuing office, one live permit per unit at a time, and a new version
//! with its snapshot, feed and audit rows for every issue, change, renewal or status move.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

use super::outlets::{OutletInput, validate_duties, validate_outlets, write_duties, write_outlets};
use super::{
    PermitAction, VALIDITY_YEARS, default_valid_to, effective_status, scoped, status_name,
    transition,
};
use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::codes::{CreditCode, PermitNumber};
use crate::domain::idempotency::{self, IdempotentRequest};
use crate::error::{AppError, AppResult};
use entity::enums::{
    AgencyKind, ManagementCategory, PermitChangeKind, PermitStatus, ReportFrequency,
};
use entity::{agencies, permit_versions, permits, units};

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

async fn write_version(
    txn: &DatabaseTransaction,
    principal: &Principal,
    permit: &permits::Model,
    kind: PermitChangeKind,
    reason: Option<String>,
    snapshot: serde_json::Value,
) -> AppResult<()> {
    version_row(principal, permit, kind, reason, snapshot, clock::now())
        .insert(txn)
        .await?;
    Ok(())
}

/// The version row of `permit` as it stands after a move by `principal` at `at` (the demo
/// seed's bulk path writes the issued versions with it).
pub fn version_row(
    principal: &Principal,
    permit: &permits::Model,
    kind: PermitChangeKind,
    reason: Option<String>,
    snapshot: serde_json::Value,
    at: chrono::DateTime<chrono::Utc>,
) -> permit_versions::ActiveModel {
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
        created_at: Set(at),
        ..Default::default()
    }
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
    let unit = permitted_unit(&txn, principal, input.unit_id).await?;
    let credit_code = CreditCode::parse(&unit.credit_code).map_err(AppError::internal)?;
    let existing = permits::Entity::find()
        .filter(permits::Column::UnitId.eq(unit.id))
        .all(&txn)
        .await?;
    let number = permit_number(input.permit_number.as_deref(), &credit_code, &existing)?;
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
    let permit = insert_permit(&txn, &unit, agency, &number, &input, valid_to).await?;
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

/// The unit a permit is issued to: in the principal's scope, and of a tier that is permitted
/// (REGISTRATION-tier units register instead).
async fn permitted_unit(
    txn: &DatabaseTransaction,
    principal: &Principal,
    unit_id: i64,
) -> AppResult<units::Model> {
    let unit = units::Entity::find_by_id(unit_id)
        .filter(access::district_filter(
            principal,
            units::Column::DistrictCode,
        ))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("unit {unit_id}")))?;
    access::check_district(principal, &unit.district_code)?;
    if unit.management_category == ManagementCategory::Registration {
        return Err(AppError::invalid(
            "input.unitId",
            "a REGISTRATION-tier unit is registered (registerDischarge), not permitted",
        ));
    }
    Ok(unit)
}

/// The number of a new permit (HJ 608): the one given, if it is the unit's and free, else the
/// unit's next free sequence.
fn permit_number(
    given: Option<&str>,
    credit_code: &CreditCode,
    existing: &[permits::Model],
) -> AppResult<PermitNumber> {
    let number = match given {
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
            PermitNumber::new(credit_code, next)
                .map_err(|e| AppError::code_error("input.permitNumber", e))?
        }
    };
    Ok(number)
}

/// The permit row of an issue: VALID, at version 1.
async fn insert_permit(
    txn: &DatabaseTransaction,
    unit: &units::Model,
    agency: String,
    number: &PermitNumber,
    input: &IssuePermitInput,
    valid_to: NaiveDate,
) -> AppResult<permits::Model> {
    let now = clock::now();
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
    .insert(txn)
    .await?;
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
    active.updated_at = Set(clock::now());
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

#[cfg(test)]
mod tests {
    use super::*;

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
