//! `inspectors`: enforcement officers on the inspector list (执法人员名录库) from which random
//! draws pick. An inspector belongs to one agency; `active = false` keeps past inspections'
//! references while taking the inspector out of future draws.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "inspectors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "String(StringLen::N(50))")]
    pub name: String,
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub agency_code: String,
    /// 执法证号 (law-enforcement certificate number).
    #[sea_orm(column_type = "String(StringLen::N(32))", unique)]
    pub certificate_number: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::agencies::Entity",
        from = "Column::AgencyCode",
        to = "super::agencies::Column::Code"
    )]
    Agency,
    #[sea_orm(has_many = "super::inspector_conflicts::Entity")]
    Conflicts,
    #[sea_orm(has_many = "super::inspection_inspectors::Entity")]
    InspectionInspectors,
}

impl Related<super::agencies::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agency.def()
    }
}

impl Related<super::inspector_conflicts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conflicts.def()
    }
}

impl Related<super::inspection_inspectors::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::InspectionInspectors.def()
    }
}

/// The inspections an inspector took part in, through `inspection_inspectors`.
impl Related<super::inspections::Entity> for Entity {
    fn to() -> RelationDef {
        super::inspection_inspectors::Relation::Inspection.def()
    }

    fn via() -> Option<RelationDef> {
        Some(
            super::inspection_inspectors::Relation::Inspector
                .def()
                .rev(),
        )
    }
}

impl ActiveModelBehavior for ActiveModel {}
