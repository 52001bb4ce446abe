//! `bulletin_acknowledgements`: an addressed agency's acknowledgement of a bulletin, at most one
//! per (bulletin, agency).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "bulletin_acknowledgements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bulletin_id: i64,
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(32))"
    )]
    pub agency_code: String,
    /// Token subject of the person who acknowledged for the agency.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub acknowledged_by_subject: String,
    pub acknowledged_at: DateTimeUtc,
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
        belongs_to = "super::agencies::Entity",
        from = "Column::AgencyCode",
        to = "super::agencies::Column::Code"
    )]
    Agency,
}

impl Related<super::bulletins::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bulletin.def()
    }
}

impl Related<super::agencies::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agency.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
