//! The access policy: who may read or write what, and the row filter for each role and scope.
//! Every resolver and domain function asks here; nothing else decides access. Concept modules
//! call one function per concept (the row condition, or the redaction) and never look at a role
//! or a scope themselves.
//!
//! BRIEF "Who shares what": district principals see and write only their district's units and
//! permits; municipal principals (no `district` claim) see all. PERMIT_OFFICER writes units and
//! permits in scope; ADMIN writes everything; the other roles read. INTEGRATOR is read-only and
//! never receives personal data (legal representative, phone numbers), open cases (findings
//! before they are closed, and the free text about them), the inputs of a double-random draw,
//! or the identity of an official (it gets the agency and level instead). Its one write is
//! relaying automatic monitors' readings (issue 17), within its scope.
//!
//! `rules` holds the row rules of the concepts beyond units and permits (feedback, bulletins,
//! draws, inspectors, the feed, the audit trail); `who_sees_what` renders the table the README
//! quotes (a test compares them).

mod rules;
mod table;

pub use rules::*;
pub use table::who_sees_what;

use sea_orm::ColumnTrait;
use sea_orm::sea_query::Condition;

use crate::auth::{Principal, Role};
use crate::domain::codes::DistrictCode;
use crate::error::{AppError, AppResult};

/// What a request wants to do; the unit of the role × operation matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Agencies, districts, violation codes (districts and codes are public; agencies need a token).
    ReadAgencies,
    ReadUnits,
    WriteUnits,
    ReadPermits,
    WritePermits,
    /// Inspections, findings, enforcement actions and violation patterns.
    ReadEnforcement,
    /// Record inspections, findings and actions; advance findings.
    WriteEnforcement,
    /// Register inspectors and declare their conflicts of interest.
    ManageInspectors,
    /// Create campaigns and draw municipal joint groups.
    ManageCampaigns,
    /// Run a double-random draw (district enforcement for its district; supervision anywhere).
    DrawRandom,
    /// Submit a district's campaign summary report.
    SubmitSummary,
    /// Read the audit trail.
    ReadAudit,
    /// Post feedback on violation patterns to a permit office.
    PostFeedback,
    /// Read feedback (what a principal sent or received; supervision all).
    ReadFeedback,
    /// Publish an information bulletin.
    PublishBulletin,
    /// Read (and acknowledge) the bulletins addressed to the caller.
    ReadBulletins,
    /// Revoke a subject's tokens, or one token (an administrator's act).
    RevokeTokens,
    /// Record monitoring readings (which sources, where: `check_reading_write`).
    WriteReadings,
    /// Register automatic monitors (HJ 212 devices) and upload files of their packets.
    ManageMonitoringDevices,
    /// Detect violation candidates from the monitoring data (AM-2, SM-1).
    DetectCandidates,
}

/// Which districts a principal's reads and writes reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    District(DistrictCode),
}

impl Principal {
    pub fn scope(&self) -> Scope {
        match &self.district {
            Some(code) => Scope::District(code.clone()),
            None => Scope::All,
        }
    }

    pub fn is_municipal(&self) -> bool {
        self.district.is_none()
    }
}

/// The role × operation table. Scope is applied separately, by the row filters and
/// `check_district`.
pub fn role_allows(role: Role, operation: Operation) -> bool {
    use Operation::*;
    match operation {
        ReadAgencies | ReadUnits | ReadPermits => true,
        WriteUnits | WritePermits => matches!(role, Role::PermitOfficer | Role::Admin),
        // Monitoring submits measurements and reads limits; it has no part in cases.
        ReadEnforcement => role != Role::Monitoring,
        WriteEnforcement | ManageInspectors | SubmitSummary => {
            matches!(role, Role::EnforcementOfficer | Role::Admin)
        }
        ManageCampaigns => matches!(role, Role::Supervisor | Role::Admin),
        DrawRandom => matches!(
            role,
            Role::EnforcementOfficer | Role::Supervisor | Role::Admin
        ),
        ReadAudit => matches!(role, Role::Supervisor | Role::Admin),
        PostFeedback => matches!(role, Role::EnforcementOfficer | Role::Supervisor),
        ReadFeedback => !matches!(role, Role::Monitoring | Role::Integrator),
        PublishBulletin => !matches!(role, Role::Monitoring | Role::Integrator),
        // Every role may be in a bulletin's audience; the audience decides what it sees.
        ReadBulletins => true,
        RevokeTokens => role == Role::Admin,
        // The monitoring centre, enforcement (results it reviewed or took), integrators
        // relaying automatic monitors' data, and ADMIN.
        WriteReadings => matches!(
            role,
            Role::Monitoring | Role::EnforcementOfficer | Role::Integrator | Role::Admin
        ),
        // The monitoring centre networks the monitors (Art 20); ADMIN too.
        ManageMonitoringDevices => matches!(role, Role::Monitoring | Role::Admin),
        DetectCandidates => matches!(
            role,
            Role::EnforcementOfficer | Role::Supervisor | Role::Admin
        ),
    }
}

/// The principal of the request, or `UNAUTHENTICATED`; then the role check, or `FORBIDDEN`.
pub fn authorize(principal: Option<&Principal>, operation: Operation) -> AppResult<&Principal> {
    let principal = principal.ok_or_else(|| {
        AppError::Unauthenticated("send a bearer token (see `permit-exchange token`)".to_owned())
    })?;
    if role_allows(principal.role, operation) {
        Ok(principal)
    } else {
        Err(AppError::Forbidden(format!(
            "role {} may not {}",
            principal.role.as_str(),
            describe(operation)
        )))
    }
}

fn describe(operation: Operation) -> &'static str {
    match operation {
        Operation::ReadAgencies => "read agencies",
        Operation::ReadUnits => "read discharge units",
        Operation::WriteUnits => "write discharge units",
        Operation::ReadPermits => "read permits",
        Operation::WritePermits => "write permits",
        Operation::ReadEnforcement => "read inspections and findings",
        Operation::WriteEnforcement => "record inspections, findings or enforcement actions",
        Operation::ManageInspectors => "manage inspectors",
        Operation::ManageCampaigns => "create campaigns",
        Operation::DrawRandom => "run random draws",
        Operation::SubmitSummary => "submit summary reports",
        Operation::ReadAudit => "read the audit trail",
        Operation::PostFeedback => "post feedback",
        Operation::ReadFeedback => "read feedback",
        Operation::PublishBulletin => "publish bulletins",
        Operation::ReadBulletins => "read bulletins",
        Operation::RevokeTokens => "revoke tokens",
        Operation::WriteReadings => "record monitoring readings",
        Operation::ManageMonitoringDevices => "manage monitoring devices",
        Operation::DetectCandidates => "detect violation candidates",
    }
}

/// For writes to municipal records (municipal inspectors, joint groups, municipal draws): the
/// principal must have municipal scope.
pub fn check_municipal(principal: &Principal, what: &str) -> AppResult<()> {
    if principal.is_municipal() {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "{what} is for municipal staff"
        )))
    }
}

/// A write to a record of `district` (`None`: a municipal record).
pub fn check_record_scope(
    principal: &Principal,
    district: Option<&str>,
    what: &str,
) -> AppResult<()> {
    match district {
        Some(d) => check_district(principal, d),
        None => check_municipal(principal, what),
    }
}

/// Municipal supervision (督导组, ADMIN): the oversight views across districts.
pub fn check_municipal_supervision(principal: &Principal, what: &str) -> AppResult<()> {
    if principal.is_municipal() && matches!(principal.role, Role::Supervisor | Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "{what} is for municipal supervision"
        )))
    }
}

/// The level an actor acts from, as provenance and the feed name it.
pub fn level(principal: &Principal) -> &'static str {
    if principal.is_municipal() {
        "MUNICIPAL"
    } else {
        "DISTRICT"
    }
}

/// The SQL row filter for records that belong to a district: `column = principal's district`,
/// or no restriction for municipal principals. Applied in SQL so counts and pages are right.
/// Columns are qualified with their table, so the filter stays unambiguous inside joins.
pub fn district_filter(principal: &Principal, district_column: impl ColumnTrait) -> Condition {
    match principal.scope() {
        Scope::All => Condition::all(),
        Scope::District(code) => Condition::all().add(district_column.eq(code.as_str())),
    }
}

/// Whether a record in `district` is visible to / writable by the principal.
pub fn in_scope(principal: &Principal, district: &str) -> bool {
    match principal.scope() {
        Scope::All => true,
        Scope::District(code) => code.as_str() == district,
    }
}

/// For writes: the target district must be in the principal's scope.
pub fn check_district(principal: &Principal, district: &str) -> AppResult<()> {
    if in_scope(principal, district) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "district {district} is outside the caller's scope ({})",
            principal
                .district
                .as_ref()
                .map(DistrictCode::as_str)
                .unwrap_or("municipal")
        )))
    }
}

/// The row filter for findings: district scope, and for INTEGRATOR only closed findings (open
/// cases are not published).
pub fn finding_filter(
    principal: &Principal,
    district_column: impl ColumnTrait,
    status_column: impl ColumnTrait,
) -> Condition {
    let scoped = district_filter(principal, district_column);
    if sees_closed_findings_only(principal) {
        scoped.add(status_column.eq(entity::enums::FindingStatus::Closed))
    } else {
        scoped
    }
}

/// Integrators see findings only once closed (open cases stay with the agencies).
pub fn sees_closed_findings_only(principal: &Principal) -> bool {
    principal.role == Role::Integrator
}

/// Whether open cases (findings not yet closed) are for this principal: those who read
/// enforcement at all, but integrators, who get closed cases only.
pub fn may_see_open_findings(principal: &Principal) -> bool {
    role_allows(principal.role, Operation::ReadEnforcement) && !sees_closed_findings_only(principal)
}

/// Inspector names are for the agencies; integrators see inspections without them.
pub fn may_see_inspector_names(principal: Option<&Principal>) -> bool {
    principal.is_some_and(|p| p.role != Role::Integrator)
}

/// The free text about an inspection (its notes, its checklist notes) describes its findings:
/// it is shown only to callers who may read every finding of it. `open_findings` is whether
/// the inspection has a finding that is not closed.
pub fn may_see_case_text(principal: Option<&Principal>, open_findings: bool) -> bool {
    match principal {
        Some(p) if p.role == Role::Monitoring => false,
        Some(p) => !(open_findings && sees_closed_findings_only(p)),
        None => false,
    }
}

/// Officials are named to the agencies; everyone else learns the agency and level only.
pub fn may_see_officials(principal: Option<&Principal>) -> bool {
    principal.is_some_and(|p| p.role != Role::Integrator)
}

/// A subject (a person) as the caller may see it: itself, or nothing.
pub fn official_subject(principal: Option<&Principal>, subject: &str) -> Option<String> {
    may_see_officials(principal).then(|| subject.to_owned())
}

/// Personal data (legal representative, phone numbers) is for the agencies that act on it.
pub const PERSONAL_DATA_ROLES: [Role; 4] = [
    Role::PermitOfficer,
    Role::EnforcementOfficer,
    Role::Supervisor,
    Role::Admin,
];

pub fn may_see_personal_data(principal: Option<&Principal>) -> bool {
    principal.is_some_and(|p| PERSONAL_DATA_ROLES.contains(&p.role))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, district: Option<&str>) -> Principal {
        Principal {
            subject: "t".into(),
            role,
            agency_code: None,
            district: district.map(|d| DistrictCode::parse(d).expect("valid")),
            request: Default::default(),
        }
    }

    #[test]
    fn integrators_see_no_officials_and_no_open_case_text() {
        let integrator = principal(Role::Integrator, None);
        assert_eq!(official_subject(Some(&integrator), "wang@x"), None);
        assert!(!may_see_case_text(Some(&integrator), true));
        assert!(may_see_case_text(Some(&integrator), false));
        let officer = principal(Role::EnforcementOfficer, Some("500103"));
        assert_eq!(
            official_subject(Some(&officer), "wang@x").as_deref(),
            Some("wang@x")
        );
        assert!(may_see_case_text(Some(&officer), true));
        assert!(!may_see_case_text(
            Some(&principal(Role::Monitoring, None)),
            false
        ));
    }

    #[test]
    fn only_permit_officers_and_admins_write() {
        for role in Role::ALL {
            assert_eq!(
                role_allows(role, Operation::ReadEnforcement),
                role != Role::Monitoring,
                "{role:?}"
            );
            let writes = role_allows(role, Operation::WritePermits);
            assert_eq!(
                writes,
                matches!(role, Role::PermitOfficer | Role::Admin),
                "{role:?}"
            );
            assert!(role_allows(role, Operation::ReadUnits));
        }
    }

    #[test]
    fn district_scope_limits_writes() {
        let p = principal(Role::PermitOfficer, Some("500103"));
        assert!(check_district(&p, "500103").is_ok());
        assert!(check_district(&p, "500112").is_err());
        let m = principal(Role::PermitOfficer, None);
        assert!(check_district(&m, "500112").is_ok());
    }

    #[test]
    fn integrators_get_no_personal_data() {
        assert!(!may_see_personal_data(Some(&principal(
            Role::Integrator,
            None
        ))));
        assert!(!may_see_personal_data(None));
        assert!(may_see_personal_data(Some(&principal(
            Role::EnforcementOfficer,
            Some("500103")
        ))));
    }
}
