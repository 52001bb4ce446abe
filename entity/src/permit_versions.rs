//! `permit_versions`: the append-only history of a permit (issue, 变更, 延续, revocation, …).
//! `snapshot` holds the permit as it stood after the change (outlets and limits included), so
//! an "as of" answer can be read back without replaying changes.

use crate::enums::{PermitChangeKind, PermitStatus};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "permit_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub permit_id: i64,
    pub version: i32,
    pub change_kind: PermitChangeKind,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub status: PermitStatus,
    pub valid_from: Date,
    pub valid_to: Date,
    #[sea_orm(column_type = "JsonBinary")]
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
        belongs_to = "super::permits::Entity",
        from = "Column::PermitId",
        to = "super::permits::Column::Id"
    )]
    Permit,
}

impl Related<super::permits::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Permit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
