//! The A2A error enum: every failure a client can see, independent of wire version.
//! `jsonrpc::error` is the one place that turns it into a JSON-RPC error object.

use thiserror::Error;

/// An error a client sees. The message names the problem; codes are assigned in
/// [`A2aError::code`].
#[derive(Debug, Clone, Error, PartialEq)]
pub enum A2aError {
    #[error("invalid JSON: {0}")]
    Parse(String),
    #[error("invalid JSON-RPC request: {0}")]
    InvalidRequest(String),
    #[error("method not found: {0}")]
    MethodNotFound(String),
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// An `Idempotency-Key` reused with a different request: -32602 on JSON-RPC, HTTP 422
    /// on REST.
    #[error("invalid params: {0}")]
    IdempotencyKeyReused(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// An internal error that may pass (the task store cannot be reached), so a retry
    /// later may succeed: the code of `Internal`, and HTTP 503 with `Retry-After`.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("task not found: {0}")]
    TaskNotFound(String),
    #[error("task cannot be canceled: {0}")]
    TaskNotCancelable(String),
    #[error("push notifications are not supported by this agent")]
    PushNotificationNotSupported,
    #[error("unsupported operation: {0}")]
    UnsupportedOperation(String),
    #[error("content type not supported: {0}")]
    ContentTypeNotSupported(String),
    #[error("invalid agent response: {0}")]
    InvalidAgentResponse(String),
    #[error("the extended agent card is not configured")]
    ExtendedAgentCardNotConfigured,
    #[error("extension support required: {0}")]
    ExtensionSupportRequired(String),
    #[error("protocol version not supported: {0}")]
    VersionNotSupported(String),
    /// Over the caller's rate limit (HTTP 429 with `Retry-After`). Not an A2A code: ours,
    /// outside A2A's -32001..-32009 range.
    #[error("rate limit exceeded: {0}")]
    RateLimited(String),
    /// No credentials, or credentials that do not check out (HTTP 401). A2A assigns no
    /// JSON-RPC code: -31401, as a2a-go uses, outside the A2A and JSON-RPC ranges.
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid caller without the permission the call needs (HTTP 403): -31403.
    #[error("{0}")]
    PermissionDenied(String),
}

/// The JSON-RPC code of [`A2aError::RateLimited`].
pub const RATE_LIMITED_CODE: i32 = -32029;

impl A2aError {
    /// The JSON-RPC error code (the same in every A2A version that defines it).
    pub fn code(&self) -> i32 {
        match self {
            A2aError::Parse(_) => -32700,
            A2aError::InvalidRequest(_) => -32600,
            A2aError::MethodNotFound(_) => -32601,
            A2aError::InvalidParams(_) | A2aError::IdempotencyKeyReused(_) => -32602,
            A2aError::Internal(_) | A2aError::Unavailable(_) => -32603,
            A2aError::TaskNotFound(_) => -32001,
            A2aError::TaskNotCancelable(_) => -32002,
            A2aError::PushNotificationNotSupported => -32003,
            A2aError::UnsupportedOperation(_) => -32004,
            A2aError::ContentTypeNotSupported(_) => -32005,
            A2aError::InvalidAgentResponse(_) => -32006,
            A2aError::ExtendedAgentCardNotConfigured => -32007,
            A2aError::ExtensionSupportRequired(_) => -32008,
            A2aError::VersionNotSupported(_) => -32009,
            A2aError::RateLimited(_) => RATE_LIMITED_CODE,
            A2aError::Unauthenticated(_) => -31401,
            A2aError::PermissionDenied(_) => -31403,
        }
    }

    /// The 1.0 `google.rpc.ErrorInfo` reason for A2A-specific errors.
    pub fn reason(&self) -> Option<&'static str> {
        Some(match self {
            A2aError::TaskNotFound(_) => "TASK_NOT_FOUND",
            A2aError::TaskNotCancelable(_) => "TASK_NOT_CANCELABLE",
            A2aError::PushNotificationNotSupported => "PUSH_NOTIFICATION_NOT_SUPPORTED",
            A2aError::UnsupportedOperation(_) => "UNSUPPORTED_OPERATION",
            A2aError::ContentTypeNotSupported(_) => "CONTENT_TYPE_NOT_SUPPORTED",
            A2aError::InvalidAgentResponse(_) => "INVALID_AGENT_RESPONSE",
            A2aError::ExtendedAgentCardNotConfigured => "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
            A2aError::ExtensionSupportRequired(_) => "EXTENSION_SUPPORT_REQUIRED",
            A2aError::VersionNotSupported(_) => "VERSION_NOT_SUPPORTED",
            _ => return None,
        })
    }

    /// Shorthand for a params error from a serde message.
    pub fn params(msg: impl std::fmt::Display) -> Self {
        A2aError::InvalidParams(msg.to_string())
    }
}
