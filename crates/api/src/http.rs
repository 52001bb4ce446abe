//! HTTP: `/graphql` (POST and GET, GraphQL over HTTP, and multipart uploads), `/graphql/ws`
//! (subscriptions, in `ws`), `/graphiql`, `/healthz`, `/readyz`, `/metrics` (in `metrics`, which
//! also writes the access log), `/evidence/{id}` and `/exports/{file}` (in `downloads`).
//!
//! The GraphQL endpoint is written out here rather than taken from the actix integration so
//! that every CSRF and abuse rule is explicit: POST bodies must be JSON (no `text/plain` or form
//! posts), bodies are capped, batched arrays are refused, a mutation over GET is 405, and the
//! response media type follows `Accept` (`application/graphql-response+json` or
//! `application/json`) with the status codes of the GraphQL-over-HTTP specification.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, dev::Server, web};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{ErrorExtensionValues, ServerError, Value};
use serde_json::json;
use tracing::Instrument;

use crate::config::Limits;
use crate::graphql::error::ToGraphql;
use crate::graphql::{self, AppSchema, RequestData};
use permit_core::auth::keys::KeyConfig;
use permit_core::auth::{Principal, RequestTag, bearer_token};
use permit_core::db::Database;
use permit_core::error::AppError;

pub struct AppState {
    pub schema: AppSchema,
    pub db: Database,
    pub keys: KeyConfig,
    /// Withdrawn tokens, checked after the signature on every request and open subscription.
    pub revocations: permit_core::auth::revocation::Revocations,
    pub limits: Limits,
    pub ws: crate::ws::WsSettings,
    pub rate_limiter: crate::limits::RateLimiter,
    /// Reviewed and automatically registered persisted operations, and persisted-only roles.
    pub persisted: std::sync::Arc<crate::persisted::PersistedOperations>,
    /// Admission to execution by count and by cost (`admission`); FIFO, so waiting is fair.
    pub admission: crate::admission::Admission,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// Evidence files (uploads through `/graphql`, downloads at `/evidence/{id}`).
    pub evidence: permit_core::storage::EvidenceStore,
    /// Becomes true when the server starts to stop (`server::Shutdown`): subscriptions close
    /// with 1001 and `/readyz` says not ready.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl AppState {
    /// A bearer token to its verified principal (HTTP and WebSocket alike).
    pub async fn authenticate(
        &self,
        token: &str,
    ) -> Result<permit_core::auth::keys::VerifiedToken, permit_core::error::AppError> {
        let reference = self.db.reference.get(&self.db.conn).await?;
        permit_core::auth::authenticate(&self.keys, &self.revocations, reference, token).await
    }
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// Which media type the client gets (GraphQL over HTTP §"Accept").
#[derive(Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let types: Vec<String> = accept
        .split(',')
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    if types
        .iter()
        .any(|t| t == "application/graphql-response+json")
    {
        Some(Media::GraphqlResponse)
    } else if accept.trim().is_empty()
        || types
            .iter()
            .any(|t| t == "application/json" || t == "*/*" || t == "application/*")
    {
        Some(Media::Json)
    } else {
        None
    }
}

pub(crate) fn request_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return "unknown".to_owned();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A response made of errors only (no `data`), for requests that never reached execution.
fn request_error(
    status: StatusCode,
    media: Media,
    request_id: &str,
    code: &str,
    message: &str,
) -> HttpResponse {
    let mut response = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, content_type(media)))
        .insert_header(("x-request-id", request_id.to_owned()))
        .json(json!({ "errors": [{ "message": message, "extensions": { "code": code, "requestId": request_id } }] }));
    crate::metrics::set_outcome(&mut response, code);
    response
}

fn content_type(media: Media) -> &'static str {
    match media {
        Media::GraphqlResponse => GRAPHQL_RESPONSE,
        Media::Json => JSON,
    }
}

/// Verifies the bearer token, if any. `Err` is the response to send (401, or 503 while the
/// revocation list cannot be read).
async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    media: Media,
    request_id: &str,
) -> Result<Option<Principal>, Box<HttpResponse>> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let refuse = |reason: &str| {
        let mut response = request_error(
            StatusCode::UNAUTHORIZED,
            media,
            request_id,
            "UNAUTHENTICATED",
            &format!("authentication failed: {reason}"),
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        Box::new(response)
    };
    let token = value
        .to_str()
        .ok()
        .and_then(bearer_token)
        .ok_or_else(|| refuse("expected 'Authorization: Bearer <token>'"))?;
    match state.authenticate(token).await {
        Ok(verified) => Ok(Some(verified.principal)),
        Err(AppError::Unavailable(reason)) => Err(Box::new(request_error(
            StatusCode::SERVICE_UNAVAILABLE,
            media,
            request_id,
            "SERVICE_UNAVAILABLE",
            &reason,
        ))),
        Err(err) => {
            let reason = match &err {
                AppError::Unauthenticated(r) => r.clone(),
                _ => "invalid token".to_owned(),
            };
            Err(refuse(&reason))
        }
    }
}

/// The caller of a download (`/evidence/…`, `/exports/…`): the same rate limits and token
/// checks as a GraphQL request, and a token is required. `Err` is the response to send.
pub(crate) async fn download_caller(
    state: &AppState,
    req: &HttpRequest,
    request_id: &str,
    label: &str,
) -> Result<Principal, HttpResponse> {
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    if let Err(wait) = state.rate_limiter.take(&format!("ip:{address}")) {
        return Err(rate_limited(Media::Json, request_id, wait));
    }
    let Some(mut principal) = authenticate(state, req, Media::Json, request_id)
        .await
        .map_err(|r| *r)?
    else {
        let mut response = request_error(
            StatusCode::UNAUTHORIZED,
            Media::Json,
            request_id,
            "UNAUTHENTICATED",
            "authentication required: send a bearer token (see `permit-exchange token`)",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return Err(response);
    };
    crate::metrics::note_principal(req, &principal);
    if let Err(wait) = state
        .rate_limiter
        .take(&format!("sub:{}", principal.subject))
    {
        return Err(rate_limited(Media::Json, request_id, wait));
    }
    principal.request = RequestTag {
        request_id: Some(request_id.to_owned()),
        operation_name: Some(label.to_owned()),
    };
    Ok(principal)
}

/// A refusal outside GraphQL, as a GraphQL-style JSON error with the HTTP status it means
/// (a record outside the caller's scope is 404 NOT_FOUND, like one that does not exist).
pub(crate) fn app_error_response(error: &AppError, request_id: &str) -> HttpResponse {
    let status = match error {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::InvalidInput { .. } | AppError::InvalidTransition { .. } => {
            StatusCode::BAD_REQUEST
        }
        AppError::Conflict(_) | AppError::Duplicate { .. } => StatusCode::CONFLICT,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::TimeLimit(_) => StatusCode::BAD_REQUEST,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    // `to_graphql` logs internal details and masks them, as for GraphQL answers.
    let message = error.to_graphql().message;
    let mut extensions = json!({ "code": error.code(), "requestId": request_id });
    if let AppError::InvalidInput { field, .. } = error {
        extensions["field"] = json!(field);
    }
    let mut response = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, JSON))
        .insert_header(("x-request-id", request_id.to_owned()))
        .json(json!({ "errors": [{ "message": message, "extensions": extensions }] }));
    crate::metrics::set_outcome(&mut response, error.code());
    response
}

/// The GraphQL request parameters from a JSON body or a query string.
struct Params {
    /// Absent when a persisted operation is named by its hash alone.
    query: Option<String>,
    operation_name: Option<String>,
    variables: serde_json::Map<String, serde_json::Value>,
    extensions: serde_json::Map<String, serde_json::Value>,
}

fn params_from_json(value: serde_json::Value) -> Result<Params, &'static str> {
    let serde_json::Value::Object(mut map) = value else {
        return Err(if value.is_array() {
            "batched requests are not supported: send one operation per request"
        } else {
            "the body must be a JSON object with a 'query'"
        });
    };
    let query = match map.remove("query") {
        Some(serde_json::Value::String(q)) => Some(q),
        None | Some(serde_json::Value::Null) => None,
        Some(_) => return Err("'query' must be a string"),
    };
    let operation_name = match map.remove("operationName") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => return Err("'operationName' must be a string"),
    };
    let variables = match map.remove("variables") {
        None | Some(serde_json::Value::Null) => serde_json::Map::new(),
        Some(serde_json::Value::Object(v)) => v,
        Some(_) => return Err("'variables' must be an object"),
    };
    let extensions = match map.remove("extensions") {
        None | Some(serde_json::Value::Null) => serde_json::Map::new(),
        Some(serde_json::Value::Object(v)) => v,
        Some(_) => return Err("'extensions' must be an object"),
    };
    Ok(Params {
        query,
        operation_name,
        variables,
        extensions,
    })
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|t| t == "application/json" || t == "application/graphql-response+json")
}

/// Why a body was not read.
enum BodyError {
    /// Over `Limits::max_body_bytes` (declared or as it arrived).
    TooLarge,
    /// The connection broke or the body was malformed on the wire.
    Unreadable,
}

/// Reads a request body of at most `max` bytes. Read here rather than by the `Bytes`
/// extractor, whose refusal is a plain-text 413 without a code: this one is answered as a
/// GraphQL error like every other limit.
async fn read_body(
    req: &HttpRequest,
    payload: &mut web::Payload,
    max: usize,
) -> Result<web::Bytes, BodyError> {
    use futures_util::StreamExt;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(BodyError::TooLarge);
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(max));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// 413 for a body over the limit, as a GraphQL error naming the limit (README, limits).
fn body_too_large(media: Media, request_id: &str, max: usize) -> HttpResponse {
    request_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        media,
        request_id,
        "QUERY_TOO_COMPLEX",
        &format!("the request body is larger than the limit of {max} bytes (LIMIT_MAX_BODY_BYTES)"),
    )
}

async fn graphql_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    let request_id = request_id();
    let Some(media) = negotiate(req.headers()) else {
        return not_acceptable(&request_id);
    };
    if is_multipart(&req) {
        // Boxed: uploads are rare, and their (large) state need not weigh on every request.
        return Box::pin(graphql_multipart(&state, &req, payload, media, request_id)).await;
    }
    let body = match read_body(&req, &mut payload, state.limits.max_body_bytes).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return body_too_large(media, &request_id, state.limits.max_body_bytes);
        }
        Err(BodyError::Unreadable) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                &request_id,
                "BAD_USER_INPUT",
                "the request body could not be read",
            );
        }
    };
    if !is_json_content_type(&req) {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            &request_id,
            "BAD_USER_INPUT",
            "POST bodies must be 'Content-Type: application/json'",
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                &request_id,
                "BAD_USER_INPUT",
                "the body is not valid JSON",
            );
        }
    };
    let params = match params_from_json(value) {
        Ok(p) => p,
        Err(message) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                &request_id,
                "BAD_USER_INPUT",
                message,
            );
        }
    };
    execute(&state, &req, media, request_id, params, Vec::new(), false).await
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("multipart/form-data")
        })
}

/// Whether a multipart request carries a header that a plain HTML form cannot send, so that
/// a browser cannot be made to post one cross-site without a CORS preflight (Apollo's CSRF
/// prevention: `Apollo-Require-Preflight` or `X-Apollo-Operation-Name`, any non-empty value).
fn has_preflight_header(headers: &HeaderMap) -> bool {
    ["apollo-require-preflight", "x-apollo-operation-name"]
        .iter()
        .any(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| !v.trim().is_empty())
        })
}

/// A GraphQL multipart request (graphql-multipart-request-spec: `operations`, `map`, then the
/// files), for `uploadEvidence`. Checked before the body is read: the preflight header (CSRF)
/// and a token (no one uploads anonymously); the body may be `LIMIT_MAX_UPLOAD_BYTES` larger
/// than other requests, and each file at most that. From then on it is a request like any
/// other (`execute`), with the files in `uploads`.
async fn graphql_multipart(
    state: &AppState,
    req: &HttpRequest,
    mut payload: web::Payload,
    media: Media,
    request_id: String,
) -> HttpResponse {
    if !has_preflight_header(req.headers()) {
        return request_error(
            StatusCode::BAD_REQUEST,
            media,
            &request_id,
            "BAD_USER_INPUT",
            "multipart requests need the 'Apollo-Require-Preflight: true' header (CSRF \
             prevention: a plain form cannot send it)",
        );
    }
    if !req.headers().contains_key(header::AUTHORIZATION) {
        let mut response = request_error(
            StatusCode::UNAUTHORIZED,
            media,
            &request_id,
            "UNAUTHENTICATED",
            "authentication required: uploads need a bearer token",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return response;
    }
    let max_file = state.limits.max_upload_bytes;
    let too_large = || {
        request_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            media,
            &request_id,
            "QUERY_TOO_COMPLEX",
            &format!(
                "an uploaded file is larger than the limit of {max_file} bytes \
                 (LIMIT_MAX_UPLOAD_BYTES)"
            ),
        )
    };
    let max_body = state.limits.max_body_bytes.saturating_add(max_file);
    let body = match read_body(req, &mut payload, max_body).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::Unreadable) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                &request_id,
                "BAD_USER_INPUT",
                "the request body could not be read",
            );
        }
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let options = async_graphql::http::MultipartOptions::default().max_file_size(max_file);
    let parsed = async_graphql::http::receive_body(
        content_type,
        futures_util::io::Cursor::new(body),
        options,
    )
    .await;
    let mut request = match parsed {
        Ok(request) => request,
        Err(async_graphql::ParseRequestError::PayloadTooLarge) => return too_large(),
        Err(error) => {
            let message = match error {
                async_graphql::ParseRequestError::UnsupportedBatch => {
                    "batched requests are not supported: send one operation per request".to_owned()
                }
                other => format!("not a GraphQL multipart request: {other}"),
            };
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                &request_id,
                "BAD_USER_INPUT",
                &message,
            );
        }
    };
    let variables = match serde_json::to_value(&request.variables) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let extensions = request
        .extensions
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.clone().into_json().ok()?)))
        .collect();
    let uploads = std::mem::take(&mut request.uploads);
    let params = Params {
        query: Some(std::mem::take(&mut request.query)).filter(|q| !q.is_empty()),
        operation_name: request.operation_name.take(),
        variables,
        extensions,
    };
    execute(state, req, media, request_id, params, uploads, false).await
}

async fn graphql_get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let request_id = request_id();
    let Some(media) = negotiate(req.headers()) else {
        return not_acceptable(&request_id);
    };
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(req.query_string());
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    // May be absent: a persisted operation is named in `extensions` (APQ over GET).
    let query = get("query");
    let parse_map = |name: &str| -> Result<serde_json::Map<String, serde_json::Value>, String> {
        match get(name).filter(|s| !s.is_empty()) {
            None => Ok(serde_json::Map::new()),
            Some(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(m)) => Ok(m),
                Ok(serde_json::Value::Null) => Ok(serde_json::Map::new()),
                _ => Err(format!("'{name}' must be a JSON object")),
            },
        }
    };
    let variables = match parse_map("variables") {
        Ok(v) => v,
        Err(m) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                &request_id,
                "BAD_USER_INPUT",
                &m,
            );
        }
    };
    let extensions = match parse_map("extensions") {
        Ok(v) => v,
        Err(m) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                media,
                &request_id,
                "BAD_USER_INPUT",
                &m,
            );
        }
    };
    let params = Params {
        query,
        operation_name: get("operationName").filter(|s| !s.is_empty()),
        variables,
        extensions,
    };
    execute(&state, &req, media, request_id, params, Vec::new(), true).await
}

fn serde_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(query)
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

fn not_acceptable(request_id: &str) -> HttpResponse {
    request_error(
        StatusCode::NOT_ACCEPTABLE,
        Media::Json,
        request_id,
        "BAD_USER_INPUT",
        "accept application/graphql-response+json or application/json",
    )
}

/// The operation a document selects: its type and a label for logs and the audit trail (the
/// operation name, or the first root field of an anonymous operation).
pub(crate) fn selected_operation(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(OperationType, String)> {
    use async_graphql::parser::types::{DocumentOperations, Selection};
    let (name, op) = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => (None, op),
        (DocumentOperations::Multiple(ops), Some(name)) => (Some(name.to_owned()), ops.get(name)?),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            let (name, op) = ops.iter().next()?;
            (Some(name.to_string()), op)
        }
        _ => return None,
    };
    let label = name.or_else(|| {
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

/// 429 with `Retry-After` (whole seconds, at least 1).
fn rate_limited(media: Media, request_id: &str, wait: Duration) -> HttpResponse {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = request_error(
        StatusCode::TOO_MANY_REQUESTS,
        media,
        request_id,
        "RATE_LIMITED",
        &format!("too many requests; retry after {seconds} s"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A document refused by a limit: a request error (400 with graphql-response+json, 200 for
/// legacy application/json clients, as for other request errors).
fn limit_refused(media: Media, request_id: &str, reason: &str) -> HttpResponse {
    let status = if media == Media::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    request_error(status, media, request_id, "QUERY_TOO_COMPLEX", reason)
}

/// Input refused before execution (`input::check`): a request error, with the status rules of
/// `limit_refused`, and the offending field in `extensions.field` (CONTRACT).
fn input_refused(
    media: Media,
    request_id: &str,
    error: &permit_core::error::AppError,
) -> HttpResponse {
    let status = if media == Media::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut extensions = json!({ "code": error.code(), "requestId": request_id });
    if let permit_core::error::AppError::InvalidInput { field, .. } = error {
        extensions["field"] = json!(field);
    }
    let mut response = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, content_type(media)))
        .insert_header(("x-request-id", request_id.to_owned()))
        .json(json!({ "errors": [{ "message": error.message(), "extensions": extensions }] }));
    crate::metrics::set_outcome(&mut response, error.code());
    response
}

fn is_limit_error(message: &str) -> bool {
    message.contains("nested too deep")
        || message.contains("too complex")
        || message.contains("too many")
}

/// async-graphql's depth and cost refusals say neither which limit nor its value; ours do, like
/// every other limit, so a client knows what to change.
fn name_the_limit(errors: &mut [ServerError], limits: &Limits) {
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
pub(crate) fn finish_errors(errors: &mut [ServerError], request_id: &str) {
    for error in errors.iter_mut() {
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        let code = match extensions.get("code") {
            Some(Value::String(code)) => code.clone(),
            _ => {
                let code = if error.path.is_empty() {
                    if is_limit_error(&error.message) {
                        "QUERY_TOO_COMPLEX"
                    } else {
                        "BAD_USER_INPUT"
                    }
                } else if crate::graphql::error::is_input_coercion_error(&error.message) {
                    "BAD_USER_INPUT"
                } else {
                    // Not an AppError (which logs its own details): log this one here.
                    tracing::error!(
                        request_id,
                        error = %error.message,
                        path = ?error.path,
                        "internal error"
                    );
                    "INTERNAL_SERVER_ERROR"
                };
                extensions.set("code", code);
                code.to_owned()
            }
        };
        if code == "INTERNAL_SERVER_ERROR" || code == "SERVICE_UNAVAILABLE" {
            extensions.set("requestId", request_id);
        }
    }
}

async fn execute(
    state: &AppState,
    req: &HttpRequest,
    media: Media,
    request_id: String,
    params: Params,
    uploads: Vec<async_graphql::UploadValue>,
    via_get: bool,
) -> HttpResponse {
    // One time limit for the whole request: waiting for a turn counts against it too, so a
    // request is answered within it however long the queue (issue 19).
    let deadline = tokio::time::Instant::now() + state.limits.request_timeout;
    // Abuse limits first, before any database work: the client address, the caller, the document.
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    if let Err(wait) = state.rate_limiter.take(&format!("ip:{address}")) {
        return rate_limited(media, &request_id, wait);
    }
    // Who is asking comes next: the subject's own rate limit, and whether its role may send
    // documents or only reviewed persisted operations.
    // Boxed: its state (a revocation look-up) would otherwise stay in the future of every
    // request waiting for its turn.
    let principal = match Box::pin(authenticate(state, req, media, &request_id)).await {
        Ok(p) => p,
        Err(response) => return *response,
    };
    if let Some(p) = &principal {
        crate::metrics::note_principal(req, p);
    }
    if let Some(p) = &principal
        && let Err(wait) = state.rate_limiter.take(&format!("sub:{}", p.subject))
    {
        return rate_limited(media, &request_id, wait);
    }
    // A place among the requests parsed and waiting, taken before parsing: hundreds of waiting
    // requests do not each hold a parsed document (issue 21).
    let entry = match tokio::time::timeout_at(deadline, state.admission.enter()).await {
        Ok(Some(entry)) => entry,
        Ok(None) | Err(_) => return unavailable(media, &request_id),
    };
    let query = match state.persisted.resolve(
        principal.as_ref().map(|p| p.role),
        params.query,
        &params.extensions,
    ) {
        Ok(query) => query,
        Err(refusal) => {
            let status = match refusal.code {
                "FORBIDDEN" => StatusCode::FORBIDDEN,
                // APQ clients read the error from a 200 and resend with the document.
                "PERSISTED_QUERY_NOT_FOUND" => StatusCode::OK,
                _ => StatusCode::BAD_REQUEST,
            };
            return request_error(status, media, &request_id, refusal.code, &refusal.message);
        }
    };
    let document = match crate::limits::check_document(&query, &state.limits) {
        Ok(document) => document,
        Err(reason) => return limit_refused(media, &request_id, &reason),
    };
    let cost = match &document {
        Some(document) => match graphql::cost::check(
            document,
            params.operation_name.as_deref(),
            &params.variables,
            state.limits.max_complexity,
        ) {
            Ok(cost) => cost,
            Err(reason) => return limit_refused(media, &request_id, &reason),
        },
        // A document that did not parse costs nothing to refuse; async-graphql answers it.
        None => 1,
    };
    // Text inputs once, here, before anything reads them (issue 20; `input`).
    if let Some(document) = &document
        && let Err(refusal) = crate::input::check(document, &params.variables, &state.limits)
    {
        return input_refused(media, &request_id, &refusal);
    }
    let selected = document
        .as_ref()
        .and_then(|d| selected_operation(d, params.operation_name.as_deref()));
    crate::metrics::note_operation(req, selected.as_ref().map(|(_, label)| label.as_str()));
    if via_get
        && selected
            .as_ref()
            .is_some_and(|(ty, _)| *ty == OperationType::Mutation)
    {
        let mut response = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            &request_id,
            "BAD_USER_INPUT",
            "mutations are only accepted over POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    if principal.is_none()
        && document
            .as_ref()
            .is_some_and(crate::limits::uses_introspection)
    {
        // The schema is for authenticated principals; public reference data needs no map.
        let refusal = AppError::Unauthenticated("introspection needs a token".to_owned());
        let mut response = request_error(
            StatusCode::UNAUTHORIZED,
            media,
            &request_id,
            refusal.code(),
            &refusal.message(),
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return response;
    }
    let principal = principal.map(|mut p| {
        p.request = RequestTag {
            request_id: Some(request_id.clone()),
            operation_name: selected.as_ref().map(|(_, label)| label.clone()),
        };
        p
    });
    let mut request = async_graphql::Request::new(query).variables(
        async_graphql::Variables::from_json(serde_json::Value::Object(params.variables)),
    );
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(document) = document {
        request.set_parsed_query(document);
    }
    request.uploads = uploads;
    for (key, value) in params.extensions {
        if let Ok(value) = Value::from_json(value) {
            request.extensions.insert(key, value);
        }
    }
    let loader = graphql::request_loader(state.db.conn.clone(), principal.clone());
    let span = crate::logging::request_span(&request_id, principal.as_ref());
    let request_data = std::sync::Arc::new(RequestData::new(principal.clone()));
    let mut request = request
        .data(request_data.clone())
        .data(loader)
        .data(state.evidence.clone())
        .data(graphql::enforcement::UploadLimit(
            state.limits.max_upload_bytes,
        ));
    if principal.is_none() {
        // Refused above when asked for; a document that did not parse here is kept off too.
        request = request.disable_introspection();
    }
    // Wait for a turn to execute; while the database is down, fail at once instead.
    // Biased, the probe first: with a turn free and the database down, both branches are
    // ready, and a random pick would start a mutation that can only wait for the pool.
    let is_mutation = selected
        .as_ref()
        .is_some_and(|(ty, _)| *ty == OperationType::Mutation);
    // A mutation is not cut short once it runs, so it starts only while its pool wait (which
    // is what an outage stretches) still fits in the limit; otherwise it is refused unstarted.
    let start_by = if is_mutation {
        deadline
            .checked_sub(permit_core::db::acquire_budget(
                state.limits.request_timeout,
            ))
            .unwrap_or(deadline)
    } else {
        deadline
    };
    let _turn = tokio::select! {
        biased;
        () = state.db.health.down() => return unavailable(media, &request_id),
        turn = tokio::time::timeout_at(start_by, state.admission.turn(entry, cost)) => match turn {
            Ok(Some(turn)) => turn,
            Ok(None) => return unavailable(media, &request_id),
            // Overloaded: no turn within the time limit.
            Err(_) => return unavailable(media, &request_id),
        },
    };
    // Boxed, so that the (large) state of executing is allocated only once the request has its
    // turn, not by every request waiting for one (issue 21).
    Box::pin(answer(
        state,
        media,
        &request_id,
        request,
        span,
        &request_data,
        is_mutation,
        deadline,
    ))
    .await
}

/// Executes an admitted request and builds its HTTP answer (`execute`, after its turn).
#[allow(clippy::too_many_arguments)]
async fn answer(
    state: &AppState,
    media: Media,
    request_id: &str,
    request: async_graphql::Request,
    span: tracing::Span,
    request_data: &RequestData,
    is_mutation: bool,
    deadline: tokio::time::Instant,
) -> HttpResponse {
    let execution = state.schema.execute(request).instrument(span);
    let executed = if is_mutation {
        // Once a mutation executes it runs to its end, and its answer is sent: cut short, a
        // write that committed would be reported as failed, and a client that obeys the 503
        // and retries without an idempotency key writes it twice (issue 21). Its statements
        // are bounded by the database (`statement_timeout` on PostgreSQL, the pool's acquire
        // timeout), and a lost database fails them with SERVICE_UNAVAILABLE.
        Ok(execution.await)
    } else {
        // A read, while the database is down, fails at once rather than wait out the pool's
        // retries; a request already waiting when the probe notices is answered then too.
        tokio::select! {
            // Biased, the answer first: a read that has finished is sent.
            biased;
            executed = tokio::time::timeout_at(deadline, execution) => executed,
            () = state.db.health.down() => return unavailable(media, request_id),
        }
    };
    // Dropping the timed-out execution drops its database futures, cancelling their queries.
    let Ok(mut response) = executed else {
        return limit_refused(
            media,
            request_id,
            &format!(
                "the request exceeded the time limit of {:?}",
                state.limits.request_timeout
            ),
        );
    };
    request_data.audit_personal_reads(&state.db.conn).await;
    finish_errors(&mut response.errors, request_id);
    name_the_limit(&mut response.errors, &state.limits);
    // A response with no data at all is a request error (parse, validation, limits).
    let request_failed = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let unavailable = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == Value::String("SERVICE_UNAVAILABLE".to_owned()))
    }) && !(is_mutation && wrote_something(&response));
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else if request_failed && media == Media::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    // Serialised straight from the response: no intermediate JSON tree, which for a page of a
    // hundred nested rows would cost as much memory and time again as the answer itself.
    let body = ResponseBody {
        data: (!request_failed).then_some(&response.data),
        errors: &response.errors,
        extensions: &response.extensions,
    };
    let body = serde_json::to_vec(&body).unwrap_or_else(|error| {
        tracing::error!(%request_id, %error, "response not serialisable");
        json!({ "errors": [{ "message": "internal error", "extensions": {
            "code": "INTERNAL_SERVER_ERROR", "requestId": request_id } }] })
        .to_string()
        .into_bytes()
    });
    let mut http_response = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, content_type(media)))
        .insert_header(("x-request-id", request_id))
        .body(InSlices(web::Bytes::from(body)));
    crate::metrics::set_outcome(
        &mut http_response,
        crate::metrics::outcome_of(&response.errors),
    );
    http_response
}

/// A response body handed to actix in slices of `WRITE_SLICE` bytes (shared, not copied), with
/// its length known. actix copies each piece it is given into the connection's write buffer
/// and keeps that buffer's capacity (up to 128 KiB) for the connection's life: given a 100 KiB
/// answer whole, every keep-alive connection would keep 128 KiB; given slices, the buffer
/// stays near `WRITE_BUFFER_BYTES` (issue 21: memory at 400 connections).
struct InSlices(web::Bytes);

/// The piece of a response body handed over at a time.
const WRITE_SLICE: usize = 8 * 1024;
/// What the connection's write buffer collects before it is written to the socket.
const WRITE_BUFFER_BYTES: usize = 8 * 1024;

impl actix_web::body::MessageBody for InSlices {
    type Error = std::convert::Infallible;

    fn size(&self) -> actix_web::body::BodySize {
        actix_web::body::BodySize::Sized(self.0.len() as u64)
    }

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<web::Bytes, Self::Error>>> {
        if self.0.is_empty() {
            return std::task::Poll::Ready(None);
        }
        let take = self.0.len().min(WRITE_SLICE);
        std::task::Poll::Ready(Some(Ok(self.0.split_to(take))))
    }
}

/// Whether a mutation's response shows that a root field's resolver returned, that is, that
/// its write committed: a root field with a value, or an error below a root field (the record
/// was written; reading a field of it failed). Such a response is a 200 even when a later
/// field found the database gone, so the client learns that the write happened.
fn wrote_something(response: &async_graphql::Response) -> bool {
    let answered = match &response.data {
        Value::Object(fields) => fields.values().any(|v| *v != Value::Null),
        _ => false,
    };
    answered || response.errors.iter().any(|e| e.path.len() > 1)
}

/// A GraphQL response as it goes out (GraphQL over HTTP): `data` unless the request failed as a
/// whole, `errors` and `extensions` when there are any.
#[derive(serde::Serialize)]
struct ResponseBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
    #[serde(skip_serializing_if = "<[ServerError]>::is_empty")]
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, Value>,
}

async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "content-security-policy",
            crate::graphiql::CONTENT_SECURITY_POLICY,
        ))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(crate::graphiql::PAGE)
}

/// GraphiQL's pinned scripts and styles; their names carry their versions.
async fn graphiql_asset(name: web::Path<String>) -> HttpResponse {
    match crate::graphiql::asset(&name) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header(("x-content-type-options", "nosniff"))
            .body(asset.bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// The database is down (as the health probe sees it): 503 with the contract's code.
fn unavailable(media: Media, request_id: &str) -> HttpResponse {
    let mut response = request_error(
        StatusCode::SERVICE_UNAVAILABLE,
        media,
        request_id,
        "SERVICE_UNAVAILABLE",
        "the service is temporarily unavailable; retry later",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let not_ready = |why: &str| {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body(format!("{why}\n"))
    };
    if *state.stopping.borrow() {
        return not_ready("shutting down");
    }
    // With a probe, its view (at most a probe interval old, and not queued behind a busy pool,
    // so load does not read as "not ready"); without one, a ping through the pool.
    let reachable = if state.db.health.is_probed() {
        state.db.health.is_up()
    } else {
        matches!(
            tokio::time::timeout(Duration::from_secs(2), state.db.conn.ping()).await,
            Ok(Ok(()))
        )
    };
    if reachable {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready\n")
    } else {
        not_ready("database unreachable")
    }
}

/// Every 503 and 429 carries `Retry-After` (RFC 9110 §10.2.3), whichever path produced it: an
/// executed response whose database went away, a revocation list that could not be read,
/// `/readyz`. Paths that know better (the rate limiter's wait) set it themselves.
async fn retry_after(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let status = response.status();
    if (status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS)
        && !response.headers().contains_key(header::RETRY_AFTER)
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    Ok(response)
}

/// Starts the HTTP server on an already bound listener (tests bind port 0).
pub fn serve(
    state: AppState,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    let max_body = state.limits.max_body_bytes;
    let state = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .wrap(actix_web::middleware::from_fn(retry_after))
            .wrap(actix_web::middleware::from_fn(crate::metrics::middleware))
            // Answers gzipped for clients that ask (Accept-Encoding): field apps on slow mobile
            // links get JSON a fifth of its size. Images and video are left as they are.
            .wrap(actix_web::middleware::Compress::default())
            .route("/graphql", web::post().to(graphql_post))
            .route("/graphql", web::get().to(graphql_get))
            .route("/graphql/ws", web::get().to(crate::ws::graphql_ws))
            .route("/graphiql", web::get().to(graphiql))
            .route("/graphiql/assets/{name}", web::get().to(graphiql_asset))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(crate::metrics::endpoint))
            .route(
                "/evidence/{id}",
                web::get().to(crate::downloads::evidence_file),
            )
            .route("/exports/{file}", web::get().to(crate::downloads::export))
    })
    .shutdown_timeout(10)
    .h1_write_buffer_size(WRITE_BUFFER_BYTES)
    // `server::stop_on_signals` handles SIGTERM and SIGINT (both graceful, subscriptions closed).
    .disable_signals()
    .listen(listener)?;
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    use async_graphql::{Name, PathSegment, Pos, Response, ServerError};

    use super::*;

    fn unavailable_at(path: &[&str]) -> ServerError {
        let mut error = ServerError::new("unavailable", Some(Pos::default()));
        error.path = path
            .iter()
            .map(|p| PathSegment::Field((*p).to_owned()))
            .collect();
        error
    }

    #[test]
    fn a_mutation_whose_root_field_returned_wrote_something() {
        let mut fields = async_graphql::indexmap::IndexMap::new();
        fields.insert(Name::new("registerUnit"), Value::Null);
        // The root field failed: nothing is known to be written.
        let mut failed = Response::new(Value::Object(fields.clone()));
        failed.errors = vec![unavailable_at(&["registerUnit"])];
        assert!(!wrote_something(&failed));
        // A field of the written record failed (and its null reached the root): written.
        let mut below = Response::new(Value::Object(fields.clone()));
        below.errors = vec![unavailable_at(&["registerUnit", "permits"])];
        assert!(wrote_something(&below));
        // One root field answered: written.
        fields.insert(Name::new("second"), Value::from("id"));
        assert!(wrote_something(&Response::new(Value::Object(fields))));
    }
}
