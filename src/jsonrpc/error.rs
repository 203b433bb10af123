//! The one place an [`A2aError`] becomes a JSON-RPC error object.

use jsonrpsee::types::ErrorObjectOwned;
use serde_json::json;

use crate::protocol::{A2aError, Version};

/// Maps an error to the JSON-RPC error object of `version`. 1.0 errors carry a
/// `google.rpc.ErrorInfo` in `data`, as the 1.0 spec recommends.
pub fn error_object(err: &A2aError, version: Version) -> ErrorObjectOwned {
    let data = match (version, err.reason()) {
        (Version::V1, Some(reason)) => Some(json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": reason,
            "domain": "a2a-protocol.org",
        }])),
        _ => None,
    };
    ErrorObjectOwned::owned(err.code(), err.to_string(), data)
}

/// Logs an answer that is the server's failure, not the client's (a store that failed or
/// cannot be reached): the client sees the short message, the log keeps it with the call.
pub fn log_server_error(err: &A2aError, method: &str) {
    match err {
        A2aError::Internal(_) => {
            tracing::error!(method, error = %err, "answered with an internal error")
        }
        A2aError::Unavailable(_) => tracing::warn!(method, error = %err, "answered: unavailable"),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_errors_carry_error_info() {
        let e = error_object(&A2aError::TaskNotFound("x".into()), Version::V1);
        assert_eq!(e.code(), -32001);
        let data: serde_json::Value = serde_json::from_str(e.data().unwrap().get()).unwrap();
        assert_eq!(data[0]["reason"], "TASK_NOT_FOUND");
    }

    #[test]
    fn v03_errors_have_no_error_info() {
        let e = error_object(&A2aError::TaskNotFound("x".into()), Version::V03);
        assert!(e.data().is_none());
    }
}
