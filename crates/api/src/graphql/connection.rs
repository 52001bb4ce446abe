//! Relay connections (CONTRACT: `edges { cursor node }`, `pageInfo`, `totalCount`), built from a
//! domain `Page`. `totalCount` runs its own COUNT only when selected.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Object, OutputType};

use sea_orm::{ColumnTrait, EntityTrait, Select};

use permit_core::domain::page::{CountQuery, Listing, MAX_PAGE_SIZE, Page, PageArgs};
use permit_core::error::AppError;

/// How a connection's `totalCount` is found, when selected: a root list's own COUNT, or a
/// nested list's count batched over its parents.
pub enum Counted {
    /// Counted already, by the page's own statement.
    Known(u64),
    Query(CountQuery),
    InspectionsOfUnit(i64),
    FindingsOfPermit(i64),
    DrawsOfCampaign(i64),
}

impl From<CountQuery> for Counted {
    fn from(count: CountQuery) -> Self {
        Counted::Query(count)
    }
}

#[Object]
impl Counted {
    /// How many items match the filter within the caller's scope, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> crate::graphql::error::Result<u64> {
        let batched = match self {
            Counted::Known(total) => return Ok(*total),
            Counted::Query(count) => return Ok(count.run(super::db(ctx)?).await?),
            Counted::InspectionsOfUnit(id) => {
                super::load_one(ctx, super::loaders::InspectionCountOfUnit(*id)).await?
            }
            Counted::FindingsOfPermit(id) => {
                super::load_one(ctx, super::loaders::FindingCountOfPermit(*id)).await?
            }
            Counted::DrawsOfCampaign(id) => {
                super::load_one(ctx, super::loaders::DrawCountOfCampaign(*id)).await?
            }
        };
        Ok(batched.unwrap_or_default())
    }
}

pub type Conn<N> = Connection<String, N, Counted, EmptyFields>;

pub fn from_page<M, N: OutputType>(
    page: Page<M>,
    count: impl Into<Counted>,
    node: impl Fn(M) -> N,
) -> Conn<N> {
    let count = match page.total {
        Some(total) => Counted::Known(total),
        None => count.into(),
    };
    let mut connection =
        Connection::with_additional_fields(page.has_previous_page, page.has_next_page, count);
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, m)| Edge::new(cursor, node(m))),
    );
    connection
}

pub fn page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    PageArgs {
        first,
        after,
        last,
        before,
    }
}

/// One page of a domain `Listing` as a connection.
pub async fn listed<E, N>(
    ctx: &Context<'_>,
    listing: Listing<E>,
    args: PageArgs,
    node: impl Fn(E::Model) -> N,
) -> crate::graphql::error::Result<Conn<N>>
where
    E: EntityTrait,
    E::Column: ColumnTrait + Copy,
    E::Model: Sync + Send,
    Select<E>: Send + Sync + 'static,
    N: OutputType,
{
    let page = listing.page(super::db(ctx)?, &args).await?;
    Ok(from_page(page, listing.count_query(), node))
}

/// `first` of a nested connection: 1 to 100 (the documented cap).
pub fn nested_first(first: i32) -> crate::graphql::error::Result<u64> {
    match u64::try_from(first) {
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => Err(AppError::invalid("first", format!("1 to {MAX_PAGE_SIZE}")).into()),
    }
}
