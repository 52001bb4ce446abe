//! `violation_pattern_cells`: findings, units affected and fines per district × violation code,
//! for all findings and for closed ones only; maintained by the writes (see the migration).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::ViolationCategory;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "violation_pattern_cells")]
pub struct Model {
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(6))"
    )]
    pub district_code: String,
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(8))"
    )]
    pub violation_code: String,
    pub category: ViolationCategory,
    pub findings_all: i64,
    pub units_all: i64,
    pub fines_all: i64,
    pub findings_closed: i64,
    pub units_closed: i64,
    pub fines_closed: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
