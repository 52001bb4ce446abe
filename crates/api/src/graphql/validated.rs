//! The schema behind a validation gate. Full validation (async-graphql's `Strict` rules) was a
//! tenth of a simple read's CPU (issue 15's profile), and clients send the same few documents
//! over and over. So a document is validated in full the first time it comes with variables of
//! its kind, remembered, and from then on executes on the schema's `Fast` mode, which keeps only
//! the rules execution itself relies on.
//!
//! What validation depends on: the document, the operation, and the variables where an
//! argument's value is checked against its type (`ArgumentsOfCorrectType`). A variable declared
//! `String` (or `String!`) that holds a string passes that check whatever the string is, so its
//! text is left out of the key; any other variable's value is part of it. Custom scalars (dates,
//! IDs) and numbers therefore give a key per value, which is still one validation per distinct
//! request, never less checking than before.
//!
//! Only this type can execute: `execute` and `subscribe` pass the gate first.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::futures_util::stream::{self, BoxStream, StreamExt};
use async_graphql::parser::types::{BaseType, ExecutableDocument, Type};
use async_graphql::{Request, Response, ServerError, ValidationResult, Variables};
use lru::LruCache;
use sha2::{Digest, Sha256};

use super::AppSchema;

/// Validated (document, operation, variables) kinds kept.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(4096).expect("non-zero");

/// The message the validating schema stops with once a document has passed.
const PASSED: &str = "permit-exchange: validated";

/// A document, its operation and its variables as far as validation sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ValidationKey([u8; 32]);

impl ValidationKey {
    fn of(
        document: &ExecutableDocument,
        query: &str,
        operation: Option<&str>,
        variables: &Variables,
    ) -> Self {
        let mut hash = Sha256::new();
        let mut part = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        part(query.as_bytes());
        part(operation.unwrap_or("").as_bytes());
        // Each variable name once; one declared in two operations counts as a string only if
        // both declare it so.
        let mut declared: BTreeMap<&str, bool> = BTreeMap::new();
        let definitions = document
            .operations
            .iter()
            .flat_map(|(_, operation)| operation.node.variable_definitions.iter());
        for definition in definitions {
            let plain_string = is_plain_string(&definition.node.var_type.node);
            declared
                .entry(definition.node.name.node.as_str())
                .and_modify(|both| *both &= plain_string)
                .or_insert(plain_string);
        }
        for (name, plain_string) in declared {
            part(name.as_bytes());
            match variables.get(name) {
                None => part(b"absent"),
                Some(async_graphql::Value::String(_)) if plain_string => part(b"a string"),
                Some(value) => part(value.to_string().as_bytes()),
            }
        }
        ValidationKey(hash.finalize().into())
    }
}

/// Runs `read` on the request's parsed document with its text, operation name and variables;
/// `None` when the document does not parse. (`parsed_query` borrows the whole request, so the
/// other parts are lent out for the while.)
fn with_document<T>(
    request: &mut Request,
    read: impl FnOnce(&ExecutableDocument, &str, Option<&str>, &Variables) -> T,
) -> Option<T> {
    request.parsed_query().ok()?;
    let query = std::mem::take(&mut request.query);
    let operation = request.operation_name.take();
    let variables = std::mem::take(&mut request.variables);
    let read = request
        .parsed_query()
        .ok()
        .map(|document| read(document, &query, operation.as_deref(), &variables));
    request.query = query;
    request.operation_name = operation;
    request.variables = variables;
    read
}

/// A required variable (non-null, no default) of the selected operation left out or null is a
/// request error (GraphQL's CoerceVariableValues), not a field's: async-graphql's validation
/// skips a missing value, and the field then failed as an internal error.
fn required_variables_given(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Result<(), ServerError> {
    let Some((_, operation)) = crate::pipeline::operation_of(document, operation_name) else {
        return Ok(()); // The executor names the operation it cannot choose.
    };
    let missing = operation
        .node
        .variable_definitions
        .iter()
        .find(|definition| {
            let definition = &definition.node;
            let given = variables
                .get(definition.name.node.as_str())
                .is_some_and(|value| *value != async_graphql::Value::Null);
            !definition.var_type.node.nullable && definition.default_value.is_none() && !given
        });
    match missing {
        None => Ok(()),
        Some(definition) => Err(ServerError::new(
            format!(
                "Variable \"${}\" of required type \"{}\" was not provided.",
                definition.node.name.node, definition.node.var_type.node
            ),
            Some(definition.node.name.pos),
        )),
    }
}

/// `String` or `String!`, not a list and not another scalar.
fn is_plain_string(ty: &Type) -> bool {
    matches!(&ty.base, BaseType::Named(name) if name.as_str() == "String")
}

/// The schema to execute on (`Fast` validation) and the one that validates in full.
#[derive(Clone)]
pub struct ValidatedSchema {
    schema: AppSchema,
    validator: AppSchema,
    passed: Arc<Mutex<LruCache<ValidationKey, ()>>>,
}

impl ValidatedSchema {
    /// `schema` built with `ValidationMode::Fast`; `validator` the same types built with
    /// `Strict` and `StopAfterValidation`.
    pub(super) fn new(schema: AppSchema, validator: AppSchema) -> Self {
        Self {
            schema,
            validator,
            passed: Arc::new(Mutex::new(LruCache::new(CAPACITY))),
        }
    }

    pub async fn execute(&self, request: Request) -> Response {
        match self.pass(request).await {
            Ok(request) => self.schema.execute(request).await,
            Err(refused) => refused,
        }
    }

    /// A subscription's (or any operation's) stream of answers.
    pub fn subscribe(&self, request: Request) -> BoxStream<'static, Response> {
        let (gate, schema) = (self.clone(), self.schema.clone());
        stream::once(async move { gate.pass(request).await })
            .flat_map(move |passed| match passed {
                Ok(request) => schema.execute_stream(request),
                Err(refused) => stream::once(async move { refused }).boxed(),
            })
            .boxed()
    }

    /// The request, once its kind has passed full validation; or the validator's answer.
    async fn pass(&self, mut request: Request) -> Result<Request, Response> {
        let checked = with_document(&mut request, |document, query, operation, variables| {
            let given = required_variables_given(document, operation, variables);
            (
                given,
                ValidationKey::of(document, query, operation, variables),
            )
        });
        // A document that does not parse: the executor reports the syntax error, in any mode.
        let Some((given, key)) = checked else {
            return Ok(request);
        };
        given.map_err(|missing| Response::from_errors(vec![missing]))?;
        if self.lock().get(&key).is_some() {
            return Ok(request);
        }
        let mut check =
            Request::new(request.query.clone()).variables(Variables::clone(&request.variables));
        check.operation_name = request.operation_name.clone();
        if let Ok(document) = request.parsed_query() {
            check.set_parsed_query(document.clone());
        }
        let answer = self.validator.execute(check).await;
        let passed = answer.errors.len() == 1 && answer.errors[0].message == PASSED;
        if !passed {
            return Err(answer);
        }
        self.lock().put(key, ());
        Ok(request)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<ValidationKey, ()>> {
        self.passed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The validating schema's extension: after full validation, stop (with `PASSED`) instead of
/// executing.
pub(super) struct StopAfterValidation;

impl ExtensionFactory for StopAfterValidation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(StopAfterValidation)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for StopAfterValidation {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await?;
        Err(vec![ServerError::new(PASSED, None)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const QUERY: &str = "query Q($number: String!, $first: Int, $on: Date) { \
        permitByNumber(permitNumber: $number) { id findings(first: $first) { totalCount } } \
        unitsDue: __typename \
        day: __typename @include(if: true) } ";

    fn key(query: &str, variables: serde_json::Value) -> ValidationKey {
        let mut request = Request::new(query).variables(Variables::from_json(variables));
        with_document(&mut request, ValidationKey::of).expect("parses")
    }

    #[test]
    fn a_string_variables_text_is_not_part_of_the_key() {
        let a = key(QUERY, json!({ "number": "A-1", "first": 5 }));
        assert_eq!(a, key(QUERY, json!({ "number": "B-2", "first": 5 })));
        // Not a string: validation may answer otherwise.
        assert_ne!(a, key(QUERY, json!({ "number": 7, "first": 5 })));
        assert_ne!(a, key(QUERY, json!({ "first": 5 })));
        assert_ne!(a, key(QUERY, json!({ "number": null, "first": 5 })));
    }

    #[test]
    fn other_variables_values_and_the_operation_are_part_of_the_key() {
        let a = key(
            QUERY,
            json!({ "number": "A-1", "first": 5, "on": "2026-01-01" }),
        );
        assert_ne!(
            a,
            key(
                QUERY,
                json!({ "number": "A-1", "first": 6, "on": "2026-01-01" })
            )
        );
        assert_ne!(
            a,
            key(
                QUERY,
                json!({ "number": "A-1", "first": 5, "on": "2026-13-01" })
            )
        );
        assert_ne!(
            a,
            key(
                &QUERY.replace("Q(", "R("),
                json!({ "number": "A-1", "first": 5, "on": "2026-01-01" })
            )
        );
        let mut named = Request::new(QUERY).variables(Variables::from_json(
            json!({ "number": "A-1", "first": 5, "on": "2026-01-01" }),
        ));
        named.operation_name = Some("Q".to_owned());
        assert_ne!(
            a,
            with_document(&mut named, ValidationKey::of).expect("parses")
        );
    }

    #[test]
    fn a_name_declared_as_a_string_and_as_something_else_keeps_its_value() {
        let two = "query A($x: String) { __typename } query B($x: ID) { __typename }";
        assert_ne!(key(two, json!({ "x": "1" })), key(two, json!({ "x": "2" })));
        let list = "query A($x: [String]) { __typename }";
        assert_ne!(
            key(list, json!({ "x": ["1"] })),
            key(list, json!({ "x": ["2"] }))
        );
    }
}
