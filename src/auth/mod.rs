//! Who the caller is: the one place that turns a request's credentials into a
//! [`Principal`], whatever the transport. Every task operation then runs in the principal's
//! [`Scope`], so the stores never show one caller another's tasks.
//!
//! With no authenticator configured every caller is the anonymous principal (the empty
//! scope), as before authentication existed. With one configured, a request without
//! credentials is refused unless `auth.allow_anonymous` is set, and a request whose
//! credentials do not check out is always refused (never demoted to anonymous).

mod api_keys;
mod config;
mod jwks;
mod jwt;
pub mod mtls;

use std::sync::Arc;

use http::HeaderMap;

pub use api_keys::ApiKeys;
pub use config::{ApiKeysConfig, AuthConfig, JwtConfig, MAX_LEEWAY_SECS};
pub use jwt::{Jwt, LEEWAY_SECS};

pub use crate::protocol::card::CardSecurity;
use crate::store::Scope;
use crate::transport::tls::PeerCertificates;

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// No credentials (authentication off, or `allow_anonymous`).
    #[default]
    Anonymous,
    /// An `X-API-Key` (or the configured header) from the API key file.
    ApiKey,
    /// `Authorization: Bearer` with a JWT.
    Bearer,
    /// A TLS client certificate.
    Mtls,
}

impl Scheme {
    /// The scheme's name in logs and the `scheme` label of `a2a_auth_failures_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Anonymous => "anonymous",
            Scheme::ApiKey => "apikey",
            Scheme::Bearer => "bearer",
            Scheme::Mtls => "mtls",
        }
    }

    /// What a stream's last event says when these credentials expire under it.
    pub fn expired_message(self) -> &'static str {
        match self {
            Scheme::Mtls => "client certificate expired",
            _ => "token expired",
        }
    }
}

/// The caller of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// Owner (namespaced by scheme: `apikey:...`, `jwt:{issuer}:{sub}`, `mtls:{DN}`) and
    /// tenant; the empty scope for the anonymous caller.
    pub scope: Scope,
    /// The OAuth scopes a token granted (empty for other schemes).
    pub scopes: Vec<String>,
    pub scheme: Scheme,
    /// When the credential stops being accepted (Unix seconds): a bearer token's `exp`
    /// plus the leeway. A stream opened with it ends then (`None`: never).
    pub expires_at: Option<u64>,
}

impl Principal {
    /// The caller when authentication is off: everyone shares the empty scope.
    pub fn anonymous() -> Self {
        Self::default()
    }

    pub fn is_authenticated(&self) -> bool {
        self.scheme != Scheme::Anonymous
    }
}

/// Why a request was refused before it reached a method. The transports map these to
/// their codes (HTTP 401/403 with `WWW-Authenticate`, JSON-RPC -31401/-31403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No credentials, and anonymous callers are not allowed.
    #[error("authentication required: send {0}")]
    Missing(String),
    /// Credentials were sent and did not check out. `reason` says why (expired, unknown
    /// key, ...) and never contains the credential itself.
    #[error("invalid credentials ({scheme}): {reason}", scheme = .scheme.as_str())]
    Invalid { scheme: Scheme, reason: String },
    /// A valid principal without a scope every call needs; `owner` is who it was (for
    /// the audit line, never sent back).
    #[error("insufficient scope: this server requires the scope `{scope}`")]
    InsufficientScope { scope: String, owner: String },
    /// The credentials cannot be checked now: the issuer's key set (or its discovery
    /// document) cannot be fetched. The server's fault, not the caller's: HTTP 503 with
    /// `Retry-After`, so a client retries with the same token instead of dropping it.
    #[error("cannot verify credentials now ({scheme}): {reason}; retry later", scheme = .scheme.as_str())]
    Unavailable { scheme: Scheme, reason: String },
}

impl Refusal {
    /// The `reason` label of `a2a_auth_failures_total` and the audit log line: a bounded set.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Missing(_) => "missing",
            Refusal::Invalid { .. } => "invalid",
            Refusal::InsufficientScope { .. } => "insufficient_scope",
            Refusal::Unavailable { .. } => "keys_unavailable",
        }
    }

    pub fn scheme(&self) -> Scheme {
        match self {
            Refusal::Invalid { scheme, .. } | Refusal::Unavailable { scheme, .. } => *scheme,
            Refusal::InsufficientScope { .. } => Scheme::Bearer,
            Refusal::Missing(_) => Scheme::Anonymous,
        }
    }

    /// Who was refused, when that is known (a valid token lacking a scope).
    pub fn principal(&self) -> Option<&str> {
        match self {
            Refusal::InsufficientScope { owner, .. } => Some(owner),
            _ => None,
        }
    }
}

/// What a request offers to prove who sent it.
pub struct Credentials<'a> {
    pub headers: &'a HeaderMap,
    /// The client chain the TLS handshake verified (mTLS), if any.
    pub peer_certificates: Option<&'a PeerCertificates>,
}

/// The configured authenticators. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Auth(Option<Arc<Inner>>);

struct Inner {
    api_keys: Option<ApiKeys>,
    /// Client certificates are verified by the TLS listener (`tls.client_ca`).
    mtls: bool,
    jwt: Option<Jwt>,
    allow_anonymous: bool,
    /// Scopes a bearer token must grant (API keys and certificates carry none).
    required_scopes: Vec<String>,
}

impl Auth {
    /// Authentication off: every caller is [`Principal::anonymous`].
    pub fn disabled() -> Self {
        Self(None)
    }

    /// The authenticators `config` names, and mTLS when `tls.client_ca` is set; a file
    /// that cannot be read, or an issuer whose discovery document disagrees with its
    /// table, is a start-up error.
    pub async fn new(
        config: &AuthConfig,
        tls: Option<&crate::config::TlsConfig>,
    ) -> anyhow::Result<Self> {
        let api_keys = match &config.api_keys {
            Some(c) => Some(ApiKeys::open(c)?),
            None => None,
        };
        let mtls = tls.is_some_and(|t| t.client_ca.is_some());
        let jwt = if config.jwt.is_empty() {
            None
        } else {
            Some(Jwt::new(&config.jwt, config.token_cache_size).await?)
        };
        if api_keys.is_none() && jwt.is_none() && !mtls {
            return Ok(Self::disabled());
        }
        Ok(Self(Some(Arc::new(Inner {
            api_keys,
            mtls,
            jwt,
            allow_anonymous: config.allow_anonymous,
            required_scopes: config.required_scopes.clone(),
        }))))
    }

    /// What the agent card should declare.
    pub fn card_security(&self) -> CardSecurity {
        let Some(inner) = &self.0 else {
            return CardSecurity::default();
        };
        CardSecurity {
            bearer: inner.jwt.as_ref().map(|j| j.card_info().openid_connect_url),
            api_key_header: inner.api_keys.as_ref().map(|k| k.header().to_string()),
            mtls: inner.mtls,
            required_scopes: inner.required_scopes.clone(),
        }
    }

    /// Whether any authenticator is configured.
    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// The request's principal, or why it is refused.
    pub async fn authenticate(&self, creds: &Credentials<'_>) -> Result<Principal, Refusal> {
        let Some(inner) = &self.0 else {
            return Ok(Principal::anonymous());
        };
        if let Some(jwt) = &inner.jwt
            && let Some(principal) = jwt.authenticate(creds.headers).await?
        {
            if let Some(missing) = inner
                .required_scopes
                .iter()
                .find(|s| !principal.scopes.contains(s))
            {
                return Err(Refusal::InsufficientScope {
                    scope: missing.clone(),
                    owner: principal.scope.owner.clone(),
                });
            }
            return Ok(principal);
        }
        if let Some(keys) = &inner.api_keys
            && let Some(principal) = keys.authenticate(creds.headers)?
        {
            return Ok(principal);
        }
        // The certificate counts only when no header credential was given: a bearer or API
        // key names the caller more precisely than the machine's certificate.
        if inner.mtls
            && let Some(certs) = creds.peer_certificates
        {
            return mtls::principal(certs);
        }
        if inner.allow_anonymous {
            return Ok(Principal::anonymous());
        }
        Err(Refusal::Missing(self.expected()))
    }

    /// The credentials this server takes, for a refusal's message.
    pub fn expected(&self) -> String {
        let Some(inner) = &self.0 else {
            return String::new();
        };
        let mut ways = Vec::new();
        if inner.jwt.is_some() {
            ways.push("a token in `Authorization: Bearer`".to_string());
        }
        if let Some(keys) = &inner.api_keys {
            ways.push(format!("an API key in the `{}` header", keys.header()));
        }
        if inner.mtls {
            ways.push("a TLS client certificate from the trusted CA".to_string());
        }
        ways.join(" or ")
    }

    /// `WWW-Authenticate` challenges for a 401 (RFC 9110 section 11.6.1), one per scheme.
    pub fn challenges(&self, refusal: &Refusal) -> Vec<String> {
        let Some(inner) = &self.0 else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if inner.jwt.is_some() {
            // RFC 6750 section 3: an error code only when a token was sent.
            out.push(match refusal {
                Refusal::Invalid {
                    scheme: Scheme::Bearer,
                    reason,
                } => format!(
                    r#"Bearer realm="a2a", error="invalid_token", error_description="{}""#,
                    quoted(reason)
                ),
                Refusal::InsufficientScope { scope, .. } => {
                    let all = inner.required_scopes.join(" ");
                    let _ = scope;
                    return vec![format!(
                        r#"Bearer realm="a2a", error="insufficient_scope", scope="{}""#,
                        quoted(&all)
                    )];
                }
                _ => r#"Bearer realm="a2a""#.to_string(),
            });
        }
        if let Some(keys) = &inner.api_keys {
            out.push(format!(r#"ApiKey realm="a2a", header="{}""#, keys.header()));
        }
        out
    }
}

/// Text for a quoted-string of a challenge: no quotes, backslashes or control characters.
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '\''
            } else {
                c
            }
        })
        .collect()
}
