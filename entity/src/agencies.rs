//! `agencies`: permit offices, enforcement detachments, the monitoring centre and supervision.
//! A district-level agency has a `district_code`; a municipal one has none.

use crate::enums::{AgencyKind, AgencyLevel};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "agencies")]
pub struct Model {
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(32))"
    )]
    pub code: String,
    pub name_zh: String,
    pub kind: AgencyKind,
    pub level: AgencyLevel,
    #[sea_orm(column_type = "String(StringLen::N(6))", nullable)]
    pub district_code: Option<String>,
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

impl ActiveModelBehavior for ActiveModel {}
