//! `campaigns`: special enforcement campaigns (专项行动), e.g. the 2021 permit special enforcement:
//! phases in `campaign_phases`, the random-sampling quotas in `campaign_sampling_rules`, the draws
//! in `random_draws` and each district's summary in `summary_reports`.
//!
//! `coverage_category` is the management category every unit of which must be inspected by
//! `coverage_deadline` (全覆盖, normally `KEY`); the other categories are sampled by the rules.
//! Inspections name their campaign in `inspections.campaign_id`, which has no foreign key (SQLite
//! cannot add one to an existing table) but is related here all the same.

use crate::enums::ManagementCategory;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "String(StringLen::N(200))", unique)]
    pub name: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub coverage_category: ManagementCategory,
    pub coverage_deadline: Date,
    /// Summary reports submitted after this day are marked `late`.
    pub summary_deadline: Date,
    /// Token subject of the person who created the campaign.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub created_by_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub created_by_agency: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::campaign_phases::Entity")]
    Phases,
    #[sea_orm(has_many = "super::campaign_sampling_rules::Entity")]
    SamplingRules,
    #[sea_orm(has_many = "super::random_draws::Entity")]
    RandomDraws,
    #[sea_orm(has_many = "super::summary_reports::Entity")]
    SummaryReports,
    /// Through `inspections.campaign_id`, which has no foreign key in the database.
    #[sea_orm(has_many = "super::inspections::Entity")]
    Inspections,
}

impl Related<super::campaign_phases::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Phases.def()
    }
}

impl Related<super::campaign_sampling_rules::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SamplingRules.def()
    }
}

impl Related<super::random_draws::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RandomDraws.def()
    }
}

impl Related<super::summary_reports::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SummaryReports.def()
    }
}

impl Related<super::inspections::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Inspections.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
