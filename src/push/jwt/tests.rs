//! Unit tests of notification JWTs: round trips, every refusal, rotation and JWKS refresh.

use std::sync::Arc;

use chrono::Utc;
use jsonwebtoken::{Algorithm, Header};

use super::*;
use crate::push::keys::{SigningAlgorithm, SigningKey, SigningKeys};

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
