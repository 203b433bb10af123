//! An issuer's key set (JWKS), fetched over HTTP and cached: looked up by `kid`; an unknown
//! kid refetches the set at most once per [`MISS_REFETCH_EVERY`] (concurrent misses share
//! one fetch); refreshed in the background every `Cache-Control: max-age` (else
//! [`DEFAULT_MAX_AGE`]); an endpoint that is down keeps the cached keys for [`MAX_STALE`],
//! then the set is emptied (fail closed).
//!
//! The set's URL is configured or found by OIDC discovery. A provider that cannot be
//! reached at start (no keys, or no discovery document yet) is no start-up error: tokens
//! are answered "cannot verify now" (503) and the set is fetched again on the next token
//! (at most once per [`EMPTY_REFETCH_EVERY`]), so the server recovers by itself.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use parking_lot::RwLock;

/// How often an unknown `kid` may make the set be fetched again.
pub const MISS_REFETCH_EVERY: Duration = Duration::from_secs(5);
/// The same while no key is held at all (the provider has not answered yet): sooner, as
/// every token is refused until it does, and still one fetch at a time.
pub const EMPTY_REFETCH_EVERY: Duration = Duration::from_secs(1);
/// Retry delay of the background fetch while no key is held.
const EMPTY_RETRY_EVERY: Duration = Duration::from_secs(5);
/// The refresh period when the key-set response has no usable `max-age`.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// Bounds on a response's `max-age`: not a fetch per second, not a day-old set.
const MIN_MAX_AGE: Duration = Duration::from_secs(30);
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// How long cached keys are used while the endpoint cannot be reached.
const MAX_STALE: Duration = Duration::from_secs(24 * 3600);
/// Retry delay of a failed background refresh.
const RETRY_EVERY: Duration = Duration::from_secs(30);
/// Largest key-set document read.
const MAX_BODY: usize = 512 * 1024;

/// One verification key of the set, with the algorithms it may verify.
pub struct Key {
    pub key: DecodingKey,
    pub algorithms: Vec<Algorithm>,
}

/// The cached key set of one issuer. Cheap to clone.
#[derive(Clone)]
pub struct KeySet(Arc<Shared>);

struct Shared {
    source: Source,
    /// The key set's URL: the configured one, or the discovered `jwks_uri` once known.
    url: RwLock<Option<String>>,
    http: reqwest::Client,
    cached: RwLock<Cached>,
    /// Held while fetching: a miss that arrives during a fetch waits for it and uses its
    /// result instead of fetching again (single flight).
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Cached {
    keys: HashMap<String, Arc<Key>>,
    /// Keys without a `kid`: used for tokens without one when there is exactly one.
    anonymous: Vec<Arc<Key>>,
    /// When the set was last fetched successfully.
    fetched: Option<Instant>,
    /// When a fetch was last attempted (any outcome), and how many have completed.
    attempted: Option<Instant>,
    /// When an unknown kid last made the set be fetched (the cooldown runs from there, so
    /// the first miss after a scheduled fetch still refetches: a rotation shows at once).
    miss_fetched: Option<Instant>,
    generation: u64,
    max_age: Duration,
}

/// Where the key set's URL comes from.
pub enum Source {
    /// `jwks_url`, as configured.
    Url(String),
    /// OIDC discovery of this issuer: its `jwks_uri`.
    Discovery { issuer: String },
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("unknown key id (kid) `{0}`")]
    UnknownKid(String),
    #[error("the token has no key id (kid) and the issuer's key set has more than one key")]
    NoKid,
    #[error("the issuer's key set cannot be fetched, so no token can be verified")]
    NoKeys,
}

impl KeySet {
    /// A key set from `source`; the first fetch is tried now (a provider that cannot be
    /// reached is logged and retried: tokens are refused until the keys arrive), then
    /// refreshed in the background. A discovery document that names another issuer, or
    /// a key-set URL that is not https, is an error.
    pub async fn open(source: Source, http: reqwest::Client) -> anyhow::Result<Self> {
        let url = match &source {
            Source::Url(u) => {
                check_url(u, "jwks_url")?;
                Some(u.clone())
            }
            Source::Discovery { issuer } => match discover(&http, issuer).await {
                Ok(u) => Some(u),
                Err(DiscoveryError::Wrong(e)) => anyhow::bail!(e),
                Err(DiscoveryError::Unreachable(e)) => {
                    tracing::warn!(error = %e, "OIDC discovery failed; tokens of this issuer are refused (503) until it answers");
                    None
                }
            },
        };
        let set = Self(Arc::new(Shared {
            source,
            url: RwLock::new(url),
            http,
            cached: RwLock::new(Cached::default()),
            fetching: tokio::sync::Mutex::new(()),
        }));
        if set.0.url.read().is_some() {
            set.refresh().await;
        }
        tokio::spawn(refresher(Arc::downgrade(&set.0)));
        Ok(set)
    }

    /// The key for a token's `kid`, refetching the set once (rate-limited) when it is unknown.
    pub async fn key(&self, kid: Option<&str>) -> Result<Arc<Key>, LookupError> {
        if let Some(k) = self.cached_key(kid) {
            return Ok(k);
        }
        let seen = self.0.cached.read().generation;
        let _guard = self.0.fetching.lock().await;
        // Someone else fetched while we waited: use their set.
        let (generation, last_miss, empty) = {
            let c = self.0.cached.read();
            (c.generation, c.miss_fetched, c.is_empty())
        };
        let cooldown = if empty {
            EMPTY_REFETCH_EVERY
        } else {
            MISS_REFETCH_EVERY
        };
        if generation == seen && last_miss.is_none_or(|t| t.elapsed() >= cooldown) {
            self.0.cached.write().miss_fetched = Some(Instant::now());
            self.fetch_locked().await;
        }
        drop(_guard);
        if let Some(k) = self.cached_key(kid) {
            return Ok(k);
        }
        let c = self.0.cached.read();
        if c.is_empty() {
            return Err(LookupError::NoKeys);
        }
        Err(match kid {
            Some(kid) => LookupError::UnknownKid(kid.chars().take(64).collect()),
            None => LookupError::NoKid,
        })
    }

    fn cached_key(&self, kid: Option<&str>) -> Option<Arc<Key>> {
        let c = self.0.cached.read();
        match kid {
            Some(kid) => c.keys.get(kid).cloned(),
            None => match (c.anonymous.as_slice(), c.keys.len()) {
                ([only], 0) => Some(only.clone()),
                ([], 1) => c.keys.values().next().cloned(),
                _ => None,
            },
        }
    }

    /// One fetch, unless another is running (then waits for it).
    async fn refresh(&self) {
        let _guard = self.0.fetching.lock().await;
        self.fetch_locked().await;
    }

    /// The key set's URL, discovering it first if it is not known yet.
    async fn url(&self) -> Result<String, String> {
        if let Some(u) = self.0.url.read().clone() {
            return Ok(u);
        }
        let Source::Discovery { issuer } = &self.0.source else {
            unreachable!("a configured URL is set at open");
        };
        match discover(&self.0.http, issuer).await {
            Ok(u) => {
                tracing::info!(issuer = %issuer, jwks_uri = %u, "OIDC discovery answered");
                *self.0.url.write() = Some(u.clone());
                Ok(u)
            }
            Err(DiscoveryError::Unreachable(e) | DiscoveryError::Wrong(e)) => Err(e),
        }
    }

    async fn fetch_locked(&self) {
        let result = match self.url().await {
            Ok(url) => fetch(&self.0.http, &url).await,
            Err(e) => Err(e),
        };
        let url = self.0.url.read().clone().unwrap_or_default();
        let mut c = self.0.cached.write();
        c.attempted = Some(Instant::now());
        c.generation += 1;
        match result {
            Ok((keys, anonymous, max_age)) => {
                tracing::debug!(url = %url, keys = keys.len() + anonymous.len(), "JWKS fetched");
                c.keys = keys;
                c.anonymous = anonymous;
                c.fetched = Some(Instant::now());
                c.max_age = max_age;
            }
            Err(e) => {
                let stale = c.fetched.is_none_or(|t| t.elapsed() > MAX_STALE);
                if stale && !c.is_empty() {
                    tracing::error!(url = %url, error = %e, "JWKS unreachable past its stale limit: keys dropped, tokens refused");
                    c.keys.clear();
                    c.anonymous.clear();
                } else {
                    tracing::warn!(url = %url, error = %e, cached = c.keys.len(), "JWKS fetch failed; keeping the cached keys");
                }
            }
        }
    }

    /// How long until the next background refresh.
    fn next_refresh(&self) -> Duration {
        let c = self.0.cached.read();
        match c.fetched {
            Some(t) if c.attempted.is_some_and(|a| a <= t) || c.attempted.is_none() => {
                c.max_age.saturating_sub(t.elapsed())
            }
            _ if c.is_empty() => EMPTY_RETRY_EVERY,
            _ => RETRY_EVERY,
        }
    }
}

async fn refresher(set: Weak<Shared>) {
    loop {
        let wait = match set.upgrade() {
            Some(s) => KeySet(s).next_refresh().max(Duration::from_secs(1)),
            None => return,
        };
        tokio::time::sleep(wait).await;
        let Some(s) = set.upgrade() else { return };
        KeySet(s).refresh().await;
    }
}

impl Cached {
    fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.anonymous.is_empty()
    }
}

type Fetched = (HashMap<String, Arc<Key>>, Vec<Arc<Key>>, Duration);

async fn fetch(http: &reqwest::Client, url: &str) -> Result<Fetched, String> {
    let resp = http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let max_age = max_age(resp.headers()).unwrap_or(DEFAULT_MAX_AGE);
    let body = read_limited(resp).await?;
    let doc: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
    let Some(entries) = doc.get("keys").and_then(|k| k.as_array()) else {
        return Err("no `keys` array".into());
    };
    let mut keys = HashMap::new();
    let mut anonymous = Vec::new();
    for entry in entries {
        // One key this server cannot use (another kty, an encryption key) skips that key only.
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
            continue;
        };
        let Some(key) = verification_key(&jwk) else {
            continue;
        };
        match jwk.common.key_id {
            Some(kid) => {
                keys.insert(kid, Arc::new(key));
            }
            None => anonymous.push(Arc::new(key)),
        }
    }
    Ok((keys, anonymous, max_age))
}

/// The body, refused past [`MAX_BODY`] bytes.
pub(super) async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("read failed: {e}"))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("larger than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A public signature key, with the algorithms its type allows (narrowed by its `alg`).
/// Symmetric (`oct`) keys and encryption keys are never used: HS256 comes only from an
/// operator's `secret`.
fn verification_key(jwk: &Jwk) -> Option<Key> {
    if matches!(
        jwk.common.public_key_use,
        Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
    ) {
        return None;
    }
    let family: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => &[
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            &[Algorithm::EdDSA]
        }
        _ => return None,
    };
    let algorithms: Vec<Algorithm> = match jwk.common.key_algorithm {
        Some(ka) => {
            let alg = key_algorithm(ka)?;
            family.contains(&alg).then(|| vec![alg])?
        }
        None => family.to_vec(),
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(Key { key, algorithms })
}

fn key_algorithm(ka: KeyAlgorithm) -> Option<Algorithm> {
    Some(match ka {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// `Cache-Control: max-age=N`, bounded.
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let cc = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    let secs: u64 = cc
        .split(',')
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|v| v.trim().parse().ok())?;
    Some(Duration::from_secs(secs).clamp(MIN_MAX_AGE, MAX_MAX_AGE))
}

/// Why discovery gave no key-set URL: the provider could not be reached or answered
/// something else than a document (retried), or its document is wrong (misconfigured).
enum DiscoveryError {
    Unreachable(String),
    Wrong(String),
}

/// OIDC discovery: the document's `issuer` must be the configured one (OpenID Connect
/// Discovery 1.0, section 4.3); its `jwks_uri` is the key set.
async fn discover(http: &reqwest::Client, issuer: &str) -> Result<String, DiscoveryError> {
    use DiscoveryError::{Unreachable, Wrong};
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    check_url(&url, "the discovery URL").map_err(|e| Wrong(e.to_string()))?;
    let resp = http
        .get(&url)
        .send()
        .await
        .map_err(|e| Unreachable(format!("OIDC discovery at {url} failed: {e}")))?;
    if !resp.status().is_success() {
        return Err(Unreachable(format!(
            "OIDC discovery at {url} answered HTTP {}",
            resp.status()
        )));
    }
    let body = read_limited(resp)
        .await
        .map_err(|e| Unreachable(format!("OIDC discovery at {url}: {e}")))?;
    #[derive(serde::Deserialize)]
    struct Doc {
        issuer: String,
        jwks_uri: String,
    }
    let doc: Doc = serde_json::from_slice(&body).map_err(|e| {
        Unreachable(format!(
            "OIDC discovery at {url}: not a discovery document (issuer, jwks_uri): {e}"
        ))
    })?;
    if doc.issuer != issuer {
        return Err(Wrong(format!(
            "OIDC discovery at {url} names the issuer `{}`, not the configured `{issuer}`",
            doc.issuer
        )));
    }
    check_url(&doc.jwks_uri, "the discovered jwks_uri").map_err(|e| Wrong(e.to_string()))?;
    Ok(doc.jwks_uri)
}

/// `https://`, or `http://` to a loopback host (tests, a sidecar).
pub(super) fn check_url(url: &str, what: &str) -> anyhow::Result<()> {
    let u =
        url::Url::parse(url).map_err(|e| anyhow::anyhow!("{what} `{url}` is not a URL: {e}"))?;
    let loopback = match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => anyhow::bail!("{what} `{url}` must be https (http only to a loopback address)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_unless_loopback() {
        assert!(check_url("https://idp.example.com/jwks", "x").is_ok());
        assert!(check_url("http://127.0.0.1:9/jwks", "x").is_ok());
        assert!(check_url("http://localhost/jwks", "x").is_ok());
        assert!(check_url("http://[::1]/jwks", "x").is_ok());
        let e = check_url("http://idp.example.com/jwks", "jwks_url").unwrap_err();
        assert!(e.to_string().contains("must be https"), "{e}");
    }

    #[test]
    fn max_age_is_read_and_bounded() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(max_age(&h), None);
        h.insert("cache-control", "public, max-age=600".parse().unwrap());
        assert_eq!(max_age(&h), Some(Duration::from_secs(600)));
        h.insert("cache-control", "max-age=1".parse().unwrap());
        assert_eq!(max_age(&h), Some(MIN_MAX_AGE));
    }

    #[test]
    fn symmetric_keys_are_never_verification_keys() {
        let jwk: Jwk =
            serde_json::from_value(serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "kid": "h"}))
                .unwrap();
        assert!(verification_key(&jwk).is_none());
    }
}
