//! Reading permits: the filters and orderings of the permit list, single lookups, and the batch
//! loads behind the DataLoaders (one statement per batch, whatever the page size).

use chrono::NaiveDate;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Select,
};

use super::planned::{self, PermitPlan, PlannedPermit};
use super::{RENEWAL_WINDOW_DAYS, scoped};
use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::clock;
use crate::domain::codes::PermitNumber;
use crate::domain::page::{self, Ordering, Page, PageArgs, SortValue};
use crate::domain::units::like_pattern;
use crate::error::{AppError, AppResult};
use entity::enums::{ManagementCategory, PermitStatus};
use entity::{monitoring_requirements, outlets, permit_limits, permits, report_duties, units};

#[derive(Debug, Clone, Default)]
pub struct PermitFilter {
    pub district: Option<String>,
    pub category: Option<ManagementCategory>,
    pub status: Option<PermitStatus>,
    /// GB/T 4754 code or prefix, of the permit's unit.
    pub industry: Option<String>,
    pub unit_name_contains: Option<String>,
    pub unit_id: Option<i64>,
    pub credit_code: Option<String>,
    pub valid_to_before: Option<NaiveDate>,
    pub valid_to_after: Option<NaiveDate>,
    pub renewal_due: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PermitOrderField {
    #[default]
    Id,
    PermitNumber,
    ValidTo,
}

/// SQL form of `effective_status`.
fn status_condition(status: PermitStatus, today: NaiveDate) -> Condition {
    let col = permits::Column::Status;
    match status {
        PermitStatus::Valid => Condition::all()
            .add(col.eq(PermitStatus::Valid))
            .add(permits::Column::ValidTo.gte(today)),
        PermitStatus::Expired => Condition::any().add(col.eq(PermitStatus::Expired)).add(
            Condition::all()
                .add(col.eq(PermitStatus::Valid))
                .add(permits::Column::ValidTo.lt(today)),
        ),
        other => Condition::all().add(col.eq(other)),
    }
}

fn units_matching(filter: &PermitFilter) -> Option<Select<units::Entity>> {
    if filter.industry.is_none()
        && filter.unit_name_contains.is_none()
        && filter.credit_code.is_none()
    {
        return None;
    }
    let mut units_select = units::Entity::find();
    if let Some(i) = &filter.industry {
        units_select = units_select
            .filter(units::Column::IndustryCode.starts_with(i.trim().to_ascii_uppercase()));
    }
    if let Some(text) = filter
        .unit_name_contains
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        units_select = units_select.filter(
            Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                units::Column::Name,
            )))
            .like(
                sea_orm::sea_query::LikeExpr::new(like_pattern(&text.to_lowercase())).escape('\\'),
            ),
        );
    }
    if let Some(code) = &filter.credit_code {
        units_select =
            units_select.filter(units::Column::CreditCode.eq(code.trim().to_ascii_uppercase()));
    }
    Some(units_select)
}

fn apply_filter(
    mut select: Select<permits::Entity>,
    filter: &PermitFilter,
    today: NaiveDate,
) -> Select<permits::Entity> {
    use sea_orm::{QuerySelect, QueryTrait};
    if let Some(d) = &filter.district {
        select = select.filter(permits::Column::DistrictCode.eq(d.clone()));
    }
    if let Some(c) = filter.category {
        select = select.filter(permits::Column::ManagementCategory.eq(c));
    }
    if let Some(s) = filter.status {
        select = select.filter(status_condition(s, today));
    }
    if let Some(u) = filter.unit_id {
        select = select.filter(permits::Column::UnitId.eq(u));
    }
    if let Some(before) = filter.valid_to_before {
        select = select.filter(permits::Column::ValidTo.lt(before));
    }
    if let Some(after) = filter.valid_to_after {
        select = select.filter(permits::Column::ValidTo.gt(after));
    }
    if let Some(due) = filter.renewal_due {
        let window_end = today + chrono::Duration::days(RENEWAL_WINDOW_DAYS);
        let due_condition = Condition::all()
            .add(permits::Column::Status.eq(PermitStatus::Valid))
            .add(permits::Column::ValidTo.gte(today))
            .add(permits::Column::ValidTo.lte(window_end));
        select = select.filter(if due {
            due_condition
        } else {
            due_condition.not()
        });
    }
    if let Some(units_select) = units_matching(filter) {
        let ids = units_select
            .select_only()
            .column(units::Column::Id)
            .into_query();
        select = select.filter(permits::Column::UnitId.in_subquery(ids));
    }
    select
}

pub(super) fn ordering(field: PermitOrderField, descending: bool) -> Ordering<permits::Entity> {
    let (column, key, date_sort): (permits::Column, page::CursorKey<permits::Entity>, bool) =
        match field {
            PermitOrderField::Id => (permits::Column::Id, |m| (SortValue::Int(m.id), m.id), false),
            PermitOrderField::PermitNumber => (
                permits::Column::PermitNumber,
                |m| (SortValue::Text(m.permit_number.clone()), m.id),
                false,
            ),
            PermitOrderField::ValidTo => (
                permits::Column::ValidTo,
                |m| (SortValue::Date(m.valid_to), m.id),
                true,
            ),
        };
    Ordering {
        column,
        id_column: Some(permits::Column::Id),
        descending,
        date_sort,
        key,
    }
}

pub struct PermitList {
    pub(super) select: Select<permits::Entity>,
    /// Whose list it is: a planned page reads the children in this principal's scope.
    pub(super) principal: Principal,
}

impl PermitList {
    pub async fn page(
        &self,
        db: &DatabaseConnection,
        order: PermitOrderField,
        descending: bool,
        args: &PageArgs,
    ) -> AppResult<Page<permits::Model>> {
        page::fetch_page(db, self.select.clone(), &ordering(order, descending), args).await
    }

    pub fn count_query(&self) -> page::CountQuery {
        page::CountQuery::new(self.select.clone())
    }
}

pub fn list(principal: Option<&Principal>, filter: &PermitFilter) -> AppResult<PermitList> {
    let principal = access::authorize(principal, Operation::ReadPermits)?;
    Ok(PermitList {
        select: apply_filter(scoped(principal), filter, clock::today()),
        principal: principal.clone(),
    })
}

pub async fn get(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<permits::Model>> {
    let principal = access::authorize(principal, Operation::ReadPermits)?;
    Ok(scoped(principal)
        .filter(permits::Column::Id.eq(id))
        .one(db)
        .await?)
}

pub async fn by_number(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    number: &str,
) -> AppResult<Option<permits::Model>> {
    let principal = access::authorize(principal, Operation::ReadPermits)?;
    let number =
        PermitNumber::parse(number).map_err(|e| AppError::code_error("permitNumber", e))?;
    Ok(scoped(principal)
        .filter(permits::Column::PermitNumber.eq(number.as_str()))
        .one(db)
        .await?)
}

/// `get` with the planned children, in one statement.
pub async fn get_planned(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
    plan: PermitPlan,
) -> AppResult<Option<PlannedPermit>> {
    let principal = access::authorize(principal, Operation::ReadPermits)?;
    let select = scoped(principal).filter(permits::Column::Id.eq(id));
    planned::one_planned(db, principal, select, plan).await
}

/// `by_number` with the planned children, in one statement.
pub async fn by_number_planned(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    number: &str,
    plan: PermitPlan,
) -> AppResult<Option<PlannedPermit>> {
    let principal = access::authorize(principal, Operation::ReadPermits)?;
    let number =
        PermitNumber::parse(number).map_err(|e| AppError::code_error("permitNumber", e))?;
    let select = scoped(principal).filter(permits::Column::PermitNumber.eq(number.as_str()));
    planned::one_planned(db, principal, select, plan).await
}

/// Batch loads for DataLoaders: one statement per batch, whatever the page size.
pub async fn by_unit_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    unit_ids: &[i64],
) -> AppResult<Vec<permits::Model>> {
    Ok(scoped(principal)
        .filter(permits::Column::UnitId.is_in(unit_ids.iter().copied()))
        .order_by_asc(permits::Column::Id)
        .all(db)
        .await?)
}

pub async fn outlets_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<outlets::Model>> {
    Ok(outlets::Entity::find()
        .filter(outlets::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(outlets::Column::PermitId)
        .order_by_asc(outlets::Column::Code)
        .all(db)
        .await?)
}

pub async fn limits_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<permit_limits::Model>> {
    Ok(permit_limits::Entity::find()
        .filter(permit_limits::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(permit_limits::Column::Id)
        .all(db)
        .await?)
}

pub async fn requirements_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<monitoring_requirements::Model>> {
    Ok(monitoring_requirements::Entity::find()
        .filter(monitoring_requirements::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(monitoring_requirements::Column::Id)
        .all(db)
        .await?)
}

pub async fn duties_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<report_duties::Model>> {
    Ok(report_duties::Entity::find()
        .filter(report_duties::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(report_duties::Column::Id)
        .all(db)
        .await?)
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<permits::Model>> {
    Ok(scoped(principal)
        .filter(permits::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn outlets_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<outlets::Model>> {
    Ok(outlets::Entity::find()
        .filter(outlets::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
