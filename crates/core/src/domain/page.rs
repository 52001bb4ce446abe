//! Keyset pagination, the one place where pages are cut (CONTRACT: Relay connections, `first`
//! capped at 100).
//!
//! A page is ordered by one sort column plus the primary key as tie-breaker; a cursor carries
//! both values, so the next page is `WHERE (sort, id) > (v, id0)` on an index instead of an
//! `OFFSET` that grows with the page number. Cursors are opaque base64 strings and never expire.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, IntoColumnRef, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, QueryTrait, Select,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// The documented cap on `first` and `last`.
pub const MAX_PAGE_SIZE: u64 = 100;
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// Relay arguments as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// A sort value inside a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    Int(i64),
    Text(String),
    Date(NaiveDate),
}

impl From<SortValue> for SimpleExpr {
    fn from(value: SortValue) -> Self {
        match value {
            SortValue::Int(v) => Expr::val(v),
            SortValue::Text(v) => Expr::val(v),
            SortValue::Date(v) => Expr::val(v),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CursorData {
    v: SortValue,
    id: i64,
}

pub fn encode_cursor(value: SortValue, id: i64) -> String {
    let json = serde_json::to_vec(&CursorData { v: value, id }).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(field: &str, cursor: &str, date_sort: bool) -> AppResult<CursorData> {
    let bad = || AppError::invalid(field, "not a cursor returned by this service");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let mut data: CursorData = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    // Dates serialize as text; bring them back to dates so the comparison is typed.
    if date_sort && let SortValue::Text(s) = &data.v {
        data.v = SortValue::Date(s.parse().map_err(|_| bad())?);
    }
    Ok(data)
}

/// Reads a row's sort value and id, for its cursor.
pub type CursorKey<E> = fn(&<E as EntityTrait>::Model) -> (SortValue, i64);

/// How a list is ordered: one sort column, ascending or descending, then the id (`None` when
/// the sort column is itself unique, as a natural key).
pub struct Ordering<E: EntityTrait> {
    pub column: E::Column,
    pub id_column: Option<E::Column>,
    pub descending: bool,
    pub date_sort: bool,
    pub key: CursorKey<E>,
}

/// One page of rows with the cursors of its edges.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// How many items the whole list has, when the page's statement counted them
    /// (`fetch_page_as` given the list to count); `None`: count separately if asked.
    pub total: Option<u64>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl Fn(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(|(c, t)| (c, f(t))).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total: self.total,
        }
    }
}

/// The column that carries the count of a page's statement that counts (`fetch_page_as`).
const TOTAL: &str = "page_total";

fn page_size(field: &str, value: Option<i32>) -> AppResult<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(AppError::invalid(field, "must not be negative")),
        Some(n) if n as u64 > MAX_PAGE_SIZE => Err(AppError::invalid(
            field,
            format!("at most {MAX_PAGE_SIZE} items per page (the documented cap)"),
        )),
        Some(n) => Ok(Some(n as u64)),
    }
}

/// Rows strictly after (or before) a cursor in the given direction.
fn beyond<C: IntoColumnRef + Copy>(
    column: C,
    id: Option<C>,
    data: CursorData,
    greater: bool,
) -> Condition {
    let value: SimpleExpr = data.v.into();
    let past = |col: C, v: SimpleExpr| {
        if greater {
            Expr::col(col).gt(v)
        } else {
            Expr::col(col).lt(v)
        }
    };
    let Some(id) = id else {
        return Condition::all().add(past(column, value));
    };
    Condition::any().add(past(column, value.clone())).add(
        Condition::all()
            .add(Expr::col(column).eq(value))
            .add(past(id, Expr::val(data.id))),
    )
}

/// Fetches one page of `select` (already filtered by scope and the client's filter).
pub async fn fetch_page<E, C>(
    db: &C,
    select: Select<E>,
    ordering: &Ordering<E>,
    args: &PageArgs,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Column: ColumnTrait + Copy,
    C: ConnectionTrait,
{
    let decode = |row: &QueryResult| Ok(E::Model::from_query_result(row, "")?);
    fetch_page_as(db, select, ordering, args, None, decode, |model| model).await
}

/// `fetch_page` for a select that carries more than the entity's columns (a planned read's
/// children): `decode` reads each row, `model` finds the entity's row in it for the cursor.
/// Given `count_of`, the list as filtered (scope and filter, no cursor), the statement also
/// counts it for `totalCount`: an uncorrelated scalar subquery, which the database evaluates
/// once, so one round trip instead of two (issue 15).
pub async fn fetch_page_as<E, C, T>(
    db: &C,
    select: Select<E>,
    ordering: &Ordering<E>,
    args: &PageArgs,
    count_of: Option<Select<E>>,
    decode: impl Fn(&QueryResult) -> AppResult<T>,
    model: impl Fn(&T) -> &E::Model,
) -> AppResult<Page<T>>
where
    E: EntityTrait,
    E::Column: ColumnTrait + Copy,
    C: ConnectionTrait,
{
    let first = page_size("first", args.first)?;
    let last = page_size("last", args.last)?;
    if first.is_some() && last.is_some() {
        return Err(AppError::invalid(
            "last",
            "send either first or last, not both",
        ));
    }
    let backward = last.is_some();
    let limit = first.or(last).unwrap_or(DEFAULT_PAGE_SIZE);

    let mut select = select;
    let counting = count_of.is_some();
    if let Some(list) = count_of {
        let counted = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(list.into_query(), Alias::new("counted"))
            .to_owned();
        select = select.expr_as(counted, TOTAL);
    }
    let cursor_given = args.after.is_some() || args.before.is_some();
    if let Some(after) = &args.after {
        let data = decode_cursor("after", after, ordering.date_sort)?;
        select = select.filter(beyond(
            ordering.column,
            ordering.id_column,
            data,
            !ordering.descending,
        ));
    }
    if let Some(before) = &args.before {
        let data = decode_cursor("before", before, ordering.date_sort)?;
        select = select.filter(beyond(
            ordering.column,
            ordering.id_column,
            data,
            ordering.descending,
        ));
    }
    let descending = ordering.descending != backward;
    let order = if descending { Order::Desc } else { Order::Asc };
    let mut select = select.order_by(ordering.column, order.clone());
    if let Some(id) = ordering.id_column {
        select = select.order_by(id, order);
    }
    let statement = select.limit(limit + 1).build(db.get_database_backend());
    let raw = db.query_all_raw(statement).await?;
    let total = match (counting, raw.first()) {
        (false, _) => None,
        (true, Some(row)) => Some(u64::try_from(row.try_get::<i64>("", TOTAL)?).unwrap_or(0)),
        // No row: without a cursor the list is empty; past a cursor nothing is known.
        (true, None) => (!cursor_given).then_some(0),
    };
    let mut rows = raw.iter().map(decode).collect::<AppResult<Vec<T>>>()?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if backward {
        rows.reverse();
    }
    let items = rows
        .into_iter()
        .map(|row| {
            let (value, id) = (ordering.key)(model(&row));
            (encode_cursor(value, id), row)
        })
        .collect();
    Ok(Page {
        items,
        has_next_page: !backward && more,
        has_previous_page: backward && more,
        total,
    })
}

impl<T> Page<T> {
    /// The first page of rows read in the list's order with one row more than `limit` (the
    /// extra row only tells that a next page exists).
    pub fn first_of(mut rows: Vec<T>, limit: u64, key: fn(&T) -> (SortValue, i64)) -> Self {
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        Page {
            items: rows
                .into_iter()
                .map(|row| {
                    let (value, id) = key(&row);
                    (encode_cursor(value, id), row)
                })
                .collect(),
            has_next_page,
            has_previous_page: false,
            total: None,
        }
    }
}

/// A scoped, filtered list in its order: what a connection pages and counts.
pub struct Listing<E: EntityTrait> {
    select: Select<E>,
    ordering: Ordering<E>,
}

impl<E> Listing<E>
where
    E: EntityTrait,
    E::Column: ColumnTrait + Copy,
    E::Model: Sync + Send,
    Select<E>: Send + Sync + 'static,
{
    pub fn new(select: Select<E>, ordering: Ordering<E>) -> Self {
        Self { select, ordering }
    }

    pub async fn page(
        &self,
        db: &impl ConnectionTrait,
        args: &PageArgs,
    ) -> AppResult<Page<E::Model>> {
        fetch_page(db, self.select.clone(), &self.ordering, args).await
    }

    pub fn count_query(&self) -> CountQuery {
        CountQuery::new(self.select.clone())
    }
}

/// `totalCount` of a filtered select; computed only when the client asks for it.
pub async fn count<E, C>(db: &C, select: Select<E>) -> AppResult<u64>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    Ok(select.count(db).await?)
}

/// A deferred `totalCount`: built with the page's filter, run only if the client selects it.
#[derive(Clone)]
pub struct CountQuery(
    std::sync::Arc<
        dyn Fn(
                sea_orm::DatabaseConnection,
            ) -> futures_util::future::BoxFuture<'static, AppResult<u64>>
            + Send
            + Sync,
    >,
);

impl CountQuery {
    pub fn new<E>(select: Select<E>) -> Self
    where
        E: EntityTrait,
        E::Model: Sync + Send,
        Select<E>: Send + Sync + 'static,
    {
        Self(std::sync::Arc::new(move |db| {
            let select = select.clone();
            Box::pin(async move { count(&db, select).await })
        }))
    }

    pub async fn run(&self, db: &sea_orm::DatabaseConnection) -> AppResult<u64> {
        (self.0)(db.clone()).await
    }
}
