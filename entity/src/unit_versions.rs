//! `unit_versions`: the append-only history of a unit, one row per version. `snapshot` holds the
//! `units` row as it stood at that version, so an earlier state can be read back without
//! replaying changes; `(unit_id, version)` is unique.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "unit_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    pub version: i32,
    /// The `units` row as it was at `version`.
    #[sea_orm(column_type = "Json")]
    pub snapshot: Json,
    /// Token subject of the person who made the change.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub changed_by_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub changed_by_agency: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::units::Entity",
        from = "Column::UnitId",
        to = "super::units::Column::Id"
    )]
    Unit,
}

impl Related<super::units::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
