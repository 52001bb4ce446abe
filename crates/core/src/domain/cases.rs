//! Enforcement actions on a finding (行政处罚 and other measures): correction orders,
//! production restriction, suspension, fines within the article's range, permit withdrawal
//! (吊销, moved through the permit state machine in the same transaction), police referral,
//! daily continuous penalty (按日连续处罚, Art 38) and seal-up. Decision numbers are unique.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::findings;
use crate::domain::idempotency::{self, IdempotentRequest};
use crate::domain::permits::{self, PermitAction, PermitChange};
use crate::domain::taxonomy;
use crate::error::{AppError, AppResult};
use entity::enums::{EnforcementActionKind, FindingStatus};
use entity::{enforcement_actions, findings as finding_rows, violation_codes};

#[derive(Debug, Clone, Serialize)]
pub struct RecordActionInput {
    pub finding_id: i64,
    pub kind: EnforcementActionKind,
    pub decision_number: String,
    pub decided_on: NaiveDate,
    pub amount_yuan: Option<i64>,
    pub days: Option<i32>,
    pub typical_case: bool,
    pub notes: Option<String>,
}

/// Measures that are penalties: they need a filed case and move it to PENALISED.
fn is_penalty(kind: EnforcementActionKind) -> bool {
    use EnforcementActionKind::*;
    matches!(
        kind,
        ProductionRestriction
            | Suspension
            | Fine
            | PermitWithdrawal
            | DailyContinuousPenalty
            | SealUp
    )
}

pub async fn record(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: RecordActionInput,
    idempotency_key: Option<&str>,
) -> AppResult<enforcement_actions::Model> {
    let principal = access::authorize(principal, Operation::WriteEnforcement)?;
    let decision_number = checked_decision(&input)?;
    let idempotent = idempotency_key
        .map(|key| IdempotentRequest::new("recordEnforcementAction", key, &input))
        .transpose()?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(existing) =
        idempotency::replayed::<enforcement_actions::Entity>(idempotent.as_ref(), &txn, principal)
            .await?
    {
        txn.commit().await?;
        return Ok(existing);
    }
    let finding = findings::for_update(&txn, principal, input.finding_id, None).await?;
    if input.decided_on < finding.found_on {
        return Err(AppError::invalid(
            "input.decidedOn",
            "a decision follows the finding",
        ));
    }
    let code = taxonomy::find(&txn, &finding.violation_code, "input.findingId").await?;
    taxonomy::check_action(&code, input.kind, "input.kind")?;
    let earlier = enforcement_actions::Entity::find()
        .filter(enforcement_actions::Column::FindingId.eq(finding.id))
        .order_by_asc(enforcement_actions::Column::Id)
        .all(&txn)
        .await?;
    check_amount_and_days(&input, &code, &earlier)?;
    check_finding_status(input.kind, &finding)?;
    if input.kind == EnforcementActionKind::PermitWithdrawal {
        withdraw_permit(&txn, principal, &finding, &decision_number).await?;
    }
    let saved = insert_action(&txn, principal, &input, &finding, &decision_number).await?;
    let fined = super::pattern_cells::counted_fine(saved.kind, saved.amount_yuan, saved.days);
    if fined != 0 {
        super::pattern_cells::fine_recorded(&txn, &finding, fined).await?;
    }
    changes::record(
        &txn,
        principal,
        Change {
            kind: ChangeKind::EnforcementAction,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::Created,
            state: None,
            district: Some(&finding.district_code),
        },
    )
    .await?;
    if is_penalty(input.kind) && finding.status == FindingStatus::CaseFiled {
        findings::move_in(
            &txn,
            principal,
            &finding,
            FindingStatus::Penalised,
            Some(format!("处罚决定 {decision_number}")),
            None,
        )
        .await?;
    }
    if let Some(request) = &idempotent {
        request.remember(&txn, principal, saved.id).await?;
    }
    txn.commit().await?;
    Ok(saved)
}

/// The checks that need no database; returns the decision number, trimmed.
fn checked_decision(input: &RecordActionInput) -> AppResult<String> {
    let decision_number = input.decision_number.trim().to_owned();
    if decision_number.is_empty() || decision_number.chars().count() > 64 {
        return Err(AppError::invalid(
            "input.decisionNumber",
            "1 to 64 characters",
        ));
    }
    if input.decided_on > clock::today() {
        return Err(AppError::invalid(
            "input.decidedOn",
            "a decision cannot be dated in the future",
        ));
    }
    Ok(decision_number)
}

/// What each kind demands of the amount and the days; `earlier` are the finding's actions so
/// far.
fn check_amount_and_days(
    input: &RecordActionInput,
    code: &violation_codes::Model,
    earlier: &[enforcement_actions::Model],
) -> AppResult<()> {
    use EnforcementActionKind::*;
    match input.kind {
        Fine => {
            let amount = input
                .amount_yuan
                .ok_or_else(|| AppError::invalid("input.amountYuan", "a fine states its amount"))?;
            taxonomy::check_fine(code, amount, "input.amountYuan")?;
        }
        DailyContinuousPenalty => {
            // Art 38 (and Environmental Protection Law Art 59): the original fine, per day, after
            // an order to correct was refused.
            let fine = earlier.iter().find(|a| a.kind == Fine).ok_or_else(|| {
                AppError::invalid(
                    "input.kind",
                    "a daily continuous penalty follows a fine on the same finding",
                )
            })?;
            let per_day = fine.amount_yuan.unwrap_or_default();
            if input.amount_yuan != Some(per_day) {
                return Err(AppError::invalid(
                    "input.amountYuan",
                    format!("the daily amount is the original fine, {per_day} yuan (Art 38)"),
                ));
            }
            if !input.days.is_some_and(|d| (1..=3650).contains(&d)) {
                return Err(AppError::invalid(
                    "input.days",
                    "the number of days, 1 or more",
                ));
            }
        }
        _ => {
            if input.amount_yuan.is_some() {
                return Err(AppError::invalid(
                    "input.amountYuan",
                    "only fines carry an amount",
                ));
            }
        }
    }
    if input.kind != DailyContinuousPenalty && input.days.is_some() {
        return Err(AppError::invalid(
            "input.days",
            "only a daily continuous penalty counts days",
        ));
    }
    Ok(())
}

/// Penalties and police referrals need a filed case; other measures an undecided finding.
fn check_finding_status(
    kind: EnforcementActionKind,
    finding: &finding_rows::Model,
) -> AppResult<()> {
    let needed: &[FindingStatus] =
        if is_penalty(kind) || kind == EnforcementActionKind::PoliceReferral {
            &[FindingStatus::CaseFiled, FindingStatus::Penalised]
        } else {
            &[
                FindingStatus::Open,
                FindingStatus::RectificationOrdered,
                FindingStatus::CaseFiled,
            ]
        };
    if !needed.contains(&finding.status) {
        return Err(AppError::InvalidTransition {
            from: findings::status_name(finding.status).to_owned(),
            to: findings::status_name(if is_penalty(kind) {
                FindingStatus::Penalised
            } else {
                finding.status
            })
            .to_owned(),
            reason: format!(
                "{:?} needs a finding in {}",
                kind,
                needed
                    .iter()
                    .map(|s| findings::status_name(*s))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        });
    }
    Ok(())
}

/// 吊销: the finding's permit moves to WITHDRAWN through the permit state machine, in the same
/// transaction as the decision.
async fn withdraw_permit(
    txn: &DatabaseTransaction,
    principal: &Principal,
    finding: &finding_rows::Model,
    decision_number: &str,
) -> AppResult<()> {
    let permit_id = finding.permit_id.ok_or_else(|| {
        AppError::invalid("input.kind", "the finding names no permit to withdraw")
    })?;
    permits::apply_in(
        txn,
        principal,
        permit_id,
        None,
        PermitAction::Withdraw,
        PermitChange {
            reason: format!("吊销：处罚决定 {decision_number}"),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

async fn insert_action(
    txn: &DatabaseTransaction,
    principal: &Principal,
    input: &RecordActionInput,
    finding: &finding_rows::Model,
    decision_number: &str,
) -> AppResult<enforcement_actions::Model> {
    let saved = enforcement_actions::ActiveModel {
        finding_id: Set(finding.id),
        kind: Set(input.kind),
        decision_number: Set(decision_number.to_owned()),
        decided_on: Set(input.decided_on),
        amount_yuan: Set(input.amount_yuan),
        days: Set(input.days),
        typical_case: Set(input.typical_case),
        notes: Set(input.notes.clone().filter(|n| !n.trim().is_empty())),
        agency_code: Set(principal
            .agency_code
            .clone()
            .unwrap_or_else(|| format!("{}-ENF", finding.district_code))),
        recorded_by_subject: Set(principal.subject.clone()),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(saved)
}

pub async fn of_findings(
    db: &impl ConnectionTrait,
    finding_ids: &[i64],
) -> AppResult<Vec<enforcement_actions::Model>> {
    Ok(enforcement_actions::Entity::find()
        .filter(enforcement_actions::Column::FindingId.is_in(finding_ids.iter().copied()))
        .order_by_asc(enforcement_actions::Column::Id)
        .all(db)
        .await?)
}
