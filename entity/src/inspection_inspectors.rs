//! `inspection_inspectors`: which inspectors took part in an inspection, one row per
//! (inspection, inspector). The schema sets no minimum; "at least two" is for the service.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "inspection_inspectors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub inspection_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub inspector_id: i64,
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
        belongs_to = "super::inspectors::Entity",
        from = "Column::InspectorId",
        to = "super::inspectors::Column::Id"
    )]
    Inspector,
}

impl Related<super::inspections::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Inspection.def()
    }
}

impl Related<super::inspectors::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Inspector.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
