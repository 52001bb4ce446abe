//! `change_events`: the change feed, one row per record a write creates or changes, in `id`
//! order.
//!
//! `txid` is the writing transaction's id on PostgreSQL and `0` on SQLite; the service sets it
//! with a SQL expression, not a bound value. `kind` is a plain string rather than an enum: the
//! feed names records from every part of the schema.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "change_events")]
pub struct Model {
    /// The feed's sequence.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub txid: i64,
    /// `UNIT`, `PERMIT`, `REGISTRATION`, `INSPECTION`, `FINDING`, `ENFORCEMENT_ACTION`,
    /// `CAMPAIGN`, `RANDOM_DRAW`, `SUMMARY_REPORT` or `INSPECTOR`.
    #[sea_orm(column_type = "String(StringLen::N(24))")]
    pub kind: String,
    /// Id of the record in the table `kind` names (no foreign key).
    pub record_id: i64,
    /// The record's version after the change, for records that have one.
    pub version: Option<i32>,
    /// `CREATED`, `UPDATED` or `STATE_CHANGED`.
    #[sea_orm(column_type = "String(StringLen::N(24))")]
    pub operation: String,
    /// The record's new status, for records that have one.
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub state: Option<String>,
    /// The record's district; `None` for municipal records (no foreign key).
    #[sea_orm(column_type = "String(StringLen::N(6))", nullable)]
    pub district_code: Option<String>,
    /// Token subject of the person who made the change.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub actor_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub actor_agency: Option<String>,
    /// `MUNICIPAL` or `DISTRICT`.
    #[sea_orm(column_type = "String(StringLen::N(16))")]
    pub actor_level: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub request_id: Option<String>,
    pub committed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
