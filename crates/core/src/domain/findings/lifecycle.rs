//! Moving a finding through its lifecycle (`transition`): the optimistic version check, the
//! transition row with who and why, the pattern cells and the change feed, in the caller's
//! transaction.

use crate::domain::clock;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};

use super::{status_name, transition};
use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::error::{AppError, AppResult};
use entity::enums::FindingStatus;
use entity::{finding_transitions, findings, inspections};

pub(crate) async fn write_transition(
    txn: &DatabaseTransaction,
    principal: &Principal,
    finding_id: i64,
    from: Option<FindingStatus>,
    to: FindingStatus,
    reason: Option<String>,
    reinspection_id: Option<i64>,
) -> AppResult<()> {
    transition_row(principal, finding_id, from, to, reason, reinspection_id)
        .insert(txn)
        .await?;
    Ok(())
}

/// The row of a finding's move from `from` (`None`: recorded) to `to`.
pub(crate) fn transition_row(
    principal: &Principal,
    finding_id: i64,
    from: Option<FindingStatus>,
    to: FindingStatus,
    reason: Option<String>,
    reinspection_id: Option<i64>,
) -> finding_transitions::ActiveModel {
    finding_transitions::ActiveModel {
        finding_id: Set(finding_id),
        from_status: Set(from),
        to_status: Set(to),
        reason: Set(reason),
        reinspection_id: Set(reinspection_id),
        actor_subject: Set(principal.subject.clone()),
        actor_agency: Set(principal.agency_code.clone()),
        created_at: Set(clock::now()),
        ..Default::default()
    }
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
        .col_expr(findings::Column::UpdatedAt, Expr::value(clock::now()))
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
    crate::domain::pattern_cells::finding_moved(txn, &moved, finding.status).await?;
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
