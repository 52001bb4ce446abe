//! `units`: discharge units (排污单位), identified by their unified social credit code.
//! `version` is the optimistic-locking counter behind `expectedVersion`; `unit_versions` keeps
//! the history.

use crate::enums::{CreditLevel, ManagementCategory};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "String(StringLen::N(18))", unique)]
    pub credit_code: String,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub name: String,
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable)]
    pub legal_representative: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub contact_phone: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(300))")]
    pub address: String,
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    /// GB/T 4754 industry code.
    #[sea_orm(column_type = "String(StringLen::N(8))")]
    pub industry_code: String,
    pub management_category: ManagementCategory,
    pub credit_level: CreditLevel,
    /// On the 正面清单 (positive list): checked less often while the entry is current.
    pub positive_list: bool,
    #[sea_orm(column_type = "String(StringLen::N(300))", nullable)]
    pub positive_list_reason: Option<String>,
    pub positive_list_expires_on: Option<Date>,
    /// Position (CGCS2000 / WGS84 degrees), when known. Snapshots stored before locations
    /// existed lack these, hence `default`.
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub latitude: Option<f64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::districts::Entity",
        from = "Column::DistrictCode",
        to = "super::districts::Column::Code"
    )]
    District,
    #[sea_orm(has_many = "super::permits::Entity")]
    Permits,
    #[sea_orm(has_many = "super::registrations::Entity")]
    Registrations,
    #[sea_orm(has_many = "super::inspections::Entity")]
    Inspections,
    #[sea_orm(has_many = "super::findings::Entity")]
    Findings,
    #[sea_orm(has_many = "super::unit_versions::Entity")]
    Versions,
}

impl Related<super::districts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::District.def()
    }
}

impl Related<super::permits::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Permits.def()
    }
}

impl Related<super::registrations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Registrations.def()
    }
}

impl Related<super::inspections::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Inspections.def()
    }
}

impl Related<super::findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Findings.def()
    }
}

impl Related<super::unit_versions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Versions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
