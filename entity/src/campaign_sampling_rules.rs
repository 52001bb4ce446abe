//! `campaign_sampling_rules`: how much of each management category a campaign samples by random
//! draw, e.g. `SIMPLIFIED` 0.1 per `YEAR`. `share` is the fraction (0 to 1) of the category's
//! units (the stratum) to draw per `period`. One rule per (campaign, category).

use crate::enums::{ManagementCategory, SamplingPeriod};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

// No `Eq`: `share` is floating-point.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "campaign_sampling_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub management_category: ManagementCategory,
    #[sea_orm(column_type = "Double")]
    pub share: f64,
    pub period: SamplingPeriod,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::campaigns::Entity",
        from = "Column::CampaignId",
        to = "super::campaigns::Column::Id"
    )]
    Campaign,
}

impl Related<super::campaigns::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaign.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
