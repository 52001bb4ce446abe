//! `findings`: violations found by an inspection (违法行为), each under one violation code.
//!
//! `unit_id`, `district_code`, `category` and `found_on` copy the inspection's unit and district,
//! the code's category and the inspection date, so the pattern queries (code × district ×
//! period) filter without joins. `permit_id` is absent for unpermitted discharge. `version` is
//! the optimistic-locking counter; every status change also writes a `finding_transitions` row.

use crate::enums::{FindingSeverity, FindingStatus, ViolationCategory};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

// No `Eq`: the measured and permitted values are floating-point.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "findings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub inspection_id: i64,
    pub unit_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    pub permit_id: Option<i64>,
    #[sea_orm(column_type = "String(StringLen::N(8))")]
    pub violation_code: String,
    pub category: ViolationCategory,
    pub found_on: Date,
    pub outlet_id: Option<i64>,
    /// EX-1: the permit limit the measurement was judged against (as it stood that day).
    pub limit_id: Option<i64>,
    /// The permit version in force on `found_on` (absent for findings older than versioned
    /// outlets and limits, and without a permit).
    pub permit_version: Option<i32>,
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub pollutant: Option<String>,
    #[sea_orm(column_type = "Double", nullable)]
    pub measured_value: Option<f64>,
    #[sea_orm(column_type = "String(StringLen::N(16))", nullable)]
    pub measured_unit: Option<String>,
    #[sea_orm(column_type = "Double", nullable)]
    pub permitted_value: Option<f64>,
    pub severity: FindingSeverity,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub rectification_deadline: Option<Date>,
    pub status: FindingStatus,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::inspections::Entity",
        from = "Column::InspectionId",
        to = "super::inspections::Column::Id"
    )]
    Inspection,
    #[sea_orm(
        belongs_to = "super::units::Entity",
        from = "Column::UnitId",
        to = "super::units::Column::Id"
    )]
    Unit,
    #[sea_orm(
        belongs_to = "super::districts::Entity",
        from = "Column::DistrictCode",
        to = "super::districts::Column::Code"
    )]
    District,
    #[sea_orm(
        belongs_to = "super::permits::Entity",
        from = "Column::PermitId",
        to = "super::permits::Column::Id"
    )]
    Permit,
    #[sea_orm(
        belongs_to = "super::violation_codes::Entity",
        from = "Column::ViolationCode",
        to = "super::violation_codes::Column::Code"
    )]
    ViolationCode,
    #[sea_orm(
        belongs_to = "super::outlets::Entity",
        from = "Column::OutletId",
        to = "super::outlets::Column::Id"
    )]
    Outlet,
    #[sea_orm(has_many = "super::finding_evidence::Entity")]
    Evidence,
    #[sea_orm(has_many = "super::finding_transitions::Entity")]
    Transitions,
    #[sea_orm(has_many = "super::enforcement_actions::Entity")]
    Actions,
}

impl Related<super::inspections::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Inspection.def()
    }
}

impl Related<super::units::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl Related<super::districts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::District.def()
    }
}

impl Related<super::permits::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Permit.def()
    }
}

impl Related<super::violation_codes::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ViolationCode.def()
    }
}

impl Related<super::outlets::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Outlet.def()
    }
}

impl Related<super::finding_evidence::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Evidence.def()
    }
}

impl Related<super::finding_transitions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Transitions.def()
    }
}

impl Related<super::enforcement_actions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Actions.def()
    }
}

/// The feedback that rests on this finding, through `feedback_findings`.
impl Related<super::feedback::Entity> for Entity {
    fn to() -> RelationDef {
        super::feedback_findings::Relation::Feedback.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::feedback_findings::Relation::Finding.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
