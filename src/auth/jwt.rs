//! Bearer JWTs (`[[auth.jwt]]`): the issuer is picked by the token's `iss` (read before
//! verifying, to know which keys to verify with), then the signature (its algorithm on the
//! issuer's allow-list and the key's), `exp`/`nbf` (with [`LEEWAY_SECS`]), `iss` and `aud`
//! are checked. Verified tokens are cached until their `exp`, keyed by their SHA-256.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use http::HeaderMap;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::jwks::{KeySet, LookupError, Source};
use super::{JwtConfig, MAX_LEEWAY_SECS, Principal, Refusal, Scheme};
use crate::store::Scope;

/// Clock skew tolerated on `exp` and `nbf` by default (`leeway_secs`).
pub const LEEWAY_SECS: u64 = 30;
/// Timeouts of key-set and discovery fetches.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Every configured issuer, and the verified-token cache.
pub struct Jwt {
    issuers: Vec<Issuer>,
    cache: Option<quick_cache::sync::Cache<[u8; 32], Arc<Verified>>>,
}

struct Issuer {
    issuer: String,
    validation: Validation,
    keys: Keys,
    owner_claim: String,
    tenant_claim: Option<String>,
    scopes_claim: String,
    /// Whether the key set came from OIDC discovery (the card then says openIdConnect).
    discovery: bool,
}

enum Keys {
    Set(KeySet),
    Secret(DecodingKey),
}

/// A verified token's principal; its `expires_at` is when the token stops being accepted
/// (`exp` plus the issuer's leeway).
struct Verified {
    principal: Principal,
}

/// What the card says about bearer tokens.
pub struct CardInfo {
    /// The OIDC discovery URL of the first issuer that uses discovery.
    pub openid_connect_url: Option<String>,
}

fn invalid(reason: impl Into<String>) -> Refusal {
    Refusal::Invalid {
        scheme: Scheme::Bearer,
        reason: reason.into(),
    }
}

impl Jwt {
    /// Builds every issuer: a discovery document or key set that disagrees with the
    /// configuration is a start-up error; a key set that cannot be fetched yet is retried.
    pub async fn new(tables: &[JwtConfig], cache_size: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let mut issuers = Vec::new();
        for (n, t) in tables.iter().enumerate() {
            let issuer = Issuer::new(t, &http)
                .await
                .map_err(|e| anyhow::anyhow!("auth.jwt[{n}] (issuer `{}`): {e}", t.issuer))?;
            issuers.push(issuer);
        }
        Ok(Self {
            issuers,
            cache: (cache_size > 0).then(|| quick_cache::sync::Cache::new(cache_size)),
        })
    }

    pub fn card_info(&self) -> CardInfo {
        CardInfo {
            openid_connect_url: self.issuers.iter().find(|i| i.discovery).map(|i| {
                format!(
                    "{}/.well-known/openid-configuration",
                    i.issuer.trim_end_matches('/')
                )
            }),
        }
    }

    /// The bearer token's principal; `None` when the request has no `Authorization`.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Principal>, Refusal> {
        let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(invalid("more than one Authorization header"));
        }
        let value = value
            .to_str()
            .map_err(|_| invalid("the Authorization header is not text"))?;
        let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(invalid(format!(
                "unsupported Authorization scheme `{}`: send `Bearer <token>`",
                scheme.chars().take(20).collect::<String>()
            )));
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(invalid("the bearer token is empty"));
        }
        let now = jsonwebtoken::get_current_timestamp();
        let digest: Option<[u8; 32]> = self
            .cache
            .as_ref()
            .map(|_| Sha256::digest(token.as_bytes()).into());
        if let (Some(cache), Some(d)) = (&self.cache, &digest)
            && let Some(v) = cache.get(d)
        {
            if v.principal.expires_at.is_some_and(|t| t > now) {
                return Ok(Some(v.principal.clone()));
            }
            cache.remove(d);
            return Err(invalid("the token has expired"));
        }
        let verified = self.verify(token).await?;
        let principal = verified.principal.clone();
        if let (Some(cache), Some(d)) = (&self.cache, digest) {
            cache.insert(d, Arc::new(verified));
        }
        Ok(Some(principal))
    }

    async fn verify(&self, token: &str) -> Result<Verified, Refusal> {
        let (header, iss) = peek(token)?;
        let issuer = self
            .issuers
            .iter()
            .find(|i| iss.as_deref() == Some(i.issuer.as_str()))
            .ok_or_else(|| {
                invalid(match iss {
                    Some(_) => {
                        "wrong issuer: the token's `iss` is not an issuer this server trusts"
                    }
                    None => "the token has no `iss` claim",
                })
            })?;
        issuer.verify(token, &header).await
    }
}

/// The parts of the header that choose the key.
struct Header {
    alg: Algorithm,
    kid: Option<String>,
}

/// Reads the header and `iss` without verifying anything: they only choose the issuer and
/// key, which then verify the whole token.
fn peek(token: &str) -> Result<(Header, Option<String>), Refusal> {
    let malformed = || invalid("malformed token: expected three base64url parts (a JWS)");
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    #[derive(Deserialize)]
    struct RawHeader {
        alg: String,
        kid: Option<String>,
        #[serde(default)]
        crit: Option<Value>,
    }
    let raw: RawHeader = B64URL
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(malformed)?;
    if raw.crit.is_some() {
        return Err(invalid(
            "the token has critical header extensions (crit) this server does not support",
        ));
    }
    let alg: Algorithm = raw.alg.parse().map_err(|_| {
        invalid(format!(
            "algorithm `{}` is not allowed",
            raw.alg.chars().take(16).collect::<String>()
        ))
    })?;
    #[derive(Deserialize)]
    struct Iss {
        iss: Option<Value>,
    }
    let claims: Iss = B64URL
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("malformed token: the payload is not a JSON object"))?;
    let iss = claims.iss.and_then(|v| v.as_str().map(str::to_owned));
    Ok((Header { alg, kid: raw.kid }, iss))
}

impl Issuer {
    async fn new(t: &JwtConfig, http: &reqwest::Client) -> anyhow::Result<Self> {
        if t.audience.is_empty() {
            anyhow::bail!("audience is empty: name the `aud` values this server accepts");
        }
        let mut algorithms = Vec::new();
        for name in &t.algorithms {
            let alg: Algorithm = name
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown algorithm `{name}`"))?;
            algorithms.push(alg);
        }
        if algorithms.is_empty() {
            anyhow::bail!("algorithms is empty");
        }
        let hmac =
            |a: &Algorithm| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512);
        let (keys, discovery) = match &t.secret {
            Some(secret) => {
                if secret.len() < 32 {
                    anyhow::bail!("secret is shorter than 32 bytes");
                }
                if !algorithms.iter().all(hmac) {
                    anyhow::bail!("with `secret` only HS256, HS384 and HS512 are accepted");
                }
                if t.jwks_url.is_some() {
                    anyhow::bail!("set `secret` or `jwks_url`, not both");
                }
                (
                    Keys::Secret(DecodingKey::from_secret(secret.as_bytes())),
                    false,
                )
            }
            None => {
                if algorithms.iter().any(hmac) {
                    anyhow::bail!(
                        "HS256/HS384/HS512 need an explicit `secret`: an HMAC algorithm is never \
                         checked against a public key"
                    );
                }
                let (source, discovery) = match &t.jwks_url {
                    Some(u) => (Source::Url(u.clone()), false),
                    None => (
                        Source::Discovery {
                            issuer: t.issuer.clone(),
                        },
                        true,
                    ),
                };
                (
                    Keys::Set(KeySet::open(source, http.clone()).await?),
                    discovery,
                )
            }
        };
        if t.leeway_secs > MAX_LEEWAY_SECS {
            anyhow::bail!("leeway_secs is more than {MAX_LEEWAY_SECS}");
        }
        let mut validation = Validation::new(algorithms[0]);
        validation.algorithms = algorithms;
        validation.leeway = t.leeway_secs;
        validation.validate_nbf = true;
        validation.set_issuer(&[&t.issuer]);
        validation.set_audience(&t.audience);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        Ok(Self {
            issuer: t.issuer.clone(),
            validation,
            keys,
            owner_claim: t.owner_claim.clone(),
            tenant_claim: t.tenant_claim.clone(),
            scopes_claim: t.scopes_claim.clone(),
            discovery,
        })
    }

    async fn verify(&self, token: &str, header: &Header) -> Result<Verified, Refusal> {
        if !self.validation.algorithms.contains(&header.alg) {
            return Err(invalid(format!(
                "algorithm `{:?}` is not allowed for this issuer",
                header.alg
            )));
        }
        let found;
        let key = match &self.keys {
            Keys::Secret(k) => k,
            Keys::Set(set) => {
                found = set
                    .key(header.kid.as_deref())
                    .await
                    .map_err(|e: LookupError| match e {
                        LookupError::NoKeys => Refusal::Unavailable {
                            scheme: Scheme::Bearer,
                            reason: e.to_string(),
                        },
                        _ => invalid(e.to_string()),
                    })?;
                if !found.algorithms.contains(&header.alg) {
                    return Err(invalid(format!(
                        "algorithm `{:?}` does not match the key `{}`",
                        header.alg,
                        header.kid.as_deref().unwrap_or("")
                    )));
                }
                &found.key
            }
        };
        let mut validation = self.validation.clone();
        validation.algorithms = vec![header.alg];
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .map_err(|e| invalid(describe(e.kind())))?;
        let claims = data.claims;
        let owner = match claims.get(&self.owner_claim) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(invalid(format!(
                    "the token has no `{}` claim",
                    self.owner_claim
                )));
            }
        };
        let tenant = match &self.tenant_claim {
            Some(c) => match claims.get(c) {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => String::new(),
                Some(_) => return Err(invalid(format!("the `{c}` claim is not a string"))),
            },
            None => String::new(),
        };
        let scopes = match claims.get(&self.scopes_claim) {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        Ok(Verified {
            principal: Principal {
                scope: Scope {
                    owner: format!("jwt:{}:{owner}", self.issuer),
                    tenant,
                },
                scopes,
                scheme: Scheme::Bearer,
                expires_at: Some(exp.saturating_add(self.validation.leeway)),
            },
        })
    }
}

/// What was wrong with a token, in words (never the token).
fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidAudience => {
            "wrong audience: the token is not for this server (aud)".into()
        }
        ErrorKind::InvalidIssuer => "wrong issuer (iss)".into(),
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::InvalidAlgorithm => "algorithm not allowed for this key".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the token has no `{c}` claim"),
        ErrorKind::InvalidClaimFormat(c) => format!("the `{c}` claim has the wrong type"),
        _ => "malformed token".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_refuses_none_and_crit_and_garbage() {
        let enc = |v: Value| B64URL.encode(v.to_string());
        let payload = enc(serde_json::json!({"iss": "i"}));
        let none = format!("{}.{payload}.", enc(serde_json::json!({"alg": "none"})));
        let Err(Refusal::Invalid { reason, .. }) = peek(&none) else {
            panic!("alg none accepted")
        };
        assert!(reason.contains("`none` is not allowed"), "{reason}");
        let crit = format!(
            "{}.{payload}.x",
            enc(serde_json::json!({"alg": "RS256", "crit": ["b64"]}))
        );
        assert!(peek(&crit).is_err());
        assert!(peek("abc").is_err());
        let ok = format!(
            "{}.{payload}.x",
            enc(serde_json::json!({"alg": "RS256", "kid": "k"}))
        );
        let (h, iss) = peek(&ok).unwrap();
        assert_eq!(
            (h.alg, h.kid.as_deref(), iss.as_deref()),
            (Algorithm::RS256, Some("k"), Some("i"))
        );
    }
}
