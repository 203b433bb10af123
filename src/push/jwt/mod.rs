//! Per-notification JWTs: the server signs every webhook request, a receiver verifies it.
//!
//! The token's header carries `alg` (ES256 or RS256) and `kid`; its claims
//! ([`NotificationClaims`]) are:
//!
//! | claim | value |
//! |---|---|
//! | `iss` | the configured issuer, e.g. the server's public URL |
//! | `aud` | the webhook URL the request is POSTed to |
//! | `iat` | issued at, seconds since the epoch |
//! | `exp` | `iat` + token lifetime (default 5 minutes) |
//! | `jti` | the notification's event id, the same on every retry of it (dedupe on it) |
//! | `taskId` | the task the notification is about |
//! | `body_sha256` | SHA-256 of the exact request body bytes, **lowercase hex** (64 characters; what `sha256sum` prints) |
//!
//! The token travels as `Authorization: Bearer <jwt>` when the push config brings no
//! credentials of its own, else in the [`NOTIFICATION_JWT_HEADER`] header
//! (`X-A2A-Notification-JWT`); [`token_from_headers`] looks in both. The public keys are
//! the server's JWKS (`/.well-known/jwks.json`).
//!
//! A webhook receiver written in Rust (axum here) verifies a notification like this:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use a2a_server::push::jwt::{NotificationVerifier, token_from_headers};
//! use axum::{Router, body::Bytes, http::{HeaderMap, StatusCode}, routing::post};
//!
//! let verifier = Arc::new(
//!     NotificationVerifier::from_jwks_url("https://agent.example.com/.well-known/jwks.json")
//!         .await?
//!         .with_issuer("https://agent.example.com"),
//! );
//! let app: Router = Router::new().route("/hook", post(move |headers: HeaderMap, body: Bytes| async move {
//!     let Some(token) = token_from_headers(&headers) else { return StatusCode::UNAUTHORIZED };
//!     match verifier.verify_refreshing(token, "https://me.example.com/hook", &body).await {
//!         Ok(claims) => { /* drop duplicates by claims.jti, then use body */ StatusCode::OK }
//!         Err(_) => StatusCode::UNAUTHORIZED,
//!     }
//! }));
//! # let _ = app; Ok(()) }
//! ```
//!
//! `verify` checks the signature with the key named by `kid` (whose algorithm must match
//! the header's), `iss` when an issuer is expected, `aud` against the receiver's own URL,
//! `exp` and `iat` with a leeway (default 30 s) for clock skew, and that the body hashes to
//! `body_sha256`. `verify_refreshing` re-fetches the JWKS once when the `kid` is unknown
//! (the server rotated its key), at most every 10 s.
//!
//! The signer is in `sign`, the verifier and its JWKS handling in `verify`; this module
//! holds what both sides share: the claims, the body hash and where the token travels.

mod sign;
#[cfg(test)]
mod tests;
mod verify;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use sign::{NotificationSigner, SignError};
pub use verify::{DEFAULT_LEEWAY, MIN_REFRESH_INTERVAL, NotificationVerifier, VerifyError};

/// The header that carries the JWT when `Authorization` holds the config's own credentials.
pub const NOTIFICATION_JWT_HEADER: &str = "x-a2a-notification-jwt";

/// The claims of a notification JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationClaims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(rename = "taskId")]
    pub task_id: String,
    /// SHA-256 of the request body, lowercase hex.
    pub body_sha256: String,
}

/// SHA-256 of `body` as the `body_sha256` claim carries it: lowercase hex.
pub fn body_sha256(body: &[u8]) -> String {
    format!("{:x}", Sha256::digest(body))
}

/// The notification JWT of a request: the [`NOTIFICATION_JWT_HEADER`] header if present,
/// else an `Authorization: Bearer` token.
pub fn token_from_headers(headers: &http::HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(NOTIFICATION_JWT_HEADER) {
        return value.to_str().ok().map(str::trim);
    }
    let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
