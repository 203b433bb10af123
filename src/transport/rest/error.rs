//! The one place an [`A2aError`] becomes an HTTP+JSON answer: the HTTP status and a
//! `google.rpc.Status` body (`{"error":{code,status,message,details}}`) whose `details`
//! carry a `google.rpc.ErrorInfo` (reason, domain `a2a-protocol.org`) for A2A errors.
//!
//! Where A2A 1.0.1 changed the table (PR #1627), we follow v1.0.0, which the official kit
//! still pins: 409 for a task that cannot be canceled, 502 for an invalid agent response,
//! and 415 for a request Content-Type we cannot read (answered before any handler runs,
//! see [`unsupported_media_type`]); part media types the agent cannot take stay 400.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use crate::protocol::A2aError;

/// The HTTP status and the `google.rpc.Code` name of `e`.
pub fn status_of(e: &A2aError) -> (StatusCode, &'static str) {
    use A2aError as E;
    match e {
        E::Parse(_) | E::InvalidRequest(_) | E::InvalidParams(_) => {
            (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT")
        }
        E::IdempotencyKeyReused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_ARGUMENT"),
        E::MethodNotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        E::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
        E::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
        E::TaskNotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        E::TaskNotCancelable(_) => (StatusCode::CONFLICT, "FAILED_PRECONDITION"),
        E::PushNotificationNotSupported | E::UnsupportedOperation(_) => {
            (StatusCode::BAD_REQUEST, "UNIMPLEMENTED")
        }
        E::ContentTypeNotSupported(_) => (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT"),
        E::InvalidAgentResponse(_) => (StatusCode::BAD_GATEWAY, "INTERNAL"),
        E::ExtendedAgentCardNotConfigured | E::ExtensionSupportRequired(_) => {
            (StatusCode::BAD_REQUEST, "FAILED_PRECONDITION")
        }
        E::VersionNotSupported(_) => (StatusCode::BAD_REQUEST, "UNIMPLEMENTED"),
        E::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "RESOURCE_EXHAUSTED"),
        E::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
        E::PermissionDenied(_) => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
    }
}

/// The `google.rpc.Status` JSON of `e` answered with `status`.
fn body(e: &A2aError, status: StatusCode, name: &str) -> String {
    let details = match e.reason() {
        Some(reason) => json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": reason,
            "domain": "a2a-protocol.org",
        }]),
        None => json!([]),
    };
    json!({"error": {
        "code": status.as_u16(),
        "status": name,
        "message": e.to_string(),
        "details": details,
    }})
    .to_string()
}

/// The body of `e` alone: a stream's error event, whose `error.code` is the status the
/// error would have had before the stream began.
pub fn status_json(e: &A2aError) -> String {
    let (status, name) = status_of(e);
    body(e, status, name)
}

/// The answer to a call that failed with `e`. Errors are always `application/json`
/// (clients such as a2a-go's refuse another type on errors).
pub fn response(e: &A2aError) -> Response {
    let (status, name) = status_of(e);
    with_status(e, status, name)
}

fn with_status(e: &A2aError, status: StatusCode, name: &str) -> Response {
    let mut r = Response::new(body(e, status, name).into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if matches!(e, A2aError::Unavailable(_)) {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// 415: the request's Content-Type is not JSON (the kit's v1.0.0 table).
pub fn unsupported_media_type(e: &A2aError) -> Response {
    with_status(e, StatusCode::UNSUPPORTED_MEDIA_TYPE, "INVALID_ARGUMENT")
}

/// An answer with its own status (413 for a body too large, 405 for a wrong method).
pub fn with_http_status(e: &A2aError, status: StatusCode) -> Response {
    let name = match status {
        StatusCode::METHOD_NOT_ALLOWED => "UNIMPLEMENTED",
        StatusCode::PAYLOAD_TOO_LARGE => "RESOURCE_EXHAUSTED",
        _ => status_of(e).1,
    };
    with_status(e, status, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a2a_errors_carry_error_info_and_the_http_status_as_code() {
        let e = A2aError::TaskNotFound("no task with id `x`".into());
        let v: serde_json::Value = serde_json::from_str(&status_json(&e)).unwrap();
        assert_eq!(v["error"]["code"], 404);
        assert_eq!(v["error"]["status"], "NOT_FOUND");
        assert_eq!(v["error"]["details"][0]["reason"], "TASK_NOT_FOUND");
        assert_eq!(v["error"]["details"][0]["domain"], "a2a-protocol.org");
    }

    #[test]
    fn the_kit_table_where_1_0_1_differs() {
        assert_eq!(
            status_of(&A2aError::TaskNotCancelable("x".into())).0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            status_of(&A2aError::InvalidAgentResponse("x".into())).0,
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            status_of(&A2aError::PushNotificationNotSupported).0,
            StatusCode::BAD_REQUEST
        );
    }
}
