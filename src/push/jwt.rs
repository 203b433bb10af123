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

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Header, Validation};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::SigningKeys;

/// The header that carries the JWT when `Authorization` holds the config's own credentials.
pub const NOTIFICATION_JWT_HEADER: &str = "x-a2a-notification-jwt";

/// Default clock-skew leeway for `exp` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// Minimum time between two JWKS re-fetches triggered by unknown kids.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

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

/// Signing failed (the key could not sign; not expected with a loaded key).
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the notification JWT: {0}")]
pub struct SignError(String);

/// Mints the JWT of each notification with the current key of a [`SigningKeys`].
#[derive(Debug, Clone)]
pub struct NotificationSigner {
    keys: Arc<SigningKeys>,
    issuer: String,
}

impl NotificationSigner {
    /// `issuer` becomes the `iss` claim (the server's public URL, say). The token lifetime
    /// is the keys' ([`SigningKeys::token_lifetime`]), so rotation and expiry agree.
    pub fn new(keys: Arc<SigningKeys>, issuer: impl Into<String>) -> Self {
        NotificationSigner {
            keys,
            issuer: issuer.into(),
        }
    }

    pub fn keys(&self) -> &Arc<SigningKeys> {
        &self.keys
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The JWT for POSTing `body` to `webhook_url`, about `task_id`, for the event
    /// `event_id` (the `jti`), issued now.
    pub fn sign(
        &self,
        webhook_url: &str,
        task_id: &str,
        event_id: &str,
        body: &[u8],
    ) -> Result<String, SignError> {
        self.sign_at(webhook_url, task_id, event_id, body, Utc::now())
    }

    /// [`sign`](Self::sign) with the issue time given.
    pub fn sign_at(
        &self,
        webhook_url: &str,
        task_id: &str,
        event_id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<String, SignError> {
        let key = self.keys.current();
        let iat = now.timestamp();
        let lifetime = i64::try_from(self.keys.token_lifetime().as_secs()).unwrap_or(i64::MAX);
        let claims = NotificationClaims {
            iss: self.issuer.clone(),
            aud: webhook_url.to_owned(),
            iat,
            exp: iat.saturating_add(lifetime),
            jti: event_id.to_owned(),
            task_id: task_id.to_owned(),
            body_sha256: body_sha256(body),
        };
        let mut header = Header::new(key.algorithm().jwt());
        header.kid = Some(key.kid().to_owned());
        // The JWS compact form (RFC 7515, section 7.1), signed with the key parsed at load.
        let mut token = b64_json(&header)?;
        token.push('.');
        token.push_str(&b64_json(&claims)?);
        let signature = key
            .sign(token.as_bytes())
            .map_err(|e| SignError(e.to_string()))?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }
}

/// A JWS part: the JSON of `value`, base64url without padding.
fn b64_json(value: &impl Serialize) -> Result<String, SignError> {
    let json = serde_json::to_vec(value).map_err(|e| SignError(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

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
    last_refresh: Mutex<Option<Instant>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::keys::{SigningAlgorithm, SigningKey};

    const HOOK: &str = "https://receiver.example.com/hook";
    const BODY: &[u8] = br#"{"statusUpdate":{"taskId":"t1"}}"#;

    fn signer(alg: SigningAlgorithm) -> NotificationSigner {
        let keys = SigningKeys::new(SigningKey::generate(alg).unwrap());
        NotificationSigner::new(Arc::new(keys), "https://agent.example.com")
    }

    fn verifier(signer: &NotificationSigner) -> NotificationVerifier {
        NotificationVerifier::from_jwks(&signer.keys().jwks(Utc::now()))
            .unwrap()
            .with_issuer("https://agent.example.com")
    }

    #[test]
    fn round_trip_es256_and_rs256() {
        for alg in [SigningAlgorithm::ES256, SigningAlgorithm::RS256] {
            let signer = signer(alg);
            let token = signer.sign(HOOK, "t1", "evt-7", BODY).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.alg, alg.jwt());
            assert_eq!(header.kid.as_deref(), Some(signer.keys().current().kid()));
            let claims = verifier(&signer).verify(&token, HOOK, BODY).unwrap();
            assert_eq!(claims.iss, "https://agent.example.com");
            assert_eq!(claims.aud, HOOK);
            assert_eq!(claims.jti, "evt-7");
            assert_eq!(claims.task_id, "t1");
            assert_eq!(claims.exp - claims.iat, 300);
            assert_eq!(claims.body_sha256, body_sha256(BODY));
            assert_eq!(claims.body_sha256.len(), 64);
            // Raw claim names on the wire.
            let raw: serde_json::Value =
                jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
            for name in ["iss", "aud", "iat", "exp", "jti", "taskId", "body_sha256"] {
                assert!(raw.get(name).is_some(), "{name} in {raw}");
            }
        }
    }

    #[test]
    fn body_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            body_sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tampered_body_fails() {
        let signer = signer(SigningAlgorithm::ES256);
        let token = signer.sign(HOOK, "t1", "e1", BODY).unwrap();
        let err = verifier(&signer)
            .verify(&token, HOOK, br#"{"statusUpdate":{"taskId":"t2"}}"#)
            .unwrap_err();
        assert!(matches!(err, VerifyError::BodyMismatch), "{err}");
    }

    #[test]
    fn tampered_token_fails() {
        let signer = signer(SigningAlgorithm::ES256);
        let token = signer.sign(HOOK, "t1", "e1", BODY).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        // Swap in claims for another task, keeping the signature.
        let other = signer.sign(HOOK, "t2", "e1", BODY).unwrap();
        parts[1] = other.split('.').nth(1).unwrap().to_owned();
        let err = verifier(&signer)
            .verify(&parts.join("."), HOOK, BODY)
            .unwrap_err();
        assert!(matches!(err, VerifyError::BadSignature), "{err}");
    }

    #[test]
    fn wrong_audience_fails() {
        let signer = signer(SigningAlgorithm::ES256);
        let token = signer.sign(HOOK, "t1", "e1", BODY).unwrap();
        let err = verifier(&signer)
            .verify(&token, "https://evil.example.com/hook", BODY)
            .unwrap_err();
        assert!(matches!(err, VerifyError::WrongAudience { .. }), "{err}");
        // The same URL spelled differently is the same audience.
        let token = signer
            .sign("https://receiver.example.com", "t1", "e1", BODY)
            .unwrap();
        verifier(&signer)
            .verify(&token, "https://receiver.example.com/", BODY)
            .unwrap();
    }

    #[test]
    fn wrong_issuer_fails() {
        let signer = signer(SigningAlgorithm::ES256);
        let token = signer.sign(HOOK, "t1", "e1", BODY).unwrap();
        let err = verifier(&signer)
            .with_issuer("https://other.example.com")
            .verify(&token, HOOK, BODY)
            .unwrap_err();
        assert!(matches!(err, VerifyError::WrongIssuer { .. }), "{err}");
    }

    #[test]
    fn expired_fails_and_leeway_applies() {
        let signer = signer(SigningAlgorithm::ES256);
        let now = Utc::now();
        let verifier = verifier(&signer);
        let old = signer
            .sign_at(
                HOOK,
                "t1",
                "e1",
                BODY,
                now - chrono::Duration::seconds(300 + 31),
            )
            .unwrap();
        let err = verifier.verify(&old, HOOK, BODY).unwrap_err();
        assert!(matches!(err, VerifyError::Expired { .. }), "{err}");
        let just = signer
            .sign_at(
                HOOK,
                "t1",
                "e1",
                BODY,
                now - chrono::Duration::seconds(300 + 20),
            )
            .unwrap();
        verifier.verify(&just, HOOK, BODY).unwrap();
        let future = signer
            .sign_at(HOOK, "t1", "e1", BODY, now + chrono::Duration::seconds(120))
            .unwrap();
        let err = verifier.verify(&future, HOOK, BODY).unwrap_err();
        assert!(matches!(err, VerifyError::IssuedInFuture { .. }), "{err}");
    }

    #[test]
    fn unknown_kid_fails() {
        let signer_a = signer(SigningAlgorithm::ES256);
        let signer_b = signer(SigningAlgorithm::ES256);
        let token = signer_b.sign(HOOK, "t1", "e1", BODY).unwrap();
        let err = verifier(&signer_a).verify(&token, HOOK, BODY).unwrap_err();
        assert!(matches!(err, VerifyError::UnknownKid(_)), "{err}");
    }

    #[test]
    fn algorithm_must_match_the_key() {
        // An HS256 token naming the ES256 key's kid (the classic key-confusion attack).
        let signer = signer(SigningAlgorithm::ES256);
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(signer.keys().current().kid().to_owned());
        let forged = jsonwebtoken::encode(
            &header,
            &serde_json::json!({"iss": "x"}),
            &jsonwebtoken::EncodingKey::from_secret(b"public"),
        )
        .unwrap();
        let err = verifier(&signer).verify(&forged, HOOK, BODY).unwrap_err();
        assert!(
            matches!(err, VerifyError::AlgorithmMismatch { .. }),
            "{err}"
        );
    }

    #[test]
    fn rotated_key_verifies_until_retired() {
        let signer = signer(SigningAlgorithm::ES256);
        let before = signer.sign(HOOK, "t1", "e1", BODY).unwrap();
        let now = Utc::now();
        signer.keys().rotate(now).unwrap();
        let after = signer.sign(HOOK, "t1", "e2", BODY).unwrap();
        let v = NotificationVerifier::from_jwks(&signer.keys().jwks(now)).unwrap();
        v.verify(&before, HOOK, BODY).unwrap();
        v.verify(&after, HOOK, BODY).unwrap();
        let later = now + chrono::Duration::hours(1);
        let v = NotificationVerifier::from_jwks(&signer.keys().jwks(later)).unwrap();
        assert!(matches!(
            v.verify(&before, HOOK, BODY),
            Err(VerifyError::UnknownKid(_))
        ));
    }

    #[test]
    fn token_lookup_in_headers() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(token_from_headers(&headers), None);
        headers.insert("authorization", "Bearer abc.def.ghi".parse().unwrap());
        assert_eq!(token_from_headers(&headers), Some("abc.def.ghi"));
        headers.insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(token_from_headers(&headers), None);
        headers.insert("X-A2A-Notification-JWT", "jjj".parse().unwrap());
        assert_eq!(token_from_headers(&headers), Some("jjj"));
    }

    #[tokio::test]
    async fn jwks_url_fetch_and_refresh_after_rotation() {
        use axum::{Json, Router, routing::get};
        let keys = Arc::new(SigningKeys::new(
            SigningKey::generate(SigningAlgorithm::ES256).unwrap(),
        ));
        let signer = NotificationSigner::new(keys.clone(), "iss");
        let served = keys.clone();
        let app = Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let keys = served.clone();
                async move { Json(keys.jwks(Utc::now())) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let url = format!("http://{addr}/.well-known/jwks.json");
        let v = NotificationVerifier::from_jwks_url(&url).await.unwrap();
        let token = signer.sign(HOOK, "t1", "e1", BODY).unwrap();
        v.verify(&token, HOOK, BODY).unwrap();

        keys.rotate(Utc::now()).unwrap();
        let token = signer.sign(HOOK, "t1", "e2", BODY).unwrap();
        assert!(matches!(
            v.verify(&token, HOOK, BODY),
            Err(VerifyError::UnknownKid(_))
        ));
        // Just fetched: no re-fetch yet.
        assert!(matches!(
            v.verify_refreshing(&token, HOOK, BODY).await,
            Err(VerifyError::UnknownKid(_))
        ));
        *v.last_refresh.lock() = None;
        v.verify_refreshing(&token, HOOK, BODY).await.unwrap();
        server.abort();
    }
}
