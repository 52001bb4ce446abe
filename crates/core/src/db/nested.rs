//! Related rows as one JSON column of their parent's row: how a planned read fetches a page and
//! the children its query asked for in one statement, instead of one statement per field.
//!
//! PostgreSQL aggregates the rows with `json_agg`, which keys each object by column name and
//! writes dates, timestamps, booleans and floats the way serde reads them back. SQLite has no
//! row-to-JSON, so the object is spelled out from the entity's columns; booleans (stored as
//! 0/1) and floats (whose JSON text SQLite rounds to 15 digits) are written explicitly.
//! The array's order is not part of the contract: callers sort what they decode.
//!
//! A to-one child (a permit's unit, a finding's permit) is joined instead (`join_one`): its
//! columns come in the parent's row in the driver's own encoding, so the database builds no
//! JSON for it (PostgreSQL's CPU for a page of 50 permits with their units fell by a quarter).

use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, IntoColumnRef, JoinType, Query, SelectStatement,
};
use sea_orm::{
    ColumnTrait, ColumnType, DbBackend, DbErr, EntityTrait, IdenStatic, Iterable, QueryResult,
    QueryTrait, Select,
};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};
use entity::{permits, units};

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

/// `select` with the row of `table` whose `key` is the outer row's `parent`, in the caller's
/// `scope`, joined under its model's alias (`LEFT JOIN (SELECT table.* FROM table WHERE scope)
/// AS alias ON alias.key = parent`), every column of it selected as `alias_column`, for
/// `decode_one`. A row outside the scope, or none, leaves those columns NULL. The scope stays
/// inside the derived table, so it is the child's own rule, written against its own table;
/// both databases flatten the derived table into the join.
pub fn join_one<P, E>(
    select: Select<P>,
    table: E,
    scope: Condition,
    key: E::Column,
    parent: impl IntoColumnRef,
) -> Select<P>
where
    P: EntityTrait,
    E: EntityTrait,
    E::Model: JoinedModel,
{
    let alias = <E::Model as JoinedModel>::ALIAS;
    let mut select = select;
    let rows = Query::select()
        .column((table, Asterisk))
        .from(table)
        .cond_where(scope)
        .to_owned();
    let statement = QueryTrait::query(&mut select);
    statement.join_subquery(
        JoinType::LeftJoin,
        rows,
        Alias::new(alias),
        Expr::col((Alias::new(alias), key)).equals(parent),
    );
    for column in E::Column::iter() {
        statement.expr_as(
            Expr::col((Alias::new(alias), column)),
            Alias::new(format!("{alias}_{}", column.as_str())),
        );
    }
    select
}

/// The row `join_one` joined, or none.
pub fn decode_one<M: JoinedModel>(row: &QueryResult) -> AppResult<Option<M>> {
    Ok(M::from_joined(row)?)
}

/// A model `join_one` reads in its parent's row, under `ALIAS`. Its columns' names are
/// spelled at compile time: the derived `from_query_result` with a prefix formats each name
/// anew for every row, which cost more than the JSON it replaced.
pub trait JoinedModel: Sized {
    /// The alias of its derived table, and the prefix of its columns.
    const ALIAS: &'static str;
    /// Its fields, in column order, each named as its column (a test checks them).
    const FIELDS: &'static [&'static str];
    /// The joined row, or none (its `id` is NULL).
    fn from_joined(row: &QueryResult) -> Result<Option<Self>, DbErr>;
}

macro_rules! joined_model {
    ($($model:ident)::+ as $alias:literal { $($field:ident),+ $(,)? }) => {
        impl JoinedModel for $($model)::+ {
            const ALIAS: &'static str = $alias;
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];
            fn from_joined(row: &QueryResult) -> Result<Option<Self>, DbErr> {
                if row.try_get_by::<Option<i64>, _>(concat!($alias, "_id"))?.is_none() {
                    return Ok(None);
                }
                Ok(Some($($model)::+ {
                    $($field: row.try_get_by(concat!($alias, "_", stringify!($field)))?),+
                }))
            }
        }
    };
}

joined_model!(units::Model as "planned_unit" {
    id, credit_code, name, legal_representative, contact_phone, address, district_code,
    industry_code, management_category, credit_level, positive_list, positive_list_reason,
    positive_list_expires_on, longitude, latitude, version, created_at, updated_at,
});

joined_model!(permits::Model as "planned_permit" {
    id, permit_number, unit_id, district_code, issuing_agency_code, management_category,
    status, issued_on, valid_from, valid_to, version, created_at, updated_at,
});

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

    fn fields_are_columns<E: EntityTrait>()
    where
        E::Model: JoinedModel,
    {
        let columns: Vec<&str> = E::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(<E::Model as JoinedModel>::FIELDS, columns.as_slice());
    }

    #[test]
    fn joined_models_name_every_column_in_order() {
        fields_are_columns::<units::Entity>();
        fields_are_columns::<permits::Entity>();
    }

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
