//! `bulletins`: information bulletins (信息通报): liaison rosters, campaign notices, typical cases,
//! summaries. A bulletin is addressed to the agencies, roles and districts in its audience lists
//! (JSON arrays of agency codes, role keys and district codes, empty when unused), or to everyone
//! when `public`; how the lists combine is the service's rule. Each addressed agency acknowledges
//! it once, in `bulletin_acknowledgements`; `bulletin_links` ties it to the findings and
//! enforcement actions it reports (typical cases).
//!
//! Bulletins are not edited once published.

use crate::enums::BulletinKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "bulletins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: BulletinKind,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// Readable by everyone, outside systems included.
    pub public: bool,
    /// Agency codes, a JSON array of strings.
    #[sea_orm(column_type = "Json")]
    pub audience_agencies: Json,
    /// Role keys (`PERMIT_OFFICER`, …), a JSON array of strings.
    #[sea_orm(column_type = "Json")]
    pub audience_roles: Json,
    /// District codes, a JSON array of strings.
    #[sea_orm(column_type = "Json")]
    pub audience_districts: Json,
    /// Token subject of the person who published the bulletin.
    #[sea_orm(column_type = "String(StringLen::N(128))")]
    pub publisher_subject: String,
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub publisher_agency_code: Option<String>,
    pub published_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::agencies::Entity",
        from = "Column::PublisherAgencyCode",
        to = "super::agencies::Column::Code"
    )]
    PublisherAgency,
    #[sea_orm(has_many = "super::bulletin_links::Entity")]
    Links,
    #[sea_orm(has_many = "super::bulletin_acknowledgements::Entity")]
    Acknowledgements,
}

/// The publisher's agency (not the audience, nor the acknowledging agencies).
impl Related<super::agencies::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PublisherAgency.def()
    }
}

impl Related<super::bulletin_links::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Links.def()
    }
}

impl Related<super::bulletin_acknowledgements::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Acknowledgements.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
