//! Related rows as one JSON column of their parent's row: how a planned read fetches a page and
//! the children its query asked for in one statement, instead of one statement per field.
//!
//! PostgreSQL aggregates the rows with `json_agg`, which keys each object by column name and
//! writes dates, timestamps, booleans and floats the way serde reads them back. SQLite has no
//! row-to-JSON, so the object is spelled out from the entity's columns; booleans (stored as
//! 0/1) and floats (whose JSON text SQLite rounds to 15 digits) are written explicitly.
//! The array's order is not part of the contract: callers sort what they decode.

use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, IntoColumnRef, Query, SelectStatement,
};
use sea_orm::{ColumnTrait, ColumnType, DbBackend, EntityTrait, IdenStatic, Iterable, QueryResult};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

/// The alias the child rows have inside the aggregate.
const ROWS: &str = "nested_rows";

/// `(SELECT <the rows of `rows` as a JSON array text>)`: a scalar subquery to add to the
/// parent's select list. `rows` selects every column of `E` (`SELECT E.* …`) and may refer to
/// the parent's table (a correlated subquery); an empty set gives NULL or `[]`.
pub fn rows_as_json<E: EntityTrait>(backend: DbBackend, rows: SelectStatement) -> Expr {
    let aggregate = match backend {
        DbBackend::Postgres => format!("json_agg(\"{ROWS}\")::text"),
        _ => format!("json_group_array(json_object({}))", sqlite_pairs::<E>()),
    };
    let mut outer = Query::select();
    outer
        .expr(Expr::cust(aggregate))
        .from_subquery(rows, Alias::new(ROWS));
    outer.into()
}

/// `'column', value, …` for SQLite's `json_object`, one pair per column of `E`.
fn sqlite_pairs<E: EntityTrait>() -> String {
    E::Column::iter()
        .map(|column| {
            let name = column.as_str();
            let value = format!("\"{ROWS}\".\"{name}\"");
            let json = match column.def().get_column_type() {
                ColumnType::Boolean => format!(
                    "CASE WHEN {value} IS NULL THEN NULL WHEN {value} THEN json('true') \
                     ELSE json('false') END"
                ),
                ColumnType::Double | ColumnType::Float | ColumnType::Decimal(_) => format!(
                    "CASE WHEN {value} IS NULL THEN NULL ELSE json(printf('%.17g', {value})) END"
                ),
                ColumnType::Json | ColumnType::JsonBinary => format!("json({value})"),
                _ => value,
            };
            format!("'{name}', {json}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SELECT table.* FROM table WHERE scope AND child = parent`: the rows of `table` in the
/// caller's `scope` that belong to the outer row (`parent` is a column of the outer table), for
/// `rows_as_json`.
pub fn rows_of<E: EntityTrait>(
    table: E,
    scope: Condition,
    child: impl IntoColumnRef,
    parent: impl IntoColumnRef,
) -> SelectStatement {
    Query::select()
        .column((table, Asterisk))
        .from(table)
        .cond_where(scope)
        .and_where(Expr::col(child).equals(parent))
        .to_owned()
}

/// The rows a `rows_as_json` column carries (none when it is NULL).
pub fn decode<M: DeserializeOwned>(row: &QueryResult, column: &str) -> AppResult<Vec<M>> {
    let text: Option<String> = row.try_get("", column)?;
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            AppError::internal(format!("planned column {column} did not decode: {e}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_spells_out_every_column_and_types_booleans_and_floats() {
        let pairs = sqlite_pairs::<entity::units::Entity>();
        assert!(pairs.starts_with("'id', \"nested_rows\".\"id\""), "{pairs}");
        assert!(pairs.contains("WHEN \"nested_rows\".\"positive_list\" THEN json('true')"));
        assert!(pairs.contains("printf('%.17g', \"nested_rows\".\"longitude\")"));
        for column in entity::units::Column::iter() {
            assert!(
                pairs.contains(&format!("'{}', ", column.as_str())),
                "{column:?}"
            );
        }
    }
}
