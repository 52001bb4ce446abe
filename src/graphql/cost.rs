//! Static cost of paged fields, checked against `LIMIT_MAX_COST` before any database work: a
//! paged field costs its page size times what each item selects, so nesting `first: 100` inside
//! `first: 100` is refused up front instead of being discovered by the database.
//!
//! async-graphql evaluates these in `#[graphql(complexity = "...")]` with the field's arguments.

use crate::domain::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// The page a client asks for, as the resolver will read it; out-of-range sizes are refused by
/// the resolver, so for cost they count as the largest allowed page.
fn page_size(requested: Option<i32>, default: u64, max: u64) -> usize {
    let size = match requested {
        None => default,
        Some(n) if n < 1 => 1,
        Some(n) => (n as u64).min(max),
    };
    usize::try_from(size).unwrap_or(usize::MAX)
}

/// A Relay connection: `first` or `last` items (default 20, at most 100), plus the field itself.
pub fn connection(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    page_size(first.or(last), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

/// A list with a `first` argument that has a default (nested lists, bulletins, the feed).
pub fn list(first: i32, max: u64, child_complexity: usize) -> usize {
    page_size(Some(first), DEFAULT_PAGE_SIZE, max)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_grows_with_the_page_size() {
        assert_eq!(connection(None, None, 5), 101);
        assert_eq!(connection(Some(50), None, 5), 251);
        assert_eq!(connection(None, Some(10), 5), 51);
        // Oversized pages are refused by the resolver; for cost they are the largest page.
        assert_eq!(connection(Some(100_000), None, 1), 101);
        assert_eq!(list(10, 100, 3), 31);
        assert_eq!(list(1000, 1000, 2), 2001);
        assert_eq!(connection(Some(-5), None, 7), 8);
    }
}
