//! Recording a finding: the input checked, the inspection, unit and code read, the permit
//! checked (`permit_check`), then the finding, its evidence, its first transition, the feed row
//! and the candidate it confirms written in one transaction.

use crate::domain::clock;
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, FromQueryResult,
    QueryFilter, QueryTrait, Set, StatementBuilder,
};
use serde::Serialize;

use super::lifecycle::transition_row;
use super::permit_check::{Exceedance, check_exceedance, check_permit};
use super::status_name;
use crate::auth::Principal;
use crate::db::batch::Writes;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::idempotency::{self, IdempotentRequest};
use crate::domain::pattern_cells;
use crate::domain::reference::ReferenceData;
use crate::domain::taxonomy;
use crate::domain::text;
use crate::error::{AppError, AppResult};
use entity::enums::{FindingSeverity, FindingStatus};
use entity::{
    finding_evidence, finding_transitions, findings, inspections, outlets, permits as permit_rows,
    units,
};

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
        if e.captured_at.is_some_and(|t| t > clock::now()) {
            return Err(AppError::invalid(
                field("capturedAt"),
                "cannot be in the future",
            ));
        }
    }
    Ok(())
}

/// A recorded finding, and whether this call wrote it (false for an idempotent replay).
pub struct Recorded {
    pub finding: findings::Model,
    pub new: bool,
}

/// `reference`: the instance's copy of the reference tables, for the violation code.
pub async fn record(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    principal: Option<&Principal>,
    input: RecordFindingInput,
    idempotency_key: Option<&str>,
) -> AppResult<Recorded> {
    let principal = access::authorize(principal, Operation::WriteEnforcement)?;
    let description = checked_description(&input)?;
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
    let (inspection, unit) = inspection_in_scope(&txn, principal, input.inspection_id).await?;
    let mut input = input;
    let candidate = match input.candidate_id {
        Some(id) => Some(from_candidate(&txn, principal, id, &inspection, &mut input).await?),
        None => None,
    };
    let code = taxonomy::known(reference, &input.code, "input.code")?;
    let date = inspection.inspection_date;
    if let Some(deadline) = input.rectification_deadline
        && deadline <= date
    {
        return Err(AppError::invalid(
            "input.rectificationDeadline",
            "must be after the inspection date",
        ));
    }
    let checked = check_permit(&txn, &unit, &code.code, input.permit_id, date).await?;
    let permit_version = checked.as_ref().map(|(_, version)| *version);
    let permit = checked.map(|(permit, _)| permit);
    let exceedance = match (&permit, permit_version, taxonomy::is_exceedance(&code.code)) {
        (Some(permit), Some(version), true) => {
            Some(check_exceedance(&txn, permit, version, &input).await?)
        }
        _ => None,
    };
    let saved = insert_finding(
        &txn,
        FindingRow {
            inspection: &inspection,
            unit: &unit,
            code: &code,
            permit: permit.as_ref(),
            permit_version,
            exceedance: exceedance.as_ref(),
            input: &input,
            description,
        },
    )
    .await?;
    pattern_cells::count_recorded(&txn, &saved).await?;
    insert_evidence(&txn, saved.id, &input.evidence).await?;
    if let Some(candidate) = candidate {
        crate::domain::candidates::decide(
            &txn,
            principal,
            candidate,
            entity::enums::CandidateStatus::Confirmed,
            None,
            Some(saved.id),
        )
        .await?;
    }
    // The rows nothing reads back: one statement on PostgreSQL.
    let backend = txn.get_database_backend();
    let mut writes = Writes::new();
    let transition = transition_row(principal, saved.id, None, FindingStatus::Open, None, None);
    writes.push(finding_transitions::Entity::insert(transition).build(backend));
    changes::record_into(
        &mut writes,
        backend,
        principal,
        Change {
            kind: ChangeKind::Finding,
            record_id: saved.id,
            version: Some(saved.version),
            operation: ChangeOperation::Created,
            state: Some(status_name(saved.status)),
            district: Some(&saved.district_code),
        },
    );
    if let Some(request) = &idempotent {
        request.remember_into(&mut writes, backend, principal, saved.id);
    }
    writes.run(&txn).await?;
    txn.commit().await?;
    Ok(Recorded {
        finding: saved,
        new: true,
    })
}

/// The checks that need no database: the description (returned trimmed), the texts, the
/// evidence.
fn checked_description(input: &RecordFindingInput) -> AppResult<String> {
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
    Ok(description)
}

/// The inspection a finding is recorded on, in the principal's scope, with its unit (one
/// statement).
async fn inspection_in_scope(
    txn: &DatabaseTransaction,
    principal: &Principal,
    inspection_id: i64,
) -> AppResult<(inspections::Model, units::Model)> {
    let (inspection, unit) = inspections::Entity::find_by_id(inspection_id)
        .filter(access::district_filter(
            principal,
            inspections::Column::DistrictCode,
        ))
        .find_also_related(units::Entity)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("inspection {inspection_id}")))?;
    access::check_district(principal, &inspection.district_code)?;
    let unit = unit.ok_or_else(|| AppError::NotFound(format!("unit {}", inspection.unit_id)))?;
    Ok((inspection, unit))
}

/// What the finding row is made of, once everything is checked.
struct FindingRow<'a> {
    inspection: &'a inspections::Model,
    unit: &'a units::Model,
    code: &'a entity::violation_codes::Model,
    permit: Option<&'a permit_rows::Model>,
    permit_version: Option<i32>,
    exceedance: Option<&'a Exceedance>,
    input: &'a RecordFindingInput,
    description: String,
}

/// Inserts the finding, OPEN at version 1, and adds it to its pattern cell (one statement on
/// PostgreSQL); an exceedance's checked measurement wins over the input's.
async fn insert_finding(
    txn: &DatabaseTransaction,
    row: FindingRow<'_>,
) -> AppResult<findings::Model> {
    let FindingRow {
        inspection,
        unit,
        code,
        permit,
        permit_version,
        exceedance,
        input,
        description,
    } = row;
    let now = clock::now();
    let unsaved = findings::ActiveModel {
        inspection_id: Set(inspection.id),
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        permit_id: Set(permit.map(|p| p.id)),
        violation_code: Set(code.code.clone()),
        category: Set(code.category),
        found_on: Set(inspection.inspection_date),
        outlet_id: Set(exceedance.map(|e| e.outlet_id)),
        limit_id: Set(exceedance.map(|e| e.limit_id)),
        permit_version: Set(permit_version),
        pollutant: Set(exceedance
            .map(|e| e.pollutant.clone())
            .or(input.pollutant.clone())),
        measured_value: Set(exceedance
            .map(|e| e.measured_value)
            .or(input.measured_value)),
        measured_unit: Set(exceedance
            .map(|e| e.measured_unit.clone())
            .or(input.measured_unit.clone())),
        permitted_value: Set(exceedance.map(|e| e.permitted_value)),
        severity: Set(input.severity),
        description: Set(description),
        rectification_deadline: Set(input.rectification_deadline),
        status: Set(FindingStatus::Open),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let backend = txn.get_database_backend();
    let mut insert = findings::Entity::insert(unsaved).into_query();
    insert.returning_all();
    let mut writes = Writes::new();
    writes.push(pattern_cells::recorded_upsert(
        backend,
        &unit.district_code,
        &code.code,
        code.category,
        FindingStatus::Open,
    ));
    let saved = writes
        .run_returning(txn, StatementBuilder::build(&insert, &backend))
        .await?
        .ok_or_else(|| AppError::internal("the finding's insert returned no row"))?;
    Ok(findings::Model::from_query_result(&saved, "")?)
}

/// The metadata of the finding's evidence files, in one statement.
async fn insert_evidence(
    txn: &DatabaseTransaction,
    finding_id: i64,
    evidence: &[EvidenceInput],
) -> AppResult<()> {
    if !evidence.is_empty() {
        let rows = evidence.iter().map(|e| finding_evidence::ActiveModel {
            finding_id: Set(finding_id),
            file_name: Set(e.file_name.trim().to_owned()),
            media_type: Set(e.media_type.trim().to_ascii_lowercase()),
            size_bytes: Set(e.size_bytes),
            sha256: Set(e.sha256.to_ascii_lowercase()),
            captured_at: Set(e.captured_at),
            ..Default::default()
        });
        finding_evidence::Entity::insert_many(rows)
            .exec(txn)
            .await?;
    }
    Ok(())
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
    let candidate =
        crate::domain::candidates::open_one(txn, principal, id, "input.candidateId").await?;
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
