//! Enforcement: inspectors, inspections, findings, actions and violation patterns.

use super::time::Time;
use crate::graphql::error::Result;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};
use chrono::{DateTime, NaiveDate};

use super::connection::{self, Conn};
use super::enums::{
    EnforcementActionKind, FindingSeverity, FindingStatus, InspectionMode, InspectionSource,
    ViolationCategory,
};
use super::ids;
use super::loaders::{
    ActionsOfFinding, EvidenceOfFinding, FilesOf, FindingsOfInspection, HistoryOfFinding,
    InspectionId, InspectorId, OutletId, PermitId, TeamOfInspection, UnitId,
};
use super::permits::{Outlet, PERMIT, Permit, PermitLimit};
use super::reference::{
    Agency, District, ViolationCode, load_agency, load_district, load_violation_code,
};
use super::units::{UNIT, Unit};
use entity::{
    enforcement_actions, evidence_files, finding_evidence, finding_transitions,
    findings as finding_rows, inspections as inspection_rows, inspectors as inspector_rows,
};
use permit_core::domain::patterns::{self, Dimension};
use permit_core::domain::{access, cases, evidence, findings, inspections, inspectors};
use permit_core::error::AppError;

pub const INSPECTION: &str = "Inspection";
pub const FINDING: &str = "Finding";
pub const INSPECTOR: &str = "Inspector";

fn missing(what: &str) -> crate::graphql::error::ApiError {
    AppError::NotFound(what.to_owned()).into()
}

/// An enforcement officer (执法人员) with an enforcement certificate.
pub struct Inspector(pub inspector_rows::Model);

#[Object]
impl Inspector {
    async fn id(&self) -> ID {
        ids::encode(INSPECTOR, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// 执法证号
    async fn certificate_number(&self) -> &str {
        &self.0.certificate_number
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, Some(&self.0.agency_code)).await
    }
}

/// A checklist line of an inspection.
#[derive(SimpleObject, serde::Deserialize)]
pub struct ChecklistResult {
    item: String,
    /// PASS, FAIL or NOT_APPLICABLE.
    result: String,
    note: Option<String>,
}

/// An inspection (现场检查 or non-site check) of one unit.
pub struct Inspection(pub inspection_rows::Model);

impl Inspection {
    /// The policy's answer for this inspection's free text; the open-finding lookup is made
    /// only when the answer depends on it.
    async fn case_text_visible(&self, ctx: &Context<'_>) -> Result<bool> {
        let principal = super::principal(ctx);
        if access::may_see_case_text(principal, true) {
            return Ok(true);
        }
        if !access::may_see_case_text(principal, false) {
            return Ok(false);
        }
        let open = super::load_one(ctx, super::loaders::OpenFindingsOfInspection(self.0.id))
            .await?
            .unwrap_or(true);
        Ok(!open)
    }
}

#[Object]
impl Inspection {
    async fn id(&self) -> ID {
        ids::encode(INSPECTION, self.0.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<super::history::Provenance>> {
        super::history::provenance(
            ctx,
            permit_core::domain::changes::ChangeKind::Inspection,
            self.0.id,
        )
        .await
    }
    async fn date(&self) -> NaiveDate {
        self.0.inspection_date
    }
    async fn source(&self) -> InspectionSource {
        self.0.source.into()
    }
    async fn mode(&self) -> InspectionMode {
        self.0.mode.into()
    }
    async fn unit(&self, ctx: &Context<'_>) -> Result<Unit> {
        super::load_one(ctx, UnitId(self.0.unit_id))
            .await?
            .map(Unit)
            .ok_or_else(|| missing("unit of the inspection"))
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, Some(&self.0.district_code)).await
    }
    /// The agency that recorded it.
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, Some(&self.0.agency_code)).await
    }
    /// The inspection team. Null for INTEGRATOR (inspector names are not published).
    async fn inspectors(&self, ctx: &Context<'_>) -> Result<Option<Vec<Inspector>>> {
        if !access::may_see_inspector_names(super::principal(ctx)) {
            return Ok(None);
        }
        let loader = super::loader(ctx)?;
        let team = loader
            .load_one(TeamOfInspection(self.0.id))
            .await
            .map_err(AppError::from)?
            .unwrap_or_default();
        let people = loader
            .load_many(team.iter().map(|t| InspectorId(t.inspector_id)))
            .await
            .map_err(AppError::from)?;
        Ok(Some(
            team.iter()
                .filter_map(|t| people.get(&InspectorId(t.inspector_id)).cloned())
                .map(Inspector)
                .collect(),
        ))
    }
    /// EXECUTION_REPORTS, LEDGER, SELF_MONITORING_DATA, AUTOMATIC_MONITORING, PERMIT_DOCUMENTS.
    async fn materials_reviewed(&self) -> Vec<String> {
        serde_json::from_value(self.0.materials_reviewed.clone()).unwrap_or_default()
    }
    /// The checklist; its notes are null where the caller may not read the inspection's
    /// findings (INTEGRATOR while one is open).
    async fn checklist(&self, ctx: &Context<'_>) -> Result<Vec<ChecklistResult>> {
        let mut items: Vec<ChecklistResult> =
            serde_json::from_value(self.0.checklist.clone()).unwrap_or_default();
        if !self.case_text_visible(ctx).await? {
            for item in &mut items {
                item.note = None;
            }
        }
        Ok(items)
    }
    /// Null where the caller may not read the inspection's findings (INTEGRATOR while one is
    /// open): free text about a case is part of the case.
    async fn notes(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(if self.case_text_visible(ctx).await? {
            self.0.notes.as_deref()
        } else {
            None
        })
    }
    async fn findings(&self, ctx: &Context<'_>) -> Result<Vec<Finding>> {
        let rows = super::load_one(ctx, FindingsOfInspection(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Finding::new).collect())
    }
    /// Its ledger checks (台账, `recordLedgerCheck`), by period. Their notes are case text,
    /// shown where the inspection's notes are.
    async fn ledger_checks(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::monitoring::LedgerCheck>> {
        let notes_visible = self.case_text_visible(ctx).await?;
        let rows = super::load_one(ctx, super::loaders::LedgerChecksOfInspection(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|row| super::monitoring::LedgerCheck::new(row, notes_visible))
            .collect())
    }
    /// Uploaded evidence files (`uploadEvidence`), oldest first. Case material like the notes:
    /// empty for INTEGRATOR while a finding of the inspection is open.
    async fn files(&self, ctx: &Context<'_>) -> Result<Vec<EvidenceFile>> {
        let rows = super::load_one(ctx, FilesOf::Inspection(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(EvidenceFile).collect())
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
}

/// A violation found by an inspection, coded to the Regulation.
///
/// The second field is the feed cursor of the event that delivered it (subscriptions only).
pub struct Finding(pub finding_rows::Model, pub Option<String>);

impl Finding {
    pub fn new(row: finding_rows::Model) -> Self {
        Self(row, None)
    }

    /// As `findingRecorded` delivers it, at `cursor` in the change feed.
    pub fn delivered(row: finding_rows::Model, cursor: String) -> Self {
        Self(row, Some(cursor))
    }
}

#[Object]
impl Finding {
    /// Where the event that delivered this record lies in the change feed: set in `findingRecorded`
    /// payloads (pass it as `after` to resume there, here or to `changes`), null elsewhere.
    async fn cursor(&self) -> Option<&str> {
        self.1.as_deref()
    }
    async fn id(&self) -> ID {
        ids::encode(FINDING, self.0.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<super::history::Provenance>> {
        super::history::provenance(
            ctx,
            permit_core::domain::changes::ChangeKind::Finding,
            self.0.id,
        )
        .await
    }
    async fn code(&self, ctx: &Context<'_>) -> Result<ViolationCode> {
        load_violation_code(ctx, &self.0.violation_code)
            .await?
            .ok_or_else(|| missing("violation code"))
    }
    async fn category(&self) -> ViolationCategory {
        self.0.category.into()
    }
    async fn status(&self) -> FindingStatus {
        self.0.status.into()
    }
    async fn severity(&self) -> FindingSeverity {
        self.0.severity.into()
    }
    /// The inspection date.
    async fn found_on(&self) -> NaiveDate {
        self.0.found_on
    }
    /// The permit breached (null for NP-1 and RG-1).
    async fn permit(&self, ctx: &Context<'_>) -> Result<Option<Permit>> {
        let Some(id) = self.0.permit_id else {
            return Ok(None);
        };
        Ok(super::load_one(ctx, PermitId(id)).await?.map(Permit::from))
    }
    async fn unit(&self, ctx: &Context<'_>) -> Result<Unit> {
        super::load_one(ctx, UnitId(self.0.unit_id))
            .await?
            .map(Unit)
            .ok_or_else(|| missing("unit of the finding"))
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, Some(&self.0.district_code)).await
    }
    async fn inspection(&self, ctx: &Context<'_>) -> Result<Option<Inspection>> {
        Ok(super::load_one(ctx, InspectionId(self.0.inspection_id))
            .await?
            .map(Inspection))
    }
    /// The outlet concerned (EX-1), with its limits as they stood on the finding's date.
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Option<Outlet>> {
        let Some(id) = self.0.outlet_id else {
            return Ok(None);
        };
        Ok(super::load_one(ctx, OutletId(id))
            .await?
            .map(|row| Outlet::at(row, self.0.permit_version)))
    }
    /// The permit limit the measurement was judged against (EX-1), as it stood on the
    /// finding's date: a later change of the permit leaves it as it was.
    async fn limit(&self, ctx: &Context<'_>) -> Result<Option<PermitLimit>> {
        let (Some(limit_id), Some(permit_id)) = (self.0.limit_id, self.0.permit_id) else {
            return Ok(None);
        };
        Ok(super::permits::limits_of(ctx, permit_id)
            .await?
            .into_iter()
            .find(|l| l.id == limit_id)
            .map(PermitLimit))
    }
    /// The permit version in force on the finding's date.
    async fn permit_version(&self) -> Option<i32> {
        self.0.permit_version
    }
    async fn pollutant(&self) -> Option<&str> {
        self.0.pollutant.as_deref()
    }
    async fn measured_value(&self) -> Option<f64> {
        self.0.measured_value
    }
    async fn measured_unit(&self) -> Option<&str> {
        self.0.measured_unit.as_deref()
    }
    /// The permitted limit at the time of the finding (EX-1).
    async fn permitted_value(&self) -> Option<f64> {
        self.0.permitted_value
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn rectification_deadline(&self) -> Option<NaiveDate> {
        self.0.rectification_deadline
    }
    async fn evidence(&self, ctx: &Context<'_>) -> Result<Vec<Evidence>> {
        let rows = super::load_one(ctx, EvidenceOfFinding(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Evidence).collect())
    }
    /// Uploaded evidence files (`uploadEvidence`), oldest first; download each at its
    /// `downloadPath`.
    async fn files(&self, ctx: &Context<'_>) -> Result<Vec<EvidenceFile>> {
        let rows = super::load_one(ctx, FilesOf::Finding(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(EvidenceFile).collect())
    }
    /// Every move of the lifecycle, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<FindingTransition>> {
        let rows = super::load_one(ctx, HistoryOfFinding(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(FindingTransition).collect())
    }
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<EnforcementAction>> {
        let rows = super::load_one(ctx, ActionsOfFinding(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(EnforcementAction).collect())
    }
    /// The violation candidate this finding was recorded from, if any.
    async fn candidate(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<super::monitoring::ViolationCandidate>> {
        super::monitoring::candidate_of_finding(ctx, self.0.id).await
    }
    /// The readings it rests on: its candidate's (an EX-1's reading above the limit).
    async fn readings(&self, ctx: &Context<'_>) -> Result<Vec<super::monitoring::Reading>> {
        super::monitoring::readings_of_finding(ctx, self.0.id).await
    }
    /// Optimistic-locking version: pass it as `expectedVersion` to `advanceFinding`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
    async fn updated_at(&self) -> Time {
        self.0.updated_at.into()
    }
}

/// Metadata of an evidence file; the file itself is stored elsewhere.
pub struct Evidence(pub finding_evidence::Model);

#[Object]
impl Evidence {
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    async fn media_type(&self) -> &str {
        &self.0.media_type
    }
    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }
    /// Lower-case hex SHA-256 of the file.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    async fn captured_at(&self) -> Option<Time> {
        self.0.captured_at.map(Time)
    }
}

pub const EVIDENCE_FILE: &str = "EvidenceFile";

/// An uploaded evidence file (photo, scan, monitoring printout) of a finding or an inspection.
pub struct EvidenceFile(pub evidence_files::Model);

#[Object]
impl EvidenceFile {
    async fn id(&self) -> ID {
        ids::encode(EVIDENCE_FILE, self.0.id)
    }
    /// The name it was uploaded under (for display; the file is reached only by `downloadPath`).
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    /// What the content was recognised as: image/jpeg, image/png, application/pdf or image/tiff.
    async fn media_type(&self) -> &str {
        &self.0.media_type
    }
    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }
    /// Lower-case hex SHA-256 of the content, as checked on upload.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    async fn captured_at(&self) -> Option<Time> {
        self.0.captured_at.map(Time)
    }
    async fn uploaded_at(&self) -> Time {
        self.0.created_at.into()
    }
    /// Who uploaded it. Null for INTEGRATOR.
    async fn uploaded_by(&self, ctx: &Context<'_>) -> Option<String> {
        access::official_subject(super::principal(ctx), &self.0.uploaded_by_subject)
    }
    /// `GET` this path with `Authorization: Bearer <token>` for the file; the record's access
    /// rule applies and the download is audited (`DOWNLOAD_EVIDENCE`).
    async fn download_path(&self) -> String {
        format!("/evidence/{}", self.0.public_id)
    }
}

/// One move of a finding's lifecycle.
pub struct FindingTransition(pub finding_transitions::Model);

#[Object]
impl FindingTransition {
    /// Null for the creation of the finding.
    async fn from(&self) -> Option<FindingStatus> {
        self.0.from_status.map(Into::into)
    }
    async fn to(&self) -> FindingStatus {
        self.0.to_status.into()
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// The re-inspection that confirmed a rectification.
    async fn reinspection(&self, ctx: &Context<'_>) -> Result<Option<Inspection>> {
        let Some(id) = self.0.reinspection_id else {
            return Ok(None);
        };
        Ok(super::load_one(ctx, InspectionId(id))
            .await?
            .map(Inspection))
    }
    /// Who moved it. Null for INTEGRATOR.
    async fn actor(&self, ctx: &Context<'_>) -> Option<String> {
        access::official_subject(super::principal(ctx), &self.0.actor_subject)
    }
    async fn actor_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.0.actor_agency.as_deref()).await
    }
    async fn at(&self) -> Time {
        self.0.created_at.into()
    }
}

/// An enforcement decision on a finding.
pub struct EnforcementAction(pub enforcement_actions::Model);

#[Object]
impl EnforcementAction {
    async fn id(&self) -> ID {
        ids::encode("EnforcementAction", self.0.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<super::history::Provenance>> {
        super::history::provenance(
            ctx,
            permit_core::domain::changes::ChangeKind::EnforcementAction,
            self.0.id,
        )
        .await
    }
    async fn kind(&self) -> EnforcementActionKind {
        self.0.kind.into()
    }
    /// 处罚决定书文号 (unique).
    async fn decision_number(&self) -> &str {
        &self.0.decision_number
    }
    async fn decided_on(&self) -> NaiveDate {
        self.0.decided_on
    }
    /// Fine, or the daily amount of a daily continuous penalty, in yuan.
    async fn amount_yuan(&self) -> Option<i64> {
        self.0.amount_yuan
    }
    /// Days of a daily continuous penalty.
    async fn days(&self) -> Option<i32> {
        self.0.days
    }
    /// Amount × days for a daily penalty; the amount otherwise.
    async fn total_yuan(&self) -> Option<i64> {
        self.0
            .amount_yuan
            .map(|a| a * i64::from(self.0.days.unwrap_or(1)))
    }
    /// Flagged for public exposure as a typical case (典型案例).
    async fn typical_case(&self) -> bool {
        self.0.typical_case
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, Some(&self.0.agency_code)).await
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
}

/// One group of `violationPatterns`; dimensions not grouped by are null.
pub struct ViolationPattern(pub patterns::PatternRow);

#[Object]
impl ViolationPattern {
    async fn code(&self, ctx: &Context<'_>) -> Result<Option<ViolationCode>> {
        let Some(code) = &self.0.code else {
            return Ok(None);
        };
        load_violation_code(ctx, code).await
    }
    async fn category(&self) -> Option<ViolationCategory> {
        self.0.category.map(Into::into)
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, self.0.district_code.as_deref()).await
    }
    async fn industry_code(&self) -> Option<&str> {
        self.0.industry_code.as_deref()
    }
    /// `YYYY-MM` of the date found.
    async fn month(&self) -> Option<&str> {
        self.0.month.as_deref()
    }
    async fn findings(&self) -> i64 {
        self.0.findings
    }
    async fn units_affected(&self) -> i64 {
        self.0.units_affected
    }
    /// Fines and daily penalties decided on these findings, in yuan.
    async fn fines_yuan(&self) -> i64 {
        self.0.fines_yuan
    }
    /// Open violation candidates of this group that the caller may read (`violationCandidates`),
    /// the month being the month detected; the filter's district, code, category, industry,
    /// permit and unit apply to them, a finding's status, severity, dates, inspection and
    /// campaign do not. Selecting it also lists groups that have candidates and no findings
    /// yet (after the others, within `limit`).
    async fn open_candidates(&self) -> i64 {
        self.0.open_candidates
    }
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq)]
pub enum PatternDimension {
    /// 违法代码
    Code,
    /// 违法类别
    Category,
    /// 区县
    District,
    /// 行业
    Industry,
    /// 月份
    Month,
}

#[derive(InputObject, Default)]
pub struct FindingFilter {
    district: Option<String>,
    /// Violation code, e.g. `EX-1`.
    code: Option<String>,
    /// One of the plan's four categories.
    category: Option<ViolationCategory>,
    status: Option<FindingStatus>,
    severity: Option<FindingSeverity>,
    found_from: Option<NaiveDate>,
    found_to: Option<NaiveDate>,
    /// GB/T 4754 code or prefix of the unit's industry.
    industry: Option<String>,
    permit_number: Option<String>,
    unit_id: Option<ID>,
    inspection_id: Option<ID>,
    campaign_id: Option<ID>,
}

impl FindingFilter {
    pub(crate) fn into_domain(self) -> Result<findings::FindingFilter> {
        Ok(findings::FindingFilter {
            district: self.district,
            code: self.code,
            category: self.category.map(Into::into),
            status: self.status.map(Into::into),
            severity: self.severity.map(Into::into),
            found_from: self.found_from,
            found_to: self.found_to,
            industry: self.industry,
            permit_number: self.permit_number,
            permit_id: None,
            unit_id: self
                .unit_id
                .map(|id| ids::decode(UNIT, "filter.unitId", &id))
                .transpose()?,
            inspection_id: self
                .inspection_id
                .map(|id| ids::decode(INSPECTION, "filter.inspectionId", &id))
                .transpose()?,
            campaign_id: self
                .campaign_id
                .map(|id| ids::decode(super::campaigns::CAMPAIGN, "filter.campaignId", &id))
                .transpose()?,
        })
    }
}

/// A filter sent as JSON outside GraphQL (exports), read as the GraphQL input type it is, so
/// that exports take exactly the filters of the queries.
pub(crate) fn parse_json_input<T: async_graphql::InputType>(
    json: Option<serde_json::Value>,
) -> Result<Option<T>, AppError> {
    let Some(json) = json.filter(|j| !j.is_null()) else {
        return Ok(None);
    };
    let value = async_graphql::Value::from_json(json)
        .map_err(|e| AppError::invalid("filter", e.to_string()))?;
    T::parse(Some(value))
        .map(Some)
        .map_err(|e| AppError::invalid("filter", e.into_server_error(Default::default()).message))
}

/// `FindingFilter` as JSON, to the domain's filter (exports).
pub fn finding_filter_from_json(
    json: Option<serde_json::Value>,
) -> Result<findings::FindingFilter, AppError> {
    parse_json_input::<FindingFilter>(json)?
        .unwrap_or_default()
        .into_domain()
        .map_err(|e| AppError::invalid("filter", e.message()))
}

/// `InspectionFilter` as JSON, to the domain's filter (exports).
pub fn inspection_filter_from_json(
    json: Option<serde_json::Value>,
) -> Result<inspections::InspectionFilter, AppError> {
    parse_json_input::<InspectionFilter>(json)?
        .unwrap_or_default()
        .into_domain()
}

#[derive(InputObject, Default)]
pub struct InspectionFilter {
    district: Option<String>,
    unit_id: Option<ID>,
    source: Option<InspectionSource>,
    mode: Option<InspectionMode>,
    campaign_id: Option<ID>,
    date_from: Option<NaiveDate>,
    date_to: Option<NaiveDate>,
}

impl InspectionFilter {
    pub(crate) fn into_domain(self) -> Result<inspections::InspectionFilter, AppError> {
        Ok(inspections::InspectionFilter {
            district: self.district,
            unit_id: self
                .unit_id
                .map(|id| ids::decode(UNIT, "filter.unitId", &id))
                .transpose()?,
            source: self.source.map(Into::into),
            mode: self.mode.map(Into::into),
            campaign_id: self
                .campaign_id
                .map(|id| ids::decode(super::campaigns::CAMPAIGN, "filter.campaignId", &id))
                .transpose()?,
            date_from: self.date_from,
            date_to: self.date_to,
        })
    }
}

#[derive(Default)]
pub struct EnforcementQuery;

#[Object]
impl EnforcementQuery {
    /// Inspections in the caller's scope, newest first. `first`/`last` at most 100.
    #[allow(clippy::too_many_arguments)]
    async fn inspections(
        &self,
        ctx: &Context<'_>,
        filter: Option<InspectionFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Inspection>> {
        let filter = filter.unwrap_or_default().into_domain()?;
        let list = inspections::list(super::principal(ctx), &filter)?;
        let page = list
            .page(
                super::db(ctx)?,
                &connection::page_args(first, after, last, before),
            )
            .await?;
        Ok(connection::from_page(page, list.count_query(), Inspection))
    }

    async fn inspection(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Inspection>> {
        let id = ids::decode(INSPECTION, "id", &id)?;
        Ok(inspections::get(super::db(ctx)?, super::principal(ctx), id)
            .await?
            .map(Inspection))
    }

    /// Findings in the caller's scope, newest first (INTEGRATOR: closed findings only).
    /// `first`/`last` at most 100.
    #[allow(clippy::too_many_arguments)]
    async fn findings(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Finding>> {
        let filter = filter.unwrap_or_default().into_domain()?;
        let list = findings::list(super::principal(ctx), &filter)?;
        let page = list
            .page(
                super::db(ctx)?,
                &connection::page_args(first, after, last, before),
            )
            .await?;
        Ok(connection::from_page(
            page,
            list.count_query(),
            Finding::new,
        ))
    }

    /// One finding; with `asOf`, its status and version as they stood then.
    async fn finding(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: Option<Time>,
    ) -> Result<Option<Finding>> {
        let id = ids::decode(FINDING, "id", &id)?;
        let db = super::db(ctx)?;
        let Some(found) = findings::get(db, super::principal(ctx), id).await? else {
            return Ok(None);
        };
        Ok(match as_of {
            Some(at) => findings::as_of(db, found, at.into())
                .await?
                .map(Finding::new),
            None => Some(Finding::new(found)),
        })
    }

    /// Findings, units affected and fines grouped by the chosen dimensions, largest groups
    /// first; computed in SQL over the findings the caller may read.
    async fn violation_patterns(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilter>,
        group_by: Vec<PatternDimension>,
        #[graphql(default = 500)] limit: i32,
    ) -> Result<Vec<ViolationPattern>> {
        let filter = filter.unwrap_or_default().into_domain()?;
        let dims: Vec<Dimension> = group_by
            .into_iter()
            .map(|d| match d {
                PatternDimension::Code => Dimension::Code,
                PatternDimension::Category => Dimension::Category,
                PatternDimension::District => Dimension::District,
                PatternDimension::Industry => Dimension::Industry,
                PatternDimension::Month => Dimension::Month,
            })
            .collect();
        let limit =
            u64::try_from(limit).map_err(|_| AppError::invalid("limit", "must be positive"))?;
        // The candidates' statement runs only for a selection that asks for their count.
        let counts = if ctx.look_ahead().field("openCandidates").exists() {
            patterns::Counts::WithCandidates
        } else {
            patterns::Counts::FindingsOnly
        };
        let rows = patterns::violation_patterns(
            super::db(ctx)?,
            super::principal(ctx),
            &filter,
            &dims,
            limit,
            counts,
        )
        .await?;
        Ok(rows.into_iter().map(ViolationPattern).collect())
    }

    /// Inspectors of the agencies in the caller's scope and the municipal ones (not for
    /// INTEGRATOR), by id. `first` at most 100.
    // The GraphQL arguments are the parameters (two filters and Relay's four).
    #[allow(clippy::too_many_arguments)]
    async fn inspectors(
        &self,
        ctx: &Context<'_>,
        agency_code: Option<String>,
        active: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Inspector>> {
        let listing = inspectors::list(super::principal(ctx), agency_code.as_deref(), active)?;
        connection::listed(
            ctx,
            listing,
            connection::page_args(first, after, last, before),
            Inspector,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct ChecklistInput {
    item: String,
    /// PASS, FAIL or NOT_APPLICABLE.
    result: String,
    note: Option<String>,
}

#[derive(InputObject)]
pub struct RecordInspectionInput {
    unit_id: ID,
    date: NaiveDate,
    source: InspectionSource,
    mode: InspectionMode,
    campaign_id: Option<ID>,
    /// At least two for on-site work; none with a declared conflict with the unit.
    inspector_ids: Vec<ID>,
    /// EXECUTION_REPORTS, LEDGER, SELF_MONITORING_DATA, AUTOMATIC_MONITORING, PERMIT_DOCUMENTS.
    #[graphql(default)]
    materials_reviewed: Vec<String>,
    #[graphql(default)]
    checklist: Vec<ChecklistInput>,
    notes: Option<String>,
}

#[derive(InputObject)]
pub struct EvidenceInput {
    file_name: String,
    media_type: String,
    size_bytes: i64,
    /// Hex SHA-256 of the file.
    sha256: String,
    captured_at: Option<Time>,
}

#[derive(InputObject)]
pub struct RecordFindingInput {
    inspection_id: ID,
    /// Violation code, e.g. `EX-1` (see `violationCodes`).
    code: String,
    /// The permit breached; required except for NP-1 and RG-1.
    permit_id: Option<ID>,
    /// EX-1: the outlet, e.g. `DA001`.
    outlet_code: Option<String>,
    /// EX-1: the pollutant as the permit names it.
    pollutant: Option<String>,
    measured_value: Option<f64>,
    measured_unit: Option<String>,
    severity: FindingSeverity,
    description: String,
    rectification_deadline: Option<NaiveDate>,
    #[graphql(default)]
    evidence: Vec<EvidenceInput>,
    /// A violation candidate (`violationCandidates`) this finding confirms: of the
    /// inspection's unit and this code; an EX-1's outlet, pollutant and measured value fill
    /// those left out. The candidate is then CONFIRMED, with its readings on the finding.
    candidate_id: Option<ID>,
}

#[derive(InputObject)]
pub struct AdvanceFindingInput {
    to: FindingStatus,
    /// Required to dismiss.
    reason: Option<String>,
    /// Required to move to RECTIFIED: the later inspection that confirmed it.
    reinspection_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RecordEnforcementActionInput {
    finding_id: ID,
    kind: EnforcementActionKind,
    decision_number: String,
    decided_on: NaiveDate,
    /// Fines (within the article's range) and the daily amount of a daily penalty.
    amount_yuan: Option<i64>,
    /// Days of a daily continuous penalty.
    days: Option<i32>,
    #[graphql(default)]
    typical_case: bool,
    notes: Option<String>,
}

#[derive(InputObject)]
pub struct RegisterInspectorInput {
    name: String,
    agency_code: String,
    certificate_number: String,
}

#[derive(InputObject)]
pub struct DeclareConflictInput {
    inspector_id: ID,
    unit_id: ID,
    reason: String,
}

/// A declared conflict of interest (回避).
#[derive(SimpleObject)]
pub struct Conflict {
    inspector_id: ID,
    unit_id: ID,
    reason: String,
    declared_on: NaiveDate,
}

/// What an upload may weigh (`LIMIT_MAX_UPLOAD_BYTES`), in the request's data.
#[derive(Clone, Copy, Debug)]
pub struct UploadLimit(pub usize);

#[derive(InputObject)]
pub struct UploadEvidenceInput {
    /// The finding the file is evidence of (or `inspectionId`, not both).
    finding_id: Option<ID>,
    /// The inspection the file is evidence of (or `findingId`, not both).
    inspection_id: Option<ID>,
    /// The file, as a part of a GraphQL multipart request (with the `Apollo-Require-Preflight`
    /// header): JPEG, PNG, PDF or TIFF, recognised from the content.
    file: Upload,
    /// Hex SHA-256 of the file as the uploader computed it; a file that arrives different is
    /// refused.
    sha256: String,
    captured_at: Option<Time>,
}

#[derive(Default)]
pub struct EnforcementMutation;

#[Object]
impl EnforcementMutation {
    /// Uploads an evidence file of a finding or an inspection (ENFORCEMENT_OFFICER in its
    /// district, municipal anywhere; ADMIN). Send it as a GraphQL multipart request with the
    /// `Apollo-Require-Preflight: true` header; at most `LIMIT_MAX_UPLOAD_BYTES`. A record
    /// outside the caller's scope is `NOT_FOUND`.
    async fn upload_evidence(
        &self,
        ctx: &Context<'_>,
        input: UploadEvidenceInput,
    ) -> Result<EvidenceFile> {
        let target = match (&input.finding_id, &input.inspection_id) {
            (Some(id), None) => {
                evidence::Target::Finding(ids::decode(FINDING, "input.findingId", id)?)
            }
            (None, Some(id)) => {
                evidence::Target::Inspection(ids::decode(INSPECTION, "input.inspectionId", id)?)
            }
            _ => {
                return Err(AppError::invalid(
                    "input.findingId",
                    "name either findingId or inspectionId",
                )
                .into());
            }
        };
        // `Upload::value` indexes the request's files without a check, and a JSON request may
        // carry the placeholder text alone: look first, so a forged one is an input error.
        let not_sent = || AppError::invalid("input.file", "send the file as a multipart part");
        if *input.file >= ctx.query_env.uploads.len() {
            return Err(not_sent().into());
        }
        let file = input.file.value(ctx).map_err(|_| not_sent())?;
        let store = ctx.data::<permit_core::storage::EvidenceStore>()?;
        let limit = ctx.data::<UploadLimit>()?;
        let saved = evidence::upload(
            super::db(ctx)?,
            store,
            super::principal(ctx),
            evidence::Upload {
                target,
                file_name: file.filename,
                declared_type: file.content_type,
                content: file.content,
                sha256: input.sha256,
                captured_at: input.captured_at.map(DateTime::from),
            },
            limit.0,
        )
        .await?;
        Ok(EvidenceFile(saved))
    }

    /// Records an inspection (ENFORCEMENT_OFFICER in the unit's district, municipal anywhere).
    async fn record_inspection(
        &self,
        ctx: &Context<'_>,
        input: RecordInspectionInput,
        idempotency_key: Option<String>,
    ) -> Result<Inspection> {
        let inspector_ids = input
            .inspector_ids
            .iter()
            .map(|id| ids::decode(INSPECTOR, "input.inspectorIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let input = inspections::RecordInspectionInput {
            unit_id: ids::decode(UNIT, "input.unitId", &input.unit_id)?,
            inspection_date: input.date,
            source: input.source.into(),
            mode: input.mode.into(),
            campaign_id: input
                .campaign_id
                .map(|id| ids::decode(super::campaigns::CAMPAIGN, "input.campaignId", &id))
                .transpose()?,
            inspector_ids,
            materials_reviewed: input.materials_reviewed,
            checklist: input
                .checklist
                .into_iter()
                .map(|c| inspections::ChecklistItem {
                    item: c.item,
                    result: c.result,
                    note: c.note,
                })
                .collect(),
            notes: input.notes,
        };
        let saved = inspections::record(
            super::db(ctx)?,
            super::principal(ctx),
            input,
            idempotency_key.as_deref(),
        )
        .await?;
        Ok(Inspection(saved))
    }

    /// Records a finding, checked against the permit as it stood on the inspection date.
    async fn record_finding(
        &self,
        ctx: &Context<'_>,
        input: RecordFindingInput,
        idempotency_key: Option<String>,
    ) -> Result<Finding> {
        let input = findings::RecordFindingInput {
            inspection_id: ids::decode(INSPECTION, "input.inspectionId", &input.inspection_id)?,
            code: input.code,
            permit_id: input
                .permit_id
                .map(|id| ids::decode(PERMIT, "input.permitId", &id))
                .transpose()?,
            outlet_code: input.outlet_code,
            pollutant: input.pollutant,
            measured_value: input.measured_value,
            measured_unit: input.measured_unit,
            severity: input.severity.into(),
            description: input.description,
            rectification_deadline: input.rectification_deadline,
            evidence: input
                .evidence
                .into_iter()
                .map(|e| findings::EvidenceInput {
                    file_name: e.file_name,
                    media_type: e.media_type,
                    size_bytes: e.size_bytes,
                    sha256: e.sha256,
                    captured_at: e.captured_at.map(DateTime::from),
                })
                .collect(),
            candidate_id: input
                .candidate_id
                .map(|id| ids::decode("ViolationCandidate", "input.candidateId", &id))
                .transpose()?,
        };
        let saved = findings::record(
            super::db(ctx)?,
            super::principal(ctx),
            input,
            idempotency_key.as_deref(),
        )
        .await?;
        // After the commit (inside `record`), so subscribers can load what they are told about.
        // A replayed retry wrote nothing and is not announced again.
        if saved.new
            && let Ok(bus) = ctx.data::<permit_core::events::EventBus>()
        {
            bus.publish(permit_core::events::Event::FindingRecorded {
                id: saved.finding.id,
            })
            .await;
        }
        Ok(Finding::new(saved.finding))
    }

    /// Moves a finding through its lifecycle; an impossible move is `INVALID_TRANSITION`.
    async fn advance_finding(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: AdvanceFindingInput,
    ) -> Result<Finding> {
        let id = ids::decode(FINDING, "id", &id)?;
        let reinspection = input
            .reinspection_id
            .map(|r| ids::decode(INSPECTION, "input.reinspectionId", &r))
            .transpose()?;
        let moved = findings::advance(
            super::db(ctx)?,
            super::principal(ctx),
            id,
            expected_version,
            input.to.into(),
            input.reason,
            reinspection,
        )
        .await?;
        Ok(Finding::new(moved))
    }

    /// Records an enforcement decision; a permit withdrawal withdraws the permit in the same
    /// transaction. Fines outside the article's range are refused.
    async fn record_enforcement_action(
        &self,
        ctx: &Context<'_>,
        input: RecordEnforcementActionInput,
        idempotency_key: Option<String>,
    ) -> Result<EnforcementAction> {
        let input = cases::RecordActionInput {
            finding_id: ids::decode(FINDING, "input.findingId", &input.finding_id)?,
            kind: input.kind.into(),
            decision_number: input.decision_number,
            decided_on: input.decided_on,
            amount_yuan: input.amount_yuan,
            days: input.days,
            typical_case: input.typical_case,
            notes: input.notes,
        };
        let saved = cases::record(
            super::db(ctx)?,
            super::principal(ctx),
            input,
            idempotency_key.as_deref(),
        )
        .await?;
        Ok(EnforcementAction(saved))
    }

    /// Registers an inspector of an enforcement agency in the caller's scope.
    async fn register_inspector(
        &self,
        ctx: &Context<'_>,
        input: RegisterInspectorInput,
    ) -> Result<Inspector> {
        let saved = inspectors::register(
            super::db(ctx)?,
            super::principal(ctx),
            &input.name,
            &input.agency_code,
            &input.certificate_number,
        )
        .await?;
        Ok(Inspector(saved))
    }

    /// Declares an inspector's conflict of interest with a unit: the inspector is recused from it.
    async fn declare_conflict(
        &self,
        ctx: &Context<'_>,
        input: DeclareConflictInput,
    ) -> Result<Conflict> {
        let saved = inspectors::declare_conflict(
            super::db(ctx)?,
            super::principal(ctx),
            ids::decode(INSPECTOR, "input.inspectorId", &input.inspector_id)?,
            ids::decode(UNIT, "input.unitId", &input.unit_id)?,
            &input.reason,
        )
        .await?;
        Ok(Conflict {
            inspector_id: ids::encode(INSPECTOR, saved.inspector_id),
            unit_id: ids::encode(UNIT, saved.unit_id),
            reason: saved.reason,
            declared_on: saved.declared_on,
        })
    }
}
