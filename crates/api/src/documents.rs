//! Parsed documents by their text. Clients send the same few operations again and again with
//! other variables, and parsing was an eighth of a simple read's CPU (issue 15's profile), so a
//! document that passed the limits once is kept, parsed, and handed out again.
//!
//! Only what parsed and passed `limits::check_document` is kept, so a refusal is always
//! worked out afresh. The limits are the server's configuration and do not change while it
//! runs. Short documents only, and a bounded number, so that the cache stays small whatever
//! callers send: at most `CAPACITY` × `MAX_CACHED_BYTES` bytes of text and their trees.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;

use crate::config::Limits;

/// Documents kept, the least recently used going first.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(256).expect("non-zero");
/// Longer documents are parsed every time (an application's operations are far shorter).
const MAX_CACHED_BYTES: usize = 8 * 1024;

pub struct DocumentCache {
    parsed: Mutex<LruCache<Box<str>, Arc<ExecutableDocument>>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        DocumentCache {
            parsed: Mutex::new(LruCache::new(CAPACITY)),
        }
    }
}

impl DocumentCache {
    /// `limits::check_document`, remembered for documents that passed it.
    pub fn check(
        &self,
        query: &str,
        limits: &Limits,
    ) -> Result<Option<ExecutableDocument>, String> {
        let cacheable = query.len() <= MAX_CACHED_BYTES;
        if cacheable && let Some(document) = self.lock().get(query).cloned() {
            return Ok(Some(ExecutableDocument::clone(&document)));
        }
        let checked = crate::limits::check_document(query, limits)?;
        if let Some(document) = &checked
            && cacheable
        {
            self.lock().put(query.into(), Arc::new(document.clone()));
        }
        Ok(checked)
    }

    /// Documents kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cache holds no invariant a panic elsewhere could break: a poisoned lock is used.
    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<Box<str>, Arc<ExecutableDocument>>> {
        self.parsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn a_document_that_passed_is_parsed_once_and_handed_out_again() {
        let cache = DocumentCache::default();
        let query = "query Q($n: String!) { permitByNumber(permitNumber: $n) { id } }";
        let first = cache
            .check(query, &limits())
            .expect("passes")
            .expect("parses");
        assert_eq!(cache.len(), 1);
        let again = cache
            .check(query, &limits())
            .expect("passes")
            .expect("parses");
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn refusals_and_syntax_errors_are_not_kept() {
        let cache = DocumentCache::default();
        let limits = Limits {
            max_aliases: 1,
            ..limits()
        };
        let aliased = "{ a: __typename b: __typename }";
        for _ in 0..2 {
            assert!(
                cache
                    .check(aliased, &limits)
                    .is_err_and(|m| m.contains("aliases"))
            );
        }
        assert!(matches!(cache.check("{ unclosed", &limits), Ok(None)));
        assert!(cache.is_empty());
    }

    #[test]
    fn long_documents_pass_without_being_kept() {
        let cache = DocumentCache::default();
        let padding = "#".repeat(MAX_CACHED_BYTES);
        let query = format!("{padding}\n{{ __typename }}");
        assert!(cache.check(&query, &limits()).expect("passes").is_some());
        assert!(cache.is_empty());
    }

    #[test]
    fn the_least_recently_used_document_goes_first() {
        let cache = DocumentCache::default();
        let queries: Vec<String> = (0..=CAPACITY.get())
            .map(|i| format!("query Q{i} {{ __typename }}"))
            .collect();
        for query in &queries {
            cache.check(query, &limits()).expect("passes");
        }
        assert_eq!(cache.len(), CAPACITY.get());
        assert!(!cache.lock().contains(queries[0].as_str()));
        assert!(cache.lock().contains(queries[CAPACITY.get()].as_str()));
    }
}
