//! The row rules of the concepts beyond units and permits: token claims, feedback, bulletins and
//! their cases, draws, inspectors, the change feed and the audit trail. Each is one function
//! giving the SQL condition (so counts and pages are right) or the check for one record.

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};

use super::{Scope, in_scope, may_see_inspector_names, sees_closed_findings_only};
use crate::auth::{Principal, Role};
use crate::domain::reference::ReferenceData;
use crate::error::{AppError, AppResult};
use entity::enums::{AgencyKind, FindingStatus};
use entity::{
    agencies, audit_events, bulletins, change_events, feedback, findings, inspectors, random_draws,
};

/// Whether the principal acts for supervision (督导), which oversees every draw and all
/// feedback in its scope.
fn supervises(principal: &Principal) -> bool {
    matches!(principal.role, Role::Supervisor | Role::Admin)
}

/// The agency kind that acts for a role.
pub fn agency_kind_of(role: Role) -> Option<AgencyKind> {
    match role {
        Role::PermitOfficer => Some(AgencyKind::PermitOffice),
        Role::EnforcementOfficer => Some(AgencyKind::Enforcement),
        Role::Monitoring => Some(AgencyKind::Monitoring),
        Role::Supervisor => Some(AgencyKind::Supervision),
        Role::Integrator | Role::Admin => None,
    }
}

/// A token's claims against the reference data, at the door: a district or agency that does not
/// exist, or an agency of one district with the scope of another (or of all), is not a caller
/// we know. A municipal agency may be scoped down to one district.
pub fn check_claims(principal: &Principal, reference: &ReferenceData) -> AppResult<()> {
    let refuse = |reason: &str| Err(AppError::Unauthenticated(reason.to_owned()));
    if let Some(district) = &principal.district
        && !reference.districts.contains_key(district.as_str())
    {
        return refuse("token district claim names no district");
    }
    let Some(code) = &principal.agency_code else {
        return Ok(());
    };
    let Some(agency) = reference.agencies.get(code) else {
        return refuse("token agency claim names no agency");
    };
    if let Some(agency_district) = &agency.district_code
        && principal.district.as_ref().map(|d| d.as_str()) != Some(agency_district.as_str())
    {
        return refuse("token agency and district claims disagree");
    }
    if agency_kind_of(principal.role).is_some_and(|kind| kind != agency.kind) {
        return refuse("token role and agency claims disagree");
    }
    Ok(())
}

/// `column IN (agencies of the district)`: for records that name an agency, not a district.
fn agency_in_district(column: impl ColumnTrait, district: &str) -> Condition {
    let codes = agencies::Entity::find()
        .select_only()
        .column(agencies::Column::Code)
        .filter(agencies::Column::DistrictCode.eq(district))
        .into_query();
    Condition::all().add(Expr::col(column).in_subquery(codes))
}

/// Nothing: the condition of a view a role does not have.
fn nothing() -> Condition {
    Condition::all().add(Expr::cust("1 = 0"))
}

// --- Feedback -------------------------------------------------------------------------------

/// Feedback a principal may read: what is addressed to its agency, what it (or its agency)
/// sent; supervision reads all feedback touching its scope (posted from, addressed to or
/// about its district). Roles without feedback read nothing.
pub fn feedback_filter(principal: &Principal) -> Condition {
    if !super::role_allows(principal.role, super::Operation::ReadFeedback) {
        return nothing();
    }
    if supervises(principal) {
        return match principal.scope() {
            Scope::All => Condition::all(),
            Scope::District(code) => Condition::any()
                .add(feedback::Column::PosterDistrictCode.eq(code.as_str()))
                .add(feedback::Column::PatternDistrictCode.eq(code.as_str()))
                .add(agency_in_district(
                    feedback::Column::AddressedAgencyCode,
                    code.as_str(),
                )),
        };
    }
    let mut any =
        Condition::any().add(feedback::Column::PosterSubject.eq(principal.subject.clone()));
    if let Some(agency) = &principal.agency_code {
        any = any
            .add(feedback::Column::AddressedAgencyCode.eq(agency.clone()))
            .add(feedback::Column::PosterAgencyCode.eq(agency.clone()));
    }
    any
}

// --- Bulletins ------------------------------------------------------------------------------

/// `column`'s JSON array of strings (stored as text) holds `value`. Codes and role keys are
/// plain ASCII without quotes; LIKE's wildcards in them are escaped.
fn json_list_contains(column: bulletins::Column, value: &str) -> Condition {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Condition::all().add(
        Expr::col((bulletins::Entity, column))
            .cast_as(Alias::new("TEXT"))
            .like(LikeExpr::new(format!("%\"{escaped}\"%")).escape('\\')),
    )
}

fn json_list_empty(column: bulletins::Column) -> Condition {
    Condition::all().add(
        Expr::col((bulletins::Entity, column))
            .cast_as(Alias::new("TEXT"))
            .eq("[]"),
    )
}

/// The bulletins addressed to the principal (publishers always see their own), as a row
/// condition, so lists page and count in SQL.
///
/// Audience: public reaches every principal; otherwise a principal is addressed when its agency
/// is listed, or its role is listed (within the listed districts, if any), or — with no roles
/// listed — its district is listed.
pub fn bulletin_filter(principal: &Principal) -> Condition {
    use bulletins::Column::{AudienceAgencies, AudienceDistricts, AudienceRoles};
    let mut any = Condition::any()
        .add(bulletins::Column::Public.eq(true))
        .add(bulletins::Column::PublisherSubject.eq(principal.subject.clone()));
    if let Some(agency) = &principal.agency_code {
        any = any.add(json_list_contains(AudienceAgencies, agency));
    }
    let own_district = principal.district.as_ref().map(|d| d.as_str());
    let mut in_districts = Condition::any().add(json_list_empty(AudienceDistricts));
    if let Some(d) = own_district {
        in_districts = in_districts.add(json_list_contains(AudienceDistricts, d));
    }
    any = any.add(
        Condition::all()
            .add(json_list_contains(AudienceRoles, principal.role.as_str()))
            .add(in_districts),
    );
    if let Some(d) = own_district {
        any = any.add(
            Condition::all()
                .add(json_list_empty(AudienceRoles))
                .add(json_list_contains(AudienceDistricts, d)),
        );
    }
    any
}

/// Who a bulletin is for, as the publisher names it.
#[derive(Debug, Clone, Default)]
pub struct BulletinAudience {
    pub agencies: Vec<agencies::Model>,
    pub roles: Vec<Role>,
    pub districts: Vec<String>,
    pub public: bool,
}

/// What a publisher may address: district staff address their own district (its agencies, its
/// roles, the municipal agencies above them) and the public only with typical cases.
pub fn check_bulletin_audience(
    publisher: &Principal,
    audience: &BulletinAudience,
    typical_case: bool,
) -> AppResult<()> {
    let Some(own) = &publisher.district else {
        return Ok(());
    };
    if audience.public && !typical_case {
        return Err(AppError::Forbidden(
            "district staff publish to the public only typical cases".to_owned(),
        ));
    }
    let other_district = audience.districts.iter().any(|d| d != own.as_str())
        || (!audience.roles.is_empty() && audience.districts.is_empty())
        || audience.agencies.iter().any(|a| {
            a.district_code
                .as_deref()
                .is_some_and(|d| d != own.as_str())
        });
    if other_district {
        return Err(AppError::Forbidden(
            "district staff address their own district".to_owned(),
        ));
    }
    Ok(())
}

/// Whether every reader a bulletin reaches may read a linked finding (checked on publish, so a
/// bulletin never carries what its audience may not see). Monitoring reads no cases; a
/// district's readers read its findings; a public bulletin reaches everyone, so it carries only
/// closed cases (a published penalty decision is public information).
pub fn audience_may_read_finding(audience: &BulletinAudience, finding: &findings::Model) -> bool {
    let monitoring = audience.roles.contains(&Role::Monitoring)
        || audience
            .agencies
            .iter()
            .any(|a| a.kind == AgencyKind::Monitoring);
    if monitoring {
        return false;
    }
    if audience.public {
        return finding.status == FindingStatus::Closed;
    }
    let district_ok = |d: &str| d == finding.district_code;
    let agencies_ok = audience
        .agencies
        .iter()
        .all(|a| a.district_code.as_deref().is_none_or(district_ok));
    // Roles listed without districts reach every district's staff.
    let roles_ok = audience.roles.is_empty() || !audience.districts.is_empty();
    let integrators_ok =
        !audience.roles.contains(&Role::Integrator) || finding.status == FindingStatus::Closed;
    agencies_ok && roles_ok && integrators_ok && audience.districts.iter().all(|d| district_ok(d))
}

/// Whether a reader sees a case linked in a bulletin: a finding it may read, or in a public
/// bulletin a closed case (published for all who read cases; monitoring reads none).
pub fn bulletin_case_visible(
    principal: &Principal,
    finding: &findings::Model,
    public_bulletin: bool,
) -> bool {
    if !super::role_allows(principal.role, super::Operation::ReadEnforcement) {
        return false;
    }
    let closed = finding.status == FindingStatus::Closed;
    let readable = in_scope(principal, &finding.district_code)
        && (closed || !sees_closed_findings_only(principal));
    readable || (public_bulletin && closed)
}

// --- Campaign summaries --------------------------------------------------------------------

/// Submitted summary reports are frozen with the submitter's counts, open cases included: they
/// are for the agencies of the district (and municipal ones), not for closed-only readers.
pub fn summary_report_filter(
    principal: &Principal,
    district_column: impl ColumnTrait,
) -> Condition {
    if sees_closed_findings_only(principal) {
        return nothing();
    }
    super::district_filter(principal, district_column)
}

// --- Double-random draws --------------------------------------------------------------------

/// Draws the principal may read. Before publication only the drawing district's staff,
/// supervision and ADMIN see a draw (who will be inspected is not told in advance); once
/// published it is public (plan §3: results are published). Integrators see published draws.
pub fn draw_filter(principal: &Principal) -> Condition {
    let published = Condition::all().add(random_draws::Column::Published.eq(true));
    if principal.role == Role::Integrator {
        return published;
    }
    // Whoever drew it (municipal enforcement may draw for a district) sees it to publish it.
    let own = Condition::any()
        .add(published)
        .add(random_draws::Column::DrawnBySubject.eq(principal.subject.clone()));
    match principal.scope() {
        Scope::All if supervises(principal) => Condition::all(),
        Scope::All => own,
        Scope::District(code) => own.add(random_draws::Column::DistrictCode.eq(code.as_str())),
    }
}

/// The frozen inputs (the candidate list with weights, the inspector list and the declared
/// conflicts) are the working papers of the drawing district's agencies (and municipal ones):
/// not for integrators, nor for other districts, who see the published result.
pub fn may_see_draw_inputs(principal: Option<&Principal>, draw_district: Option<&str>) -> bool {
    principal.is_some_and(|p| {
        p.role != Role::Integrator
            && match draw_district {
                Some(d) => in_scope(p, d),
                None => p.is_municipal(),
            }
    })
}

// --- Inspectors -----------------------------------------------------------------------------

/// Whether an inspector of this agency (its district, `None` for a municipal agency) is
/// visible: the caller's scope and the municipal agencies, and never to integrators. The same
/// rule for `inspectors`, a draw's teams and an inspection's team.
pub fn inspector_visible(principal: Option<&Principal>, agency_district: Option<&str>) -> bool {
    may_see_inspector_names(principal)
        && principal.is_some_and(|p| agency_district.is_none_or(|d| in_scope(p, d)))
}

/// The SQL form of `inspector_visible`, on `inspectors` rows.
pub fn inspector_filter(principal: &Principal) -> Condition {
    if !may_see_inspector_names(Some(principal)) {
        return nothing();
    }
    match principal.scope() {
        Scope::All => Condition::all(),
        Scope::District(code) => {
            let codes = agencies::Entity::find()
                .select_only()
                .column(agencies::Column::Code)
                .filter(
                    Condition::any()
                        .add(agencies::Column::DistrictCode.is_null())
                        .add(agencies::Column::DistrictCode.eq(code.as_str())),
                )
                .into_query();
            Condition::all().add(Expr::col(inspectors::Column::AgencyCode).in_subquery(codes))
        }
    }
}

// --- Change feed ----------------------------------------------------------------------------

/// What of the feed a principal may read: the records it could query. Feedback goes to its
/// parties and supervision, bulletins to their audience (subqueries on the rows the caller may
/// read), so the feed pages in SQL and never skips or repeats under the cursor.
pub fn feed_filter(principal: &Principal) -> Condition {
    use crate::domain::changes::ChangeKind::{self, *};
    let kinds: Vec<ChangeKind> = match principal.role {
        Role::Monitoring => vec![Unit, Permit, Registration],
        Role::Integrator => vec![Unit, Permit, Registration, Inspection, Campaign, Finding],
        _ => ChangeKind::ALL
            .into_iter()
            .filter(|k| !matches!(k, Feedback | Bulletin))
            .collect(),
    };
    let mut condition =
        Condition::all().add(change_events::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())));
    if sees_closed_findings_only(principal) {
        condition = condition.add(
            Condition::any()
                .add(change_events::Column::Kind.ne(Finding.as_str()))
                .add(change_events::Column::State.eq("CLOSED")),
        );
    }
    if let Some(own) = &principal.district {
        condition = condition.add(
            Condition::any()
                .add(change_events::Column::DistrictCode.eq(own.as_str()))
                .add(
                    Condition::all()
                        .add(change_events::Column::DistrictCode.is_null())
                        .add(change_events::Column::Kind.eq(Campaign.as_str())),
                ),
        );
    }
    let mut any = Condition::any().add(condition);
    if super::role_allows(principal.role, super::Operation::ReadFeedback) {
        let readable = Query::select()
            .column(feedback::Column::Id)
            .from(feedback::Entity)
            .cond_where(feedback_filter(principal))
            .to_owned();
        any = any.add(
            Condition::all()
                .add(change_events::Column::Kind.eq(Feedback.as_str()))
                .add(Expr::col(change_events::Column::RecordId).in_subquery(readable)),
        );
    }
    if super::role_allows(principal.role, super::Operation::ReadBulletins) {
        let addressed = Query::select()
            .column(bulletins::Column::Id)
            .from(bulletins::Entity)
            .cond_where(bulletin_filter(principal))
            .to_owned();
        any = any.add(
            Condition::all()
                .add(change_events::Column::Kind.eq(Bulletin.as_str()))
                .add(Expr::col(change_events::Column::RecordId).in_subquery(addressed)),
        );
    }
    any
}

// --- Audit trail ----------------------------------------------------------------------------

/// The audit trail a principal may read (SUPERVISOR, ADMIN; `authorize` checks the role): all
/// of it at municipal scope, the events of its district's agencies otherwise.
pub fn audit_filter(principal: &Principal) -> Condition {
    match principal.scope() {
        Scope::All => Condition::all(),
        Scope::District(code) => agency_in_district(audit_events::Column::Agency, code.as_str()),
    }
}

// --- Evidence files -------------------------------------------------------------------------

/// Evidence files follow the record they belong to: a finding's files go to whoever may read
/// the finding (`finding_filter`: its district, and closed cases only for integrators); an
/// inspection's files are case material like its notes (`may_see_case_text`), so integrators get
/// them once every finding of the inspection is closed. Monitoring reads no cases.
pub fn evidence_filter(principal: &Principal) -> Condition {
    use entity::evidence_files;
    if !super::role_allows(principal.role, super::Operation::ReadEnforcement) {
        return nothing();
    }
    let scoped = super::district_filter(principal, evidence_files::Column::DistrictCode);
    if !sees_closed_findings_only(principal) {
        return scoped;
    }
    let closed_findings = Query::select()
        .column(findings::Column::Id)
        .from(findings::Entity)
        .and_where(findings::Column::Status.eq(FindingStatus::Closed))
        .to_owned();
    let inspections_with_open_findings = Query::select()
        .column(findings::Column::InspectionId)
        .from(findings::Entity)
        .and_where(findings::Column::Status.ne(FindingStatus::Closed))
        .to_owned();
    scoped.add(
        Condition::any()
            .add(Expr::col(evidence_files::Column::FindingId).in_subquery(closed_findings))
            .add(
                Condition::all()
                    .add(evidence_files::Column::InspectionId.is_not_null())
                    .add(
                        Expr::col(evidence_files::Column::InspectionId)
                            .not_in_subquery(inspections_with_open_findings),
                    ),
            ),
    )
}

// --- Monitoring readings --------------------------------------------------------------------

/// Readings are the monitoring data of a unit's outlets: whoever reads the unit and its permit
/// (its district, or every district) reads them; they carry no personal data and no case.
pub fn reading_filter(principal: &Principal) -> Condition {
    super::district_filter(principal, entity::readings::Column::DistrictCode)
}

/// Who records a reading of a unit in `district` from `source`: the monitoring centre in any
/// district and from any source; enforcement in its scope, not supervisory monitoring (that
/// is the monitoring centre's); an integrator in its scope, automatic monitors' data only;
/// ADMIN in its scope. `field` names the source in the input, for the refusal.
pub fn check_reading_write(
    principal: &Principal,
    district: &str,
    source: entity::enums::ReadingSource,
    field: &str,
) -> AppResult<()> {
    use entity::enums::ReadingSource;
    let source_allowed = match principal.role {
        Role::Monitoring | Role::Admin => true,
        Role::EnforcementOfficer => source != ReadingSource::Supervisory,
        Role::Integrator => source == ReadingSource::Automatic,
        _ => false,
    };
    if !source_allowed {
        return Err(AppError::Forbidden(format!(
            "role {} may not record {} readings ({field})",
            principal.role.as_str(),
            match source {
                ReadingSource::Automatic => "AUTOMATIC",
                ReadingSource::SelfMonitoring => "SELF_MONITORING",
                ReadingSource::Supervisory => "SUPERVISORY",
            }
        )));
    }
    if principal.role == Role::Monitoring {
        return Ok(());
    }
    super::check_district(principal, district)
}

/// Violation candidates are read like findings: those who read enforcement, in their
/// district; not integrators (a candidate is not yet a case, let alone a closed one), and not
/// monitoring, which reads no cases.
pub fn candidate_filter(principal: &Principal) -> Condition {
    if !super::role_allows(principal.role, super::Operation::ReadEnforcement)
        || sees_closed_findings_only(principal)
    {
        return nothing();
    }
    super::district_filter(
        principal,
        entity::violation_candidates::Column::DistrictCode,
    )
}
