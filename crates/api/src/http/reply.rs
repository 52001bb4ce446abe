//! How the GraphQL endpoint answers what it refuses: the media type (GraphQL over HTTP
//! §"Accept"), and an errors-only body whose code comes from the core's table (`ErrorCode`)
//! and whose status is that code's, or the HTTP condition's own (413, 415, 405, 406).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use serde_json::json;

use crate::graphql::error::ToGraphql;
use crate::pipeline::{Refusal, whole_seconds};
use permit_core::error::{AppError, ErrorCode};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// Which media type the client gets (GraphQL over HTTP §"Accept").
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    GraphqlResponse,
    Json,
}

pub(crate) fn negotiate(headers: &HeaderMap) -> Option<Media> {
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

pub(crate) fn content_type(media: Media) -> &'static str {
    match media {
        Media::GraphqlResponse => GRAPHQL_RESPONSE,
        Media::Json => JSON,
    }
}

/// A response made of errors only (no `data`), for requests that never reached execution,
/// with the status of its code.
pub(crate) fn request_error(
    media: Media,
    request_id: &str,
    code: ErrorCode,
    message: &str,
) -> HttpResponse {
    request_error_with_status(status_of(code), media, request_id, code, message)
}

/// `request_error` where the HTTP condition has a status of its own (413, 415, 405, 406).
pub(crate) fn request_error_with_status(
    status: StatusCode,
    media: Media,
    request_id: &str,
    code: ErrorCode,
    message: &str,
) -> HttpResponse {
    errors_only(status, media, request_id, code, message, None)
}

fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn errors_only(
    status: StatusCode,
    media: Media,
    request_id: &str,
    code: ErrorCode,
    message: &str,
    field: Option<&str>,
) -> HttpResponse {
    let mut extensions = json!({ "code": code.as_str(), "requestId": request_id });
    if let Some(field) = field {
        extensions["field"] = json!(field);
    }
    let mut response = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, content_type(media)))
        .insert_header(("x-request-id", request_id.to_owned()))
        .json(json!({ "errors": [{ "message": message, "extensions": extensions }] }));
    if code == ErrorCode::Unauthenticated {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    crate::metrics::set_outcome(&mut response, code.as_str());
    response
}

/// A refusal of the request pipeline. One refused for what its document asks (a limit, an
/// input) is a request error: 400 with graphql-response+json, 200 for legacy
/// application/json clients. A rate limit carries `Retry-After` in whole seconds.
pub(crate) fn refused(media: Media, request_id: &str, refusal: &Refusal) -> HttpResponse {
    let status = if refusal.in_document && media == Media::Json {
        StatusCode::OK
    } else {
        status_of(refusal.code)
    };
    let mut response = errors_only(
        status,
        media,
        request_id,
        refusal.code,
        &refusal.message,
        refusal.field.as_deref(),
    );
    if let Some(wait) = refusal.retry_after
        && let Ok(value) = header::HeaderValue::from_str(&whole_seconds(wait).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The database is down (as the health probe sees it), or no turn came in time: 503.
pub(crate) fn unavailable(media: Media, request_id: &str) -> HttpResponse {
    let mut response = request_error(
        media,
        request_id,
        ErrorCode::ServiceUnavailable,
        "the service is temporarily unavailable; retry later",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

pub(crate) fn not_acceptable(request_id: &str) -> HttpResponse {
    request_error_with_status(
        StatusCode::NOT_ACCEPTABLE,
        Media::Json,
        request_id,
        ErrorCode::BadUserInput,
        "accept application/graphql-response+json or application/json",
    )
}

/// 413 for a body over the limit, as a GraphQL error naming the limit (README, limits).
pub(crate) fn too_large(media: Media, request_id: &str, what: &str) -> HttpResponse {
    request_error_with_status(
        StatusCode::PAYLOAD_TOO_LARGE,
        media,
        request_id,
        ErrorCode::QueryTooComplex,
        what,
    )
}

/// A refusal outside GraphQL, as a GraphQL-style JSON error with the HTTP status its code means
/// (a record outside the caller's scope is 404 NOT_FOUND, like one that does not exist).
pub(crate) fn app_error_response(error: &AppError, request_id: &str) -> HttpResponse {
    // `to_graphql` logs internal details and masks them, as for GraphQL answers.
    let message = error.to_graphql().message;
    let field = match error {
        AppError::InvalidInput { field, .. } => Some(field.as_str()),
        _ => None,
    };
    let code = error.error_code();
    errors_only(
        status_of(code),
        Media::Json,
        request_id,
        code,
        &message,
        field,
    )
}
