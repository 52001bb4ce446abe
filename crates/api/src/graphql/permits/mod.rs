//! Permits: `permits`, `permit`, `permitByNumber`, and the permit mutations (issue, change,
//! renew, revoke, cancel, withdraw) plus `registerDischarge`.

use super::time::Time;
use crate::graphql::error::Result;
use crate::graphql::plain::{self, PlainFields};
use async_graphql::{Context, ID, InputObject, Json, Object};
use chrono::NaiveDate;

use super::connection::{self, Conn};
use super::enums::{
    AveragingPeriod, ManagementCategory, OrderDirection, OutletCategory, OutletMedium,
    PermitChangeKind, PermitStatus,
};
use super::loaders::{LimitsOfPermit, OutletsOfPermit, UnitId, VersionsOfPermit};
use super::reference::{Agency, District, load_agency, load_district};
use super::units::{UNIT, Unit};
use super::{ids, planning};
use entity::{outlets, permit_limits, permit_versions, permits};
use permit_core::domain::page::Page;
use permit_core::domain::permits as rules;
use permit_core::domain::{clock, findings};
use permit_core::error::AppError;

mod mutations;

pub use mutations::PermitMutation;

pub const PERMIT: &str = "Permit";

/// A pollutant-discharge permit (排污许可证), as it is now or as it was at `asOf`.
pub struct Permit {
    pub row: permits::Model,
    /// The date a historical read is about (`asOf`); `None` for the present.
    pub as_of: Option<NaiveDate>,
    /// What a planned read fetched with the permit; the rest loads when asked.
    pub children: rules::PermitChildren,
}

impl From<permits::Model> for Permit {
    fn from(row: permits::Model) -> Self {
        Self {
            row,
            as_of: None,
            children: Default::default(),
        }
    }
}

impl From<rules::PlannedPermit> for Permit {
    fn from(planned: rules::PlannedPermit) -> Self {
        Self {
            row: planned.row,
            as_of: None,
            children: planned.children,
        }
    }
}

impl Permit {
    fn day(&self) -> NaiveDate {
        self.as_of.unwrap_or_else(clock::today)
    }
}

plain::object_with_plain_fields!(Permit => PermitObject { permit });

impl PlainFields for PermitObject<'_> {
    const PLAIN: &'static [&'static str] = &[
        "id",
        "permitNumber",
        "status",
        "managementCategory",
        "issuedOn",
        "validFrom",
        "validTo",
        "renewalDue",
        "version",
        "createdAt",
        "updatedAt",
    ];
}

#[Object(name = "Permit")]
impl<'a> PermitObject<'a> {
    async fn id(&self) -> ID {
        ids::encode(PERMIT, self.row.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<super::history::Provenance>> {
        super::history::provenance(
            ctx,
            permit_core::domain::changes::ChangeKind::Permit,
            self.row.id,
        )
        .await
    }
    /// HJ 608: the unit's credit code + 3-digit sequence + `P`.
    async fn permit_number(&self) -> &str {
        &self.row.permit_number
    }
    /// The status today: a VALID permit past `validTo` reads EXPIRED.
    async fn status(&self) -> PermitStatus {
        rules::effective_status(&self.row, self.day()).into()
    }
    async fn management_category(&self) -> ManagementCategory {
        self.row.management_category.into()
    }
    async fn issued_on(&self) -> NaiveDate {
        self.row.issued_on
    }
    async fn valid_from(&self) -> NaiveDate {
        self.row.valid_from
    }
    async fn valid_to(&self) -> NaiveDate {
        self.row.valid_to
    }
    /// Within 60 days of expiry and still valid: renewal must be applied for (Art 14).
    async fn renewal_due(&self) -> bool {
        rules::renewal_due(&self.row, self.day())
    }
    /// Optimistic-locking version: pass it as `expectedVersion` when changing the permit.
    async fn version(&self) -> i32 {
        self.row.version
    }
    async fn unit(&self, ctx: &Context<'_>) -> Result<Unit> {
        let unit = match &self.children.unit {
            Some(planned) => planned.clone(),
            None => super::load_one(ctx, UnitId(self.row.unit_id)).await?,
        };
        unit.map(Unit).ok_or_else(|| {
            AppError::NotFound(format!("unit of permit {}", self.row.permit_number)).into()
        })
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, Some(&self.row.district_code)).await
    }
    async fn issuing_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, Some(&self.row.issuing_agency_code)).await
    }
    /// Outlets (排放口) of the version read (the current one, or the one in force at `asOf`).
    /// An outlet keeps its id across changes while its code stays.
    async fn outlets(&self, ctx: &Context<'_>) -> Result<Vec<Outlet>> {
        let version = self.row.version;
        let rows = match &self.children.outlets {
            Some(planned) => planned.clone(),
            None => super::load_one(ctx, OutletsOfPermit(self.row.id))
                .await?
                .unwrap_or_default(),
        };
        Ok(rows
            .into_iter()
            .filter(|o| rules::outlet_in_version(o, version))
            .map(|row| Outlet {
                row,
                version: Some(version),
                permit_limits: self.children.limits.clone(),
            })
            .collect())
    }
    /// All permitted limits of the version read, across outlets.
    async fn limits(&self, ctx: &Context<'_>) -> Result<Vec<PermitLimit>> {
        let version = self.row.version;
        let limits = match &self.children.limits {
            Some(planned) => planned.to_vec(),
            None => limits_of(ctx, self.row.id).await?,
        };
        Ok(limits
            .into_iter()
            .filter(|l| rules::limit_in_version(l, version))
            .map(PermitLimit)
            .collect())
    }
    /// The outlets and limits of the version read (the current one, or the one in force at
    /// `asOf`), as recorded with that version. `outlets` and `limits` give the current items.
    async fn permitted_items(&self, ctx: &Context<'_>) -> Result<Json<serde_json::Value>> {
        let versions = super::load_one(ctx, VersionsOfPermit(self.row.id))
            .await?
            .unwrap_or_default();
        Ok(Json(
            versions
                .into_iter()
                .rfind(|v| v.version <= self.row.version)
                .map(|v| camel_keys(v.snapshot))
                .unwrap_or(serde_json::Value::Null),
        ))
    }
    /// The self-monitoring plan (Art 19) of the version read, across outlets.
    async fn monitoring_requirements(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::monitoring::MonitoringRequirement>> {
        super::monitoring::requirements(ctx, self.row.id, None, Some(self.row.version)).await
    }
    /// The execution reports (Art 22) the version read requires.
    async fn report_duties(&self, ctx: &Context<'_>) -> Result<Vec<super::monitoring::ReportDuty>> {
        super::monitoring::duties(ctx, self.row.id, self.row.version).await
    }
    /// The execution reports recorded for the permit, oldest period first.
    async fn execution_reports(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::monitoring::ExecutionReport>> {
        super::monitoring::reports_of(ctx, self.row.id).await
    }
    /// Every version, oldest first: history is never overwritten.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<PermitVersion>> {
        let rows = super::load_one(ctx, VersionsOfPermit(self.row.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(PermitVersion).collect())
    }
    /// Findings on this permit in the caller's finding scope, newest first (`first` 1 to 100;
    /// `after` pages on with the same cursors as `findings`).
    async fn findings(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "planning::PERMIT_FINDINGS_DEFAULT_FIRST")] first: i32,
        after: Option<String>,
    ) -> Result<Conn<super::enforcement::Finding>> {
        // Boxed: paging on reads inline, and every field future of a permit would be as large
        // as this one's (`load_one`; issue 15's profile: copying them was 3 % of Q2).
        Box::pin(self.findings_page(ctx, first, after)).await
    }
    async fn created_at(&self) -> Time {
        self.row.created_at.into()
    }
    async fn updated_at(&self) -> Time {
        self.row.updated_at.into()
    }
}

impl Permit {
    async fn findings_page(
        &self,
        ctx: &Context<'_>,
        first: i32,
        after: Option<String>,
    ) -> Result<Conn<super::enforcement::Finding>> {
        use super::enforcement::Finding;
        let limit = connection::nested_first(first)?;
        let count = connection::Counted::FindingsOfPermit(self.row.id);
        if after.is_some() {
            // Paging on within one permit: the root list's statement, filtered to it.
            let filter = findings::FindingFilter {
                permit_id: Some(self.row.id),
                ..Default::default()
            };
            let list = findings::list(super::principal(ctx), &filter)?;
            let args = connection::page_args(Some(limit as i32), after, None, None);
            let page = list.page(super::db(ctx)?, &args).await?;
            return Ok(connection::from_page(page, count, Finding::new));
        }
        // Read with the permit when the query was planned for this page size.
        if let Some(planned) = &self.children.newest_findings
            && planned.limit == limit + 1
        {
            let page = Page::first_of(planned.rows.clone(), limit, findings::cursor_key);
            return Ok(connection::from_page(page, count, Finding::new));
        }
        // Otherwise the first page of every permit listed: one batched statement.
        let rows = super::load_one(
            ctx,
            super::loaders::FindingsOfPermit {
                permit_id: self.row.id,
                limit: limit + 1,
            },
        )
        .await?
        .unwrap_or_default();
        let page = Page::first_of(rows, limit, findings::cursor_key);
        Ok(connection::from_page(page, count, Finding::new))
    }
}

/// The keys of a stored snapshot as GraphQL spells fields (`concentration_limit` →
/// `concentrationLimit`): snapshots are stored as written, old ones with Rust's snake_case.
pub(crate) fn camel_keys(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let mut camel = String::with_capacity(key.len());
                    let mut upper = false;
                    for c in key.chars() {
                        if c == '_' {
                            upper = true;
                        } else if upper {
                            camel.extend(c.to_uppercase());
                            upper = false;
                        } else {
                            camel.push(c);
                        }
                    }
                    (camel, camel_keys(value))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

pub(crate) async fn limits_of(
    ctx: &Context<'_>,
    permit_id: i64,
) -> Result<Vec<permit_limits::Model>> {
    Ok(super::load_one(ctx, LimitsOfPermit(permit_id))
        .await?
        .unwrap_or_default())
}

/// An outlet: `DA###` air, `DW###` water; main or general.
pub struct Outlet {
    row: outlets::Model,
    /// The permit version whose limits it shows (`None`: the current ones).
    version: Option<i32>,
    /// Every limit of its permit, when a planned read fetched them with the permit.
    permit_limits: Option<std::sync::Arc<Vec<permit_limits::Model>>>,
}

impl Outlet {
    pub fn at(row: outlets::Model, version: Option<i32>) -> Self {
        Self {
            row,
            version,
            permit_limits: None,
        }
    }
}

#[Object]
impl Outlet {
    async fn id(&self) -> ID {
        ids::encode("Outlet", self.row.id)
    }
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn medium(&self) -> OutletMedium {
        self.row.medium.into()
    }
    async fn category(&self) -> OutletCategory {
        self.row.category.into()
    }
    async fn name(&self) -> Option<&str> {
        self.row.name.as_deref()
    }
    /// The permit version the outlet first appeared in.
    async fn since_version(&self) -> i32 {
        self.row.since_version
    }
    /// The permit version that removed it; absent while it is on the permit.
    async fn retired_in_version(&self) -> Option<i32> {
        self.row.retired_in_version
    }
    async fn limits(&self, ctx: &Context<'_>) -> Result<Vec<PermitLimit>> {
        let outlet_id = self.row.id;
        let version = self.version;
        let limits = match &self.permit_limits {
            Some(planned) => planned.to_vec(),
            None => limits_of(ctx, self.row.permit_id).await?,
        };
        Ok(limits
            .into_iter()
            .filter(|l| l.outlet_id == outlet_id)
            .filter(|l| match version {
                Some(v) => rules::limit_in_version(l, v),
                None => l.retired_in_version.is_none(),
            })
            .map(PermitLimit)
            .collect())
    }
    /// The self-monitoring requirements of this outlet (in the version shown).
    async fn monitoring(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::monitoring::MonitoringRequirement>> {
        super::monitoring::requirements(ctx, self.row.permit_id, Some(self.row.id), self.version)
            .await
    }
}

/// A permitted limit (许可排放限值) for one pollutant at one outlet.
pub struct PermitLimit(pub permit_limits::Model);

#[Object]
impl PermitLimit {
    async fn id(&self) -> ID {
        ids::encode("PermitLimit", self.0.id)
    }
    async fn outlet_id(&self) -> ID {
        ids::encode("Outlet", self.0.outlet_id)
    }
    async fn pollutant(&self) -> &str {
        &self.0.pollutant
    }
    /// Concentration limit, in `concentrationUnit`.
    async fn concentration_limit(&self) -> Option<f64> {
        self.0.concentration_limit
    }
    /// `mg/m³` (air), `mg/L` (water), …
    async fn concentration_unit(&self) -> Option<&str> {
        self.0.concentration_unit.as_deref()
    }
    async fn averaging_period(&self) -> Option<AveragingPeriod> {
        self.0.averaging_period.map(Into::into)
    }
    /// Annual quantity limit in tonnes per year.
    async fn annual_quantity_tpa(&self) -> Option<f64> {
        self.0.annual_quantity_tpa
    }
    /// The permit version the limit first appeared in; a change of a limit is a new limit.
    async fn since_version(&self) -> i32 {
        self.0.since_version
    }
    /// The permit version that replaced or removed it; absent while it is in force.
    async fn retired_in_version(&self) -> Option<i32> {
        self.0.retired_in_version
    }
}

/// One version of a permit: issue, change (变更), renewal (延续) or a status move.
pub struct PermitVersion(pub permit_versions::Model);

#[Object]
impl PermitVersion {
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn change_kind(&self) -> PermitChangeKind {
        self.0.change_kind.into()
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn status(&self) -> PermitStatus {
        self.0.status.into()
    }
    async fn valid_from(&self) -> NaiveDate {
        self.0.valid_from
    }
    async fn valid_to(&self) -> NaiveDate {
        self.0.valid_to
    }
    /// The outlets and limits as they stood in this version: a list of `{code medium category
    /// name limits: [{pollutant concentrationLimit concentrationUnit averagingPeriod
    /// annualQuantityTpa}]}`, keys in camelCase like the GraphQL fields.
    async fn snapshot(&self) -> Json<serde_json::Value> {
        Json(camel_keys(self.0.snapshot.clone()))
    }
    /// The official who made the change (null for INTEGRATOR: it gets the agency).
    async fn changed_by(&self, ctx: &Context<'_>) -> Option<String> {
        permit_core::domain::access::official_subject(
            super::principal(ctx),
            &self.0.changed_by_subject,
        )
    }
    async fn changed_by_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.0.changed_by_agency.as_deref()).await
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
}

#[derive(InputObject, Default)]
pub struct PermitFilter {
    district: Option<String>,
    category: Option<ManagementCategory>,
    /// Effective status (a VALID permit past `validTo` counts as EXPIRED).
    status: Option<PermitStatus>,
    /// GB/T 4754 code or prefix of the unit's industry.
    industry: Option<String>,
    /// Substring of the unit's name; Chinese works.
    unit_name_contains: Option<String>,
    unit_id: Option<ID>,
    credit_code: Option<String>,
    valid_to_before: Option<NaiveDate>,
    valid_to_after: Option<NaiveDate>,
    /// Valid and within 60 days of expiry.
    renewal_due: Option<bool>,
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum PermitOrderField {
    /// 编号
    #[default]
    Id,
    /// 许可证编号
    PermitNumber,
    /// 有效期截止日
    ValidTo,
}

#[derive(InputObject, Default)]
pub struct PermitOrder {
    #[graphql(default)]
    field: PermitOrderField,
    #[graphql(default)]
    direction: OrderDirection,
}

/// The permit now, or as it was at `as_of`.
async fn historical(
    ctx: &Context<'_>,
    found: Option<rules::PlannedPermit>,
    as_of: Option<Time>,
) -> Result<Option<Permit>> {
    let (Some(found), Some(at)) = (found.clone(), as_of) else {
        return Ok(found.map(Permit::from));
    };
    // The children read with the permit hold every version's items; the fields pick the
    // version read.
    Ok(rules::as_of(super::db(ctx)?, found.row, at.into())
        .await?
        .map(|row| Permit {
            row,
            as_of: Some(permit_core::domain::clock::date_of(at.into())),
            children: found.children,
        }))
}

#[derive(Default)]
pub struct PermitQuery;

#[Object]
impl PermitQuery {
    /// Permits in the caller's scope. `first`/`last` at most 100 (default 20).
    #[allow(clippy::too_many_arguments)]
    async fn permits(
        &self,
        ctx: &Context<'_>,
        filter: Option<PermitFilter>,
        order_by: Option<PermitOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Permit>> {
        let f = filter.unwrap_or_default();
        let filter = rules::PermitFilter {
            district: f.district,
            category: f.category.map(Into::into),
            status: f.status.map(Into::into),
            industry: f.industry,
            unit_name_contains: f.unit_name_contains,
            unit_id: f
                .unit_id
                .map(|id| ids::decode(UNIT, "filter.unitId", &id))
                .transpose()?,
            credit_code: f.credit_code,
            valid_to_before: f.valid_to_before,
            valid_to_after: f.valid_to_after,
            renewal_due: f.renewal_due,
        };
        let order = order_by.unwrap_or_default();
        let field = match order.field {
            PermitOrderField::Id => rules::PermitOrderField::Id,
            PermitOrderField::PermitNumber => rules::PermitOrderField::PermitNumber,
            PermitOrderField::ValidTo => rules::PermitOrderField::ValidTo,
        };
        let list = rules::list(super::principal(ctx), &filter)?;
        let args = connection::page_args(first, after, last, before);
        let page = list
            .page_planned(
                super::db(ctx)?,
                field,
                order.direction == OrderDirection::Desc,
                &args,
                planning::root_permit_plan(ctx, true),
                planning::total_count_selected(ctx),
            )
            .await?;
        Ok(connection::from_page(
            page,
            list.count_query(),
            Permit::from,
        ))
    }

    /// One permit; null when it does not exist or is outside the caller's scope.
    async fn permit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(desc = "Read the permit as it was at this time (from its versions).")]
        as_of: Option<Time>,
    ) -> Result<Option<Permit>> {
        let id = ids::decode(PERMIT, "id", &id)?;
        let plan = planning::root_permit_plan(ctx, false);
        let found = rules::get_planned(super::db(ctx)?, super::principal(ctx), id, plan).await?;
        historical(ctx, found, as_of).await
    }

    /// One permit by its HJ 608 number; null when unknown or outside the caller's scope.
    async fn permit_by_number(
        &self,
        ctx: &Context<'_>,
        permit_number: String,
        #[graphql(desc = "Read the permit as it was at this time (from its versions).")]
        as_of: Option<Time>,
    ) -> Result<Option<Permit>> {
        let plan = planning::root_permit_plan(ctx, false);
        let found =
            rules::by_number_planned(super::db(ctx)?, super::principal(ctx), &permit_number, plan)
                .await?;
        historical(ctx, found, as_of).await
    }
}
