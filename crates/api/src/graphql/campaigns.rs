//! Campaigns: coverage, the double-random draw, summary reports.

use super::time::Time;
use crate::graphql::error::Result;
use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::NaiveDate;

use super::connection::{self, Conn};
use super::enforcement::Inspector;
use super::enums::{CampaignPhaseKind, DrawKind, ManagementCategory, SamplingPeriod};
use super::ids;
use super::loaders::{InspectorId, UnitId};
use super::reference::{Agency, District, load_agency, load_district};
use super::units::Unit;
use entity::{
    campaign_phases, campaign_sampling_rules, campaigns as campaign_rows, random_draw_items,
    random_draws, summary_reports,
};
use permit_core::domain::page::{DEFAULT_PAGE_SIZE, Page, SortValue};
use permit_core::domain::{campaigns, draws};
use permit_core::error::AppError;

pub const CAMPAIGN: &str = "Campaign";
pub const DRAW: &str = "RandomDraw";

/// A special enforcement campaign (专项行动).
pub struct Campaign(pub campaign_rows::Model);

#[Object]
impl Campaign {
    async fn id(&self) -> ID {
        ids::encode(CAMPAIGN, self.0.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<super::history::Provenance>> {
        super::history::provenance(
            ctx,
            permit_core::domain::changes::ChangeKind::Campaign,
            self.0.id,
        )
        .await
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn starts_on(&self) -> NaiveDate {
        self.0.starts_on
    }
    async fn ends_on(&self) -> NaiveDate {
        self.0.ends_on
    }
    /// The category every unit of which must be inspected ("全覆盖"), normally KEY.
    async fn coverage_category(&self) -> ManagementCategory {
        self.0.coverage_category.into()
    }
    async fn coverage_deadline(&self) -> NaiveDate {
        self.0.coverage_deadline
    }
    async fn summary_deadline(&self) -> NaiveDate {
        self.0.summary_deadline
    }
    async fn phases(&self, ctx: &Context<'_>) -> Result<Vec<CampaignPhase>> {
        Ok(campaigns::phases_of(super::db(ctx)?, self.0.id)
            .await?
            .into_iter()
            .map(CampaignPhase)
            .collect())
    }
    async fn sampling_rules(&self, ctx: &Context<'_>) -> Result<Vec<SamplingRule>> {
        Ok(campaigns::rules_of(super::db(ctx)?, self.0.id)
            .await?
            .into_iter()
            .map(SamplingRule)
            .collect())
    }
    /// Coverage of the coverage category, per district in the caller's scope and overall.
    async fn coverage(
        &self,
        ctx: &Context<'_>,
        district: Option<String>,
    ) -> Result<CampaignCoverage> {
        let (districts, overall) = campaigns::coverage(
            super::db(ctx)?,
            super::principal(ctx),
            &self.0,
            district.as_deref(),
        )
        .await?;
        Ok(CampaignCoverage {
            overall: CoverageFigures(overall),
            districts: districts.into_iter().map(CoverageFigures).collect(),
        })
    }
    /// Units of the coverage category not yet inspected for the campaign. `first` at most 100.
    async fn remaining_units(
        &self,
        ctx: &Context<'_>,
        district: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Unit>> {
        let list = campaigns::remaining_units(super::principal(ctx), &self.0, district.as_deref())?;
        let page = list
            .page(
                super::db(ctx)?,
                &connection::page_args(first, after, None, None),
            )
            .await?;
        Ok(connection::from_page(page, list.count_query(), Unit))
    }
    /// The district's summary as the data stands now.
    async fn summary(&self, ctx: &Context<'_>, district: String) -> Result<CampaignSummary> {
        let summary =
            campaigns::summary(super::db(ctx)?, super::principal(ctx), &self.0, &district).await?;
        Ok(CampaignSummary(summary))
    }
    /// Submitted summary reports the caller may see.
    async fn summary_reports(&self, ctx: &Context<'_>) -> Result<Vec<SummaryReport>> {
        let rows = campaigns::reports(super::db(ctx)?, super::principal(ctx), self.0.id).await?;
        Ok(rows.into_iter().map(SummaryReport).collect())
    }
    /// Districts that have not submitted (SUPERVISOR and ADMIN).
    async fn missing_summary_reports(&self, ctx: &Context<'_>) -> Result<Vec<District>> {
        let codes =
            campaigns::missing_reports(super::db(ctx)?, super::principal(ctx), self.0.id).await?;
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            if let Some(d) = load_district(ctx, Some(&code)).await? {
                out.push(d);
            }
        }
        Ok(out)
    }
    /// This campaign's draws the caller may see, newest first.
    async fn random_draws(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<RandomDraw>> {
        let listing = draws::list(super::principal(ctx), Some(self.0.id))?;
        if after.is_some() || last.is_some() || before.is_some() {
            // Paging on within one campaign: the root list's statement, filtered to it.
            return connection::listed(
                ctx,
                listing,
                connection::page_args(first, after, last, before),
                RandomDraw,
            )
            .await;
        }
        // The first page of every campaign listed: one batched statement, and one count.
        let limit = connection::nested_first(first.unwrap_or(DEFAULT_PAGE_SIZE as i32))?;
        let rows = super::load_one(
            ctx,
            super::loaders::DrawsOfCampaign {
                campaign_id: self.0.id,
                limit: limit + 1,
            },
        )
        .await?
        .unwrap_or_default();
        let page = Page::first_of(rows, limit, |d: &random_draws::Model| {
            (SortValue::Int(d.id), d.id)
        });
        Ok(connection::from_page(
            page,
            connection::Counted::DrawsOfCampaign(self.0.id),
            RandomDraw,
        ))
    }
}

pub struct CampaignPhase(pub campaign_phases::Model);

#[Object]
impl CampaignPhase {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> CampaignPhaseKind {
        self.0.kind.into()
    }
    async fn starts_on(&self) -> NaiveDate {
        self.0.starts_on
    }
    async fn ends_on(&self) -> NaiveDate {
        self.0.ends_on
    }
}

/// A share of a category to be drawn per period (双随机 quotas are local practice).
pub struct SamplingRule(pub campaign_sampling_rules::Model);

#[Object]
impl SamplingRule {
    async fn category(&self) -> ManagementCategory {
        self.0.management_category.into()
    }
    /// 0..1 of the stratum per period.
    async fn share(&self) -> f64 {
        self.0.share
    }
    async fn period(&self) -> SamplingPeriod {
        self.0.period.into()
    }
}

#[derive(SimpleObject)]
pub struct CampaignCoverage {
    overall: CoverageFigures,
    districts: Vec<CoverageFigures>,
}

pub struct CoverageFigures(pub campaigns::Coverage);

#[Object]
impl CoverageFigures {
    /// Null for the overall figures.
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, self.0.district_code.as_deref()).await
    }
    async fn in_scope(&self) -> i64 {
        self.0.in_scope
    }
    async fn inspected(&self) -> i64 {
        self.0.inspected
    }
    async fn remaining(&self) -> i64 {
        self.0.remaining
    }
    /// inspected / in scope (0..1).
    async fn share_done(&self) -> f64 {
        self.0.share_done
    }
    /// At the pace so far, every unit in scope is inspected by the coverage deadline.
    async fn on_course(&self) -> bool {
        self.0.on_course
    }
}

#[derive(SimpleObject)]
pub struct CodeCount {
    code: String,
    findings: i64,
}

#[derive(SimpleObject)]
pub struct CategoryCount {
    category: String,
    findings: i64,
}

/// A district's campaign summary (总结报告), computed from the data.
pub struct CampaignSummary(pub campaigns::Summary);

#[Object]
impl CampaignSummary {
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, Some(&self.0.district_code)).await
    }
    async fn in_scope(&self) -> i64 {
        self.0.in_scope
    }
    async fn inspected(&self) -> i64 {
        self.0.inspected
    }
    async fn inspections(&self) -> i64 {
        self.0.inspections
    }
    async fn findings(&self) -> i64 {
        self.0.findings
    }
    async fn by_category(&self) -> Vec<CategoryCount> {
        self.0
            .by_category
            .iter()
            .map(|c| CategoryCount {
                category: c.category.clone(),
                findings: c.findings,
            })
            .collect()
    }
    async fn by_code(&self) -> Vec<CodeCount> {
        self.0
            .by_code
            .iter()
            .map(|c| CodeCount {
                code: c.code.clone(),
                findings: c.findings,
            })
            .collect()
    }
    /// Findings that reached CASE_FILED.
    async fn cases(&self) -> i64 {
        self.0.cases
    }
    async fn fines_yuan(&self) -> i64 {
        self.0.fines_yuan
    }
    async fn rectification_ordered(&self) -> i64 {
        self.0.rectification_ordered
    }
    async fn rectified(&self) -> i64 {
        self.0.rectified
    }
    /// rectified / ordered (0..1).
    async fn rectification_rate(&self) -> f64 {
        self.0.rectification_rate
    }
    /// Feedback the district's enforcement sent to permit offices during the campaign.
    async fn feedback_sent(&self) -> i64 {
        self.0.feedback_sent
    }
    async fn computed_on(&self) -> NaiveDate {
        self.0.computed_on
    }
}

/// A submitted summary report: the snapshot frozen at submission.
pub struct SummaryReport(pub summary_reports::Model);

#[Object]
impl SummaryReport {
    async fn id(&self) -> ID {
        ids::encode("SummaryReport", self.0.id)
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, Some(&self.0.district_code)).await
    }
    async fn submitted_at(&self) -> Time {
        self.0.submitted_at.into()
    }
    async fn submitted_by(&self) -> &str {
        &self.0.submitted_by_subject
    }
    async fn submitted_by_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.0.submitted_by_agency.as_deref()).await
    }
    /// Submitted after the campaign's summary deadline.
    async fn late(&self) -> bool {
        self.0.late
    }
    async fn snapshot(&self) -> Result<CampaignSummary> {
        let summary: campaigns::Summary = serde_json::from_value(self.0.snapshot.clone())
            .map_err(|e| AppError::internal(e.to_string()))?;
        Ok(CampaignSummary(summary))
    }
}

/// A stored double-random draw: frozen inputs, seed, algorithm version and result.
pub struct RandomDraw(pub random_draws::Model);

#[Object]
impl RandomDraw {
    async fn id(&self) -> ID {
        ids::encode(DRAW, self.0.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<super::history::Provenance>> {
        super::history::provenance(
            ctx,
            permit_core::domain::changes::ChangeKind::RandomDraw,
            self.0.id,
        )
        .await
    }
    async fn kind(&self) -> DrawKind {
        self.0.kind.into()
    }
    async fn campaign_id(&self) -> Option<ID> {
        self.0.campaign_id.map(|id| ids::encode(CAMPAIGN, id))
    }
    /// Null for municipal draws (joint groups).
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, self.0.district_code.as_deref()).await
    }
    /// The stratum drawn from.
    async fn category(&self) -> Option<ManagementCategory> {
        self.0.management_category.map(Into::into)
    }
    async fn requested_count(&self) -> i32 {
        self.0.requested_count
    }
    async fn inspectors_per_unit(&self) -> i32 {
        self.0.inspectors_per_unit
    }
    /// The seed, as decimal text of a 64-bit number.
    async fn seed(&self) -> &str {
        &self.0.seed
    }
    async fn algorithm_version(&self) -> &str {
        &self.0.algorithm_version
    }
    /// SHA-256 of the frozen inputs.
    async fn input_digest(&self) -> &str {
        &self.0.input_digest
    }
    /// The candidate list with weights, the inspector list and the declared conflicts, as used.
    /// Null for INTEGRATOR and for other districts (they see the published result).
    async fn frozen_inputs(&self, ctx: &Context<'_>) -> Option<Json<serde_json::Value>> {
        permit_core::domain::access::may_see_draw_inputs(
            super::principal(ctx),
            self.0.district_code.as_deref(),
        )
        .then(|| Json(self.0.frozen_inputs.clone()))
    }
    /// Re-runs the draw from its frozen inputs and seed: true when the result is identical.
    async fn verified(&self) -> Result<bool> {
        Ok(draws::verify(&self.0)?)
    }
    async fn drawn_at(&self) -> Time {
        self.0.drawn_at.into()
    }
    /// The official who drew (null for INTEGRATOR: officials are not named to it).
    async fn drawn_by(&self, ctx: &Context<'_>) -> Option<String> {
        permit_core::domain::access::official_subject(
            super::principal(ctx),
            &self.0.drawn_by_subject,
        )
    }
    async fn published(&self) -> bool {
        self.0.published
    }
    async fn published_on(&self) -> Option<NaiveDate> {
        self.0.published_on
    }
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<RandomDrawItem>> {
        Ok(draws::items_of(super::db(ctx)?, self.0.id)
            .await?
            .into_iter()
            .map(RandomDrawItem)
            .collect())
    }
}

pub struct RandomDrawItem(pub random_draw_items::Model);

#[Object]
impl RandomDrawItem {
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// The drawn unit (null for joint groups, or when outside the caller's scope).
    async fn unit(&self, ctx: &Context<'_>) -> Result<Option<Unit>> {
        let Some(id) = self.0.unit_id else {
            return Ok(None);
        };
        Ok(super::load_one(ctx, UnitId(id)).await?.map(Unit))
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, self.0.district_code.as_deref()).await
    }
    /// The joint group dealt to the district.
    async fn group_label(&self) -> Option<&str> {
        self.0.group_label.as_deref()
    }
    /// The drawn team (not for INTEGRATOR).
    async fn inspectors(&self, ctx: &Context<'_>) -> Result<Option<Vec<Inspector>>> {
        if !permit_core::domain::access::may_see_inspector_names(super::principal(ctx)) {
            return Ok(None);
        }
        let ids: Vec<i64> =
            serde_json::from_value(self.0.inspector_ids.clone()).unwrap_or_default();
        let found = super::loader(ctx)?
            .load_many(ids.iter().map(|i| InspectorId(*i)))
            .await
            .map_err(AppError::from)?;
        Ok(Some(
            ids.iter()
                .filter_map(|i| found.get(&InspectorId(*i)).cloned())
                .map(Inspector)
                .collect(),
        ))
    }
}

#[derive(InputObject)]
pub struct PhaseInput {
    name: String,
    kind: CampaignPhaseKind,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

#[derive(InputObject)]
pub struct SamplingRuleInput {
    category: ManagementCategory,
    /// 0..1 of the stratum per period.
    share: f64,
    period: SamplingPeriod,
}

#[derive(InputObject)]
pub struct CreateCampaignInput {
    name: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    /// Defaults to KEY.
    coverage_category: Option<ManagementCategory>,
    coverage_deadline: NaiveDate,
    summary_deadline: NaiveDate,
    #[graphql(default)]
    phases: Vec<PhaseInput>,
    #[graphql(default)]
    sampling_rules: Vec<SamplingRuleInput>,
}

#[derive(InputObject)]
pub struct DrawRandomInspectionsInput {
    campaign_id: Option<ID>,
    /// Required for municipal callers; district callers draw in their own district.
    district_code: Option<String>,
    category: ManagementCategory,
    /// Defaults to the campaign's sampling share of the stratum.
    count: Option<i32>,
    /// At least 2 (on-site checks).
    #[graphql(default = 2)]
    inspectors_per_unit: i32,
    /// Decimal text of a 64-bit seed, to reproduce a draw; random when absent.
    seed: Option<String>,
}

#[derive(InputObject)]
pub struct DrawJointGroupsInput {
    campaign_id: Option<ID>,
    /// Group labels, e.g. 第一组.
    groups: Vec<String>,
    /// Districts to cover; all when empty.
    #[graphql(default)]
    district_codes: Vec<String>,
    seed: Option<String>,
}

#[derive(InputObject)]
pub struct SubmitSummaryReportInput {
    campaign_id: ID,
    /// Defaults to the caller's district.
    district_code: Option<String>,
}

fn parse_seed(seed: Option<String>) -> Result<Option<u64>> {
    seed.map(|s| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| AppError::invalid("input.seed", "decimal text of a 64-bit number").into())
    })
    .transpose()
}

#[derive(Default)]
pub struct CampaignQuery;

#[Object]
impl CampaignQuery {
    /// Special campaigns, the latest start first. `first` at most 100.
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Campaign>> {
        let listing = campaigns::list(super::principal(ctx))?;
        connection::listed(
            ctx,
            listing,
            connection::page_args(first, after, last, before),
            Campaign,
        )
        .await
    }

    async fn campaign(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Campaign>> {
        let id = ids::decode(CAMPAIGN, "id", &id)?;
        Ok(campaigns::get(super::db(ctx)?, super::principal(ctx), id)
            .await?
            .map(Campaign))
    }

    /// Draws the caller may see (its district's, municipal ones, published ones), newest first.
    /// `first` at most 100.
    async fn random_draws(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<RandomDraw>> {
        let campaign_id = campaign_id
            .map(|id| ids::decode(CAMPAIGN, "campaignId", &id))
            .transpose()?;
        let listing = draws::list(super::principal(ctx), campaign_id)?;
        connection::listed(
            ctx,
            listing,
            connection::page_args(first, after, last, before),
            RandomDraw,
        )
        .await
    }

    async fn random_draw(&self, ctx: &Context<'_>, id: ID) -> Result<Option<RandomDraw>> {
        let id = ids::decode(DRAW, "id", &id)?;
        Ok(draws::get(super::db(ctx)?, super::principal(ctx), id)
            .await?
            .map(RandomDraw))
    }
}

#[derive(Default)]
pub struct CampaignMutation;

#[Object]
impl CampaignMutation {
    /// Creates a campaign (SUPERVISOR, ADMIN).
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        input: CreateCampaignInput,
    ) -> Result<Campaign> {
        let input = campaigns::CreateCampaignInput {
            name: input.name,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            coverage_category: input
                .coverage_category
                .map(Into::into)
                .unwrap_or(entity::enums::ManagementCategory::Key),
            coverage_deadline: input.coverage_deadline,
            summary_deadline: input.summary_deadline,
            phases: input
                .phases
                .into_iter()
                .map(|p| campaigns::PhaseInput {
                    name: p.name,
                    kind: p.kind.into(),
                    starts_on: p.starts_on,
                    ends_on: p.ends_on,
                })
                .collect(),
            sampling: input
                .sampling_rules
                .into_iter()
                .map(|r| campaigns::SamplingInput {
                    category: r.category.into(),
                    share: r.share,
                    period: r.period.into(),
                })
                .collect(),
        };
        Ok(Campaign(
            campaigns::create(super::db(ctx)?, super::principal(ctx), input).await?,
        ))
    }

    /// Draws units and inspector teams (双随机) from the target list as it stands; the inputs,
    /// seed and algorithm are stored so the draw can be re-run and checked.
    async fn draw_random_inspections(
        &self,
        ctx: &Context<'_>,
        input: DrawRandomInspectionsInput,
    ) -> Result<RandomDraw> {
        let count = input
            .count
            .map(|c| {
                u32::try_from(c).map_err(|_| AppError::invalid("input.count", "must be positive"))
            })
            .transpose()?;
        let per_unit = u32::try_from(input.inspectors_per_unit)
            .map_err(|_| AppError::invalid("input.inspectorsPerUnit", "must be positive"))?;
        let input = draws::DrawUnitsInput {
            campaign_id: input
                .campaign_id
                .map(|id| ids::decode(CAMPAIGN, "input.campaignId", &id))
                .transpose()?,
            district_code: input.district_code,
            category: input.category.into(),
            count,
            inspectors_per_unit: per_unit,
            seed: parse_seed(input.seed)?,
        };
        Ok(RandomDraw(
            draws::draw_units(super::db(ctx)?, super::principal(ctx), input).await?,
        ))
    }

    /// Deals municipal joint groups to districts at random (SUPERVISOR, ADMIN).
    async fn draw_joint_groups(
        &self,
        ctx: &Context<'_>,
        input: DrawJointGroupsInput,
    ) -> Result<RandomDraw> {
        let campaign_id = input
            .campaign_id
            .map(|id| ids::decode(CAMPAIGN, "input.campaignId", &id))
            .transpose()?;
        let saved = draws::draw_joint_groups(
            super::db(ctx)?,
            super::principal(ctx),
            campaign_id,
            input.groups,
            input.district_codes,
            parse_seed(input.seed)?,
        )
        .await?;
        Ok(RandomDraw(saved))
    }

    /// Publishes a draw's result after its inspections; other districts can then read it.
    async fn publish_random_draw(&self, ctx: &Context<'_>, id: ID) -> Result<RandomDraw> {
        let id = ids::decode(DRAW, "id", &id)?;
        Ok(RandomDraw(
            draws::publish(super::db(ctx)?, super::principal(ctx), id).await?,
        ))
    }

    /// Freezes the district's summary; after the deadline it is marked late.
    async fn submit_summary_report(
        &self,
        ctx: &Context<'_>,
        input: SubmitSummaryReportInput,
    ) -> Result<SummaryReport> {
        let campaign_id = ids::decode(CAMPAIGN, "input.campaignId", &input.campaign_id)?;
        let saved = campaigns::submit_summary(
            super::db(ctx)?,
            super::principal(ctx),
            campaign_id,
            input.district_code.as_deref(),
        )
        .await?;
        Ok(SummaryReport(saved))
    }
}
