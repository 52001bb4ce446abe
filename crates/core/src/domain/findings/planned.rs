//! Planned finding reads: a page of findings with the permit and unit the query asked for, in
//! one statement. The permit and the unit keep their own district rules inside it.

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, QueryResult, QuerySelect, Select};

use super::reading::{FindingList, newest_first};
use crate::auth::Principal;
use crate::db::nested;
use crate::domain::page::{self, Page, PageArgs};
use crate::domain::{permits as permit_rules, units as unit_rules};
use crate::error::AppResult;
use entity::{findings, permits, units};

/// What a read of findings fetches beside them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FindingPlan {
    pub permit: bool,
    pub unit: bool,
}

/// The children read with a finding. `None`: not read; `Some(None)`: none in the caller's
/// scope (or, for the permit, none at all: NP-1 and RG-1 findings have no permit).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingChildren {
    pub permit: Option<Option<permits::Model>>,
    pub unit: Option<Option<units::Model>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFinding {
    pub row: findings::Model,
    pub children: FindingChildren,
}

const PERMIT: &str = "planned_permit";
const UNIT: &str = "planned_unit";

impl FindingPlan {
    fn select(
        &self,
        select: Select<findings::Entity>,
        principal: &Principal,
        backend: DbBackend,
    ) -> Select<findings::Entity> {
        let mut select = select;
        if self.permit {
            let rows = nested::rows_of(
                permits::Entity,
                permit_rules::row_condition(principal),
                (permits::Entity, permits::Column::Id),
                (findings::Entity, findings::Column::PermitId),
            );
            select = select.expr_as(
                nested::rows_as_json::<permits::Entity>(backend, rows),
                PERMIT,
            );
        }
        if self.unit {
            let rows = nested::rows_of(
                units::Entity,
                unit_rules::row_condition(principal),
                (units::Entity, units::Column::Id),
                (findings::Entity, findings::Column::UnitId),
            );
            select = select.expr_as(nested::rows_as_json::<units::Entity>(backend, rows), UNIT);
        }
        select
    }

    fn decode(&self, row: &QueryResult) -> AppResult<PlannedFinding> {
        let mut children = FindingChildren::default();
        if self.permit {
            children.permit = Some(nested::decode(row, PERMIT)?.into_iter().next());
        }
        if self.unit {
            children.unit = Some(nested::decode(row, UNIT)?.into_iter().next());
        }
        Ok(PlannedFinding {
            row: findings::Model::from_query_result(row, "")?,
            children,
        })
    }
}

impl FindingList {
    /// `page` with the planned children, in one statement; counting the list in it too when
    /// `count` (its `totalCount` is selected).
    pub async fn page_planned(
        &self,
        db: &impl ConnectionTrait,
        args: &PageArgs,
        plan: FindingPlan,
        count: bool,
    ) -> AppResult<Page<PlannedFinding>> {
        let select = plan.select(
            self.select.clone(),
            &self.principal,
            db.get_database_backend(),
        );
        let decode = |row: &QueryResult| plan.decode(row);
        let count_of = count.then(|| self.select.clone());
        page::fetch_page_as(db, select, &newest_first(), args, count_of, decode, |f| {
            &f.row
        })
        .await
    }
}
