//! Who is calling: the bearer token verified (signature, claims, revocations) into a
//! principal, for GraphQL requests and for downloads.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::AppState;
use super::reply::{Media, refused, request_error};
use crate::pipeline;
use permit_core::auth::{Principal, RequestTag, bearer_token};
use permit_core::error::{AppError, ErrorCode};

/// The client's address, for its rate limit.
pub(crate) fn peer_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// Verifies the bearer token, if any. `Err` is the response to send (401, or 503 while the
/// revocation list cannot be read).
pub(crate) async fn authenticate(
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
            media,
            request_id,
            ErrorCode::Unauthenticated,
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
            media,
            request_id,
            ErrorCode::ServiceUnavailable,
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
    pipeline::admit_address(state, &peer_address(req))
        .map_err(|refusal| refused(Media::Json, request_id, &refusal))?;
    let Some(mut principal) = authenticate(state, req, Media::Json, request_id)
        .await
        .map_err(|r| *r)?
    else {
        return Err(request_error(
            Media::Json,
            request_id,
            ErrorCode::Unauthenticated,
            "authentication required: send a bearer token (see `permit-exchange token`)",
        ));
    };
    crate::metrics::note_principal(req, &principal);
    pipeline::admit_subject(state, &principal)
        .map_err(|refusal| refused(Media::Json, request_id, &refusal))?;
    principal.request = RequestTag {
        request_id: Some(request_id.to_owned()),
        operation_name: Some(label.to_owned()),
    };
    Ok(principal)
}
