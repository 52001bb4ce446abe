//! `feedback`: an enforcement agency's feedback to a permit office on a violation pattern (plan
//! §5(3), 证后管理). The pattern is violation codes (`pattern_codes`) × industry × district ×
//! period; `figures` freezes the pattern's rows as they stood when the feedback was posted, and
//! `feedback_findings` names the findings it rests on. The permit office answers
//! (`answer_text`, `answered_by_subject`, `answered_at`) and records the permit versions it wrote
//! in response in `feedback_permit_changes`.
//!
//! `poster_district_code` is the poster's district (`None` for a municipal poster), copied so
//! district-scoped reads filter without a join; like `change_events.district_code` it has no
//! foreign key. `version` is the optimistic-locking counter.
//!
//! Two foreign keys lead to `agencies`, so there is no `Related<agencies::Entity>`; follow
//! [`AddressedAgency`] or [`PosterAgency`] with `find_linked` instead.

use crate::enums::{FeedbackRecommendation, FeedbackStatus};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Token subject of the person who posted the feedback.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub poster_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub poster_agency_code: Option<String>,
    /// `None` for a municipal poster.
    #[sea_orm(column_type = "String(StringLen::N(6))", nullable)]
    pub poster_district_code: Option<String>,
    /// The permit office the feedback is addressed to.
    #[sea_orm(column_type = "String(StringLen::N(32))")]
    pub addressed_agency_code: String,
    /// The pattern's violation codes, a JSON array of strings such as `["EX-1", "SM-2"]`.
    #[sea_orm(column_type = "Json")]
    pub pattern_codes: Json,
    /// GB/T 4754 industry code (or prefix) of the pattern; `None` for all industries.
    #[sea_orm(column_type = "String(StringLen::N(8))", nullable)]
    pub pattern_industry: Option<String>,
    /// `None` for all districts.
    #[sea_orm(column_type = "String(StringLen::N(6))", nullable)]
    pub pattern_district_code: Option<String>,
    pub period_from: Date,
    pub period_to: Date,
    /// The violation-pattern rows as they stood when the feedback was posted.
    #[sea_orm(column_type = "Json")]
    pub figures: Json,
    pub recommendation: FeedbackRecommendation,
    #[sea_orm(column_type = "Text")]
    pub recommendation_text: String,
    pub status: FeedbackStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub answer_text: Option<String>,
    /// Token subject of the permit officer who answered.
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub answered_by_subject: Option<String>,
    pub answered_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::agencies::Entity",
        from = "Column::PosterAgencyCode",
        to = "super::agencies::Column::Code"
    )]
    PosterAgency,
    #[sea_orm(
        belongs_to = "super::agencies::Entity",
        from = "Column::AddressedAgencyCode",
        to = "super::agencies::Column::Code"
    )]
    AddressedAgency,
    #[sea_orm(
        belongs_to = "super::districts::Entity",
        from = "Column::PatternDistrictCode",
        to = "super::districts::Column::Code"
    )]
    PatternDistrict,
    #[sea_orm(has_many = "super::feedback_findings::Entity")]
    Findings,
    #[sea_orm(has_many = "super::feedback_permit_changes::Entity")]
    PermitChanges,
}

impl Related<super::districts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PatternDistrict.def()
    }
}

impl Related<super::feedback_findings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Findings.def()
    }
}

impl Related<super::feedback_permit_changes::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PermitChanges.def()
    }
}

/// The findings the feedback rests on, through `feedback_findings`.
impl Related<super::findings::Entity> for Entity {
    fn to() -> RelationDef {
        super::feedback_findings::Relation::Finding.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::feedback_findings::Relation::Feedback.def().rev())
    }
}

/// The permits changed in response, through `feedback_permit_changes` (a permit changed twice
/// appears twice).
impl Related<super::permits::Entity> for Entity {
    fn to() -> RelationDef {
        super::feedback_permit_changes::Relation::Permit.def()
    }

    fn via() -> Option<RelationDef> {
        Some(
            super::feedback_permit_changes::Relation::Feedback
                .def()
                .rev(),
        )
    }
}

/// The permit office the feedback is addressed to: `feedback.find_linked(AddressedAgency)`.
#[derive(Clone, Copy, Debug)]
pub struct AddressedAgency;

impl Linked for AddressedAgency {
    type FromEntity = Entity;
    type ToEntity = super::agencies::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::AddressedAgency.def()]
    }
}

/// The agency that posted the feedback, if the poster had one:
/// `feedback.find_linked(PosterAgency)`.
#[derive(Clone, Copy, Debug)]
pub struct PosterAgency;

impl Linked for PosterAgency {
    type FromEntity = Entity;
    type ToEntity = super::agencies::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![Relation::PosterAgency.def()]
    }
}

impl ActiveModelBehavior for ActiveModel {}
