//! `violation_candidates`: violations the monitoring data suggests (EX-1 from a reading above
//! the limit, AM-2 automatic data missing, SM-1 self-monitoring short of its frequency), for an
//! officer to confirm as a finding or dismiss. `dedupe_key` is unique.

use crate::enums::CandidateStatus;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

// No `Eq`: measured and permitted values are floating-point.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "violation_candidates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "String(StringLen::N(8))")]
    pub code: String,
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    pub unit_id: i64,
    pub permit_id: i64,
    pub outlet_id: Option<i64>,
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub pollutant: Option<String>,
    pub reading_id: Option<i64>,
    /// Unix seconds.
    pub window_from: Option<i64>,
    pub window_to: Option<i64>,
    #[sea_orm(column_type = "Double", nullable)]
    pub measured_value: Option<f64>,
    #[sea_orm(column_type = "Double", nullable)]
    pub permitted_value: Option<f64>,
    #[sea_orm(column_type = "String(StringLen::N(16))", nullable)]
    pub unit: Option<String>,
    pub expected: Option<i32>,
    pub observed: Option<i32>,
    pub status: CandidateStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub dismissed_reason: Option<String>,
    pub finding_id: Option<i64>,
    #[sea_orm(column_type = "String(StringLen::N(128))", unique)]
    pub dedupe_key: String,
    pub detected_at: DateTimeUtc,
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub decided_by_subject: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
