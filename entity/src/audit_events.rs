//! `audit_events`: the audit log. One row per mutation and per read of personal data, naming who
//! did it, under which operation and request, and which records it touched.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// Token subject of the caller.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub agency: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(24))")]
    pub role: String,
    /// The GraphQL operation name, or the root field when the operation has none.
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub operation_name: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub request_id: Option<String>,
    /// `MUTATION` or `READ_PERSONAL_DATA`.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub action: String,
    /// A `change_events.kind` key, when the records are of one kind.
    #[sea_orm(column_type = "String(StringLen::N(24))", nullable)]
    pub record_kind: Option<String>,
    /// JSON array of record ids.
    #[sea_orm(column_type = "Json")]
    pub record_ids: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
