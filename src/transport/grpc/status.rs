//! The one place an [`A2aError`] becomes a gRPC status: the code, the message, and a
//! `google.rpc.ErrorInfo` (domain `a2a-protocol.org`) in the status details.
//!
//! The codes follow the v1.0.0 table the official kit checks, where v1.0.1 changed three:
//! push notifications not supported, an unsupported operation and an unsupported version
//! answer `UNIMPLEMENTED` (v1.0.1: `FAILED_PRECONDITION`).

use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::auth::Refusal;
use crate::protocol::A2aError;

/// The `ErrorInfo` domain of every error this server answers.
pub const DOMAIN: &str = "a2a-protocol.org";

/// The gRPC code of an error.
pub fn code(e: &A2aError) -> Code {
    match e {
        A2aError::Parse(_)
        | A2aError::InvalidRequest(_)
        | A2aError::InvalidParams(_)
        | A2aError::IdempotencyKeyReused(_)
        | A2aError::ContentTypeNotSupported(_) => Code::InvalidArgument,
        A2aError::MethodNotFound(_)
        | A2aError::PushNotificationNotSupported
        | A2aError::UnsupportedOperation(_)
        | A2aError::VersionNotSupported(_) => Code::Unimplemented,
        A2aError::Internal(_) | A2aError::InvalidAgentResponse(_) => Code::Internal,
        A2aError::Unavailable(_) => Code::Unavailable,
        A2aError::TaskNotFound(_) => Code::NotFound,
        A2aError::TaskNotCancelable(_)
        | A2aError::ExtendedAgentCardNotConfigured
        | A2aError::ExtensionSupportRequired(_) => Code::FailedPrecondition,
        A2aError::RateLimited(_) => Code::ResourceExhausted,
        A2aError::Unauthenticated(_) => Code::Unauthenticated,
        A2aError::PermissionDenied(_) => Code::PermissionDenied,
    }
}

/// The `ErrorInfo` reason: A2A's own for its errors, else one named after the JSON-RPC
/// error the same failure answers on that transport.
fn reason(e: &A2aError) -> &'static str {
    e.reason().unwrap_or(match e {
        A2aError::Parse(_) => "PARSE_ERROR",
        A2aError::InvalidRequest(_) => "INVALID_REQUEST",
        A2aError::MethodNotFound(_) => "METHOD_NOT_FOUND",
        A2aError::IdempotencyKeyReused(_) => "IDEMPOTENCY_KEY_REUSED",
        A2aError::Unavailable(_) => "UNAVAILABLE",
        A2aError::RateLimited(_) => "RATE_LIMITED",
        A2aError::Unauthenticated(_) => "UNAUTHENTICATED",
        A2aError::PermissionDenied(_) => "PERMISSION_DENIED",
        A2aError::Internal(_) => "INTERNAL_ERROR",
        _ => "INVALID_PARAMS",
    })
}

/// The status of an error, with its `ErrorInfo` (and the JSON-RPC code in its metadata,
/// so a client of both transports can tell the same error apart).
pub fn status(e: &A2aError) -> Status {
    let metadata = HashMap::from([("code".to_string(), e.code().to_string())]);
    let details = ErrorDetails::with_error_info(reason(e), DOMAIN, metadata);
    Status::with_error_details(code(e), e.to_string(), details)
}

/// A refused caller: `UNAUTHENTICATED` (no or bad credentials) or `PERMISSION_DENIED`
/// (a missing scope), with the challenges in `www-authenticate` metadata.
pub fn refused(refusal: &Refusal, challenges: &[String]) -> Status {
    let e = match refusal {
        Refusal::InsufficientScope { .. } => A2aError::PermissionDenied(refusal.to_string()),
        _ => A2aError::Unauthenticated(refusal.to_string()),
    };
    let mut s = status(&e);
    for c in challenges {
        if let Ok(v) = c.parse() {
            s.metadata_mut().append("www-authenticate", v);
        }
    }
    s
}

/// Over the rate limit: `RESOURCE_EXHAUSTED` with `retry-after` (whole seconds) metadata.
pub fn rate_limited(wait: Duration) -> Status {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let e = A2aError::RateLimited(format!("retry after {secs} s"));
    let mut s = status(&e);
    s.metadata_mut().insert("retry-after", secs.into());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kit_table() {
        let unimpl = [
            A2aError::PushNotificationNotSupported,
            A2aError::UnsupportedOperation("x".into()),
            A2aError::VersionNotSupported("x".into()),
        ];
        for e in unimpl {
            assert_eq!(code(&e), Code::Unimplemented, "{e}");
        }
        assert_eq!(code(&A2aError::TaskNotFound("x".into())), Code::NotFound);
        let s = status(&A2aError::TaskNotFound("no task".into()));
        let info = s.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "TASK_NOT_FOUND");
        assert_eq!(info.domain, DOMAIN);
        assert_eq!(info.metadata["code"], "-32001");
    }
}
