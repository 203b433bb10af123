//! Webhook push delivery.
//!
//! - [`keys`]: the ES256/RS256 keys that sign notifications, loaded from PEM files or
//!   generated and persisted on first start, rotated, and published as a JWKS.
//! - [`jwt`]: the per-notification JWT: [`jwt::NotificationSigner`] on the server,
//!   [`jwt::NotificationVerifier`] for webhook receivers written in Rust.
//! - [`ssrf`]: which webhook URLs are allowed, and a reqwest resolver that enforces it at
//!   connect time.
//! - [`worker`]: the delivery worker that drains the outbox the stores write.

pub mod jwt;
pub mod keys;
pub mod ssrf;
pub mod worker;
