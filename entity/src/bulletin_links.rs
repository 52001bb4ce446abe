//! `bulletin_links`: the findings and enforcement actions a bulletin reports, one row per link.
//! A row names a finding, an action, or both (an action with its finding); the schema does not
//! require either, that is for the service.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "bulletin_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bulletin_id: i64,
    pub finding_id: Option<i64>,
    pub action_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::bulletins::Entity",
        from = "Column::BulletinId",
        to = "super::bulletins::Column::Id"
    )]
    Bulletin,
    #[sea_orm(
        belongs_to = "super::findings::Entity",
        from = "Column::FindingId",
        to = "super::findings::Column::Id"
    )]
    Finding,
    #[sea_orm(
        belongs_to = "super::enforcement_actions::Entity",
        from = "Column::ActionId",
        to = "super::enforcement_actions::Column::Id"
    )]
    Action,
}

impl Related<super::bulletins::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bulletin.def()
    }
}

impl Related<super::findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Finding.def()
    }
}

impl Related<super::enforcement_actions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Action.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
