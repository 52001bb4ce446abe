//! Planned permit reads: a page of permits (or one permit) together with the children the
//! query asked for, in one statement. Each child keeps its own access rule inside that
//! statement (the unit its district rule, the findings the finding rule); outlets and limits
//! belong to the permit and come with it.

use std::sync::Arc;

use sea_orm::sea_query::{Condition, Order};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, QueryResult, QuerySelect, Select};

use super::reading::{PermitList, PermitOrderField, ordering};
use crate::auth::Principal;
use crate::db::nested;
use crate::domain::access::{self, Operation};
use crate::domain::page::{self, Page, PageArgs};
use crate::domain::{findings as finding_rules, units as unit_rules};
use crate::error::AppResult;
use entity::{findings, outlets, permit_limits, permits, units};

/// What a read of permits fetches beside them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermitPlan {
    pub unit: bool,
    pub outlets: bool,
    /// Every limit of the permit (its `limits` and its outlets' `limits`).
    pub limits: bool,
    /// The newest findings of each permit: this many rows (a page and one more, which tells
    /// whether another page follows).
    pub newest_findings: Option<u64>,
}

/// The newest findings of a permit read with it, in the caller's finding scope.
#[derive(Debug, Clone, PartialEq)]
pub struct NewestFindings {
    /// How many were asked for (the page size plus one).
    pub limit: u64,
    /// Newest first.
    pub rows: Vec<findings::Model>,
}

/// The children read with a permit. `None`: not read (a resolver loads it if asked).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PermitChildren {
    /// `Some(None)`: the unit is outside the caller's scope.
    pub unit: Option<Option<units::Model>>,
    /// Every outlet of the permit, in every version, by code.
    pub outlets: Option<Vec<outlets::Model>>,
    /// Every limit of the permit, in every version, by id.
    pub limits: Option<Arc<Vec<permit_limits::Model>>>,
    pub newest_findings: Option<NewestFindings>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedPermit {
    pub row: permits::Model,
    pub children: PermitChildren,
}

const OUTLETS: &str = "planned_outlets";
const LIMITS: &str = "planned_limits";
const FINDINGS: &str = "planned_findings";

impl PermitPlan {
    /// The plan as this principal may have it: findings only for who reads enforcement (the
    /// findings field then loads them and says FORBIDDEN as it always has).
    fn allowed_for(mut self, principal: &Principal) -> Self {
        if !access::role_allows(principal.role, Operation::ReadEnforcement) {
            self.newest_findings = None;
        }
        self
    }

    /// Adds the planned children to `select`: the unit joined, the lists as a JSON column each,
    /// correlated with `permits`.
    fn select(
        &self,
        select: Select<permits::Entity>,
        principal: &Principal,
        backend: DbBackend,
    ) -> Select<permits::Entity> {
        let mut select = select;
        let this_permit = (permits::Entity, permits::Column::Id);
        if self.unit {
            select = nested::join_one(
                select,
                units::Entity,
                unit_rules::row_condition(principal),
                units::Column::Id,
                (permits::Entity, permits::Column::UnitId),
            );
        }
        if self.outlets {
            let of_permit = (outlets::Entity, outlets::Column::PermitId);
            let rows = nested::rows_of(outlets::Entity, Condition::all(), of_permit, this_permit);
            select = select.expr_as(
                nested::rows_as_json::<outlets::Entity>(backend, rows),
                OUTLETS,
            );
        }
        if self.limits {
            let of_permit = (permit_limits::Entity, permit_limits::Column::PermitId);
            let rows = nested::rows_of(
                permit_limits::Entity,
                Condition::all(),
                of_permit,
                this_permit,
            );
            select = select.expr_as(
                nested::rows_as_json::<permit_limits::Entity>(backend, rows),
                LIMITS,
            );
        }
        if let Some(limit) = self.newest_findings {
            // Straight from the (permit, found_on) index: `limit` rows a permit.
            let rows = nested::rows_of(
                findings::Entity,
                finding_rules::row_condition(principal),
                (findings::Entity, findings::Column::PermitId),
                this_permit,
            )
            .order_by((findings::Entity, findings::Column::FoundOn), Order::Desc)
            .order_by((findings::Entity, findings::Column::Id), Order::Desc)
            .limit(limit)
            .to_owned();
            select = select.expr_as(
                nested::rows_as_json::<findings::Entity>(backend, rows),
                FINDINGS,
            );
        }
        select
    }

    fn decode(&self, row: &QueryResult) -> AppResult<PlannedPermit> {
        let mut children = PermitChildren::default();
        if self.unit {
            children.unit = Some(nested::decode_one(row)?);
        }
        if self.outlets {
            let mut rows: Vec<outlets::Model> = nested::decode(row, OUTLETS)?;
            rows.sort_by(|a, b| a.code.cmp(&b.code).then(a.id.cmp(&b.id)));
            children.outlets = Some(rows);
        }
        if self.limits {
            let mut rows: Vec<permit_limits::Model> = nested::decode(row, LIMITS)?;
            rows.sort_by_key(|l| l.id);
            children.limits = Some(Arc::new(rows));
        }
        if let Some(limit) = self.newest_findings {
            let mut rows: Vec<findings::Model> = nested::decode(row, FINDINGS)?;
            rows.sort_by(|a, b| b.found_on.cmp(&a.found_on).then(b.id.cmp(&a.id)));
            children.newest_findings = Some(NewestFindings { limit, rows });
        }
        Ok(PlannedPermit {
            row: permits::Model::from_query_result(row, "")?,
            children,
        })
    }
}

impl PermitList {
    /// `page` with the planned children, in one statement; counting the list in it too when
    /// `count` (its `totalCount` is selected).
    pub async fn page_planned(
        &self,
        db: &impl ConnectionTrait,
        order: PermitOrderField,
        descending: bool,
        args: &PageArgs,
        plan: PermitPlan,
        count: bool,
    ) -> AppResult<Page<PlannedPermit>> {
        let plan = plan.allowed_for(&self.principal);
        let select = plan.select(
            self.select.clone(),
            &self.principal,
            db.get_database_backend(),
        );
        let decode = |row: &QueryResult| plan.decode(row);
        let ordering = ordering(order, descending);
        let count_of = count.then(|| self.select.clone());
        page::fetch_page_as(db, select, &ordering, args, count_of, decode, |p| &p.row).await
    }
}

/// One permit of a scoped select (by id or number) with the planned children, in one statement.
pub(super) async fn one_planned(
    db: &impl ConnectionTrait,
    principal: &Principal,
    select: Select<permits::Entity>,
    plan: PermitPlan,
) -> AppResult<Option<PlannedPermit>> {
    let plan = plan.allowed_for(principal);
    let backend = db.get_database_backend();
    let statement =
        sea_orm::QueryTrait::build(&plan.select(select, principal, backend).limit(1), backend);
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(Some(plan.decode(&row)?)),
        None => Ok(None),
    }
}
