//! Findings (违法行为): a violation found by an inspection, coded to the taxonomy, checked
//! against the permit as it stood on the inspection date, and moved through one lifecycle.
//!
//! Lifecycle (plan §3–4; every move recorded with who, when and why):
//! OPEN → RECTIFICATION_ORDERED → RECTIFIED (after a re-inspection) → CLOSED;
//! OPEN | RECTIFICATION_ORDERED → CASE_FILED → PENALISED → CLOSED;
//! OPEN | RECTIFICATION_ORDERED | CASE_FILED → DISMISSED (with a reason).
//!
//! `recording` records findings; `permit_check` checks one against the permit as it stood on
//! the inspection date (and an EX-1 against its limit); `lifecycle` moves findings; `reading`
//! lists, loads and counts them. Everything public is re-exported here.

mod lifecycle;
mod permit_check;
mod planned;
mod reading;
mod recording;

use crate::error::{AppError, AppResult};
use entity::enums::FindingStatus;

pub use lifecycle::advance;
pub(crate) use lifecycle::{for_update, move_in};
pub(crate) use permit_check::normalise_unit;
pub use planned::{FindingChildren, FindingPlan, PlannedFinding};
pub(crate) use reading::row_condition;
pub use reading::{
    FindingFilter, FindingList, FindingParent, as_of, by_ids, count_per, count_per_inspection,
    cursor_key, evidence_of, get, inspections_with_open_findings, list, newest_per, open_per_unit,
    transitions_of,
};
pub use recording::{EvidenceInput, RecordFindingInput, Recorded, record};

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
