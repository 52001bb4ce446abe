//! `feedback_permit_changes`: the permit versions a permit office wrote in response to a
//! feedback, one row per (feedback, permit, permit version). `permit_version` is the permit's
//! `version` after the change, i.e. the matching `permit_versions.version`; it has no foreign key
//! of its own.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "feedback_permit_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub feedback_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub permit_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub permit_version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::feedback::Entity",
        from = "Column::FeedbackId",
        to = "super::feedback::Column::Id"
    )]
    Feedback,
    #[sea_orm(
        belongs_to = "super::permits::Entity",
        from = "Column::PermitId",
        to = "super::permits::Column::Id"
    )]
    Permit,
}

impl Related<super::feedback::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Feedback.def()
    }
}

impl Related<super::permits::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Permit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
