//! Inspections (现场检查 and non-site checks) of a unit: the record, its checklist and case
//! text, the filter, and recording one.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;

use super::{EvidenceFile, Finding, INSPECTION, INSPECTOR, Inspector, missing, parse_json_input};
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::{InspectionMode, InspectionSource};
use crate::graphql::error::Result;
use crate::graphql::loaders::{
    FilesOf, FindingsOfInspection, InspectorId, TeamOfInspection, UnitId,
};
use crate::graphql::reference::{Agency, District, load_agency, load_district};
use crate::graphql::time::Time;
use crate::graphql::units::{UNIT, Unit};
use crate::graphql::{self, ids};
use entity::inspections as inspection_rows;
use permit_core::domain::{access, inspections};
use permit_core::error::AppError;

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
        let principal = graphql::principal(ctx);
        if access::may_see_case_text(principal, true) {
            return Ok(true);
        }
        if !access::may_see_case_text(principal, false) {
            return Ok(false);
        }
        let open = graphql::load_one(ctx, graphql::loaders::OpenFindingsOfInspection(self.0.id))
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
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<graphql::history::Provenance>> {
        graphql::history::provenance(
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
        graphql::load_one(ctx, UnitId(self.0.unit_id))
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
        if !access::may_see_inspector_names(graphql::principal(ctx)) {
            return Ok(None);
        }
        let loader = graphql::loader(ctx)?;
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
        let rows = graphql::load_one(ctx, FindingsOfInspection(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Finding::new).collect())
    }
    /// Its ledger checks (台账, `recordLedgerCheck`), by period. Their notes are case text,
    /// shown where the inspection's notes are.
    async fn ledger_checks(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<graphql::monitoring::LedgerCheck>> {
        let notes_visible = self.case_text_visible(ctx).await?;
        let rows = graphql::load_one(ctx, graphql::loaders::LedgerChecksOfInspection(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|row| graphql::monitoring::LedgerCheck::new(row, notes_visible))
            .collect())
    }
    /// Uploaded evidence files (`uploadEvidence`), oldest first. Case material like the notes:
    /// empty for INTEGRATOR while a finding of the inspection is open.
    async fn files(&self, ctx: &Context<'_>) -> Result<Vec<EvidenceFile>> {
        let rows = graphql::load_one(ctx, FilesOf::Inspection(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(EvidenceFile).collect())
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
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
                .map(|id| ids::decode(graphql::campaigns::CAMPAIGN, "filter.campaignId", &id))
                .transpose()?,
            date_from: self.date_from,
            date_to: self.date_to,
        })
    }
}

/// `InspectionFilter` as JSON, to the domain's filter (exports).
pub fn inspection_filter_from_json(
    json: Option<serde_json::Value>,
) -> Result<inspections::InspectionFilter, AppError> {
    parse_json_input::<InspectionFilter>(json)?
        .unwrap_or_default()
        .into_domain()
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

#[derive(Default)]
pub struct InspectionQuery;

#[Object]
impl InspectionQuery {
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
        let list = inspections::list(graphql::principal(ctx), &filter)?;
        let page = list
            .page(
                graphql::db(ctx)?,
                &connection::page_args(first, after, last, before),
            )
            .await?;
        Ok(connection::from_page(page, list.count_query(), Inspection))
    }

    async fn inspection(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Inspection>> {
        let id = ids::decode(INSPECTION, "id", &id)?;
        Ok(
            inspections::get(graphql::db(ctx)?, graphql::principal(ctx), id)
                .await?
                .map(Inspection),
        )
    }
}

#[derive(Default)]
pub struct InspectionMutation;

#[Object]
impl InspectionMutation {
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
                .map(|id| ids::decode(graphql::campaigns::CAMPAIGN, "input.campaignId", &id))
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
            graphql::db(ctx)?,
            graphql::principal(ctx),
            input,
            idempotency_key.as_deref(),
        )
        .await?;
        Ok(Inspection(saved))
    }
}
