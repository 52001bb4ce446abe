//! Reading readings back: by id for the DataLoaders, and the filtered list, newest first, in
//! the principal's scope (`access::reading_filter`).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::page::{Listing, Ordering, SortValue};
use crate::error::AppResult;
use entity::enums::ReadingSource;
use entity::readings;

#[derive(Debug, Clone, Default)]
pub struct ReadingFilter {
    pub district: Option<String>,
    pub unit_id: Option<i64>,
    pub permit_id: Option<i64>,
    pub outlet_id: Option<i64>,
    pub pollutant: Option<String>,
    pub source: Option<ReadingSource>,
    pub flag: Option<String>,
    /// Measured at or after (Unix seconds).
    pub from: Option<i64>,
    /// Measured before (Unix seconds).
    pub to: Option<i64>,
}

fn scoped(principal: &Principal) -> Select<readings::Entity> {
    readings::Entity::find().filter(access::reading_filter(principal))
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<readings::Model>> {
    Ok(scoped(principal)
        .filter(readings::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The caller's readings matching `filter`, newest first.
pub fn list(
    principal: Option<&Principal>,
    filter: &ReadingFilter,
) -> AppResult<Listing<readings::Entity>> {
    let principal = access::authorize(principal, Operation::ReadUnits)?;
    let mut select = scoped(principal);
    use readings::Column as C;
    if let Some(d) = &filter.district {
        select = select.filter(C::DistrictCode.eq(d.clone()));
    }
    if let Some(id) = filter.unit_id {
        select = select.filter(C::UnitId.eq(id));
    }
    if let Some(id) = filter.permit_id {
        select = select.filter(C::PermitId.eq(id));
    }
    if let Some(id) = filter.outlet_id {
        select = select.filter(C::OutletId.eq(id));
    }
    if let Some(p) = &filter.pollutant {
        select = select.filter(C::Pollutant.eq(p.trim()));
    }
    if let Some(s) = filter.source {
        select = select.filter(C::Source.eq(s));
    }
    if let Some(f) = &filter.flag {
        select = select.filter(C::Flag.eq(f.trim()));
    }
    if let Some(from) = filter.from {
        select = select.filter(Expr::col(C::MeasuredAt).gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(Expr::col(C::MeasuredAt).lt(to));
    }
    Ok(Listing::new(
        select,
        Ordering {
            column: C::MeasuredAt,
            id_column: Some(C::Id),
            descending: true,
            date_sort: false,
            key: |m: &readings::Model| (SortValue::Int(m.measured_at), m.id),
        },
    ))
}
