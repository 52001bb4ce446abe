//! `report_duties`: the execution reports (执行报告, Art 22) a permit requires, by frequency.
//! Versioned like limits.

use crate::enums::ReportFrequency;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "report_duties")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub permit_id: i64,
    pub frequency: ReportFrequency,
    pub since_version: i32,
    pub retired_in_version: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::permits::Entity",
        from = "Column::PermitId",
        to = "super::permits::Column::Id"
    )]
    Permit,
}

impl ActiveModelBehavior for ActiveModel {}
