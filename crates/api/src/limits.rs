//! Abuse limits applied before any database work (OWASP GraphQL cheat sheet; graphql-armor's
//! defaults): document size in characters and tokens, aliases, directives; and per-subject and
//! per-address token buckets. Each refusal names the limit and its value.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::config::Limits;

/// Counts lexical tokens of a GraphQL document (punctuators, names, numbers, strings), skipping
/// whitespace, commas and comments — cheap enough to run before parsing.
pub fn count_tokens(document: &str) -> usize {
    let mut tokens = 0;
    let mut chars = document.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => {}
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                tokens += 1;
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            c if c.is_alphanumeric() || c == '_' || c == '-' => {
                tokens += 1;
                while chars
                    .peek()
                    .is_some_and(|n| n.is_alphanumeric() || *n == '_' || *n == '.')
                {
                    chars.next();
                }
            }
            _ => tokens += 1,
        }
    }
    tokens
}

fn count_in(set: &SelectionSet, aliases: &mut usize, directives: &mut usize) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                if field.node.alias.is_some() {
                    *aliases += 1;
                }
                *directives += field.node.directives.len();
                count_in(&field.node.selection_set.node, aliases, directives);
            }
            Selection::FragmentSpread(spread) => *directives += spread.node.directives.len(),
            Selection::InlineFragment(fragment) => {
                *directives += fragment.node.directives.len();
                count_in(&fragment.node.selection_set.node, aliases, directives);
            }
        }
    }
}

/// (aliases, directives) used anywhere in the document.
fn aliases_and_directives(document: &ExecutableDocument) -> (usize, usize) {
    let (mut aliases, mut directives) = (0, 0);
    for (_, op) in document.operations.iter() {
        directives += op.node.directives.len();
        count_in(&op.node.selection_set.node, &mut aliases, &mut directives);
    }
    for fragment in document.fragments.values() {
        directives += fragment.node.directives.len();
        count_in(
            &fragment.node.selection_set.node,
            &mut aliases,
            &mut directives,
        );
    }
    (aliases, directives)
}

/// Whether a field belongs to introspection (`__schema`, `__type`, `__typename`, and
/// everything below the first two): the schema's own description, the same size for every
/// client, so the depth limit does not count it (the standard introspection query of
/// graphql-js, GraphiQL and Apollo nests `ofType` deeper than any limit worth having).
fn is_introspection(name: &str) -> bool {
    name.starts_with("__")
}

/// The deepest nesting of non-introspection fields, fragments spread inline (a fragment
/// cycle, refused later by validation, ends the walk).
fn depth_of<'a>(
    set: &'a SelectionSet,
    document: &'a ExecutableDocument,
    visiting: &mut Vec<&'a str>,
) -> usize {
    let mut deepest = 0;
    for item in &set.items {
        let depth = match &item.node {
            Selection::Field(field) if is_introspection(&field.node.name.node) => 0,
            Selection::Field(field) => {
                1 + depth_of(&field.node.selection_set.node, document, visiting)
            }
            Selection::InlineFragment(fragment) => {
                depth_of(&fragment.node.selection_set.node, document, visiting)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                match document.fragments.get(&spread.node.fragment_name.node) {
                    Some(fragment) if !visiting.contains(&name) => {
                        visiting.push(name);
                        let depth = depth_of(&fragment.node.selection_set.node, document, visiting);
                        visiting.pop();
                        depth
                    }
                    _ => 0,
                }
            }
        };
        deepest = deepest.max(depth);
    }
    deepest
}

/// The depth the limit counts: fields nested in the deepest operation, introspection aside.
pub fn query_depth(document: &ExecutableDocument) -> usize {
    document
        .operations
        .iter()
        .map(|(_, op)| depth_of(&op.node.selection_set.node, document, &mut Vec::new()))
        .max()
        .unwrap_or(0)
}

/// Whether the document asks for the schema (`__schema` or `__type` anywhere; `__typename`
/// is only a type's name and stays public).
pub fn uses_introspection(document: &ExecutableDocument) -> bool {
    fn in_set(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type")
                    || in_set(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, op)| in_set(&op.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|f| in_set(&f.node.selection_set.node))
}

/// Checks a document against the size, token, alias and directive limits, and gives back the
/// parsed document (parsed once here, after the cheap size checks, and handed to the executor),
/// or `None` when it does not parse: the executor then reports the syntax error precisely.
pub fn check_document(query: &str, limits: &Limits) -> Result<Option<ExecutableDocument>, String> {
    let chars = query.chars().count();
    if chars > limits.max_document_chars {
        return Err(format!(
            "the document has {chars} characters; the limit is {}",
            limits.max_document_chars
        ));
    }
    let tokens = count_tokens(query);
    if tokens > limits.max_tokens {
        return Err(format!(
            "the document has {tokens} tokens; the limit is {}",
            limits.max_tokens
        ));
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return Ok(None);
    };
    let (aliases, directives) = aliases_and_directives(&document);
    if aliases > limits.max_aliases {
        return Err(format!(
            "the document uses {aliases} aliases; the limit is {}",
            limits.max_aliases
        ));
    }
    if directives > limits.max_directives {
        return Err(format!(
            "the document uses {directives} directives; the limit is {}",
            limits.max_directives
        ));
    }
    if query_depth(&document) > limits.max_depth {
        return Err(format!(
            "the query is nested deeper than the limit of {} levels",
            limits.max_depth
        ));
    }
    Ok(Some(document))
}

/// A token bucket: `capacity` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets per subject and per client address.
pub struct RateLimiter {
    per_second: f64,
    capacity: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Above this many tracked keys, full buckets are forgotten (they hold no state worth keeping).
const MAX_TRACKED: usize = 50_000;

impl RateLimiter {
    pub fn new(per_second: f64, capacity: f64) -> Self {
        Self {
            per_second,
            capacity,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `Err(wait)` when the bucket is empty.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > MAX_TRACKED {
            let (rate, capacity) = (self.per_second, self.capacity);
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * rate < capacity
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.capacity,
            last: now,
        });
        let refill = now.duration_since(bucket.last).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_counted_like_a_lexer() {
        assert_eq!(count_tokens("{ a }"), 3);
        assert_eq!(
            count_tokens("query Q($x: Int = 3) { a(b: \"c, d\") # comment\n }"),
            18
        );
    }

    #[test]
    fn aliases_and_directives_are_limited() {
        let limits = Limits {
            max_aliases: 2,
            max_directives: 1,
            ..Limits::default()
        };
        assert!(
            check_document(
                "{ a: units { totalCount } b: units { totalCount } }",
                &limits
            )
            .is_ok()
        );
        let three = "{ a: units { totalCount } b: units { totalCount } c: units { totalCount } }";
        assert!(
            check_document(three, &limits)
                .is_err_and(|m| m.contains("3 aliases") && m.contains("limit is 2"))
        );
        let directives = "{ units @skip(if: false) { totalCount @include(if: true) } }";
        assert!(check_document(directives, &limits).is_err_and(|m| m.contains("2 directives")));
    }

    #[test]
    fn buckets_refill() {
        let limiter = RateLimiter::new(1000.0, 2.0);
        assert!(limiter.take("a").is_ok());
        assert!(limiter.take("a").is_ok());
        assert!(limiter.take("a").is_err());
        assert!(limiter.take("b").is_ok(), "buckets are per key");
        std::thread::sleep(Duration::from_millis(5));
        assert!(limiter.take("a").is_ok());
    }
}
