//! Executing a GraphQL request over HTTP: the request pipeline (`pipeline`) between the
//! transport's own checks, a turn to execute (`admission`), one time limit for all of it, and
//! the answer in the status and media type GraphQL over HTTP asks for.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::parser::types::OperationType;
use async_graphql::{ServerError, Value};
use serde_json::json;
use tracing::Instrument;

use super::AppState;
use super::caller::{authenticate, peer_address};
use super::reply::{Media, content_type, refused, request_error_with_status, unavailable};
use crate::graphql::{self, RequestData};
use crate::pipeline::{self, Operation, Refusal};
use permit_core::error::ErrorCode;

/// One GraphQL request, from its operation to its answer. Abuse limits come first, before any
/// database work: the client address, then the caller (its own rate limit, and whether its
/// role may send documents or only reviewed persisted operations), then the document.
pub(super) async fn execute(
    state: &AppState,
    req: &HttpRequest,
    media: Media,
    request_id: String,
    operation: Operation,
    uploads: Vec<async_graphql::UploadValue>,
    via_get: bool,
) -> HttpResponse {
    // One time limit for the whole request: waiting for a turn counts against it too, so a
    // request is answered within it however long the queue (issue 19).
    let deadline = tokio::time::Instant::now() + state.limits.request_timeout;
    if let Err(refusal) = pipeline::admit_address(state, &peer_address(req)) {
        return refused(media, &request_id, &refusal);
    }
    // Boxed: its state (a revocation look-up) would otherwise stay in the future of every
    // request waiting for its turn.
    let principal = match Box::pin(authenticate(state, req, media, &request_id)).await {
        Ok(p) => p,
        Err(response) => return *response,
    };
    if let Some(p) = &principal {
        crate::metrics::note_principal(req, p);
        if let Err(refusal) = pipeline::admit_subject(state, p) {
            return refused(media, &request_id, &refusal);
        }
    }
    // A place among the requests parsed and waiting, taken before parsing: hundreds of waiting
    // requests do not each hold a parsed document (issue 21).
    let entry = match tokio::time::timeout_at(deadline, state.admission.enter()).await {
        Ok(Some(entry)) => entry,
        Ok(None) | Err(_) => return unavailable(media, &request_id),
    };
    let checked = match pipeline::check(state, principal.as_ref(), operation) {
        Ok(checked) => checked,
        Err(refusal) => return refused(media, &request_id, &refusal),
    };
    crate::metrics::note_operation(req, checked.label());
    let is_mutation = checked.kind() == Some(OperationType::Mutation);
    if via_get && is_mutation {
        return mutation_over_get(media, &request_id);
    }
    let cost = checked.cost;
    let (request, request_data) =
        match pipeline::request(state, principal.clone(), &request_id, checked, true) {
            Ok(prepared) => prepared,
            Err(refusal) => return refused(media, &request_id, &refusal),
        };
    let mut request = request
        .data(state.evidence.clone())
        .data(graphql::enforcement::UploadLimit(
            state.limits.max_upload_bytes,
        ));
    request.uploads = uploads;
    let span = crate::logging::request_span(&request_id, principal.as_ref());
    // Wait for a turn to execute; while the database is down, fail at once instead.
    // Biased, the probe first: with a turn free and the database down, both branches are
    // ready, and a random pick would start a mutation that can only wait for the pool.
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

/// 405: mutations change state, and GET must not (GraphQL over HTTP).
fn mutation_over_get(media: Media, request_id: &str) -> HttpResponse {
    let mut response = request_error_with_status(
        StatusCode::METHOD_NOT_ALLOWED,
        media,
        request_id,
        ErrorCode::BadUserInput,
        "mutations are only accepted over POST",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
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
        let limit = state.limits.request_timeout;
        let refusal =
            Refusal::over_limit(format!("the request exceeded the time limit of {limit:?}"));
        return refused(media, request_id, &refusal);
    };
    request_data.audit_personal_reads(&state.db.conn).await;
    pipeline::finish_errors(&mut response.errors, request_id);
    pipeline::name_the_limit(&mut response.errors, &state.limits);
    // A response with no data at all is a request error (parse, validation, limits).
    let request_failed = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let unavailable = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == Value::String(ErrorCode::ServiceUnavailable.as_str().to_owned()))
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
            "code": ErrorCode::InternalServerError.as_str(), "requestId": request_id } }] })
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
pub(super) const WRITE_BUFFER_BYTES: usize = 8 * 1024;

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
