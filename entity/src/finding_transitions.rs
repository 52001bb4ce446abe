//! `finding_transitions`: the append-only status history of a finding. The first row has no
//! `from_status`; a transition confirmed by a re-inspection (复查) names it in `reinspection_id`.

use crate::enums::FindingStatus;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "finding_transitions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub finding_id: i64,
    pub from_status: Option<FindingStatus>,
    pub to_status: FindingStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub reinspection_id: Option<i64>,
    /// Token subject of the person who made the change.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub actor_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub actor_agency: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::findings::Entity",
        from = "Column::FindingId",
        to = "super::findings::Column::Id"
    )]
    Finding,
    #[sea_orm(
        belongs_to = "super::inspections::Entity",
        from = "Column::ReinspectionId",
        to = "super::inspections::Column::Id"
    )]
    Reinspection,
}

impl Related<super::findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Finding.def()
    }
}

impl Related<super::inspections::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Reinspection.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
