//! Reference data: `me`, `districts`, `agencies`, `violationCodes`.

use crate::graphql::error::Result;
use async_graphql::{ComplexObject, Context, InputObject, Object, SimpleObject};

use super::enums::{AgencyKind, AgencyLevel, DistrictKind, Role, ViolationCategory};
use entity::{agencies, districts, violation_codes};
use permit_core::domain::{access, reference};
use permit_core::error::AppError;

/// A district or county of Chongqing (GB/T 2260), or a management area with our own code.
pub struct District(pub districts::Model);

#[Object]
impl District {
    /// GB/T 2260 code; management areas: 500191 两江新区, 500192 重庆高新区, 500193 万盛经开区.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name_zh
    }
    async fn label_zh(&self) -> &str {
        &self.0.name_zh
    }
    async fn kind(&self) -> DistrictKind {
        self.0.kind.into()
    }
}

pub struct Agency(pub agencies::Model);

#[Object]
impl Agency {
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name_zh
    }
    async fn kind(&self) -> AgencyKind {
        self.0.kind.into()
    }
    async fn level(&self) -> AgencyLevel {
        self.0.level.into()
    }
    /// Null for municipal agencies.
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, self.0.district_code.as_deref()).await
    }
}

pub(crate) async fn load_district(
    ctx: &Context<'_>,
    code: Option<&str>,
) -> Result<Option<District>> {
    let Some(code) = code else { return Ok(None) };
    let reference = super::reference_data(ctx).await?;
    Ok(reference.districts.get(code).cloned().map(District))
}

pub(crate) async fn load_agency(ctx: &Context<'_>, code: Option<&str>) -> Result<Option<Agency>> {
    let Some(code) = code else { return Ok(None) };
    let reference = super::reference_data(ctx).await?;
    Ok(reference.agencies.get(code).cloned().map(Agency))
}

/// A violation code of the taxonomy, from the instance's copy.
pub(crate) async fn load_violation_code(
    ctx: &Context<'_>,
    code: &str,
) -> Result<Option<ViolationCode>> {
    let reference = super::reference_data(ctx).await?;
    Ok(reference.violation_codes.get(code).cloned().map(Into::into))
}

/// A violation code of the taxonomy (BRIEF; the Regulation's penalty articles).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ViolationCode {
    code: String,
    category: ViolationCategory,
    /// Article of the Regulation (Order No. 736), e.g. `34(1)`.
    article: String,
    label_zh: String,
    label_en: String,
    /// Lowest fine in integer yuan, where the article sets one.
    fine_min: Option<i64>,
    /// Highest fine in integer yuan, where the article sets one.
    fine_max: Option<i64>,
    /// The penalties the article provides, as text.
    penalty_note: String,
}

#[ComplexObject]
impl ViolationCode {
    /// Chinese label of the category (plan §3).
    async fn category_label_zh(&self) -> &'static str {
        match self.category {
            ViolationCategory::UnpermittedDischarge => "无证排污",
            ViolationCategory::PermitViolation => "违反排污许可证",
            ViolationCategory::SelfMonitoring => "违反自行监测要求",
            ViolationCategory::OtherManagement => "违反其他环境管理要求",
        }
    }
}

impl From<violation_codes::Model> for ViolationCode {
    fn from(m: violation_codes::Model) -> Self {
        Self {
            code: m.code,
            category: m.category.into(),
            article: m.article,
            label_zh: m.label_zh,
            label_en: m.label_en,
            fine_min: m.fine_min,
            fine_max: m.fine_max,
            penalty_note: m.penalty_note,
        }
    }
}

/// The caller, as the token says.
pub struct Me(permit_core::auth::Principal);

#[Object]
impl Me {
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// The caller's agency, when the token names one.
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.0.agency_code.as_deref()).await
    }
    /// The caller's district; null means municipal scope (all districts).
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, self.0.district.as_ref().map(|d| d.as_str())).await
    }
    /// Whether the caller may see personal data (legal representatives, phone numbers).
    async fn may_see_personal_data(&self) -> bool {
        access::may_see_personal_data(Some(&self.0))
    }
}

#[derive(InputObject, Default)]
pub struct AgencyFilter {
    district: Option<String>,
    kind: Option<AgencyKind>,
}

#[derive(Default)]
pub struct ReferenceQuery;

#[Object]
impl ReferenceQuery {
    /// The caller. Requires a token.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let principal = super::principal(ctx).ok_or_else(|| {
            AppError::Unauthenticated("send a bearer token (see `permit-exchange token`)".into())
        })?;
        Ok(Me(principal.clone()))
    }

    /// All districts, counties and management areas. Public reference data.
    async fn districts(&self, ctx: &Context<'_>) -> Result<Vec<District>> {
        Ok(reference::districts(super::db(ctx)?)
            .await?
            .into_iter()
            .map(District)
            .collect())
    }

    /// Agencies (permit offices, enforcement, monitoring, supervision). Requires a token.
    /// By code; `first` at most 100.
    async fn agencies(
        &self,
        ctx: &Context<'_>,
        filter: Option<AgencyFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<super::connection::Conn<Agency>> {
        let filter = filter.unwrap_or_default();
        let filter = reference::AgencyFilter {
            district: filter.district,
            kind: filter.kind.map(Into::into),
        };
        let listing = reference::agencies(super::principal(ctx), &filter)?;
        let args = super::connection::page_args(first, after, last, before);
        super::connection::listed(ctx, listing, args, Agency).await
    }

    /// The violation taxonomy, in the order of the Regulation. Public reference data.
    async fn violation_codes(
        &self,
        ctx: &Context<'_>,
        category: Option<ViolationCategory>,
    ) -> Result<Vec<ViolationCode>> {
        let rows = reference::violation_codes(super::db(ctx)?, category.map(Into::into)).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
