//! `random_draw_items`: the outcome of a random draw, one row per drawn unit (`UNITS`: `unit_id`
//! and its inspector team) or per group (`JOINT_GROUPS`: `group_label`, the `district_code` the
//! group goes to, and its inspectors), in draw order (`position`). The draw's `result` JSON is
//! the authoritative record; these rows make it queryable ("was this unit drawn?").

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "random_draw_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub draw_id: i64,
    pub unit_id: Option<i64>,
    /// For `JOINT_GROUPS`: the district the group inspects.
    #[sea_orm(column_type = "String(StringLen::N(6))", nullable)]
    pub district_code: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub group_label: Option<String>,
    /// JSON array of inspector ids.
    #[sea_orm(column_type = "Json")]
    pub inspector_ids: Json,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::random_draws::Entity",
        from = "Column::DrawId",
        to = "super::random_draws::Column::Id"
    )]
    Draw,
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
}

impl Related<super::random_draws::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Draw.def()
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

impl ActiveModelBehavior for ActiveModel {}
