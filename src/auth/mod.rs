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
pub mod mtls;

use std::sync::Arc;

use http::HeaderMap;

pub use api_keys::ApiKeys;
pub use config::{ApiKeysConfig, AuthConfig};

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
    /// A valid principal without a scope every call needs.
    #[error("insufficient scope: this server requires the scope `{0}`")]
    InsufficientScope(String),
}

impl Refusal {
    /// The `reason` label of `a2a_auth_failures_total` and the audit log line: a bounded set.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Missing(_) => "missing",
            Refusal::Invalid { .. } => "invalid",
            Refusal::InsufficientScope(_) => "insufficient_scope",
        }
    }

    pub fn scheme(&self) -> Scheme {
        match self {
            Refusal::Invalid { scheme, .. } => *scheme,
            Refusal::Missing(_) | Refusal::InsufficientScope(_) => Scheme::Anonymous,
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
    allow_anonymous: bool,
}

impl Auth {
    /// Authentication off: every caller is [`Principal::anonymous`].
    pub fn disabled() -> Self {
        Self(None)
    }

    /// The authenticators `config` names, and mTLS when `tls.client_ca` is set; a file
    /// that cannot be read is a start-up error.
    pub fn new(
        config: &AuthConfig,
        tls: Option<&crate::config::TlsConfig>,
    ) -> anyhow::Result<Self> {
        let api_keys = match &config.api_keys {
            Some(c) => Some(ApiKeys::open(c)?),
            None => None,
        };
        let mtls = tls.is_some_and(|t| t.client_ca.is_some());
        if api_keys.is_none() && !mtls {
            return Ok(Self::disabled());
        }
        Ok(Self(Some(Arc::new(Inner {
            api_keys,
            mtls,
            allow_anonymous: config.allow_anonymous,
        }))))
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
    fn expected(&self) -> String {
        let Some(inner) = &self.0 else {
            return String::new();
        };
        let mut ways = Vec::new();
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
        if let Some(keys) = &inner.api_keys {
            out.push(format!(r#"ApiKey realm="a2a", header="{}""#, keys.header()));
        }
        let _ = refusal;
        out
    }
}
