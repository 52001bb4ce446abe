//! `permit_limits`: permitted emission limits per outlet and pollutant (Art 13): a concentration
//! limit with its unit and averaging period, and/or an annual quantity in tonnes per year.

use crate::enums::AveragingPeriod;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

// No `Eq`: the limits are floating-point.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "permit_limits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub permit_id: i64,
    pub outlet_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub pollutant: String,
    #[sea_orm(column_type = "Double", nullable)]
    pub concentration_limit: Option<f64>,
    #[sea_orm(column_type = "String(StringLen::N(16))", nullable)]
    pub concentration_unit: Option<String>,
    pub averaging_period: Option<AveragingPeriod>,
    #[sea_orm(column_type = "Double", nullable)]
    pub annual_quantity_tpa: Option<f64>,
    /// The permit version this limit first appeared in.
    pub since_version: i32,
    /// The permit version that replaced or removed it; absent while it is current. A changed
    /// limit is a new row, so findings keep the limit they were judged against.
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
    #[sea_orm(
        belongs_to = "super::outlets::Entity",
        from = "Column::OutletId",
        to = "super::outlets::Column::Id"
    )]
    Outlet,
}

impl Related<super::permits::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Permit.def()
    }
}

impl Related<super::outlets::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Outlet.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
