//! `finding_evidence`: metadata of the evidence attached to a finding (photos, video, sampling
//! reports). The file itself is stored elsewhere; `sha256` (hex) lets anyone verify a copy.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "finding_evidence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub finding_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub file_name: String,
    /// MIME type, e.g. `image/jpeg`.
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub media_type: String,
    pub size_bytes: i64,
    /// Lower-case hex SHA-256 of the file.
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub sha256: String,
    pub captured_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::findings::Entity",
        from = "Column::FindingId",
        to = "super::findings::Column::Id"
    )]
    Finding,
}

impl Related<super::findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Finding.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
