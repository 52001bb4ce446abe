//! `readings`: monitoring results per outlet, pollutant and time (automatic monitors,
//! self-monitoring, supervisory monitoring). `measured_at` is Unix seconds (UTC); the key
//! `(outlet_id, pollutant, measured_at, source)` is unique. `permit_id`, `unit_id` and
//! `district_code` are the outlet's permit's, copied so scoped reads need no join.

use crate::enums::ReadingSource;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

// No `Eq`: the value is floating-point.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "readings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub outlet_id: i64,
    pub permit_id: i64,
    pub unit_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub pollutant: String,
    /// Unix seconds (UTC).
    pub measured_at: i64,
    #[sea_orm(column_type = "Double")]
    pub value: f64,
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub unit: String,
    pub source: ReadingSource,
    /// HJ 212 data flag (`N` normal, `F` stopped, `M` maintenance, `S` set by hand, `D`
    /// fault, `C` calibration, `T` over range, `B` communication lost).
    #[sea_orm(column_type = "String(StringLen::N(8))")]
    pub flag: String,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub recorded_by_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub recorded_by_agency: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::outlets::Entity",
        from = "Column::OutletId",
        to = "super::outlets::Column::Id"
    )]
    Outlet,
}

impl ActiveModelBehavior for ActiveModel {}
