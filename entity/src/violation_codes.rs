//! `violation_codes`: the violation taxonomy keyed to the penalty articles (Art 33–43) of
//! 《排污许可管理条例》. Reference data, loaded by `migration::reference`.

use crate::enums::ViolationCategory;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "violation_codes")]
pub struct Model {
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(8))"
    )]
    pub code: String,
    pub category: ViolationCategory,
    /// Article and item, e.g. `33(1)`; free text because some codes cite local guidance.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub article: String,
    pub label_zh: String,
    pub label_en: String,
    /// Fine range in integer yuan; `None` where the article sets no amount.
    pub fine_min: Option<i64>,
    pub fine_max: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub penalty_note: String,
    pub sort_order: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
