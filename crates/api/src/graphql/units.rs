//! Discharge units: `units`, `unit`, `unitByCreditCode`, `registerUnit`, `updateUnit`.

use super::time::Time;
use crate::graphql::error::Result;
use crate::graphql::plain::{self, PlainFields};
use async_graphql::{Context, ID, InputObject, Object};
use chrono::NaiveDate;

use super::connection::{self, Conn};
use super::enums::{
    CreditLevel, ManagementCategory, OrderDirection, PermitStatus, RegistrationStatus,
};
use super::ids;
use super::loaders::{PermitsOfUnit, RegistrationsOfUnit};
use super::permits::Permit;
use super::reference::{District, load_district};
use entity::{registrations, units as unit_rows};
use permit_core::domain::locations::BoundingBox;
use permit_core::domain::page::Page;
use permit_core::domain::{access, clock, inspections, permits as permit_rules, units};
use permit_core::error::AppError;

pub const UNIT: &str = "Unit";

/// A discharge unit (排污单位).
pub struct Unit(pub unit_rows::Model);

plain::object_with_plain_fields!(Unit => UnitObject { unit });

impl PlainFields for UnitObject<'_> {
    const PLAIN: &'static [&'static str] = &[
        "id",
        "creditCode",
        "name",
        "address",
        "industryCode",
        "managementCategory",
        "creditLevel",
        "positiveList",
        "positiveListReason",
        "positiveListExpiresOn",
        "longitude",
        "latitude",
        "version",
        "createdAt",
        "updatedAt",
    ];
}

#[Object(name = "Unit")]
impl<'a> UnitObject<'a> {
    async fn id(&self) -> ID {
        ids::encode(UNIT, self.0.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<super::history::Provenance>> {
        super::history::provenance(
            ctx,
            permit_core::domain::changes::ChangeKind::Unit,
            self.0.id,
        )
        .await
    }
    /// Unified social credit code (GB 32100, check character verified).
    async fn credit_code(&self) -> &str {
        &self.0.credit_code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn address(&self) -> &str {
        &self.0.address
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<District> {
        load_district(ctx, Some(&self.0.district_code))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("district {}", self.0.district_code)).into())
    }
    /// GB/T 4754 industry class, e.g. `C3670`.
    async fn industry_code(&self) -> &str {
        &self.0.industry_code
    }
    async fn management_category(&self) -> ManagementCategory {
        self.0.management_category.into()
    }
    async fn credit_level(&self) -> CreditLevel {
        self.0.credit_level.into()
    }
    /// Personal data: the legal representative. Null unless the caller's role is
    /// PERMIT_OFFICER, ENFORCEMENT_OFFICER, SUPERVISOR or ADMIN (never for INTEGRATOR).
    async fn legal_representative(&self, ctx: &Context<'_>) -> Option<&str> {
        personal(ctx, self.0.id, self.0.legal_representative.as_deref())
    }
    /// Personal data: the contact phone. Null unless the caller's role is PERMIT_OFFICER,
    /// ENFORCEMENT_OFFICER, SUPERVISOR or ADMIN (never for INTEGRATOR).
    async fn contact_phone(&self, ctx: &Context<'_>) -> Option<&str> {
        personal(ctx, self.0.id, self.0.contact_phone.as_deref())
    }
    /// On the positive list (正面清单) today: checked less often by random draws.
    async fn positive_list(&self) -> bool {
        self.0.positive_list
            && self
                .0
                .positive_list_expires_on
                .is_none_or(|d| d >= clock::today())
    }
    async fn positive_list_reason(&self) -> Option<&str> {
        self.0.positive_list_reason.as_deref()
    }
    async fn positive_list_expires_on(&self) -> Option<NaiveDate> {
        self.0.positive_list_expires_on
    }
    /// Longitude in degrees east (CGCS2000, the same as WGS84 for maps); null until located.
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }
    /// Latitude in degrees north (CGCS2000 / WGS84); null until located.
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }
    /// Optimistic-locking version: pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
    async fn updated_at(&self) -> Time {
        self.0.updated_at.into()
    }
    /// The unit's permits, newest first by id; optionally only those with this (effective) status.
    async fn permits(
        &self,
        ctx: &Context<'_>,
        status: Option<PermitStatus>,
    ) -> Result<Vec<Permit>> {
        let rows = super::load_one(ctx, PermitsOfUnit(self.0.id))
            .await?
            .unwrap_or_default();
        let today = clock::today();
        Ok(rows
            .into_iter()
            .rev()
            .filter(|p| {
                status.is_none_or(|s| {
                    PermitStatus::from(permit_rules::effective_status(p, today)) == s
                })
            })
            .map(Permit::from)
            .collect())
    }
    /// This unit's inspections in the caller's scope, newest first (`first` 1 to 100; `after`
    /// pages on with the same cursors as `inspections`).
    async fn inspections(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
        after: Option<String>,
    ) -> Result<Conn<super::enforcement::Inspection>> {
        use super::enforcement::Inspection;
        let limit = connection::nested_first(first)?;
        let count = connection::Counted::InspectionsOfUnit(self.0.id);
        if after.is_some() {
            // Paging on within one unit: the root list's statement, filtered to it.
            let filter = inspections::InspectionFilter {
                unit_id: Some(self.0.id),
                ..Default::default()
            };
            let list = inspections::list(super::principal(ctx), &filter)?;
            let args = connection::page_args(Some(limit as i32), after, None, None);
            // Boxed, so that every field future of a unit is not as large as this one (`load_one`).
            let page = Box::pin(list.page(super::db(ctx)?, &args)).await?;
            return Ok(connection::from_page(page, count, Inspection));
        }
        // The first page of every unit listed: one batched statement.
        let rows = super::load_one(
            ctx,
            super::loaders::InspectionsOfUnit {
                unit_id: self.0.id,
                limit: limit + 1,
            },
        )
        .await?
        .unwrap_or_default();
        let page = Page::first_of(rows, limit, inspections::cursor_key);
        Ok(connection::from_page(page, count, Inspection))
    }
    /// Discharge registrations (排污登记), for REGISTRATION-tier units.
    async fn registrations(&self, ctx: &Context<'_>) -> Result<Vec<Registration>> {
        let rows = super::load_one(ctx, RegistrationsOfUnit(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Registration).collect())
    }
}

fn personal<'a>(ctx: &Context<'_>, unit_id: i64, value: Option<&'a str>) -> Option<&'a str> {
    let data = ctx.data_opt::<std::sync::Arc<super::RequestData>>()?;
    if !access::may_see_personal_data(data.principal.as_ref()) {
        return None;
    }
    // Every read of personal data is audited (the HTTP layer writes the row after the request).
    if value.is_some()
        && let Ok(mut reads) = data.personal_reads.lock()
    {
        reads.insert(unit_id);
    }
    value
}

/// A discharge registration (排污登记): number = credit code + sequence + `W`.
pub struct Registration(pub registrations::Model);

#[Object]
impl Registration {
    async fn id(&self) -> ID {
        ids::encode("Registration", self.0.id)
    }
    /// Who created the record and who last changed it, from which level.
    async fn provenance(&self, ctx: &Context<'_>) -> Result<Option<super::history::Provenance>> {
        super::history::provenance(
            ctx,
            permit_core::domain::changes::ChangeKind::Registration,
            self.0.id,
        )
        .await
    }
    async fn registration_number(&self) -> &str {
        &self.0.registration_number
    }
    async fn registered_on(&self) -> NaiveDate {
        self.0.registered_on
    }
    async fn valid_to(&self) -> NaiveDate {
        self.0.valid_to
    }
    async fn status(&self) -> RegistrationStatus {
        self.0.status.into()
    }
}

#[derive(InputObject, Default)]
pub struct UnitFilter {
    /// District code (municipal callers; a district caller sees only its own anyway).
    district: Option<String>,
    category: Option<ManagementCategory>,
    credit_level: Option<CreditLevel>,
    /// GB/T 4754 code or prefix, e.g. `C26`.
    industry: Option<String>,
    /// Substring of the unit's name; Chinese works (e.g. `化工`).
    name_contains: Option<String>,
    credit_code: Option<String>,
    positive_list: Option<bool>,
    /// Only located units inside this box (edges included; units without a position are in no
    /// box).
    within: Option<BoundingBoxInput>,
}

/// A longitude/latitude rectangle in degrees (CGCS2000 / WGS84).
#[derive(InputObject, Clone, Copy)]
pub struct BoundingBoxInput {
    min_longitude: f64,
    min_latitude: f64,
    max_longitude: f64,
    max_latitude: f64,
}

impl UnitFilter {
    /// The domain's filter (shared by `units` and the GeoJSON export); `field` is the
    /// argument's input path.
    pub(crate) fn into_domain(self, field: &str) -> Result<units::UnitFilter, AppError> {
        let within = self
            .within
            .map(|b| {
                BoundingBox::parse(
                    &format!("{field}.within"),
                    BoundingBox {
                        min_longitude: b.min_longitude,
                        min_latitude: b.min_latitude,
                        max_longitude: b.max_longitude,
                        max_latitude: b.max_latitude,
                    },
                )
            })
            .transpose()?;
        Ok(units::UnitFilter {
            district: self.district,
            category: self.category.map(Into::into),
            credit_level: self.credit_level.map(Into::into),
            industry: self.industry,
            name_contains: self.name_contains,
            credit_code: self.credit_code,
            positive_list: self.positive_list,
            within,
        })
    }
}

/// `UnitFilter` as JSON, to the domain's filter (the GeoJSON export).
pub fn unit_filter_from_json(
    json: Option<serde_json::Value>,
) -> Result<units::UnitFilter, AppError> {
    super::enforcement::parse_json_input::<UnitFilter>(json)?
        .unwrap_or_default()
        .into_domain("filter")
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum UnitOrderField {
    /// 编号
    /// Registration order.
    #[default]
    Id,
    /// 单位名称
    Name,
    /// 统一社会信用代码
    CreditCode,
}

#[derive(InputObject, Default)]
pub struct UnitOrder {
    #[graphql(default)]
    field: UnitOrderField,
    #[graphql(default)]
    direction: OrderDirection,
}

#[derive(Default)]
pub struct UnitQuery;

#[Object]
impl UnitQuery {
    /// Units in the caller's scope. `first`/`last` at most 100 (default 20).
    #[allow(clippy::too_many_arguments)]
    async fn units(
        &self,
        ctx: &Context<'_>,
        filter: Option<UnitFilter>,
        order_by: Option<UnitOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Unit>> {
        let filter = filter.unwrap_or_default().into_domain("filter")?;
        let order = order_by.unwrap_or_default();
        let field = match order.field {
            UnitOrderField::Id => units::UnitOrderField::Id,
            UnitOrderField::Name => units::UnitOrderField::Name,
            UnitOrderField::CreditCode => units::UnitOrderField::CreditCode,
        };
        let list = units::list(super::principal(ctx), &filter)?;
        let args = connection::page_args(first, after, last, before);
        let page = list
            .page(
                super::db(ctx)?,
                field,
                order.direction == OrderDirection::Desc,
                &args,
            )
            .await?;
        Ok(connection::from_page(page, list.count_query(), Unit))
    }

    /// One unit; null when it does not exist or is outside the caller's scope.
    async fn unit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(desc = "Read the unit as it was at this time.")] as_of: Option<Time>,
    ) -> Result<Option<Unit>> {
        let id = ids::decode(UNIT, "id", &id)?;
        let db = super::db(ctx)?;
        let Some(found) = units::get(db, super::principal(ctx), id).await? else {
            return Ok(None);
        };
        Ok(match as_of {
            Some(at) => units::as_of(db, found, at.into()).await?.map(Unit),
            None => Some(Unit(found)),
        })
    }

    /// One unit by credit code; null when unknown or outside the caller's scope.
    async fn unit_by_credit_code(
        &self,
        ctx: &Context<'_>,
        credit_code: String,
    ) -> Result<Option<Unit>> {
        Ok(
            units::by_credit_code(super::db(ctx)?, super::principal(ctx), &credit_code)
                .await?
                .map(Unit),
        )
    }
}

#[derive(InputObject)]
pub struct RegisterUnitInput {
    /// 18 characters with a valid GB 32100 check character.
    credit_code: String,
    name: String,
    legal_representative: Option<String>,
    contact_phone: Option<String>,
    address: String,
    district_code: String,
    /// GB/T 4754 class, e.g. `C3670`.
    industry_code: String,
    management_category: ManagementCategory,
    credit_level: Option<CreditLevel>,
    /// Degrees east, in Chongqing (105.28–110.20); with `latitude`.
    longitude: Option<f64>,
    /// Degrees north, in Chongqing (28.16–32.21); with `longitude`.
    latitude: Option<f64>,
}

#[derive(InputObject, Default)]
pub struct UpdateUnitInput {
    name: Option<String>,
    legal_representative: Option<String>,
    contact_phone: Option<String>,
    address: Option<String>,
    industry_code: Option<String>,
    management_category: Option<ManagementCategory>,
    credit_level: Option<CreditLevel>,
    positive_list: Option<bool>,
    positive_list_reason: Option<String>,
    positive_list_expires_on: Option<NaiveDate>,
    /// Degrees east, in Chongqing (105.28–110.20); with `latitude`.
    longitude: Option<f64>,
    /// Degrees north, in Chongqing (28.16–32.21); with `longitude`.
    latitude: Option<f64>,
}

#[derive(Default)]
pub struct UnitMutation;

#[Object]
impl UnitMutation {
    /// Registers a discharge unit (PERMIT_OFFICER in scope, ADMIN). Retry-safe with
    /// `idempotencyKey`.
    async fn register_unit(
        &self,
        ctx: &Context<'_>,
        input: RegisterUnitInput,
        idempotency_key: Option<String>,
    ) -> Result<Unit> {
        let input = units::RegisterUnitInput {
            credit_code: input.credit_code,
            name: input.name,
            legal_representative: input.legal_representative,
            contact_phone: input.contact_phone,
            address: input.address,
            district_code: input.district_code,
            industry_code: input.industry_code,
            management_category: input.management_category.into(),
            credit_level: input.credit_level.map(Into::into),
            longitude: input.longitude,
            latitude: input.latitude,
        };
        let unit = units::register(
            super::db(ctx)?,
            super::principal(ctx),
            input,
            idempotency_key.as_deref(),
        )
        .await?;
        Ok(Unit(unit))
    }

    /// Updates a unit; `expectedVersion` must be the version read, else `CONFLICT`.
    async fn update_unit(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateUnitInput,
    ) -> Result<Unit> {
        let id = ids::decode(UNIT, "id", &id)?;
        let patch = units::UpdateUnitInput {
            name: input.name,
            legal_representative: input.legal_representative,
            contact_phone: input.contact_phone,
            address: input.address,
            industry_code: input.industry_code,
            management_category: input.management_category.map(Into::into),
            credit_level: input.credit_level.map(Into::into),
            positive_list: input.positive_list,
            positive_list_reason: input.positive_list_reason,
            positive_list_expires_on: input.positive_list_expires_on,
            longitude: input.longitude,
            latitude: input.latitude,
        };
        let unit = units::update(
            super::db(ctx)?,
            super::principal(ctx),
            id,
            expected_version,
            patch,
        )
        .await?;
        Ok(Unit(unit))
    }
}
