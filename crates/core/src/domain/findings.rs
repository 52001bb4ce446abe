//! Findings (违法行为): a violation found by an inspection, coded to the taxonomy, checked
//! against the permit as it stood on the inspection date, and moved through one lifecycle.
//!
//! Lifecycle (plan §3–4; every move recorded with who, when and why):
//! OPEN → RECTIFICATION_ORDERED → RECTIFIED (after a re-inspection) → CLOSED;
//! OPEN | RECTIFICATION_ORDERED → CASE_FILED → PENALISED → CLOSED;
//! OPEN | RECTIFICATION_ORDERED | CASE_FILED → DISMISSED (with a reason).

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, Order as SqlOrder, Query, WindowStatement,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Set, StatementBuilder,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::idempotency::{self, IdempotentRequest};
use crate::domain::page::{self, CountQuery, Ordering, Page, PageArgs, SortValue};
use crate::domain::permits;
use crate::domain::taxonomy::{self, PermitRequirement};
use crate::domain::text;
use crate::error::{AppError, AppResult};
use entity::enums::{
    FindingSeverity, FindingStatus, ManagementCategory, PermitStatus, RegistrationStatus,
    ViolationCategory,
};
use entity::{
    finding_evidence, finding_transitions, findings, inspections, outlets, permit_limits,
    permits as permit_rows, registrations, units,
};

pub fn status_name(status: FindingStatus) -> &'static str {
    match status {
        FindingStatus::Open => "OPEN",
        FindingStatus::RectificationOrdered => "RECTIFICATION_ORDERED",
        FindingStatus::Rectified => "RECTIFIED",
        FindingStatus::CaseFiled => "CASE_FILED",
        FindingStatus::Penalised => "PENALISED",
        FindingStatus::Closed => "CLOSED",
        FindingStatus::Dismissed => "DISMISSED",
    }
}

/// The finding state machine: whether `from → to` is a move the lifecycle allows.
pub fn transition(from: FindingStatus, to: FindingStatus) -> AppResult<()> {
    use FindingStatus::*;
    let allowed = matches!(
        (from, to),
        (Open, RectificationOrdered)
            | (Open, CaseFiled)
            | (Open, Dismissed)
            | (RectificationOrdered, Rectified)
            | (RectificationOrdered, CaseFiled)
            | (RectificationOrdered, Dismissed)
            | (Rectified, Closed)
            | (CaseFiled, Penalised)
            | (CaseFiled, Dismissed)
            | (Penalised, Closed)
    );
    if allowed {
        return Ok(());
    }
    let reason = match (from, to) {
        (Closed | Dismissed, _) => "the finding is final",
        (Open, Rectified) => "rectification must be ordered first",
        (Open | RectificationOrdered, Penalised) => "a case must be filed before a penalty",
        (Open | RectificationOrdered, Closed) => "a finding closes after rectification or penalty",
        _ => "the lifecycle does not allow this move",
    };
    Err(AppError::InvalidTransition {
        from: status_name(from).to_owned(),
        to: status_name(to).to_owned(),
        reason: reason.to_owned(),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceInput {
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub captured_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordFindingInput {
    pub inspection_id: i64,
    pub code: String,
    pub permit_id: Option<i64>,
    pub outlet_code: Option<String>,
    pub pollutant: Option<String>,
    pub measured_value: Option<f64>,
    pub measured_unit: Option<String>,
    pub severity: FindingSeverity,
    pub description: String,
    pub rectification_deadline: Option<NaiveDate>,
    pub evidence: Vec<EvidenceInput>,
    /// The violation candidate this finding confirms (its code, unit and, for EX-1, outlet,
    /// pollutant and measurement); left out of the idempotency fingerprint when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_id: Option<i64>,
}

/// Largest evidence file we record metadata for (2 GiB).
const MAX_EVIDENCE_BYTES: i64 = 2 * 1024 * 1024 * 1024;

fn validate_evidence(evidence: &[EvidenceInput]) -> AppResult<()> {
    if evidence.len() > 50 {
        return Err(AppError::invalid("input.evidence", "at most 50 items"));
    }
    for (i, e) in evidence.iter().enumerate() {
        let field = |name: &str| format!("input.evidence[{i}].{name}");
        if e.file_name.trim().is_empty() || e.file_name.chars().count() > 255 {
            return Err(AppError::invalid(field("fileName"), "1 to 255 characters"));
        }
        let media_ok = e.media_type.split_once('/').is_some_and(|(t, s)| {
            !t.is_empty()
                && !s.is_empty()
                && e.media_type.len() <= 100
                && !e.media_type.contains(' ')
        });
        if !media_ok {
            return Err(AppError::invalid(
                field("mediaType"),
                "a media type such as image/jpeg",
            ));
        }
        if e.size_bytes <= 0 || e.size_bytes > MAX_EVIDENCE_BYTES {
            return Err(AppError::invalid(
                field("sizeBytes"),
                "above 0 and at most 2 GiB",
            ));
        }
        if e.sha256.len() != 64 || !e.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::invalid(
                field("sha256"),
                "64 hexadecimal characters",
            ));
        }
        if e.captured_at.is_some_and(|t| t > Utc::now()) {
            return Err(AppError::invalid(
                field("capturedAt"),
                "cannot be in the future",
            ));
        }
    }
    Ok(())
}

/// mg/m3 and mg/m³ are the same unit; compare units in one spelling.
pub(crate) fn normalise_unit(unit: &str) -> String {
    unit.trim().replace("m3", "m³").replace("ug", "μg")
}

/// The permit the code demands, as it stood on the inspection date (see `taxonomy`).
async fn check_permit(
    txn: &DatabaseTransaction,
    unit: &units::Model,
    code: &str,
    permit_id: Option<i64>,
    date: NaiveDate,
) -> AppResult<Option<permit_rows::Model>> {
    let standing = permits::standing_on(txn, unit.id, date).await?;
    let valid_one = standing
        .iter()
        .find(|(_, s)| *s == Some(PermitStatus::Valid));
    let named = match permit_id {
        Some(id) => Some(standing.iter().find(|(p, _)| p.id == id).ok_or_else(|| {
            AppError::invalid("input.permitId", "not a permit of the inspected unit")
        })?),
        None => None,
    };
    let on = |s: Option<PermitStatus>| s.map(permits::status_name).unwrap_or("not yet issued");
    match taxonomy::permit_requirement(code) {
        PermitRequirement::NoPermit => {
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
        PermitRequirement::RegistrationTier => {
            if unit.management_category != ManagementCategory::Registration {
                return Err(AppError::invalid(
                    "input.code",
                    "RG-1 applies to REGISTRATION-tier units only",
                ));
            }
            if named.is_some() {
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
        requirement @ (PermitRequirement::ExpiredPermit | PermitRequirement::EndedPermit) => {
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
                        on(*status)
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
        PermitRequirement::ValidPermit => {
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
                        on(*status)
                    ),
                ));
            }
            Ok(Some(permit.clone()))
        }
    }
}

/// EX-1: the measurement must exceed the permitted limit of that outlet and pollutant.
struct Exceedance {
    outlet_id: i64,
    limit_id: i64,
    pollutant: String,
    measured_value: f64,
    measured_unit: String,
    permitted_value: f64,
}

async fn check_exceedance(
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

/// A recorded finding, and whether this call wrote it (false for an idempotent replay).
pub struct Recorded {
    pub finding: findings::Model,
    pub new: bool,
}

pub async fn record(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: RecordFindingInput,
    idempotency_key: Option<&str>,
) -> AppResult<Recorded> {
    let principal = access::authorize(principal, Operation::WriteEnforcement)?;
    let description = input.description.trim().to_owned();
    if description.is_empty() || description.chars().count() > 4000 {
        return Err(AppError::invalid(
            "input.description",
            "1 to 4000 characters",
        ));
    }
    text::optional("input.pollutant", input.pollutant.as_deref(), 64)?;
    text::optional("input.measuredUnit", input.measured_unit.as_deref(), 16)?;
    validate_evidence(&input.evidence)?;
    let idempotent = idempotency_key
        .map(|key| IdempotentRequest::new("recordFinding", key, &input))
        .transpose()?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(existing) =
        idempotency::replayed::<findings::Entity>(idempotent.as_ref(), &txn, principal).await?
    {
        txn.commit().await?;
        return Ok(Recorded {
            finding: existing,
            new: false,
        });
    }
    let inspection = inspections::Entity::find_by_id(input.inspection_id)
        .filter(access::district_filter(
            principal,
            inspections::Column::DistrictCode,
        ))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("inspection {}", input.inspection_id)))?;
    access::check_district(principal, &inspection.district_code)?;
    let mut input = input;
    let candidate = match input.candidate_id {
        Some(id) => Some(from_candidate(&txn, principal, id, &inspection, &mut input).await?),
        None => None,
    };
    let unit = units::Entity::find_by_id(inspection.unit_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("unit {}", inspection.unit_id)))?;
    let code = taxonomy::find(&txn, &input.code, "input.code").await?;
    let date = inspection.inspection_date;
    if let Some(deadline) = input.rectification_deadline
        && deadline <= date
    {
        return Err(AppError::invalid(
            "input.rectificationDeadline",
            "must be after the inspection date",
        ));
    }
    let permit = check_permit(&txn, &unit, &code.code, input.permit_id, date).await?;
    let permit_version = match &permit {
        Some(permit) => {
            let versions = permits::spans_of(&txn, &[permit.id]).await?;
            Some(permits::version_on(&versions, date).unwrap_or(permit.version))
        }
        None => None,
    };
    let exceedance = match (&permit, permit_version, taxonomy::is_exceedance(&code.code)) {
        (Some(permit), Some(version), true) => {
            Some(check_exceedance(&txn, permit, version, &input).await?)
        }
        _ => None,
    };
    let now = Utc::now();
    let saved = findings::ActiveModel {
        inspection_id: Set(inspection.id),
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        permit_id: Set(permit.as_ref().map(|p| p.id)),
        violation_code: Set(code.code.clone()),
        category: Set(code.category),
        found_on: Set(date),
        outlet_id: Set(exceedance.as_ref().map(|e| e.outlet_id)),
        limit_id: Set(exceedance.as_ref().map(|e| e.limit_id)),
        permit_version: Set(permit_version),
        pollutant: Set(exceedance
            .as_ref()
            .map(|e| e.pollutant.clone())
            .or(input.pollutant.clone())),
        measured_value: Set(exceedance
            .as_ref()
            .map(|e| e.measured_value)
            .or(input.measured_value)),
        measured_unit: Set(exceedance
            .as_ref()
            .map(|e| e.measured_unit.clone())
            .or(input.measured_unit.clone())),
        permitted_value: Set(exceedance.as_ref().map(|e| e.permitted_value)),
        severity: Set(input.severity),
        description: Set(description),
        rectification_deadline: Set(input.rectification_deadline),
        status: Set(FindingStatus::Open),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    super::pattern_cells::finding_recorded(&txn, &saved).await?;
    if !input.evidence.is_empty() {
        let rows = input
            .evidence
            .iter()
            .map(|e| finding_evidence::ActiveModel {
                finding_id: Set(saved.id),
                file_name: Set(e.file_name.trim().to_owned()),
                media_type: Set(e.media_type.trim().to_ascii_lowercase()),
                size_bytes: Set(e.size_bytes),
                sha256: Set(e.sha256.to_ascii_lowercase()),
                captured_at: Set(e.captured_at),
                ..Default::default()
            });
        finding_evidence::Entity::insert_many(rows)
            .exec(&txn)
            .await?;
    }
    write_transition(
        &txn,
        principal,
        saved.id,
        None,
        FindingStatus::Open,
        None,
        None,
    )
    .await?;
    changes::record(
        &txn,
        principal,
        Change {
            kind: ChangeKind::Finding,
            record_id: saved.id,
            version: Some(saved.version),
            operation: ChangeOperation::Created,
            state: Some(status_name(saved.status)),
            district: Some(&saved.district_code),
        },
    )
    .await?;
    if let Some(candidate) = candidate {
        super::candidates::decide(
            &txn,
            principal,
            candidate,
            entity::enums::CandidateStatus::Confirmed,
            None,
            Some(saved.id),
        )
        .await?;
    }
    if let Some(request) = &idempotent {
        request.remember(&txn, principal, saved.id).await?;
    }
    txn.commit().await?;
    Ok(Recorded {
        finding: saved,
        new: true,
    })
}

/// The open candidate a finding confirms: of the inspection's unit and the finding's code; an
/// EX-1's outlet, pollutant and measurement fill what the input leaves out.
async fn from_candidate(
    txn: &DatabaseTransaction,
    principal: &Principal,
    id: i64,
    inspection: &inspections::Model,
    input: &mut RecordFindingInput,
) -> AppResult<entity::violation_candidates::Model> {
    let candidate = super::candidates::open_one(txn, principal, id, "input.candidateId").await?;
    if candidate.unit_id != inspection.unit_id {
        return Err(AppError::invalid(
            "input.candidateId",
            "the candidate is of another unit than the inspection",
        ));
    }
    if input.code.trim() != candidate.code {
        return Err(AppError::invalid(
            "input.code",
            format!("the candidate is an {} candidate", candidate.code),
        ));
    }
    input.permit_id = input.permit_id.or(Some(candidate.permit_id));
    if let Some(outlet_id) = candidate.outlet_id
        && input.outlet_code.is_none()
    {
        input.outlet_code = outlets::Entity::find_by_id(outlet_id)
            .one(txn)
            .await?
            .map(|o| o.code);
    }
    input.pollutant = input.pollutant.take().or(candidate.pollutant.clone());
    input.measured_value = input.measured_value.or(candidate.measured_value);
    input.measured_unit = input.measured_unit.take().or(candidate.unit.clone());
    Ok(candidate)
}

pub(crate) async fn write_transition(
    txn: &DatabaseTransaction,
    principal: &Principal,
    finding_id: i64,
    from: Option<FindingStatus>,
    to: FindingStatus,
    reason: Option<String>,
    reinspection_id: Option<i64>,
) -> AppResult<()> {
    finding_transitions::ActiveModel {
        finding_id: Set(finding_id),
        from_status: Set(from),
        to_status: Set(to),
        reason: Set(reason),
        reinspection_id: Set(reinspection_id),
        actor_subject: Set(principal.subject.clone()),
        actor_agency: Set(principal.agency_code.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Moves a finding inside an open transaction (also used by enforcement actions). Checks the
/// state machine and the optimistic version; writes the transition row.
pub(crate) async fn move_in(
    txn: &DatabaseTransaction,
    principal: &Principal,
    finding: &findings::Model,
    to: FindingStatus,
    reason: Option<String>,
    reinspection_id: Option<i64>,
) -> AppResult<findings::Model> {
    transition(finding.status, to)?;
    let result = findings::Entity::update_many()
        .col_expr(
            findings::Column::Status,
            Expr::value(sea_orm::ActiveEnum::to_value(&to)),
        )
        .col_expr(findings::Column::Version, Expr::value(finding.version + 1))
        .col_expr(findings::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(findings::Column::Id.eq(finding.id))
        .filter(findings::Column::Version.eq(finding.version))
        .exec(txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "finding {} changed meanwhile: reload and retry",
            finding.id
        )));
    }
    write_transition(
        txn,
        principal,
        finding.id,
        Some(finding.status),
        to,
        reason,
        reinspection_id,
    )
    .await?;
    let moved = findings::Entity::find_by_id(finding.id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("finding {}", finding.id)))?;
    super::pattern_cells::finding_moved(txn, &moved, finding.status).await?;
    changes::record(
        txn,
        principal,
        Change {
            kind: ChangeKind::Finding,
            record_id: moved.id,
            version: Some(moved.version),
            operation: ChangeOperation::StateChanged,
            state: Some(status_name(moved.status)),
            district: Some(&moved.district_code),
        },
    )
    .await?;
    Ok(moved)
}

/// A finding in scope for writing, read inside the transaction.
pub(crate) async fn for_update(
    txn: &DatabaseTransaction,
    principal: &Principal,
    id: i64,
    expected_version: Option<i32>,
) -> AppResult<findings::Model> {
    let finding = findings::Entity::find_by_id(id)
        .filter(access::district_filter(
            principal,
            findings::Column::DistrictCode,
        ))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("finding {id}")))?;
    access::check_district(principal, &finding.district_code)?;
    if let Some(expected) = expected_version
        && expected != finding.version
    {
        return Err(AppError::Conflict(format!(
            "finding {id} is at version {}, not {expected}: reload and retry",
            finding.version
        )));
    }
    Ok(finding)
}

pub async fn advance(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
    expected_version: i32,
    to: FindingStatus,
    reason: Option<String>,
    reinspection_id: Option<i64>,
) -> AppResult<findings::Model> {
    let principal = access::authorize(principal, Operation::WriteEnforcement)?;
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::invalid("input.reason", "at most 2000 characters"));
    }
    if to == FindingStatus::Dismissed && reason.is_none() {
        return Err(AppError::invalid(
            "input.reason",
            "a dismissal states its reason",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let finding = for_update(&txn, principal, id, Some(expected_version)).await?;
    transition(finding.status, to)?;
    if to == FindingStatus::Rectified {
        // Rectification is confirmed by a later inspection of the same unit (复查).
        let reinspection_id = reinspection_id.ok_or_else(|| {
            AppError::invalid(
                "input.reinspectionId",
                "rectification is confirmed by a re-inspection",
            )
        })?;
        let reinspection = inspections::Entity::find_by_id(reinspection_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::invalid("input.reinspectionId", "no such inspection"))?;
        if reinspection.unit_id != finding.unit_id
            || reinspection.inspection_date <= finding.found_on
        {
            return Err(AppError::invalid(
                "input.reinspectionId",
                "the re-inspection is a later inspection of the same unit",
            ));
        }
    } else if reinspection_id.is_some() {
        return Err(AppError::invalid(
            "input.reinspectionId",
            "only a move to RECTIFIED takes a re-inspection",
        ));
    }
    let moved = move_in(&txn, principal, &finding, to, reason, reinspection_id).await?;
    txn.commit().await?;
    Ok(moved)
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub district: Option<String>,
    pub code: Option<String>,
    pub category: Option<ViolationCategory>,
    pub status: Option<FindingStatus>,
    pub severity: Option<FindingSeverity>,
    pub found_from: Option<NaiveDate>,
    pub found_to: Option<NaiveDate>,
    /// GB/T 4754 code or prefix of the unit's industry.
    pub industry: Option<String>,
    pub permit_number: Option<String>,
    pub permit_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub inspection_id: Option<i64>,
    /// Findings of inspections linked to this campaign.
    pub campaign_id: Option<i64>,
}

fn scoped(principal: &Principal) -> Select<findings::Entity> {
    findings::Entity::find().filter(access::finding_filter(
        principal,
        findings::Column::DistrictCode,
        findings::Column::Status,
    ))
}

fn apply_filter(
    mut select: Select<findings::Entity>,
    filter: &FindingFilter,
) -> Select<findings::Entity> {
    if let Some(d) = &filter.district {
        select = select.filter(findings::Column::DistrictCode.eq(d.clone()));
    }
    if let Some(c) = &filter.code {
        select = select.filter(findings::Column::ViolationCode.eq(c.trim().to_ascii_uppercase()));
    }
    if let Some(c) = filter.category {
        select = select.filter(findings::Column::Category.eq(c));
    }
    if let Some(s) = filter.status {
        select = select.filter(findings::Column::Status.eq(s));
    }
    if let Some(s) = filter.severity {
        select = select.filter(findings::Column::Severity.eq(s));
    }
    if let Some(from) = filter.found_from {
        select = select.filter(findings::Column::FoundOn.gte(from));
    }
    if let Some(to) = filter.found_to {
        select = select.filter(findings::Column::FoundOn.lte(to));
    }
    if let Some(p) = filter.permit_id {
        select = select.filter(findings::Column::PermitId.eq(p));
    }
    if let Some(u) = filter.unit_id {
        select = select.filter(findings::Column::UnitId.eq(u));
    }
    if let Some(i) = filter.inspection_id {
        select = select.filter(findings::Column::InspectionId.eq(i));
    }
    if let Some(number) = &filter.permit_number {
        let ids = permit_rows::Entity::find()
            .select_only()
            .column(permit_rows::Column::Id)
            .filter(permit_rows::Column::PermitNumber.eq(number.trim().to_ascii_uppercase()))
            .into_query();
        select = select.filter(findings::Column::PermitId.in_subquery(ids));
    }
    if let Some(campaign) = filter.campaign_id {
        let ids = inspections::Entity::find()
            .select_only()
            .column(inspections::Column::Id)
            .filter(inspections::Column::CampaignId.eq(campaign))
            .into_query();
        select = select.filter(findings::Column::InspectionId.in_subquery(ids));
    }
    if let Some(industry) = &filter.industry {
        let ids = units::Entity::find()
            .select_only()
            .column(units::Column::Id)
            .filter(units::Column::IndustryCode.starts_with(industry.trim().to_ascii_uppercase()))
            .into_query();
        select = select.filter(findings::Column::UnitId.in_subquery(ids));
    }
    select
}

pub struct FindingList {
    select: Select<findings::Entity>,
}

impl FindingList {
    /// Newest first (by the date found, then id).
    pub async fn page(
        &self,
        db: &DatabaseConnection,
        args: &PageArgs,
    ) -> AppResult<Page<findings::Model>> {
        let ordering = Ordering {
            column: findings::Column::FoundOn,
            id_column: Some(findings::Column::Id),
            descending: true,
            date_sort: true,
            key: |m: &findings::Model| (SortValue::Date(m.found_on), m.id),
        };
        page::fetch_page(db, self.select.clone(), &ordering, args).await
    }

    pub fn count_query(&self) -> CountQuery {
        CountQuery::new(self.select.clone())
    }

    /// The scoped, filtered statement, for aggregates over the same rows.
    pub(crate) fn into_statement(self) -> sea_orm::sea_query::SelectStatement {
        self.select.into_query()
    }
}

pub fn list(principal: Option<&Principal>, filter: &FindingFilter) -> AppResult<FindingList> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(FindingList {
        select: apply_filter(scoped(principal), filter),
    })
}

pub async fn get(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<findings::Model>> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(scoped(principal)
        .filter(findings::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// What findings hang off: their permit, or the inspection that recorded them.
#[derive(Debug, Clone, Copy)]
pub enum FindingParent {
    Permit,
    Inspection,
}

impl FindingParent {
    fn column(self) -> findings::Column {
        match self {
            Self::Permit => findings::Column::PermitId,
            Self::Inspection => findings::Column::InspectionId,
        }
    }
}

/// The cursor key of the finding lists (newest first by the date found, then id).
pub fn cursor_key(m: &findings::Model) -> (SortValue, i64) {
    (SortValue::Date(m.found_on), m.id)
}

/// How many findings of each permit (or inspection) the principal may read, in one statement.
pub async fn count_per(
    db: &impl ConnectionTrait,
    principal: &Principal,
    of: FindingParent,
    parent_ids: &[i64],
) -> AppResult<Vec<(Option<i64>, i64)>> {
    let parent = of.column();
    Ok(scoped(principal)
        .select_only()
        .column(parent)
        .column_as(findings::Column::Id.count(), "n")
        .filter(parent.is_in(parent_ids.iter().copied()))
        .group_by(parent)
        .into_tuple()
        .all(db)
        .await?)
}

/// The newest `limit` findings per permit (or per inspection), in one statement, newest first
/// within each parent.
pub async fn newest_per(
    db: &impl ConnectionTrait,
    principal: &Principal,
    of: FindingParent,
    parent_ids: &[i64],
    limit: u64,
) -> AppResult<Vec<findings::Model>> {
    let parent = of.column();
    let backend = db.get_database_backend();
    let scope = access::finding_filter(
        principal,
        findings::Column::DistrictCode,
        findings::Column::Status,
    );
    let statement = if backend == sea_orm::DatabaseBackend::Postgres {
        // Each parent's newest rows straight from the (parent, found_on) index: LATERAL reads
        // `limit` rows a parent, where ranking would read and sort every finding of every parent.
        let parents = Alias::new("parents");
        let parent_table = match of {
            FindingParent::Permit => {
                Alias::new(sea_orm::EntityName::table_name(&permit_rows::Entity))
            }
            FindingParent::Inspection => {
                Alias::new(sea_orm::EntityName::table_name(&inspections::Entity))
            }
        };
        let newest = Query::select()
            .column(sea_orm::sea_query::Asterisk)
            .from(findings::Entity)
            .cond_where(scope)
            .and_where(
                Expr::col((findings::Entity, parent)).equals((parents.clone(), Alias::new("id"))),
            )
            .order_by(findings::Column::FoundOn, SqlOrder::Desc)
            .order_by(findings::Column::Id, SqlOrder::Desc)
            .limit(limit)
            .to_owned();
        let newest_alias = Alias::new("newest");
        let outer = Query::select()
            .column((newest_alias.clone(), sea_orm::sea_query::Asterisk))
            .from_as(parent_table, parents.clone())
            .join_lateral(
                JoinType::InnerJoin,
                newest,
                newest_alias.clone(),
                Expr::cust("TRUE"),
            )
            .and_where(Expr::col((parents, Alias::new("id"))).is_in(parent_ids.iter().copied()))
            .order_by(
                (newest_alias.clone(), findings::Column::FoundOn),
                SqlOrder::Desc,
            )
            .order_by((newest_alias, findings::Column::Id), SqlOrder::Desc)
            .to_owned();
        StatementBuilder::build(&outer, &backend)
    } else {
        let rank = Alias::new("rank_in_parent");
        let mut inner = Query::select();
        inner
            .column(sea_orm::sea_query::Asterisk)
            .expr_window_as(
                Func::cust(Alias::new("ROW_NUMBER")),
                WindowStatement::partition_by(parent)
                    .order_by(findings::Column::FoundOn, SqlOrder::Desc)
                    .order_by(findings::Column::Id, SqlOrder::Desc)
                    .to_owned(),
                rank.clone(),
            )
            .from(findings::Entity)
            .cond_where(scope)
            .and_where(Expr::col(parent).is_in(parent_ids.iter().copied()));
        let outer = Query::select()
            .column(sea_orm::sea_query::Asterisk)
            .from_subquery(inner, Alias::new("ranked"))
            .and_where(Expr::col(rank).lte(limit as i64))
            .order_by(findings::Column::FoundOn, SqlOrder::Desc)
            .order_by(findings::Column::Id, SqlOrder::Desc)
            .to_owned();
        StatementBuilder::build(&outer, &backend)
    };
    Ok(findings::Entity::find()
        .from_raw_sql(statement)
        .all(db)
        .await?)
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<findings::Model>> {
    Ok(scoped(principal)
        .filter(findings::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn transitions_of(
    db: &impl ConnectionTrait,
    finding_ids: &[i64],
) -> AppResult<Vec<finding_transitions::Model>> {
    Ok(finding_transitions::Entity::find()
        .filter(finding_transitions::Column::FindingId.is_in(finding_ids.iter().copied()))
        .order_by_asc(finding_transitions::Column::Id)
        .all(db)
        .await?)
}

pub async fn evidence_of(
    db: &impl ConnectionTrait,
    finding_ids: &[i64],
) -> AppResult<Vec<finding_evidence::Model>> {
    Ok(finding_evidence::Entity::find()
        .filter(finding_evidence::Column::FindingId.is_in(finding_ids.iter().copied()))
        .order_by_asc(finding_evidence::Column::Id)
        .all(db)
        .await?)
}

/// The finding as it stood at `at`: its status and version from the recorded moves; `None`
/// before it was recorded.
pub async fn as_of(
    db: &impl ConnectionTrait,
    finding: findings::Model,
    at: chrono::DateTime<Utc>,
) -> AppResult<Option<findings::Model>> {
    let moves: Vec<finding_transitions::Model> = transitions_of(db, &[finding.id])
        .await?
        .into_iter()
        .filter(|t| t.created_at <= at)
        .collect();
    let Some(last) = moves.last() else {
        return Ok(None);
    };
    Ok(Some(findings::Model {
        status: last.to_status,
        version: moves.len() as i32,
        updated_at: last.created_at,
        ..finding
    }))
}

/// How many findings of each inspection the principal may read (one GROUP BY), for exports.
pub async fn count_per_inspection(
    db: &impl ConnectionTrait,
    principal: &Principal,
    inspection_ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, i64>> {
    if inspection_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, i64)> = scoped(principal)
        .select_only()
        .column(findings::Column::InspectionId)
        .column_as(findings::Column::Id.count(), "findings")
        .filter(findings::Column::InspectionId.is_in(inspection_ids.iter().copied()))
        .group_by(findings::Column::InspectionId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Open findings (neither closed nor dismissed) per unit, counted under the principal's scope;
/// `None` for principals who may not read open cases (`access::may_see_open_findings`).
pub async fn open_per_unit(
    db: &impl ConnectionTrait,
    principal: &Principal,
    unit_ids: &[i64],
) -> AppResult<Option<std::collections::HashMap<i64, i64>>> {
    if !access::may_see_open_findings(principal) {
        return Ok(None);
    }
    if unit_ids.is_empty() {
        return Ok(Some(Default::default()));
    }
    let rows: Vec<(i64, i64)> = scoped(principal)
        .select_only()
        .column(findings::Column::UnitId)
        .column_as(findings::Column::Id.count(), "findings")
        .filter(findings::Column::UnitId.is_in(unit_ids.iter().copied()))
        .filter(
            findings::Column::Status.is_not_in([FindingStatus::Closed, FindingStatus::Dismissed]),
        )
        .group_by(findings::Column::UnitId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(Some(rows.into_iter().collect()))
}

/// Of these inspections, those with a finding not yet closed (whose free text is part of an
/// open case; `access::may_see_case_text`).
pub async fn inspections_with_open_findings(
    db: &impl ConnectionTrait,
    inspection_ids: &[i64],
) -> AppResult<Vec<i64>> {
    Ok(findings::Entity::find()
        .select_only()
        .column(findings::Column::InspectionId)
        .distinct()
        .filter(findings::Column::InspectionId.is_in(inspection_ids.iter().copied()))
        .filter(findings::Column::Status.ne(FindingStatus::Closed))
        .into_tuple()
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_table() {
        use FindingStatus::*;
        let all = [
            Open,
            RectificationOrdered,
            Rectified,
            CaseFiled,
            Penalised,
            Closed,
            Dismissed,
        ];
        let allowed = [
            (Open, RectificationOrdered),
            (Open, CaseFiled),
            (Open, Dismissed),
            (RectificationOrdered, Rectified),
            (RectificationOrdered, CaseFiled),
            (RectificationOrdered, Dismissed),
            (Rectified, Closed),
            (CaseFiled, Penalised),
            (CaseFiled, Dismissed),
            (Penalised, Closed),
        ];
        for from in all {
            for to in all {
                let ok = transition(from, to).is_ok();
                assert_eq!(ok, allowed.contains(&(from, to)), "{from:?} → {to:?}");
            }
        }
        match transition(Open, Closed) {
            Err(AppError::InvalidTransition { from, to, .. }) => {
                assert_eq!((from.as_str(), to.as_str()), ("OPEN", "CLOSED"));
            }
            other => panic!("expected INVALID_TRANSITION, got {other:?}"),
        }
    }

    #[test]
    fn units_compare_in_one_spelling() {
        assert_eq!(normalise_unit("mg/m3"), normalise_unit("mg/m³"));
        assert_ne!(normalise_unit("mg/L"), normalise_unit("mg/m³"));
    }
}
