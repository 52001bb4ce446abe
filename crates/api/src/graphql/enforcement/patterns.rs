//! Violation patterns: findings, units affected and fines grouped by the chosen dimensions,
//! computed in SQL.

use async_graphql::{Context, Object};

use super::FindingFilter;
use crate::graphql;
use crate::graphql::enums::ViolationCategory;
use crate::graphql::error::Result;
use crate::graphql::reference::{District, ViolationCode, load_district, load_violation_code};
use permit_core::domain::patterns::{self, Dimension};
use permit_core::error::AppError;

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

#[derive(Default)]
pub struct PatternQuery;

#[Object]
impl PatternQuery {
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
            graphql::db(ctx)?,
            graphql::principal(ctx),
            &filter,
            &dims,
            limit,
            counts,
        )
        .await?;
        Ok(rows.into_iter().map(ViolationPattern).collect())
    }
}
