//! `feedback_findings`: the findings a feedback rests on, one row per (feedback, finding).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "feedback_findings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub feedback_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub finding_id: i64,
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
        belongs_to = "super::findings::Entity",
        from = "Column::FindingId",
        to = "super::findings::Column::Id"
    )]
    Finding,
}

impl Related<super::feedback::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Feedback.def()
    }
}

impl Related<super::findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Finding.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
