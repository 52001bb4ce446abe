//! `enforcement_actions`: decisions taken on a finding (correction order, fine, suspension, …),
//! each under its own decision number (决定书文号). `typical_case` marks it for public exposure
//! as a 典型案例.

use crate::enums::EnforcementActionKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "enforcement_actions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub finding_id: i64,
    pub kind: EnforcementActionKind,
    #[sea_orm(column_type = "String(StringLen::N(64))", unique)]
    pub decision_number: String,
    pub decided_on: Date,
    /// Fine in integer yuan; `None` for actions without an amount.
    pub amount_yuan: Option<i64>,
    /// Number of days of a daily continuous penalty (按日连续处罚).
    pub days: Option<i32>,
    pub typical_case: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    /// The deciding agency.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub agency_code: String,
    /// Token subject of the person who recorded the action.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub recorded_by_subject: String,
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
        belongs_to = "super::agencies::Entity",
        from = "Column::AgencyCode",
        to = "super::agencies::Column::Code"
    )]
    Agency,
}

impl Related<super::findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Finding.def()
    }
}

impl Related<super::agencies::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agency.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
