//! Planned finding reads: a page of findings with the permit and unit the query asked for, in
//! one statement, each joined to its finding. The permit and the unit keep their own district
//! rules inside it.

use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult, Select};

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

impl FindingPlan {
    fn select(
        &self,
        select: Select<findings::Entity>,
        principal: &Principal,
    ) -> Select<findings::Entity> {
        let mut select = select;
        if self.permit {
            select = nested::join_one(
                select,
                permits::Entity,
                permit_rules::row_condition(principal),
                permits::Column::Id,
                (findings::Entity, findings::Column::PermitId),
            );
        }
        if self.unit {
            select = nested::join_one(
                select,
                units::Entity,
                unit_rules::row_condition(principal),
                units::Column::Id,
                (findings::Entity, findings::Column::UnitId),
            );
        }
        select
    }

    fn decode(&self, row: &QueryResult) -> AppResult<PlannedFinding> {
        let mut children = FindingChildren::default();
        if self.permit {
            children.permit = Some(nested::decode_one(row)?);
        }
        if self.unit {
            children.unit = Some(nested::decode_one(row)?);
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
        let select = plan.select(self.select.clone(), &self.principal);
        let decode = |row: &QueryResult| plan.decode(row);
        let count_of = count.then(|| self.select.clone());
        page::fetch_page_as(db, select, &newest_first(), args, count_of, decode, |f| {
            &f.row
        })
        .await
    }
}
