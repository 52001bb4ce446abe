//! One request pipeline for every transport: what happens between a GraphQL operation arriving
//! (over HTTP in `http`, over a WebSocket in `ws`) and its execution.
//!
//! In order: the caller's rate limits; the document, resolved from the persisted operations
//! (and refused to persisted-only roles when sent in full), parsed within the document limits,
//! costed, and its text inputs checked; then the request, with the caller tagged with the
//! request id and operation label (the audit trail's), and the context resolvers read (the
//! caller, the request's DataLoader). Each transport adds only what is its own: HTTP its
//! address limit, media types, uploads and turns; WebSocket its per-connection limits.
//! A refusal names its code from the core's one table (`ErrorCode`); the transport decides how
//! to send it (`http::reply`, `ws`).

use std::sync::Arc;
use std::time::Duration;

use async_graphql::Positioned;
use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, OperationType};
use async_graphql::{ErrorExtensionValues, ServerError, Value};
use serde_json::{Map, Value as Json};

use crate::config::Limits;
use crate::graphql::{self, RequestData};
use crate::http::AppState;
use permit_core::auth::{Principal, RequestTag};
use permit_core::error::{AppError, ErrorCode};

/// A request refused before execution.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// The input path it names (`extensions.field`), for refused text inputs.
    pub field: Option<String>,
    /// How long to wait before retrying (rate limits).
    pub retry_after: Option<Duration>,
    /// Refused for what the document asks (limits, inputs): over HTTP a request error, whose
    /// status depends on the media type (GraphQL over HTTP).
    pub in_document: bool,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            in_document: false,
        }
    }

    /// A document over one of the request limits.
    pub fn over_limit(message: impl Into<String>) -> Self {
        Self {
            in_document: true,
            ..Self::new(ErrorCode::QueryTooComplex, message)
        }
    }

    pub fn rate_limited(message: impl Into<String>, wait: Option<Duration>) -> Self {
        Self {
            retry_after: wait,
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }

    /// A domain error met before execution (an input checked at the edge).
    fn from_input(error: &AppError) -> Self {
        let field = match error {
            AppError::InvalidInput { field, .. } => Some(field.clone()),
            _ => None,
        };
        Self {
            field,
            in_document: true,
            ..Self::new(error.error_code(), error.message())
        }
    }
}

/// One GraphQL operation as a client sent it.
pub struct Operation {
    /// Absent when a persisted operation is named by its hash alone.
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Map<String, Json>,
    pub extensions: Map<String, Json>,
}

/// The caller's own rate limit: every request and every subscription counts.
pub fn admit_subject(state: &AppState, principal: &Principal) -> Result<(), Refusal> {
    state
        .rate_limiter
        .take(&format!("sub:{}", principal.subject))
        .map_err(|wait| Refusal::rate_limited(retry_message(wait), Some(wait)))
}

/// A client address's rate limit (HTTP requests and WebSocket connections).
pub fn admit_address(state: &AppState, address: &str) -> Result<(), Refusal> {
    state
        .rate_limiter
        .take(&format!("ip:{address}"))
        .map_err(|wait| Refusal::rate_limited(retry_message(wait), Some(wait)))
}

fn retry_message(wait: Duration) -> String {
    format!("too many requests; retry after {} s", whole_seconds(wait))
}

/// A wait in whole seconds, at least one (`Retry-After`).
pub fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// An operation's document, resolved and checked, not yet a request.
pub struct Checked {
    pub operation: Operation,
    pub query: String,
    /// None when the document did not parse: async-graphql answers it with its own error.
    pub document: Option<ExecutableDocument>,
    /// Its static cost (`graphql::cost`), for admission.
    pub cost: usize,
    /// Its type and label (operation name, or first root field), when it selects one.
    pub selected: Option<(OperationType, String)>,
}

impl Checked {
    pub fn kind(&self) -> Option<OperationType> {
        self.selected.as_ref().map(|(ty, _)| *ty)
    }

    pub fn label(&self) -> Option<&str> {
        self.selected.as_ref().map(|(_, label)| label.as_str())
    }
}

/// Resolves and checks an operation's document: persisted operations, the document limits,
/// its cost, its text inputs (`input`, once, before anything reads them).
pub fn check(
    state: &AppState,
    principal: Option<&Principal>,
    mut operation: Operation,
) -> Result<Checked, Refusal> {
    let query = state.persisted.resolve(
        principal.map(|p| p.role),
        operation.query.take(),
        &operation.extensions,
    )?;
    let document = state
        .documents
        .check(&query, &state.limits)
        .map_err(Refusal::over_limit)?;
    let Some(document) = document else {
        // A document that did not parse costs nothing to refuse; async-graphql answers it.
        return Ok(Checked {
            operation,
            query,
            document: None,
            cost: 1,
            selected: None,
        });
    };
    let cost = graphql::cost::check(
        &document,
        operation.operation_name.as_deref(),
        &operation.variables,
        state.limits.max_complexity,
    )
    .map_err(Refusal::over_limit)?;
    crate::input::check(&document, &operation.variables, &state.limits)
        .map_err(|error| Refusal::from_input(&error))?;
    let selected = selected_operation(&document, operation.operation_name.as_deref());
    Ok(Checked {
        operation,
        query,
        document: Some(document),
        cost,
        selected,
    })
}

/// A checked operation as a request to execute, with what resolvers read from the context:
/// the caller (tagged with the request id and the operation's label for the audit trail), its
/// `RequestData` and the request's DataLoader. A long-lived subscription reads afresh for every
/// event (`cache: false`).
pub fn request(
    state: &AppState,
    principal: Option<Principal>,
    request_id: &str,
    checked: Checked,
    cache: bool,
) -> Result<(async_graphql::Request, Arc<RequestData>), Refusal> {
    if principal.is_none()
        && checked
            .document
            .as_ref()
            .is_some_and(crate::limits::uses_introspection)
    {
        // The schema is for authenticated principals; public reference data needs no map.
        let refusal = AppError::Unauthenticated("introspection needs a token".to_owned());
        return Err(Refusal::new(refusal.error_code(), refusal.message()));
    }
    let principal = principal.map(|mut p| {
        p.request = RequestTag {
            request_id: Some(request_id.to_owned()),
            operation_name: checked.label().map(str::to_owned),
        };
        p
    });
    let Checked {
        operation,
        query,
        document,
        ..
    } = checked;
    let mut request = async_graphql::Request::new(query).variables(
        async_graphql::Variables::from_json(Json::Object(operation.variables)),
    );
    if let Some(name) = operation.operation_name {
        request = request.operation_name(name);
    }
    if let Some(document) = document {
        request.set_parsed_query(document);
    }
    for (key, value) in operation.extensions {
        if let Ok(value) = Value::from_json(value) {
            request.extensions.insert(key, value);
        }
    }
    let loader = graphql::request_loader(state.db.conn.clone(), principal.clone());
    loader.enable_all_cache(cache);
    let request_data = Arc::new(RequestData::new(principal.clone()));
    // The pool of the worker serving the request (`Database::for_this_thread`), ahead of the
    // schema's shared one.
    let mut request = request
        .data(request_data.clone())
        .data(loader)
        .data(state.db.conn.clone());
    if principal.is_none() {
        // Refused above when asked for; a document that did not parse is kept off too.
        request = request.disable_introspection();
    }
    Ok((request, request_data))
}

/// The operation `operation_name` selects in a document (the only one when it names none),
/// with its name if it has one.
pub fn operation_of<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(Option<&'a str>, &'a Positioned<OperationDefinition>)> {
    use async_graphql::parser::types::DocumentOperations;
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some((None, op)),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            let (name, op) = ops.get_key_value(name)?;
            Some((Some(name.as_str()), op))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            let (name, op) = ops.iter().next()?;
            Some((Some(name.as_str()), op))
        }
        _ => None,
    }
}

/// The operation a document selects: its type and a label for logs and the audit trail (the
/// operation name, or the first root field of an anonymous operation).
pub fn selected_operation(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(OperationType, String)> {
    use async_graphql::parser::types::Selection;
    let (name, op) = operation_of(document, operation_name)?;
    let label = name.map(str::to_owned).or_else(|| {
        op.node
            .selection_set
            .node
            .items
            .iter()
            .find_map(|item| match &item.node {
                Selection::Field(field) => Some(field.node.name.node.to_string()),
                _ => None,
            })
    })?;
    Some((op.node.ty, label))
}

// ---------------------------------------------------------------------------------------------
// After execution.

fn is_limit_error(message: &str) -> bool {
    message.contains("nested too deep")
        || message.contains("too complex")
        || message.contains("too many")
}

/// async-graphql's depth and cost refusals say neither which limit nor its value; ours do, like
/// every other limit, so a client knows what to change.
pub fn name_the_limit(errors: &mut [ServerError], limits: &Limits) {
    for error in errors.iter_mut() {
        match error.message.as_str() {
            "Query is too complex." => {
                error.message = format!(
                    "the query's cost is over the limit of {} (a list or connection costs its \
                     page size times what each item selects): ask for smaller pages",
                    limits.max_complexity
                );
            }
            "Query is nested too deep." => {
                error.message = format!(
                    "the query is nested deeper than the limit of {} levels",
                    limits.max_depth
                );
            }
            _ => {}
        }
    }
}

/// Gives every error a code (CONTRACT), and internal ones the request id.
pub fn finish_errors(errors: &mut [ServerError], request_id: &str) {
    for error in errors.iter_mut() {
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        let code = match extensions.get("code") {
            Some(Value::String(code)) => code.clone(),
            _ => {
                let code = if error.path.is_empty() {
                    if is_limit_error(&error.message) {
                        ErrorCode::QueryTooComplex
                    } else {
                        ErrorCode::BadUserInput
                    }
                } else if crate::graphql::error::is_input_coercion_error(&error.message) {
                    ErrorCode::BadUserInput
                } else {
                    // Not an AppError (which logs its own details): log this one here.
                    tracing::error!(
                        request_id,
                        error = %error.message,
                        path = ?error.path,
                        "internal error"
                    );
                    ErrorCode::InternalServerError
                };
                extensions.set("code", code.as_str());
                code.as_str().to_owned()
            }
        };
        if code == ErrorCode::InternalServerError.as_str()
            || code == ErrorCode::ServiceUnavailable.as_str()
        {
            extensions.set("requestId", request_id);
        }
    }
}
