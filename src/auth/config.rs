//! The `[auth]` settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[auth]`: who may call. Nothing configured: everyone, as the anonymous principal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// With an authenticator configured: serve callers that send no credentials, as the
    /// anonymous principal (which sees only anonymous tasks). Off: they get 401.
    pub allow_anonymous: bool,
    /// Scopes every call needs (403 without them). Only bearer tokens carry scopes, so
    /// only they are checked: API keys and client certificates are trusted as configured.
    pub required_scopes: Vec<String>,
    /// Verified bearer tokens remembered (until their `exp`) so that a token is not
    /// re-verified on every request; 0 turns the cache off.
    pub token_cache_size: usize,
    /// CIDRs of proxies whose `X-Forwarded-For` is believed (the client IP of anonymous
    /// callers, for rate limits and the audit log).
    pub trusted_proxies: Vec<String>,
    /// `[auth.api_keys]`: API keys from a file.
    pub api_keys: Option<ApiKeysConfig>,
    /// `[[auth.jwt]]`: one table per trusted token issuer (TOML only).
    pub jwt: Vec<JwtConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            allow_anonymous: false,
            required_scopes: Vec::new(),
            token_cache_size: 10_000,
            trusted_proxies: Vec::new(),
            api_keys: None,
            jwt: Vec::new(),
        }
    }
}

/// `[[auth.jwt]]`: bearer JWTs of one issuer. Its `Debug` never shows `secret`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The `iss` its tokens carry, exactly.
    pub issuer: String,
    /// Accepted `aud` values: a token must name at least one.
    pub audience: Vec<String>,
    /// The issuer's key set. Absent: OIDC discovery at
    /// `{issuer}/.well-known/openid-configuration` (its `issuer` must equal `issuer`, its
    /// `jwks_uri` is used). Must be https unless the host is loopback.
    pub jwks_url: Option<String>,
    /// Signature algorithms accepted. Default RS256, ES256, EdDSA; HS256/384/512 only
    /// with `secret`; `none` never.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// A shared HMAC secret instead of a key set (then only HS* algorithms are accepted).
    pub secret: Option<String>,
    /// The claim naming the caller; the owner is `jwt:{issuer}:{value}`.
    #[serde(default = "default_owner_claim")]
    pub owner_claim: String,
    /// The claim naming the caller's tenant (absent: the default tenant).
    pub tenant_claim: Option<String>,
    /// The claim with the granted scopes: a space-separated string (`scope`) or an array
    /// (`scp`).
    #[serde(default = "default_scopes_claim")]
    pub scopes_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds (at most
    /// [`MAX_LEEWAY_SECS`]). A token is accepted until `exp` plus this, and a stream
    /// opened with it ends then.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
}

/// The largest `leeway_secs`: more would keep expired tokens working for long.
pub const MAX_LEEWAY_SECS: u64 = 300;

impl std::fmt::Debug for JwtConfig {
    // By hand, so that the HS256 secret never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("jwks_url", &self.jwks_url)
            .field("algorithms", &self.algorithms)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("owner_claim", &self.owner_claim)
            .field("tenant_claim", &self.tenant_claim)
            .field("scopes_claim", &self.scopes_claim)
            .field("leeway_secs", &self.leeway_secs)
            .finish()
    }
}

fn default_leeway() -> u64 {
    super::LEEWAY_SECS
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into(), "EdDSA".into()]
}

fn default_owner_claim() -> String {
    "sub".into()
}

fn default_scopes_claim() -> String {
    "scope".into()
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
