//! `monitoring_requirements`: a permit's self-monitoring plan (Art 19) per outlet and pollutant,
//! manual or automatic (Art 20), with its frequency. Versioned like limits: a row lives from
//! `since_version` until the version that replaced or removed it.

use crate::enums::{MonitoringFrequency, MonitoringMethod};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "monitoring_requirements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub permit_id: i64,
    pub outlet_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub pollutant: String,
    pub method: MonitoringMethod,
    pub frequency: MonitoringFrequency,
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
    #[sea_orm(
        belongs_to = "super::outlets::Entity",
        from = "Column::OutletId",
        to = "super::outlets::Column::Id"
    )]
    Outlet,
}

impl ActiveModelBehavior for ActiveModel {}
