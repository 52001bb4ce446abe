//! `inspector_conflicts`: declared conflicts of interest (回避) between an inspector and a unit.
//! A random draw must not assign the inspector to that unit. One row per (inspector, unit).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "inspector_conflicts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub inspector_id: i64,
    pub unit_id: i64,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub declared_on: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::inspectors::Entity",
        from = "Column::InspectorId",
        to = "super::inspectors::Column::Id"
    )]
    Inspector,
    #[sea_orm(
        belongs_to = "super::units::Entity",
        from = "Column::UnitId",
        to = "super::units::Column::Id"
    )]
    Unit,
}

impl Related<super::inspectors::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Inspector.def()
    }
}

impl Related<super::units::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
