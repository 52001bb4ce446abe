//! Keeps `violation_pattern_cells` (findings, units affected and fines per district × code, for
//! all findings and for closed ones) current, inside the transaction of each write that changes
//! them: a finding recorded, a finding moved into or out of CLOSED, a fine decided.
//!
//! Counts and fines are sums, so a write adds its share. "Units affected" is a distinct count: a
//! write changes it only when the unit gains its first, or loses its last, finding of that code
//! in the class. The cell's row is updated (and so locked, on PostgreSQL) *before* the unit's
//! findings are counted, so two writers for the same unit and code cannot both take themselves
//! for the first: the second counts after the first has committed.

use entity::enums::{EnforcementActionKind, FindingStatus, ViolationCategory};
use entity::{enforcement_actions, findings, violation_pattern_cells as cells};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, QueryTrait, Set, Statement,
};

use crate::error::{AppError, AppResult};

/// What one write adds to a cell.
#[derive(Default)]
struct Delta {
    findings_all: i64,
    fines_all: i64,
    findings_closed: i64,
    fines_closed: i64,
}

fn is_closed(status: FindingStatus) -> bool {
    status == FindingStatus::Closed
}

/// A new finding's share of its cell: the upsert, to run with (or before) the finding's
/// insert; then `count_recorded` once both are done, in the same transaction.
pub(crate) fn recorded_upsert(
    backend: DbBackend,
    district_code: &str,
    violation_code: &str,
    category: ViolationCategory,
    status: FindingStatus,
) -> Statement {
    let delta = Delta {
        findings_all: 1,
        findings_closed: i64::from(is_closed(status)),
        ..Delta::default()
    };
    upsert(district_code, violation_code, category, &delta).build(backend)
}

/// The units of a new finding's cell, after `recorded_upsert` (which holds the cell's lock).
pub(crate) async fn count_recorded(
    txn: &impl ConnectionTrait,
    finding: &findings::Model,
) -> AppResult<()> {
    count_units(txn, finding, 1, i64::from(is_closed(finding.status))).await
}

/// A finding moved from `from` to its current status (in the transaction that moved it).
pub(crate) async fn finding_moved(
    txn: &impl ConnectionTrait,
    finding: &findings::Model,
    from: FindingStatus,
) -> AppResult<()> {
    let closed = i64::from(is_closed(finding.status)) - i64::from(is_closed(from));
    if closed == 0 {
        return Ok(());
    }
    let delta = Delta {
        findings_closed: closed,
        ..Delta::default()
    };
    add(txn, finding, &delta).await?;
    // The finding's fines are read only now, under the cell's lock: a fine recorded meanwhile
    // has committed (and is counted here), or will find the finding closed (and count itself).
    let fines = fines_of(txn, finding.id).await?;
    if fines != 0 {
        let fines = Delta {
            fines_closed: closed * fines,
            ..Delta::default()
        };
        add(txn, finding, &fines).await?;
    }
    count_units(txn, finding, 0, closed).await
}

/// A fine or daily penalty decided on a finding, in yuan as the patterns count it.
pub(crate) async fn fine_recorded(
    txn: &impl ConnectionTrait,
    finding: &findings::Model,
    yuan: i64,
) -> AppResult<()> {
    let delta = Delta {
        fines_all: yuan,
        ..Delta::default()
    };
    add(txn, finding, &delta).await?;
    // The status as committed now, under the cell's lock (see `finding_moved`).
    let status = findings::Entity::find_by_id(finding.id)
        .one(txn)
        .await?
        .map(|f| f.status)
        .unwrap_or(finding.status);
    if is_closed(status) {
        let closed = Delta {
            fines_closed: yuan,
            ..Delta::default()
        };
        add(txn, finding, &closed).await?;
    }
    Ok(())
}

/// Adds `delta` to the finding's cell, creating it if needed; on PostgreSQL this holds the
/// cell's row lock until the transaction ends.
async fn add(
    txn: &impl ConnectionTrait,
    finding: &findings::Model,
    delta: &Delta,
) -> AppResult<()> {
    upsert(
        &finding.district_code,
        &finding.violation_code,
        finding.category,
        delta,
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The INSERT … ON CONFLICT that adds `delta` to a cell.
fn upsert(
    district_code: &str,
    violation_code: &str,
    category: ViolationCategory,
    delta: &Delta,
) -> sea_orm::Insert<cells::ActiveModel> {
    let row = cells::ActiveModel {
        district_code: Set(district_code.to_owned()),
        violation_code: Set(violation_code.to_owned()),
        category: Set(category),
        findings_all: Set(delta.findings_all),
        units_all: Set(0),
        fines_all: Set(delta.fines_all),
        findings_closed: Set(delta.findings_closed),
        units_closed: Set(0),
        fines_closed: Set(delta.fines_closed),
    };
    let plus_excluded = |column: cells::Column| {
        Expr::col((cells::Entity, column)).add(Expr::col((Alias::new("excluded"), column)))
    };
    let on_conflict =
        OnConflict::columns([cells::Column::DistrictCode, cells::Column::ViolationCode])
            .values([
                (
                    cells::Column::FindingsAll,
                    plus_excluded(cells::Column::FindingsAll),
                ),
                (
                    cells::Column::FinesAll,
                    plus_excluded(cells::Column::FinesAll),
                ),
                (
                    cells::Column::FindingsClosed,
                    plus_excluded(cells::Column::FindingsClosed),
                ),
                (
                    cells::Column::FinesClosed,
                    plus_excluded(cells::Column::FinesClosed),
                ),
            ])
            .to_owned();
    cells::Entity::insert(row).on_conflict(on_conflict)
}

#[derive(FromQueryResult)]
struct UnitCounts {
    all: i64,
    closed: Option<i64>,
}

/// Counts the unit's findings of the code now (after the write, which added `added_all` and
/// `added_closed` of them) and adjusts the cell's units when the unit entered or left a class.
async fn count_units(
    txn: &impl ConnectionTrait,
    finding: &findings::Model,
    added_all: i64,
    added_closed: i64,
) -> AppResult<()> {
    let closed_value = sea_orm::ActiveEnum::to_value(&FindingStatus::Closed);
    let counts = findings::Entity::find()
        .select_only()
        .expr_as(Func::count(Expr::col(findings::Column::Id)), "all")
        .expr_as(
            Func::sum(
                Expr::case(Expr::col(findings::Column::Status).eq(closed_value), 1).finally(0),
            ),
            "closed",
        )
        .filter(findings::Column::UnitId.eq(finding.unit_id))
        .filter(findings::Column::ViolationCode.eq(finding.violation_code.clone()))
        .into_model::<UnitCounts>()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("no count of the unit's findings"))?;
    let closed = counts.closed.unwrap_or(0);
    let entered = |after: i64, added: i64| i64::from(after > 0) - i64::from(after - added > 0);
    let units_all = entered(counts.all, added_all);
    let units_closed = entered(closed, added_closed);
    if units_all == 0 && units_closed == 0 {
        return Ok(());
    }
    cells::Entity::update_many()
        .col_expr(
            cells::Column::UnitsAll,
            Expr::col(cells::Column::UnitsAll).add(units_all),
        )
        .col_expr(
            cells::Column::UnitsClosed,
            Expr::col(cells::Column::UnitsClosed).add(units_closed),
        )
        .filter(cells::Column::DistrictCode.eq(finding.district_code.clone()))
        .filter(cells::Column::ViolationCode.eq(finding.violation_code.clone()))
        .exec(txn)
        .await?;
    Ok(())
}

/// The fines decided on one finding (a fine once, a daily penalty once per day).
async fn fines_of(txn: &impl ConnectionTrait, finding_id: i64) -> AppResult<i64> {
    let actions = enforcement_actions::Entity::find()
        .filter(enforcement_actions::Column::FindingId.eq(finding_id))
        .all(txn)
        .await?;
    Ok(actions
        .iter()
        .map(|a| counted_fine(a.kind, a.amount_yuan, a.days))
        .sum())
}

/// A decision's amount as the patterns count it.
pub(crate) fn counted_fine(
    kind: EnforcementActionKind,
    amount_yuan: Option<i64>,
    days: Option<i32>,
) -> i64 {
    let amount = amount_yuan.unwrap_or(0);
    match kind {
        EnforcementActionKind::Fine => amount,
        EnforcementActionKind::DailyContinuousPenalty => {
            amount.saturating_mul(i64::from(days.unwrap_or(1)))
        }
        _ => 0,
    }
}

/// Recomputes every cell from the findings and fines on file (after a bulk load such as the
/// demo seed, or to repair).
pub async fn rebuild(db: &DatabaseConnection) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    cells::Entity::delete_many().exec(&txn).await?;
    txn.execute_unprepared(migration::m20261128_000007_pattern_cells::REBUILD)
        .await?;
    txn.commit().await?;
    Ok(())
}
