//! `districts`: Chongqing's districts and counties (GB/T 2260) and the management areas with
//! codes of our own. Reference data, loaded by `migration::reference`.

use crate::enums::DistrictKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "districts")]
pub struct Model {
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(6))"
    )]
    pub code: String,
    pub name_zh: String,
    pub kind: DistrictKind,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::agencies::Entity")]
    Agencies,
    #[sea_orm(has_many = "super::units::Entity")]
    Units,
    #[sea_orm(has_many = "super::permits::Entity")]
    Permits,
    #[sea_orm(has_many = "super::registrations::Entity")]
    Registrations,
}

impl Related<super::agencies::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agencies.def()
    }
}

impl Related<super::units::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Units.def()
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

impl ActiveModelBehavior for ActiveModel {}
