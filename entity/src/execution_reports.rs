//! `execution_reports`: execution reports (执行报告, Art 22) submitted for a permit's duty, by
//! frequency and period, with the day submitted and a summary.

use crate::enums::ReportFrequency;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "execution_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub permit_id: i64,
    pub unit_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    pub frequency: ReportFrequency,
    pub period_start: Date,
    pub period_end: Date,
    pub submitted_on: Date,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub recorded_by_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub recorded_by_agency: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
