//! An identity provider on 127.0.0.1 for the bearer-token tests: OIDC discovery and a
//! JWKS that can rotate its keys, go down and count fetches; signing keys (real RS256,
//! ES256 and EdDSA keys generated here) and claims.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use parking_lot::Mutex;
use serde_json::{Value, json};

pub const AUD: &str = "a2a-test";

/// A signing key with its public JWK.
pub struct Key {
    pub kid: String,
    pub alg: Algorithm,
    pub enc: EncodingKey,
    pub jwk: Value,
}

impl Key {
    pub fn new(kid: &str, alg: Algorithm) -> Key {
        use aws_lc_rs::encoding::AsDer;
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let enc = match alg {
            Algorithm::RS256 => {
                let pair =
                    aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
                let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = pair.as_der().unwrap();
                // PEM: jsonwebtoken reads PKCS#8 RSA keys from PEM (its DER input is PKCS#1).
                let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
                let pem =
                    format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
                EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
            }
            Algorithm::ES256 => {
                let doc = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &rng,
                )
                .unwrap();
                EncodingKey::from_ec_der(doc.as_ref())
            }
            Algorithm::EdDSA => {
                let doc = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8v1(&rng).unwrap();
                EncodingKey::from_ed_der(doc.as_ref())
            }
            _ => unreachable!(),
        };
        let mut jwk = Jwk::from_encoding_key(&enc, alg).unwrap();
        jwk.common.key_id = Some(kid.into());
        Key {
            kid: kid.into(),
            alg,
            enc,
            jwk: serde_json::to_value(&jwk).unwrap(),
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(self.alg);
        h.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&h, claims, &self.enc).unwrap()
    }
}

/// A free port on 127.0.0.1 that nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The identity provider's switches.
#[derive(Default)]
pub struct IdpState {
    pub issuer: Mutex<String>,
    /// What discovery says the issuer is (default: the real one).
    pub claimed_issuer: Mutex<Option<String>>,
    pub jwks: Mutex<Vec<Value>>,
    pub fetches: AtomicUsize,
    pub down: AtomicBool,
}

pub struct Idp {
    pub state: Arc<IdpState>,
    pub issuer: String,
}

impl Idp {
    pub async fn start(keys: &[&Key]) -> Idp {
        Self::start_on(0, keys).await
    }

    /// On `port` (0: any free one): a provider that comes up where a server already
    /// looks for it.
    pub async fn start_on(port: u16, keys: &[&Key]) -> Idp {
        let state = Arc::new(IdpState::default());
        *state.jwks.lock() = keys.iter().map(|k| k.jwk.clone()).collect();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        *state.issuer.lock() = issuer.clone();
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Idp { state, issuer }
    }

    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    pub fn publish(&self, keys: &[&Key]) {
        *self.state.jwks.lock() = keys.iter().map(|k| k.jwk.clone()).collect();
    }
}

async fn discovery(State(s): State<Arc<IdpState>>) -> axum::response::Response {
    let issuer = s.issuer.lock().clone();
    let claimed = s.claimed_issuer.lock().clone().unwrap_or(issuer.clone());
    axum::Json(json!({"issuer": claimed, "jwks_uri": format!("{issuer}/jwks")})).into_response()
}

async fn jwks(State(s): State<Arc<IdpState>>) -> axum::response::Response {
    s.fetches.fetch_add(1, Ordering::SeqCst);
    if s.down.load(Ordering::SeqCst) {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    axum::Json(json!({"keys": *s.jwks.lock()})).into_response()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims for `sub`, valid for 10 minutes.
pub fn claims(issuer: &str, sub: &str) -> Value {
    json!({"iss": issuer, "aud": AUD, "sub": sub, "exp": now() + 600, "iat": now(),
           "jti": uuid::Uuid::new_v4().to_string()})
}
