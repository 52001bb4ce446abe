//! The GraphQL endpoint's ways in: POST with a JSON body, GET with a query string (queries
//! only), and multipart POST for uploads (graphql-multipart-request-spec). Each reads the
//! operation within the body limits, then hands it to `execute`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::execute::execute;
use super::reply::{
    Media, negotiate, not_acceptable, request_error, request_error_with_status, too_large,
};
use super::request_id;
use crate::pipeline::Operation;
use permit_core::error::ErrorCode;

fn operation_from_json(value: serde_json::Value) -> Result<Operation, &'static str> {
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
    Ok(Operation {
        query,
        operation_name,
        variables,
        extensions,
    })
}

/// The request's media type (`Content-Type` without parameters), lower-cased.
fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    media_type(req)
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

pub(crate) async fn graphql_post(
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
            let max = state.limits.max_body_bytes;
            return too_large(
                media,
                &request_id,
                &format!(
                    "the request body is larger than the limit of {max} bytes (LIMIT_MAX_BODY_BYTES)"
                ),
            );
        }
        Err(BodyError::Unreadable) => {
            return request_error(
                media,
                &request_id,
                ErrorCode::BadUserInput,
                "the request body could not be read",
            );
        }
    };
    if !is_json_content_type(&req) {
        return request_error_with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            &request_id,
            ErrorCode::BadUserInput,
            "POST bodies must be 'Content-Type: application/json'",
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return request_error(
                media,
                &request_id,
                ErrorCode::BadUserInput,
                "the body is not valid JSON",
            );
        }
    };
    let operation = match operation_from_json(value) {
        Ok(p) => p,
        Err(message) => {
            return request_error(media, &request_id, ErrorCode::BadUserInput, message);
        }
    };
    execute(
        &state,
        &req,
        media,
        request_id,
        operation,
        Vec::new(),
        false,
    )
    .await
}

fn is_multipart(req: &HttpRequest) -> bool {
    media_type(req).is_some_and(|t| t == "multipart/form-data")
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
            media,
            &request_id,
            ErrorCode::BadUserInput,
            "multipart requests need the 'Apollo-Require-Preflight: true' header (CSRF \
             prevention: a plain form cannot send it)",
        );
    }
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return request_error(
            media,
            &request_id,
            ErrorCode::Unauthenticated,
            "authentication required: uploads need a bearer token",
        );
    }
    let max_file = state.limits.max_upload_bytes;
    let file_too_large = || {
        too_large(
            media,
            &request_id,
            &format!(
                "an uploaded file is larger than the limit of {max_file} bytes \
                 (LIMIT_MAX_UPLOAD_BYTES)"
            ),
        )
    };
    let max_body = state.limits.max_body_bytes.saturating_add(max_file);
    let body = match read_body(req, &mut payload, max_body).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return file_too_large(),
        Err(BodyError::Unreadable) => {
            return request_error(
                media,
                &request_id,
                ErrorCode::BadUserInput,
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
        Err(async_graphql::ParseRequestError::PayloadTooLarge) => return file_too_large(),
        Err(error) => {
            let message = match error {
                async_graphql::ParseRequestError::UnsupportedBatch => {
                    "batched requests are not supported: send one operation per request".to_owned()
                }
                other => format!("not a GraphQL multipart request: {other}"),
            };
            return request_error(media, &request_id, ErrorCode::BadUserInput, &message);
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
    let operation = Operation {
        query: Some(std::mem::take(&mut request.query)).filter(|q| !q.is_empty()),
        operation_name: request.operation_name.take(),
        variables,
        extensions,
    };
    execute(state, req, media, request_id, operation, uploads, false).await
}

pub(crate) async fn graphql_get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
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
            return request_error(media, &request_id, ErrorCode::BadUserInput, &m);
        }
    };
    let extensions = match parse_map("extensions") {
        Ok(v) => v,
        Err(m) => {
            return request_error(media, &request_id, ErrorCode::BadUserInput, &m);
        }
    };
    let operation = Operation {
        query,
        operation_name: get("operationName").filter(|s| !s.is_empty()),
        variables,
        extensions,
    };
    execute(&state, &req, media, request_id, operation, Vec::new(), true).await
}

fn serde_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(query)
        .map(|q| q.into_inner())
        .unwrap_or_default()
}
