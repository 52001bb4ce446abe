//! Reading findings: the filtered list in the principal's scope, the batch loads and per-parent
//! counts behind the DataLoaders, and a finding as it stood at an earlier time.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, Order as SqlOrder, Query, WindowStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, StatementBuilder,
};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::page::{self, CountQuery, Ordering, Page, PageArgs, SortValue};
use crate::error::AppResult;
use entity::enums::{FindingSeverity, FindingStatus, ViolationCategory};
use entity::{
    finding_evidence, finding_transitions, findings, inspections, permits as permit_rows, units,
};

#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub district: Option<String>,
    pub code: Option<String>,
    pub category: Option<ViolationCategory>,
    pub status: Option<FindingStatus>,
    pub severity: Option<FindingSeverity>,
    pub found_from: Option<NaiveDate>,
    pub found_to: Option<NaiveDate>,
    /// GB/T 4754 code or prefix of the unit's industry.
    pub industry: Option<String>,
    pub permit_number: Option<String>,
    pub permit_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub inspection_id: Option<i64>,
    /// Findings of inspections linked to this campaign.
    pub campaign_id: Option<i64>,
}

fn scoped(principal: &Principal) -> Select<findings::Entity> {
    findings::Entity::find().filter(row_condition(principal))
}

/// The findings a principal may read, as a condition on `findings` (for statements that reach
/// findings from another table, like a planned read's). Whether the role reads enforcement at
/// all is `access::authorize`'s question, asked before.
pub(crate) fn row_condition(principal: &Principal) -> sea_orm::Condition {
    access::finding_filter(
        principal,
        findings::Column::DistrictCode,
        findings::Column::Status,
    )
}

fn apply_filter(
    mut select: Select<findings::Entity>,
    filter: &FindingFilter,
) -> Select<findings::Entity> {
    if let Some(d) = &filter.district {
        select = select.filter(findings::Column::DistrictCode.eq(d.clone()));
    }
    if let Some(c) = &filter.code {
        select = select.filter(findings::Column::ViolationCode.eq(c.trim().to_ascii_uppercase()));
    }
    if let Some(c) = filter.category {
        select = select.filter(findings::Column::Category.eq(c));
    }
    if let Some(s) = filter.status {
        select = select.filter(findings::Column::Status.eq(s));
    }
    if let Some(s) = filter.severity {
        select = select.filter(findings::Column::Severity.eq(s));
    }
    if let Some(from) = filter.found_from {
        select = select.filter(findings::Column::FoundOn.gte(from));
    }
    if let Some(to) = filter.found_to {
        select = select.filter(findings::Column::FoundOn.lte(to));
    }
    if let Some(p) = filter.permit_id {
        select = select.filter(findings::Column::PermitId.eq(p));
    }
    if let Some(u) = filter.unit_id {
        select = select.filter(findings::Column::UnitId.eq(u));
    }
    if let Some(i) = filter.inspection_id {
        select = select.filter(findings::Column::InspectionId.eq(i));
    }
    if let Some(number) = &filter.permit_number {
        let ids = permit_rows::Entity::find()
            .select_only()
            .column(permit_rows::Column::Id)
            .filter(permit_rows::Column::PermitNumber.eq(number.trim().to_ascii_uppercase()))
            .into_query();
        select = select.filter(findings::Column::PermitId.in_subquery(ids));
    }
    if let Some(campaign) = filter.campaign_id {
        let ids = inspections::Entity::find()
            .select_only()
            .column(inspections::Column::Id)
            .filter(inspections::Column::CampaignId.eq(campaign))
            .into_query();
        select = select.filter(findings::Column::InspectionId.in_subquery(ids));
    }
    if let Some(industry) = &filter.industry {
        let ids = units::Entity::find()
            .select_only()
            .column(units::Column::Id)
            .filter(units::Column::IndustryCode.starts_with(industry.trim().to_ascii_uppercase()))
            .into_query();
        select = select.filter(findings::Column::UnitId.in_subquery(ids));
    }
    select
}

pub struct FindingList {
    pub(super) select: Select<findings::Entity>,
    /// Whose list it is: a planned page reads the children in this principal's scope.
    pub(super) principal: Principal,
}

impl FindingList {
    /// Newest first (by the date found, then id).
    pub async fn page(
        &self,
        db: &DatabaseConnection,
        args: &PageArgs,
    ) -> AppResult<Page<findings::Model>> {
        page::fetch_page(db, self.select.clone(), &newest_first(), args).await
    }

    pub fn count_query(&self) -> CountQuery {
        CountQuery::new(self.select.clone())
    }

    /// The scoped, filtered statement, for aggregates over the same rows.
    pub(crate) fn into_statement(self) -> sea_orm::sea_query::SelectStatement {
        self.select.into_query()
    }
}

/// The order of every finding list: newest first (by the date found, then id).
pub(super) fn newest_first() -> Ordering<findings::Entity> {
    Ordering {
        column: findings::Column::FoundOn,
        id_column: Some(findings::Column::Id),
        descending: true,
        date_sort: true,
        key: cursor_key,
    }
}

pub fn list(principal: Option<&Principal>, filter: &FindingFilter) -> AppResult<FindingList> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(FindingList {
        select: apply_filter(scoped(principal), filter),
        principal: principal.clone(),
    })
}

pub async fn get(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<findings::Model>> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(scoped(principal)
        .filter(findings::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// What findings hang off: their permit, or the inspection that recorded them.
#[derive(Debug, Clone, Copy)]
pub enum FindingParent {
    Permit,
    Inspection,
}

impl FindingParent {
    fn column(self) -> findings::Column {
        match self {
            Self::Permit => findings::Column::PermitId,
            Self::Inspection => findings::Column::InspectionId,
        }
    }
}

/// The cursor key of the finding lists (newest first by the date found, then id).
pub fn cursor_key(m: &findings::Model) -> (SortValue, i64) {
    (SortValue::Date(m.found_on), m.id)
}

/// How many findings of each permit (or inspection) the principal may read, in one statement.
pub async fn count_per(
    db: &impl ConnectionTrait,
    principal: &Principal,
    of: FindingParent,
    parent_ids: &[i64],
) -> AppResult<Vec<(Option<i64>, i64)>> {
    let parent = of.column();
    Ok(scoped(principal)
        .select_only()
        .column(parent)
        .column_as(findings::Column::Id.count(), "n")
        .filter(parent.is_in(parent_ids.iter().copied()))
        .group_by(parent)
        .into_tuple()
        .all(db)
        .await?)
}

/// The newest `limit` findings per permit (or per inspection), in one statement, newest first
/// within each parent.
pub async fn newest_per(
    db: &impl ConnectionTrait,
    principal: &Principal,
    of: FindingParent,
    parent_ids: &[i64],
    limit: u64,
) -> AppResult<Vec<findings::Model>> {
    let parent = of.column();
    let backend = db.get_database_backend();
    let scope = row_condition(principal);
    let statement = if backend == sea_orm::DatabaseBackend::Postgres {
        // Each parent's newest rows straight from the (parent, found_on) index: LATERAL reads
        // `limit` rows a parent, where ranking would read and sort every finding of every parent.
        let parents = Alias::new("parents");
        let parent_table = match of {
            FindingParent::Permit => {
                Alias::new(sea_orm::EntityName::table_name(&permit_rows::Entity))
            }
            FindingParent::Inspection => {
                Alias::new(sea_orm::EntityName::table_name(&inspections::Entity))
            }
        };
        let newest = Query::select()
            .column(sea_orm::sea_query::Asterisk)
            .from(findings::Entity)
            .cond_where(scope)
            .and_where(
                Expr::col((findings::Entity, parent)).equals((parents.clone(), Alias::new("id"))),
            )
            .order_by(findings::Column::FoundOn, SqlOrder::Desc)
            .order_by(findings::Column::Id, SqlOrder::Desc)
            .limit(limit)
            .to_owned();
        let newest_alias = Alias::new("newest");
        let outer = Query::select()
            .column((newest_alias.clone(), sea_orm::sea_query::Asterisk))
            .from_as(parent_table, parents.clone())
            .join_lateral(
                JoinType::InnerJoin,
                newest,
                newest_alias.clone(),
                Expr::cust("TRUE"),
            )
            .and_where(Expr::col((parents, Alias::new("id"))).is_in(parent_ids.iter().copied()))
            .order_by(
                (newest_alias.clone(), findings::Column::FoundOn),
                SqlOrder::Desc,
            )
            .order_by((newest_alias, findings::Column::Id), SqlOrder::Desc)
            .to_owned();
        StatementBuilder::build(&outer, &backend)
    } else {
        let rank = Alias::new("rank_in_parent");
        let mut inner = Query::select();
        inner
            .column(sea_orm::sea_query::Asterisk)
            .expr_window_as(
                Func::cust(Alias::new("ROW_NUMBER")),
                WindowStatement::partition_by(parent)
                    .order_by(findings::Column::FoundOn, SqlOrder::Desc)
                    .order_by(findings::Column::Id, SqlOrder::Desc)
                    .to_owned(),
                rank.clone(),
            )
            .from(findings::Entity)
            .cond_where(scope)
            .and_where(Expr::col(parent).is_in(parent_ids.iter().copied()));
        let outer = Query::select()
            .column(sea_orm::sea_query::Asterisk)
            .from_subquery(inner, Alias::new("ranked"))
            .and_where(Expr::col(rank).lte(limit as i64))
            .order_by(findings::Column::FoundOn, SqlOrder::Desc)
            .order_by(findings::Column::Id, SqlOrder::Desc)
            .to_owned();
        StatementBuilder::build(&outer, &backend)
    };
    Ok(findings::Entity::find()
        .from_raw_sql(statement)
        .all(db)
        .await?)
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<findings::Model>> {
    Ok(scoped(principal)
        .filter(findings::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn transitions_of(
    db: &impl ConnectionTrait,
    finding_ids: &[i64],
) -> AppResult<Vec<finding_transitions::Model>> {
    Ok(finding_transitions::Entity::find()
        .filter(finding_transitions::Column::FindingId.is_in(finding_ids.iter().copied()))
        .order_by_asc(finding_transitions::Column::Id)
        .all(db)
        .await?)
}

pub async fn evidence_of(
    db: &impl ConnectionTrait,
    finding_ids: &[i64],
) -> AppResult<Vec<finding_evidence::Model>> {
    Ok(finding_evidence::Entity::find()
        .filter(finding_evidence::Column::FindingId.is_in(finding_ids.iter().copied()))
        .order_by_asc(finding_evidence::Column::Id)
        .all(db)
        .await?)
}

/// The finding as it stood at `at`: its status and version from the recorded moves; `None`
/// before it was recorded.
pub async fn as_of(
    db: &impl ConnectionTrait,
    finding: findings::Model,
    at: chrono::DateTime<Utc>,
) -> AppResult<Option<findings::Model>> {
    let moves: Vec<finding_transitions::Model> = transitions_of(db, &[finding.id])
        .await?
        .into_iter()
        .filter(|t| t.created_at <= at)
        .collect();
    let Some(last) = moves.last() else {
        return Ok(None);
    };
    Ok(Some(findings::Model {
        status: last.to_status,
        version: moves.len() as i32,
        updated_at: last.created_at,
        ..finding
    }))
}

/// How many findings of each inspection the principal may read (one GROUP BY), for exports.
pub async fn count_per_inspection(
    db: &impl ConnectionTrait,
    principal: &Principal,
    inspection_ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, i64>> {
    if inspection_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, i64)> = scoped(principal)
        .select_only()
        .column(findings::Column::InspectionId)
        .column_as(findings::Column::Id.count(), "findings")
        .filter(findings::Column::InspectionId.is_in(inspection_ids.iter().copied()))
        .group_by(findings::Column::InspectionId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Open findings (neither closed nor dismissed) per unit, counted under the principal's scope;
/// `None` for principals who may not read open cases (`access::may_see_open_findings`).
pub async fn open_per_unit(
    db: &impl ConnectionTrait,
    principal: &Principal,
    unit_ids: &[i64],
) -> AppResult<Option<std::collections::HashMap<i64, i64>>> {
    if !access::may_see_open_findings(principal) {
        return Ok(None);
    }
    if unit_ids.is_empty() {
        return Ok(Some(Default::default()));
    }
    let rows: Vec<(i64, i64)> = scoped(principal)
        .select_only()
        .column(findings::Column::UnitId)
        .column_as(findings::Column::Id.count(), "findings")
        .filter(findings::Column::UnitId.is_in(unit_ids.iter().copied()))
        .filter(
            findings::Column::Status.is_not_in([FindingStatus::Closed, FindingStatus::Dismissed]),
        )
        .group_by(findings::Column::UnitId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(Some(rows.into_iter().collect()))
}

/// Of these inspections, those with a finding not yet closed (whose free text is part of an
/// open case; `access::may_see_case_text`).
pub async fn inspections_with_open_findings(
    db: &impl ConnectionTrait,
    inspection_ids: &[i64],
) -> AppResult<Vec<i64>> {
    Ok(findings::Entity::find()
        .select_only()
        .column(findings::Column::InspectionId)
        .distinct()
        .filter(findings::Column::InspectionId.is_in(inspection_ids.iter().copied()))
        .filter(findings::Column::Status.ne(FindingStatus::Closed))
        .into_tuple()
        .all(db)
        .await?)
}
