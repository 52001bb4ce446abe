//! `random_draws`: one random draw (双随机), recorded so that anyone can repeat it and get the same
//! result: the candidate lists and weights exactly as used (`frozen_inputs`), their SHA-256
//! (`input_digest`), the `seed` and the `algorithm_version`. `result` holds the outcome as drawn
//! (units with their inspector teams, or groups with their districts); `random_draw_items` holds
//! the same outcome one row per unit or group, for queries.
//!
//! A `UNITS` draw picks from one `management_category`; a `JOINT_GROUPS` draw has none. A draw
//! without `district_code` is municipal. Results are published within 20 days (`published_on`).

use crate::enums::{DrawKind, ManagementCategory};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "random_draws")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: Option<i64>,
    /// `None` for a municipal draw.
    #[sea_orm(column_type = "String(StringLen::N(6))", nullable)]
    pub district_code: Option<String>,
    pub kind: DrawKind,
    /// The stratum drawn from (`UNITS` draws only).
    pub management_category: Option<ManagementCategory>,
    pub requested_count: i32,
    pub inspectors_per_unit: i32,
    /// Decimal text of the `u64` seed (kept as text: PostgreSQL has no unsigned 64-bit integer).
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub seed: String,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub algorithm_version: String,
    /// Hex SHA-256 of `frozen_inputs`.
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub input_digest: String,
    /// The candidate units, inspectors (conflicts already recused) and weights exactly as used.
    #[sea_orm(column_type = "Json")]
    pub frozen_inputs: Json,
    /// The drawn units with their inspector teams, or the groups with their districts.
    #[sea_orm(column_type = "Json")]
    pub result: Json,
    /// Token subject of the person who ran the draw.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub drawn_by_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub drawn_by_agency: Option<String>,
    pub drawn_at: DateTimeUtc,
    pub published: bool,
    pub published_on: Option<Date>,
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
    #[sea_orm(has_many = "super::random_draw_items::Entity")]
    Items,
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

impl Related<super::random_draw_items::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Items.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
