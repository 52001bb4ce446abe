//! Findings: violations an inspection found, coded to the Regulation; their evidence metadata,
//! lifecycle moves, the filter shared with patterns and exports, and recording and advancing one.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, NaiveDate};

use super::{
    EnforcementAction, EvidenceFile, FINDING, INSPECTION, Inspection, missing, parse_json_input,
};
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::{FindingSeverity, FindingStatus, ViolationCategory};
use crate::graphql::error::Result;
use crate::graphql::loaders::{
    ActionsOfFinding, EvidenceOfFinding, FilesOf, HistoryOfFinding, InspectionId, OutletId,
    PermitId, UnitId,
};
use crate::graphql::permits::{Outlet, PERMIT, Permit, PermitLimit};
use crate::graphql::plain::{self, PlainFields};
use crate::graphql::reference::{
    Agency, District, ViolationCode, load_agency, load_district, load_violation_code,
};
use crate::graphql::time::Time;
use crate::graphql::units::{UNIT, Unit};
use crate::graphql::{self, ids};
use entity::{finding_evidence, finding_transitions, findings as finding_rows};
use permit_core::domain::{access, findings};
use permit_core::error::AppError;

/// A violation found by an inspection, coded to the Regulation.
///
/// The second field is the feed cursor of the event that delivered it (subscriptions only).
/// The third is what a planned read fetched with it; the rest loads when asked.
pub struct Finding(
    pub finding_rows::Model,
    pub Option<String>,
    findings::FindingChildren,
);

impl Finding {
    pub fn new(row: finding_rows::Model) -> Self {
        Self(row, None, Default::default())
    }

    /// As `findingRecorded` delivers it, at `cursor` in the change feed.
    pub fn delivered(row: finding_rows::Model, cursor: String) -> Self {
        Self(row, Some(cursor), Default::default())
    }

    fn planned(planned: findings::PlannedFinding) -> Self {
        Self(planned.row, None, planned.children)
    }
}

plain::object_with_plain_fields!(Finding => FindingObject { finding });

impl PlainFields for FindingObject<'_> {
    const PLAIN: &'static [&'static str] = &[
        "cursor",
        "id",
        "category",
        "status",
        "severity",
        "foundOn",
        "permitVersion",
        "pollutant",
        "measuredValue",
        "measuredUnit",
        "permittedValue",
        "description",
        "rectificationDeadline",
        "version",
        "createdAt",
        "updatedAt",
    ];
}

#[Object(name = "Finding")]
impl<'a> FindingObject<'a> {
    /// Where the event that delivered this record lies in the change feed: set in `findingRecorded`
    /// payloads (pass it as `after` to resume there, here or to `changes`), null elsewhere.
    async fn cursor(&self) -> Option<&str> {
        self.1.as_deref()
    }
    async fn id(&self) -> ID {
        ids::encode(FINDING, self.0.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<graphql::history::Provenance>> {
        graphql::history::provenance(
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
        let permit = match &self.2.permit {
            Some(planned) => planned.clone(),
            None => graphql::load_one(ctx, PermitId(id)).await?,
        };
        Ok(permit.map(Permit::from))
    }
    async fn unit(&self, ctx: &Context<'_>) -> Result<Unit> {
        let unit = match &self.2.unit {
            Some(planned) => planned.clone(),
            None => graphql::load_one(ctx, UnitId(self.0.unit_id)).await?,
        };
        unit.map(Unit).ok_or_else(|| missing("unit of the finding"))
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, Some(&self.0.district_code)).await
    }
    async fn inspection(&self, ctx: &Context<'_>) -> Result<Option<Inspection>> {
        Ok(graphql::load_one(ctx, InspectionId(self.0.inspection_id))
            .await?
            .map(Inspection))
    }
    /// The outlet concerned (EX-1), with its limits as they stood on the finding's date.
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Option<Outlet>> {
        let Some(id) = self.0.outlet_id else {
            return Ok(None);
        };
        Ok(graphql::load_one(ctx, OutletId(id))
            .await?
            .map(|row| Outlet::at(row, self.0.permit_version)))
    }
    /// The permit limit the measurement was judged against (EX-1), as it stood on the
    /// finding's date: a later change of the permit leaves it as it was.
    async fn limit(&self, ctx: &Context<'_>) -> Result<Option<PermitLimit>> {
        let (Some(limit_id), Some(permit_id)) = (self.0.limit_id, self.0.permit_id) else {
            return Ok(None);
        };
        Ok(graphql::permits::limits_of(ctx, permit_id)
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
        let rows = graphql::load_one(ctx, EvidenceOfFinding(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Evidence).collect())
    }
    /// Uploaded evidence files (`uploadEvidence`), oldest first; download each at its
    /// `downloadPath`.
    async fn files(&self, ctx: &Context<'_>) -> Result<Vec<EvidenceFile>> {
        let rows = graphql::load_one(ctx, FilesOf::Finding(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(EvidenceFile).collect())
    }
    /// Every move of the lifecycle, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<FindingTransition>> {
        let rows = graphql::load_one(ctx, HistoryOfFinding(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(FindingTransition).collect())
    }
    async fn actions(&self, ctx: &Context<'_>) -> Result<Vec<EnforcementAction>> {
        let rows = graphql::load_one(ctx, ActionsOfFinding(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(EnforcementAction).collect())
    }
    /// The violation candidate this finding was recorded from, if any.
    async fn candidate(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<graphql::monitoring::ViolationCandidate>> {
        graphql::monitoring::candidate_of_finding(ctx, self.0.id).await
    }
    /// The readings it rests on: its candidate's (an EX-1's reading above the limit).
    async fn readings(&self, ctx: &Context<'_>) -> Result<Vec<graphql::monitoring::Reading>> {
        graphql::monitoring::readings_of_finding(ctx, self.0.id).await
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
        Ok(graphql::load_one(ctx, InspectionId(id))
            .await?
            .map(Inspection))
    }
    /// Who moved it. Null for INTEGRATOR.
    async fn actor(&self, ctx: &Context<'_>) -> Option<String> {
        access::official_subject(graphql::principal(ctx), &self.0.actor_subject)
    }
    async fn actor_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.0.actor_agency.as_deref()).await
    }
    async fn at(&self) -> Time {
        self.0.created_at.into()
    }
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
                .map(|id| ids::decode(graphql::campaigns::CAMPAIGN, "filter.campaignId", &id))
                .transpose()?,
        })
    }
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

#[derive(Default)]
pub struct FindingQuery;

#[Object]
impl FindingQuery {
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
        let list = findings::list(graphql::principal(ctx), &filter)?;
        let plan = graphql::planning::finding_plan(&graphql::planning::nodes_of(&ctx.look_ahead()));
        let page = list
            .page_planned(
                graphql::db(ctx)?,
                &connection::page_args(first, after, last, before),
                plan,
                graphql::planning::total_count_selected(ctx),
            )
            .await?;
        Ok(connection::from_page(
            page,
            list.count_query(),
            Finding::planned,
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
        let db = graphql::db(ctx)?;
        let Some(found) = findings::get(db, graphql::principal(ctx), id).await? else {
            return Ok(None);
        };
        Ok(match as_of {
            Some(at) => findings::as_of(db, found, at.into())
                .await?
                .map(Finding::new),
            None => Some(Finding::new(found)),
        })
    }
}

#[derive(Default)]
pub struct FindingMutation;

#[Object]
impl FindingMutation {
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
            graphql::db(ctx)?,
            graphql::reference_data(ctx).await?,
            graphql::principal(ctx),
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
            graphql::db(ctx)?,
            graphql::principal(ctx),
            id,
            expected_version,
            input.to.into(),
            input.reason,
            reinspection,
        )
        .await?;
        Ok(Finding::new(moved))
    }
}
