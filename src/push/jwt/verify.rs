//! The receiver side: verifies a notification JWT against the keys of a JWKS, fetched
//! again when the server has rotated to a key not seen yet.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use parking_lot::{Mutex, RwLock};

use super::{NotificationClaims, body_sha256};

/// Default clock-skew leeway for `exp` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// Minimum time between two JWKS re-fetches triggered by unknown kids.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// Why a notification JWT was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("the token names no kid")]
    MissingKid,
    #[error("unknown kid {0:?}")]
    UnknownKid(String),
    #[error("the token's alg {token:?} is not the key's {key:?}")]
    AlgorithmMismatch { token: Algorithm, key: Algorithm },
    #[error("bad signature")]
    BadSignature,
    #[error("issuer {got:?} is not the expected {expected:?}")]
    WrongIssuer { expected: String, got: String },
    #[error("audience {got:?} is not the expected {expected:?}")]
    WrongAudience { expected: String, got: String },
    #[error("token expired at {exp} (now {now})")]
    Expired { exp: i64, now: i64 },
    #[error("token issued in the future ({iat}, now {now})")]
    IssuedInFuture { iat: i64, now: i64 },
    #[error("the body does not match the token's body_sha256")]
    BodyMismatch,
    #[error("invalid JWKS: {0}")]
    Jwks(String),
    #[error("cannot fetch the JWKS: {0}")]
    Fetch(String),
}

struct VerifyKey {
    key: DecodingKey,
    alg: Algorithm,
}

/// Verifies notification JWTs against a JWKS (for webhook receivers written in Rust).
pub struct NotificationVerifier {
    keys: RwLock<HashMap<String, Arc<VerifyKey>>>,
    issuer: Option<String>,
    leeway: Duration,
    source: Option<(reqwest::Client, String)>,
    /// Visible to the tests, which reset it to force a re-fetch.
    pub(super) last_refresh: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for NotificationVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<String> = self.keys.read().keys().cloned().collect();
        f.debug_struct("NotificationVerifier")
            .field("kids", &kids)
            .field("issuer", &self.issuer)
            .field("leeway", &self.leeway)
            .field("jwks_url", &self.source.as_ref().map(|(_, url)| url))
            .finish()
    }
}

/// The usable verification keys of a JWKS document, by kid: asymmetric keys with a kid,
/// not marked for another use than `sig`. The algorithm is the JWK's `alg`, else ES256
/// for P-256 keys and RS256 for RSA keys.
fn parse_jwks(jwks: &serde_json::Value) -> Result<HashMap<String, Arc<VerifyKey>>, VerifyError> {
    let set: JwkSet =
        serde_json::from_value(jwks.clone()).map_err(|e| VerifyError::Jwks(e.to_string()))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
            continue;
        }
        let alg = match (jwk.common.key_algorithm, &jwk.algorithm) {
            (Some(alg), _) => match alg.to_string().parse::<Algorithm>() {
                Ok(alg) => alg,
                Err(_) => continue,
            },
            (None, AlgorithmParameters::EllipticCurve(p)) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
            _ => continue,
        };
        if alg.family() == AlgorithmFamily::Hmac {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        keys.insert(kid, Arc::new(VerifyKey { key, alg }));
    }
    if keys.is_empty() {
        return Err(VerifyError::Jwks("no usable signing key".into()));
    }
    Ok(keys)
}

async fn fetch_jwks(client: &reqwest::Client, url: &str) -> Result<serde_json::Value, VerifyError> {
    let fetch = async {
        client
            .get(url)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await?
            .error_for_status()?
            .json::<serde_json::Value>()
            .await
    };
    fetch
        .await
        .map_err(|e| VerifyError::Fetch(format!("{url}: {e}")))
}

/// Audiences match when equal, or equal once parsed as URLs (`https://a.example` and
/// `https://a.example/` are the same URL).
fn same_audience(expected: &str, got: &str) -> bool {
    if expected == got {
        return true;
    }
    match (url::Url::parse(expected), url::Url::parse(got)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl NotificationVerifier {
    /// A verifier with the keys of a JWKS document (`{"keys": [...]}`).
    pub fn from_jwks(jwks: &serde_json::Value) -> Result<Self, VerifyError> {
        Ok(NotificationVerifier {
            keys: RwLock::new(parse_jwks(jwks)?),
            issuer: None,
            leeway: DEFAULT_LEEWAY,
            source: None,
            last_refresh: Mutex::new(None),
        })
    }

    /// A verifier with the keys fetched from a JWKS URL (the server's
    /// `/.well-known/jwks.json`); [`refresh`](Self::refresh) and
    /// [`verify_refreshing`](Self::verify_refreshing) fetch it again.
    pub async fn from_jwks_url(url: &str) -> Result<Self, VerifyError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| VerifyError::Fetch(e.to_string()))?;
        let jwks = fetch_jwks(&client, url).await?;
        let mut verifier = NotificationVerifier::from_jwks(&jwks)?;
        verifier.source = Some((client, url.to_owned()));
        *verifier.last_refresh.get_mut() = Some(Instant::now());
        Ok(verifier)
    }

    /// Requires `iss` to be `issuer`.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the clock-skew leeway for `exp` and `iat` (default 30 s).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Fetches the JWKS again (only for a verifier made by `from_jwks_url`).
    pub async fn refresh(&self) -> Result<(), VerifyError> {
        let Some((client, url)) = &self.source else {
            return Err(VerifyError::Fetch("no JWKS URL to refresh from".into()));
        };
        *self.last_refresh.lock() = Some(Instant::now());
        let keys = parse_jwks(&fetch_jwks(client, url).await?)?;
        *self.keys.write() = keys;
        Ok(())
    }

    /// Verifies `token` for a request to `expected_audience` (the receiver's own webhook
    /// URL, as registered) with body `body`; returns its claims.
    pub fn verify(
        &self,
        token: &str,
        expected_audience: &str,
        body: &[u8],
    ) -> Result<NotificationClaims, VerifyError> {
        self.verify_at(token, expected_audience, body, Utc::now())
    }

    /// [`verify`](Self::verify); when the kid is unknown and the verifier was made from a
    /// URL, fetches the JWKS again (at most every [`MIN_REFRESH_INTERVAL`]) and retries.
    pub async fn verify_refreshing(
        &self,
        token: &str,
        expected_audience: &str,
        body: &[u8],
    ) -> Result<NotificationClaims, VerifyError> {
        match self.verify(token, expected_audience, body) {
            Err(VerifyError::UnknownKid(kid)) if self.source.is_some() => {
                let due = self
                    .last_refresh
                    .lock()
                    .is_none_or(|t| t.elapsed() >= MIN_REFRESH_INTERVAL);
                if !due {
                    return Err(VerifyError::UnknownKid(kid));
                }
                self.refresh().await?;
                self.verify(token, expected_audience, body)
            }
            other => other,
        }
    }

    /// [`verify`](Self::verify) at the time `now`.
    pub fn verify_at(
        &self,
        token: &str,
        expected_audience: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<NotificationClaims, VerifyError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let kid = header.kid.ok_or(VerifyError::MissingKid)?;
        let key = self
            .keys
            .read()
            .get(&kid)
            .cloned()
            .ok_or_else(|| VerifyError::UnknownKid(kid.clone()))?;
        if header.alg != key.alg {
            return Err(VerifyError::AlgorithmMismatch {
                token: header.alg,
                key: key.alg,
            });
        }
        // Signature here; the claims are checked below, against `now`.
        let mut validation = Validation::new(key.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<NotificationClaims>(token, &key.key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::InvalidSignature => VerifyError::BadSignature,
                    _ => VerifyError::Malformed(e.to_string()),
                }
            })?
            .claims;
        if let Some(expected) = &self.issuer
            && claims.iss != *expected
        {
            return Err(VerifyError::WrongIssuer {
                expected: expected.clone(),
                got: claims.iss,
            });
        }
        if !same_audience(expected_audience, &claims.aud) {
            return Err(VerifyError::WrongAudience {
                expected: expected_audience.to_owned(),
                got: claims.aud,
            });
        }
        let now = now.timestamp();
        let leeway = i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX);
        if now > claims.exp.saturating_add(leeway) {
            return Err(VerifyError::Expired {
                exp: claims.exp,
                now,
            });
        }
        if claims.iat > now.saturating_add(leeway) {
            return Err(VerifyError::IssuedInFuture {
                iat: claims.iat,
                now,
            });
        }
        if !claims.body_sha256.eq_ignore_ascii_case(&body_sha256(body)) {
            return Err(VerifyError::BodyMismatch);
        }
        Ok(claims)
    }
}
