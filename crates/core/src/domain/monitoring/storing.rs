//! Storing checked readings: multi-row `INSERT … ON CONFLICT DO NOTHING` in chunks, the check
//! that a key stored already holds the same reading, and the violation candidates (EX-1, NP-2)
//! the stored readings raise.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, StatementBuilder};

use super::INSERT_CHUNK;
use super::checks::{Checked, Key, Parsed, key_of};
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use entity::enums::ReadingSource;
use entity::readings;

fn same_reading(row: &readings::Model, p: &Parsed) -> bool {
    row.value == p.value && row.unit == p.unit && row.flag == p.flag
}

pub(super) async fn insert_chunk(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    chunk: &[(usize, Checked)],
    created: DateTime<Utc>,
) -> AppResult<u64> {
    use readings::Column as C;
    let mut insert = Query::insert();
    insert.into_table(readings::Entity).columns([
        C::OutletId,
        C::PermitId,
        C::UnitId,
        C::DistrictCode,
        C::Pollutant,
        C::MeasuredAt,
        C::Value,
        C::Unit,
        C::Source,
        C::Flag,
        C::RecordedBySubject,
        C::RecordedByAgency,
        C::CreatedAt,
    ]);
    for (_, c) in chunk {
        let p = &c.parsed;
        insert
            .values([
                p.outlet_id.into(),
                c.permit_id.into(),
                c.unit_id.into(),
                c.district.clone().into(),
                p.pollutant.clone().into(),
                p.measured_at.into(),
                p.value.into(),
                p.unit.clone().into(),
                source_key(p.source).into(),
                p.flag.clone().into(),
                principal.subject.clone().into(),
                principal.agency_code.clone().into(),
                created.into(),
            ])
            .map_err(AppError::internal)?;
    }
    insert.on_conflict(
        OnConflict::columns([C::OutletId, C::Pollutant, C::MeasuredAt, C::Source])
            .do_nothing()
            .to_owned(),
    );
    let backend = txn.get_database_backend();
    let result = txn
        .execute_raw(StatementBuilder::build(&insert, &backend))
        .await?;
    Ok(result.rows_affected())
}

/// The rows of `chunk` that were not inserted now must be stored with the same values.
pub(super) async fn check_stored(
    txn: &impl ConnectionTrait,
    chunk: &[(usize, Checked)],
    path: &impl Fn(usize) -> String,
) -> AppResult<()> {
    // One flat `(outlet, pollutant, time, source) IN (…)`: a nested OR of a thousand terms
    // would recurse as deep when it is rendered.
    let keys = chunk.iter().map(|(_, c)| {
        let p = &c.parsed;
        (
            p.outlet_id,
            p.pollutant.clone(),
            p.measured_at,
            source_key(p.source).to_owned(),
        )
    });
    let any = Expr::tuple([
        Expr::col(readings::Column::OutletId),
        Expr::col(readings::Column::Pollutant),
        Expr::col(readings::Column::MeasuredAt),
        Expr::col(readings::Column::Source),
    ])
    .in_tuples(keys);
    let stored: HashMap<Key, readings::Model> = readings::Entity::find()
        .filter(any)
        .all(txn)
        .await?
        .into_iter()
        .map(|r| {
            (
                (r.outlet_id, r.pollutant.clone(), r.measured_at, r.source),
                r,
            )
        })
        .collect();
    for (i, c) in chunk {
        if let Some(row) = stored.get(&key_of(&c.parsed))
            && !same_reading(row, &c.parsed)
        {
            return Err(AppError::Duplicate {
                field: format!("{}.value", path(*i)),
                reason: format!(
                    "a reading of this outlet, pollutant, time and source is stored already \
                     with value {} {} (flag {}); readings are not overwritten",
                    row.value, row.unit, row.flag
                ),
            });
        }
    }
    Ok(())
}

/// The candidates the stored readings raise (a few of a batch, if any): EX-1 for each reading
/// above its limit, NP-2 for readings after the permit's expiry.
pub(super) async fn raised_candidates(
    txn: &sea_orm::DatabaseTransaction,
    principal: &Principal,
    flagged: &[&Checked],
) -> AppResult<u64> {
    let mut found = Vec::new();
    let mut unpermitted = Vec::new();
    for chunk in flagged.chunks(INSERT_CHUNK) {
        let keys = chunk.iter().map(|c| {
            let p = &c.parsed;
            (
                p.outlet_id,
                p.pollutant.clone(),
                p.measured_at,
                source_key(p.source).to_owned(),
            )
        });
        let stored: HashMap<Key, readings::Model> = readings::Entity::find()
            .filter(
                Expr::tuple([
                    Expr::col(readings::Column::OutletId),
                    Expr::col(readings::Column::Pollutant),
                    Expr::col(readings::Column::MeasuredAt),
                    Expr::col(readings::Column::Source),
                ])
                .in_tuples(keys),
            )
            .all(txn)
            .await?
            .into_iter()
            .map(|r| {
                (
                    (r.outlet_id, r.pollutant.clone(), r.measured_at, r.source),
                    r,
                )
            })
            .collect();
        for c in chunk {
            if let (Some(row), true) = (stored.get(&key_of(&c.parsed)), c.unpermitted) {
                unpermitted.push(crate::domain::candidates::Unpermitted {
                    reading_id: row.id,
                    permit_id: c.permit_id,
                    unit_id: c.unit_id,
                    district: c.district.clone(),
                    outlet_id: row.outlet_id,
                    pollutant: row.pollutant.clone(),
                    measured_at: row.measured_at,
                });
            }
            if let (Some(row), Some(permitted)) = (stored.get(&key_of(&c.parsed)), c.exceeds) {
                found.push(crate::domain::candidates::Exceedance {
                    reading_id: row.id,
                    permit_id: c.permit_id,
                    unit_id: c.unit_id,
                    district: c.district.clone(),
                    outlet_id: row.outlet_id,
                    pollutant: row.pollutant.clone(),
                    measured: row.value,
                    permitted,
                    unit: row.unit.clone(),
                });
            }
        }
    }
    Ok(
        crate::domain::candidates::exceedances(txn, principal, &found).await?
            + crate::domain::candidates::unpermitted_discharges(txn, principal, &unpermitted)
                .await?,
    )
}

fn source_key(source: ReadingSource) -> &'static str {
    match source {
        ReadingSource::Automatic => "AUTOMATIC",
        ReadingSource::SelfMonitoring => "SELF_MONITORING",
        ReadingSource::Supervisory => "SUPERVISORY",
    }
}
