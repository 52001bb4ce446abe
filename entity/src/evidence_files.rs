//! `evidence_files`: uploaded evidence (photos, scans, monitoring printouts) of a finding or an
//! inspection. The bytes live in the object store under `storage_key`; `public_id` is the opaque
//! name a download uses (see the migration).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "evidence_files")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// 32 random hex characters.
    #[sea_orm(column_type = "String(StringLen::N(32))", unique)]
    pub public_id: String,
    pub finding_id: Option<i64>,
    pub inspection_id: Option<i64>,
    /// The district of the finding or inspection (its access rule applies).
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    /// As the uploader named it; shown, never used as a path.
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub file_name: String,
    /// The type the content was recognised as, e.g. `image/jpeg`.
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub media_type: String,
    pub size_bytes: i64,
    /// Lower-case hex SHA-256 of the content.
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub sha256: String,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub storage_key: String,
    pub captured_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub uploaded_by_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub uploaded_by_agency: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
