//! `outlets`: discharge outlets (排放口) named in a permit, e.g. `DA001` (air) or `DW001` (water).
//! Versioned: a row lives from `since_version` until the version that removed it; an outlet whose
//! code stays across a change keeps its row (its identity).

use crate::enums::{OutletCategory, OutletMedium};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "outlets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub permit_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(5))")]
    pub code: String,
    pub medium: OutletMedium,
    pub category: OutletCategory,
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable)]
    pub name: Option<String>,
    /// The permit version this outlet first appeared in.
    pub since_version: i32,
    /// The permit version that removed it; absent while it is current.
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
    #[sea_orm(has_many = "super::permit_limits::Entity")]
    Limits,
}

impl Related<super::permits::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Permit.def()
    }
}

impl Related<super::permit_limits::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Limits.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
