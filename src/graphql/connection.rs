//! Relay connections (CONTRACT: `edges { cursor node }`, `pageInfo`, `totalCount`), built from a
//! domain `Page`. `totalCount` runs its own COUNT only when selected.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Object, OutputType};

use crate::domain::page::{CountQuery, Page, PageArgs};

pub struct Counted {
    count: CountQuery,
}

#[Object]
impl Counted {
    /// How many items match the filter within the caller's scope, across all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        Ok(self.count.run(super::db(ctx)?).await?)
    }
}

pub type Conn<N> = Connection<String, N, Counted, EmptyFields>;

pub fn from_page<M, N: OutputType>(
    page: Page<M>,
    count: CountQuery,
    node: impl Fn(M) -> N,
) -> Conn<N> {
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        Counted { count },
    );
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
