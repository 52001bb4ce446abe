//! `token_revocations`: withdrawn tokens, by `jti` or by subject (see the migration).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "token_revocations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub subject: String,
    /// One token (`jti`); `None` revokes every token of the subject issued up to `revoked_before`.
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub token_id: Option<String>,
    /// Unix seconds.
    pub revoked_before: i64,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub revoked_by_subject: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
