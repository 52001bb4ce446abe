//! Pollutant-discharge permits (排污许可证) and their permitted items (Regulation Art 13–15).
//!
//! - Number per HJ 608: the unit's credit code + 3-digit sequence + `P`, checked against the unit.
//! - Valid 5 years (Art 14); renewal is applied for 60 days before expiry.
//! - Every change, renewal or status move writes a new version with its reason and a snapshot of
//!   the outlets and limits: history is never overwritten.
//! - Status moves go through `transition`, the one permit state machine. `EXPIRED` is also
//!   derived from the date: a VALID permit past its `validTo` reads as EXPIRED.
//!
//! `lifecycle` issues permits and applies actions; `outlets` checks and writes the permitted
//! items of a version; `versions` holds the date rules read from the history; `reading` the
//! lists and batch loads. Everything public is re-exported here.

mod lifecycle;
mod outlets;
mod planned;
mod reading;
mod versions;

use chrono::{Months, NaiveDate};
use sea_orm::{EntityTrait, QueryFilter, Select};

use crate::auth::Principal;
use crate::domain::access;
use crate::error::{AppError, AppResult};
use entity::enums::{PermitChangeKind, PermitStatus};
use entity::permits;

pub(crate) use lifecycle::apply_in;
pub use lifecycle::{IssuePermitInput, PermitChange, apply, issue, version_row};
pub use outlets::{
    LimitInput, MonitoringInput, OutletInput, PH_MAX, ValidOutlet, is_ph, limit_row, snapshot_item,
    validate_outlets,
};
pub use planned::{NewestFindings, PermitChildren, PermitPlan, PlannedPermit};
pub use reading::{
    PermitFilter, PermitList, PermitOrderField, by_ids, by_number, by_number_planned, by_unit_ids,
    duties_of, get, get_planned, limits_of, list, outlets_by_ids, outlets_of, requirements_of,
};
pub use versions::{
    VersionDates, VersionSpan, as_of, duty_in_version, limit_in_version, outlet_in_version,
    requirement_in_version, spans_of, standing_on, standing_versions_on, status_on, version_on,
    versions_of,
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

/// The permits in the principal's scope: reads and writes start here.
fn scoped(principal: &Principal) -> Select<permits::Entity> {
    permits::Entity::find().filter(row_condition(principal))
}

/// The permits a principal may read, as a condition on `permits`.
pub(crate) fn row_condition(principal: &Principal) -> sea_orm::Condition {
    access::district_filter(principal, permits::Column::DistrictCode)
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
}
