//! The `[auth]` settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[auth]`: who may call. Nothing configured: everyone, as the anonymous principal.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// With an authenticator configured: serve callers that send no credentials, as the
    /// anonymous principal (which sees only anonymous tasks). Off: they get 401.
    pub allow_anonymous: bool,
    /// Scopes every call needs (403 without them).
    pub required_scopes: Vec<String>,
    /// CIDRs of proxies whose `X-Forwarded-For` is believed (the client IP of anonymous
    /// callers, for rate limits and the audit log).
    pub trusted_proxies: Vec<String>,
    /// `[auth.api_keys]`: API keys from a file.
    pub api_keys: Option<ApiKeysConfig>,
}

/// `[auth.api_keys]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeysConfig {
    /// Lines `<sha256 hex of the key> <owner> [tenant]`; `#` starts a comment. Re-read
    /// when it changes, so a key is revoked by deleting its line.
    pub file: PathBuf,
    /// The request header that carries the key.
    #[serde(default = "default_header")]
    pub header: String,
}

fn default_header() -> String {
    "X-API-Key".into()
}
