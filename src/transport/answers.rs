//! The JSON-RPC endpoint's answers that are not a dispatched call's: errors before
//! dispatch (bad media type, body too large), refusals (401/403), the rate limit (429)
//! and shedding (503), each with a JSON-RPC error body.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use jsonrpsee::types::Id;

use super::http::AppState;
use crate::auth::Refusal;
use crate::jsonrpc;
use crate::protocol::{A2aError, Version};

pub(super) fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(super) fn json_error(status: StatusCode, id: Id<'_>, e: &A2aError) -> Response {
    json_response(status, jsonrpc::error_response(id, e, Version::V03))
}

/// 429 with `Retry-After` and a JSON-RPC error (-32029) carrying the call's id.
pub(super) fn rate_limited(id: Id<'_>, wait: std::time::Duration, v1: bool) -> Response {
    let secs = crate::ratelimit::retry_after_secs(wait);
    let e = A2aError::RateLimited(format!("too many requests; retry after {secs} s"));
    let version = if v1 { Version::V1 } else { Version::V03 };
    let mut r = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        jsonrpc::error_response(id, &e, version),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// A call refused before dispatch: 401 (no or bad credentials, with a `WWW-Authenticate`
/// challenge per configured scheme), 403 (missing scope) or 503 (credentials that cannot
/// be checked now), with a JSON-RPC error body that says why. Already counted and logged
/// by the admission.
pub(super) fn refused(state: &AppState, refusal: &Refusal, id: Id<'_>, v1: bool) -> Response {
    let version = if v1 { Version::V1 } else { Version::V03 };
    let (status, error) = match refusal {
        Refusal::InsufficientScope { .. } => (
            StatusCode::FORBIDDEN,
            A2aError::PermissionDenied(refusal.to_string()),
        ),
        Refusal::Unavailable { .. } => {
            let e = A2aError::Unavailable(refusal.to_string());
            return unavailable(json_response(
                StatusCode::OK,
                jsonrpc::error_response(id, &e, version),
            ));
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            A2aError::Unauthenticated(refusal.to_string()),
        ),
    };
    let mut r = json_response(status, jsonrpc::error_response(id, &error, version));
    for challenge in state.challenges(refusal) {
        if let Ok(v) = HeaderValue::try_from(challenge) {
            r.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

pub(super) fn overloaded() -> Response {
    let e = A2aError::Internal("the server is at its concurrency limit; retry shortly".into());
    unavailable(json_error(StatusCode::OK, Id::Null, &e))
}

/// 503 with `Retry-After`: the server cannot serve the call now (at its concurrency limit,
/// or the task store cannot be reached); a retry in a second may succeed.
pub(super) fn unavailable(mut r: Response) -> Response {
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}
