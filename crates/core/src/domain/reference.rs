//! Reference data: districts (GB/T 2260 and our management-area codes), agencies, and the
//! violation taxonomy (BRIEF, the Regulation's penalty articles). Loaded by the migration crate
//! on every start; read here.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::page::{Listing, Ordering, SortValue};
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

/// Agencies by code (the code is unique, so it alone orders the pages).
pub fn agencies(
    principal: Option<&Principal>,
    filter: &AgencyFilter,
) -> AppResult<Listing<agencies::Entity>> {
    access::authorize(principal, Operation::ReadAgencies)?;
    let mut select = agencies::Entity::find();
    if let Some(d) = &filter.district {
        select = select.filter(agencies::Column::DistrictCode.eq(d.clone()));
    }
    if let Some(k) = filter.kind {
        select = select.filter(agencies::Column::Kind.eq(k));
    }
    Ok(Listing::new(
        select,
        Ordering {
            column: agencies::Column::Code,
            id_column: None,
            descending: false,
            date_sort: false,
            key: |m: &agencies::Model| (SortValue::Text(m.code.clone()), 0),
        },
    ))
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

/// The reference tables as one value, keyed by code.
#[derive(Debug, Default)]
pub struct ReferenceData {
    pub districts: HashMap<String, districts::Model>,
    pub agencies: HashMap<String, agencies::Model>,
    pub violation_codes: HashMap<String, violation_codes::Model>,
}

/// The reference tables, read once per process and then answered from memory: only the
/// migrations write them, before the instance serves, so the copy stays current while it runs
/// (an instance started later with newer reference data serves its own). Nested fields such as
/// a finding's code or a permit's district, on every row of a page, then cost neither a
/// statement nor a loader round.
#[derive(Debug, Default)]
pub struct ReferenceCache(tokio::sync::OnceCell<ReferenceData>);

impl ReferenceCache {
    pub async fn get(&self, db: &impl ConnectionTrait) -> AppResult<&ReferenceData> {
        if let Some(data) = self.0.get() {
            return Ok(data);
        }
        // Boxed, so that the (rare) first read does not size the futures of every resolver
        // that asks for a district or a code.
        Box::pin(self.0.get_or_try_init(|| async {
            Ok::<_, AppError>(ReferenceData {
                districts: districts(db)
                    .await?
                    .into_iter()
                    .map(|d| (d.code.clone(), d))
                    .collect(),
                agencies: agencies::Entity::find()
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|a| (a.code.clone(), a))
                    .collect(),
                violation_codes: violation_codes(db, None)
                    .await?
                    .into_iter()
                    .map(|c| (c.code.clone(), c))
                    .collect(),
            })
        }))
        .await
    }
}
