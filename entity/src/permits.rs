//! `permits`: pollutant-discharge permits (排污许可证) in their current state. Every change also
//! writes a row to `permit_versions`, which keeps the history.
//!
//! `district_code` copies the unit's district so district-scoped queries filter without a join.

use crate::enums::{ManagementCategory, PermitStatus};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "permits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// HJ 608 number: credit code + 3-digit sequence + `P`.
    #[sea_orm(column_type = "String(StringLen::N(22))", unique)]
    pub permit_number: String,
    pub unit_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub issuing_agency_code: String,
    pub management_category: ManagementCategory,
    pub status: PermitStatus,
    pub issued_on: Date,
    pub valid_from: Date,
    pub valid_to: Date,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
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
        belongs_to = "super::agencies::Entity",
        from = "Column::IssuingAgencyCode",
        to = "super::agencies::Column::Code"
    )]
    IssuingAgency,
    #[sea_orm(has_many = "super::permit_versions::Entity")]
    Versions,
    #[sea_orm(has_many = "super::outlets::Entity")]
    Outlets,
    #[sea_orm(has_many = "super::permit_limits::Entity")]
    Limits,
    #[sea_orm(has_many = "super::findings::Entity")]
    Findings,
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

impl Related<super::agencies::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::IssuingAgency.def()
    }
}

impl Related<super::permit_versions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Versions.def()
    }
}

impl Related<super::outlets::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Outlets.def()
    }
}

impl Related<super::permit_limits::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Limits.def()
    }
}

impl Related<super::findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Findings.def()
    }
}

/// The feedback this permit was changed in response to, through `feedback_permit_changes`.
impl Related<super::feedback::Entity> for Entity {
    fn to() -> RelationDef {
        super::feedback_permit_changes::Relation::Feedback.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::feedback_permit_changes::Relation::Permit.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
