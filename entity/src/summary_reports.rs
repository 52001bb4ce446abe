//! `summary_reports`: a district's summary report (总结报告) for a campaign, one per (campaign,
//! district). `snapshot` freezes the figures as submitted (coverage, findings by code, cases,
//! fines, rectifications); `late` records whether it came after the campaign's
//! `summary_deadline`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "summary_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    #[sea_orm(column_type = "Json")]
    pub snapshot: Json,
    /// Token subject of the person who submitted the report.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub submitted_by_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub submitted_by_agency: Option<String>,
    pub submitted_at: DateTimeUtc,
    pub late: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::campaigns::Entity",
        from = "Column::CampaignId",
        to = "super::campaigns::Column::Id"
    )]
    Campaign,
    #[sea_orm(
        belongs_to = "super::districts::Entity",
        from = "Column::DistrictCode",
        to = "super::districts::Column::Code"
    )]
    District,
}

impl Related<super::campaigns::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaign.def()
    }
}

impl Related<super::districts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::District.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
