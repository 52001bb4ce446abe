//! Reference data: districts (GB/T 2260 and our management-area codes), agencies, and the
//! violation taxonomy (BRIEF, the Regulation's penalty articles). Loaded by the migration crate
//! on every start; read here.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::error::{AppError, AppResult};
use entity::enums::{AgencyKind, ViolationCategory};
use entity::{agencies, districts, violation_codes};

/// Districts are public reference data.
pub async fn districts(db: &impl ConnectionTrait) -> AppResult<Vec<districts::Model>> {
    Ok(districts::Entity::find()
        .order_by_asc(districts::Column::Code)
        .all(db)
        .await?)
}

pub async fn districts_by_codes(
    db: &impl ConnectionTrait,
    codes: &[String],
) -> AppResult<Vec<districts::Model>> {
    Ok(districts::Entity::find()
        .filter(districts::Column::Code.is_in(codes.iter().cloned()))
        .all(db)
        .await?)
}

pub async fn require_district(db: &impl ConnectionTrait, code: &str, field: &str) -> AppResult<()> {
    match districts::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?
    {
        Some(_) => Ok(()),
        None => Err(AppError::invalid(
            field,
            format!("unknown district code '{code}'"),
        )),
    }
}

#[derive(Debug, Clone, Default)]
pub struct AgencyFilter {
    pub district: Option<String>,
    pub kind: Option<AgencyKind>,
}

pub async fn agencies(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    filter: &AgencyFilter,
) -> AppResult<Vec<agencies::Model>> {
    access::authorize(principal, Operation::ReadAgencies)?;
    let mut select = agencies::Entity::find().order_by_asc(agencies::Column::Code);
    if let Some(d) = &filter.district {
        select = select.filter(agencies::Column::DistrictCode.eq(d.clone()));
    }
    if let Some(k) = filter.kind {
        select = select.filter(agencies::Column::Kind.eq(k));
    }
    Ok(select.all(db).await?)
}

pub async fn agencies_by_codes(
    db: &impl ConnectionTrait,
    codes: &[String],
) -> AppResult<Vec<agencies::Model>> {
    Ok(agencies::Entity::find()
        .filter(agencies::Column::Code.is_in(codes.iter().cloned()))
        .all(db)
        .await?)
}

/// The violation taxonomy, in the order of BRIEF's table.
pub async fn violation_codes(
    db: &impl ConnectionTrait,
    category: Option<ViolationCategory>,
) -> AppResult<Vec<violation_codes::Model>> {
    let mut select =
        violation_codes::Entity::find().order_by_asc(violation_codes::Column::SortOrder);
    if let Some(c) = category {
        select = select.filter(violation_codes::Column::Category.eq(c));
    }
    Ok(select.all(db).await?)
}
