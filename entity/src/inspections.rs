//! `inspections`: inspections (现场检查 or 非现场检查) of one unit on one day, with the inspectors
//! in `inspection_inspectors` and what was found in `findings`.
//!
//! `district_code` copies the unit's district so district-scoped queries filter without a join;
//! `agency_code` is the agency that recorded the inspection. `campaign_id` names the campaign
//! (for `SPECIAL_CAMPAIGN` and campaign draws) but has no foreign key: campaigns came in a later
//! migration and SQLite cannot add one to an existing table, so the service checks it.

use crate::enums::{InspectionMode, InspectionSource};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "inspections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    #[sea_orm(column_type = "String(StringLen::N(6))")]
    pub district_code: String,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub agency_code: String,
    pub inspection_date: Date,
    pub source: InspectionSource,
    pub mode: InspectionMode,
    pub campaign_id: Option<i64>,
    /// JSON array of strings: the materials reviewed (execution reports, ledger, self-monitoring
    /// data, Art 25).
    #[sea_orm(column_type = "Json")]
    pub materials_reviewed: Json,
    /// JSON array of objects: the checklist items and their results.
    #[sea_orm(column_type = "Json")]
    pub checklist: Json,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    /// Token subject of the person who recorded the inspection.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub recorded_by_subject: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::units::Entity",
        from = "Column::UnitId",
        to = "super::units::Column::Id"
    )]
    Unit,
    #[sea_orm(
        belongs_to = "super::districts::Entity",
        from = "Column::DistrictCode",
        to = "super::districts::Column::Code"
    )]
    District,
    #[sea_orm(
        belongs_to = "super::agencies::Entity",
        from = "Column::AgencyCode",
        to = "super::agencies::Column::Code"
    )]
    Agency,
    /// No foreign key in the database; see the module docs.
    #[sea_orm(
        belongs_to = "super::campaigns::Entity",
        from = "Column::CampaignId",
        to = "super::campaigns::Column::Id"
    )]
    Campaign,
    #[sea_orm(has_many = "super::inspection_inspectors::Entity")]
    InspectionInspectors,
    #[sea_orm(has_many = "super::findings::Entity")]
    Findings,
}

impl Related<super::units::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl Related<super::districts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::District.def()
    }
}

impl Related<super::agencies::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agency.def()
    }
}

impl Related<super::campaigns::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaign.def()
    }
}

impl Related<super::inspection_inspectors::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::InspectionInspectors.def()
    }
}

/// The inspectors who took part, through `inspection_inspectors`.
impl Related<super::inspectors::Entity> for Entity {
    fn to() -> RelationDef {
        super::inspection_inspectors::Relation::Inspector.def()
    }

    fn via() -> Option<RelationDef> {
        Some(
            super::inspection_inspectors::Relation::Inspection
                .def()
                .rev(),
        )
    }
}

impl Related<super::findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Findings.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
