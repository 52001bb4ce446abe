//! `ledger_checks`: what an inspection found of a unit's environmental management ledger
//! (环境管理台账, Art 21) for a period, under the permit valid on the inspection's day.

use crate::enums::LedgerResult;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "ledger_checks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub inspection_id: i64,
    pub permit_id: i64,
    pub unit_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    pub period_start: Date,
    pub period_end: Date,
    pub result: LedgerResult,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub recorded_by_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub recorded_by_agency: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
