//! `monitoring_devices`: automatic monitors by their HJ 212 `MN`, each measuring one outlet;
//! `password` is the `PW` its packets carry (the standard's access password, not a secret of
//! the service's users).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "monitoring_devices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "String(StringLen::N(24))", unique)]
    pub mn: String,
    pub outlet_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub password: String,
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub registered_by_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub registered_by_agency: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::outlets::Entity",
        from = "Column::OutletId",
        to = "super::outlets::Column::Id"
    )]
    Outlet,
}

impl ActiveModelBehavior for ActiveModel {}
