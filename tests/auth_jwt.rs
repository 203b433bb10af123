//! Bearer JWTs on the real binary against an in-test identity provider on 127.0.0.1 (OIDC
//! discovery + JWKS; it can rotate its keys, go down and count fetches). Tokens are signed
//! with real RS256, ES256 and EdDSA keys generated here.

mod support;

use std::sync::atomic::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::ServerProcess;
use support::idp::{AUD, Idp, Key, claims, now};

/// Starts the server with `extra` TOML before the `[[auth.jwt]]` table of `idp`.
fn serve(
    idp: &Idp,
    auth_extra: &str,
    jwt_extra: &str,
    card_extra: &str,
) -> (ServerProcess, tempfile::TempDir) {
    let (p, dir, _) = serve_logged(idp, auth_extra, jwt_extra, card_extra);
    (p, dir)
}

/// [`serve`], with the server's log lines.
fn serve_logged(
    idp: &Idp,
    auth_extra: &str,
    jwt_extra: &str,
    card_extra: &str,
) -> (ServerProcess, tempfile::TempDir, support::Logs) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("a2a.toml");
    std::fs::write(
        &config,
        format!(
            "{card_extra}\n[auth]\n{auth_extra}\n[[auth.jwt]]\nissuer = {:?}\naudience = [{AUD:?}]\n{jwt_extra}\n",
            idp.issuer
        ),
    )
    .unwrap();
    let (p, logs) = ServerProcess::start_logged(
        &["--store", "memory:", "--config", config.to_str().unwrap()],
        &[],
    );
    (p, dir, logs)
}

async fn call(
    url: &str,
    auth: &[&str],
    version: &str,
    method: &str,
    params: Value,
) -> (u16, Option<String>, Value) {
    let mut rb = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("A2A-Version", version)
        .json(&json!({"jsonrpc": "2.0", "id": 3, "method": method, "params": params}));
    for a in auth {
        rb = rb.header("Authorization", *a);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .reduce(|a, b| format!("{a}, {b}"));
    (status, challenge, r.json().await.unwrap())
}

fn send_params() -> Value {
    json!({"message": {"messageId": uuid::Uuid::new_v4().to_string(), "role": "ROLE_USER",
                       "parts": [{"text": "hi"}]}})
}

async fn send(url: &str, token: &str) -> Result<String, (u16, Option<String>, Value)> {
    let bearer = format!("Bearer {token}");
    let (status, ch, body) = call(url, &[&bearer], "1.0", "SendMessage", send_params()).await;
    match body["result"]["task"]["id"].as_str() {
        Some(id) if status == 200 => Ok(id.to_string()),
        _ => Err((status, ch, body)),
    }
}

/// The token is refused with 401, an RFC 6750 challenge and a message saying `says`.
async fn refused(url: &str, token: &str, says: &str) {
    let (status, challenge, body) = send(url, token).await.expect_err(says);
    assert_eq!(status, 401, "{says}: {body}");
    let challenge = challenge.unwrap_or_default();
    assert!(
        challenge.contains(r#"Bearer realm="a2a", error="invalid_token""#),
        "{says}: {challenge}"
    );
    assert_eq!(body["error"]["code"], -31401, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "wanted `{says}` in: {message}");
    assert!(
        !message.contains(token) && !challenge.contains(token),
        "the token leaked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_verified_claim_by_claim() {
    let (rs, es, ed) = (
        Key::new("rs-1", Algorithm::RS256),
        Key::new("es-1", Algorithm::ES256),
        Key::new("ed-1", Algorithm::EdDSA),
    );
    let idp = Idp::start(&[&rs, &es, &ed]).await;
    let (server, _dir) = serve(&idp, "", "", "");
    let url = &server.url;
    let iss = idp.issuer.clone();

    // Each algorithm verifies; each caller is its own owner.
    let alice = rs.sign(&claims(&iss, "alice"));
    let task = send(url, &alice).await.expect("RS256");
    send(url, &es.sign(&claims(&iss, "bob")))
        .await
        .expect("ES256");
    send(url, &ed.sign(&claims(&iss, "carol")))
        .await
        .expect("EdDSA");
    let bob = format!("Bearer {}", es.sign(&claims(&iss, "bob")));
    let (_, _, r) = call(url, &[&bob], "1.0", "GetTask", json!({"id": task})).await;
    assert_eq!(r["error"]["code"], -32001, "bob reads alice's task: {r}");
    let lower = format!("bearer {alice}");
    let (status, _, r) = call(url, &[&lower], "1.0", "GetTask", json!({"id": task})).await;
    assert_eq!(
        (status, r["result"]["id"].as_str()),
        (200, Some(task.as_str())),
        "{r}"
    );

    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims(&iss, "alice");
        f(&mut c);
        c
    };
    refused(
        url,
        &rs.sign(&with(&|c| c["exp"] = json!(now() - 3600))),
        "expired",
    )
    .await;
    refused(
        url,
        &rs.sign(&with(&|c| c["nbf"] = json!(now() + 3600))),
        "not valid yet",
    )
    .await;
    refused(
        url,
        &rs.sign(&with(&|c| c["aud"] = json!("someone-else"))),
        "wrong audience",
    )
    .await;
    refused(
        url,
        &rs.sign(&with(&|c| c["iss"] = json!("https://evil.example"))),
        "wrong issuer",
    )
    .await;
    refused(
        url,
        &rs.sign(&with(&|c| {
            c.as_object_mut().unwrap().remove("exp");
        })),
        "no `exp` claim",
    )
    .await;

    // alg none, and HS256 keyed with the RSA public key (key confusion).
    let b64 = |v: &Value| B64URL.encode(v.to_string());
    let body = b64(&claims(&iss, "alice"));
    let none = format!("{}.{body}.", b64(&json!({"alg": "none", "kid": "rs-1"})));
    refused(url, &none, "`none` is not allowed").await;
    let public = rs.jwk["n"].as_str().unwrap().as_bytes().to_vec();
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("rs-1".into());
    let confused = jsonwebtoken::encode(
        &h,
        &claims(&iss, "alice"),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    refused(url, &confused, "algorithm `HS256` is not allowed").await;

    // A payload changed after signing.
    let fresh = rs.sign(&claims(&iss, "alice"));
    let parts: Vec<&str> = fresh.split('.').collect();
    let forged = b64(&claims(&iss, "admin"));
    refused(
        url,
        &format!("{}.{forged}.{}", parts[0], parts[2]),
        "bad signature",
    )
    .await;
    refused(url, "not-a-jwt", "malformed").await;

    // No token: a bare challenge; two Authorization headers; another scheme.
    let (status, challenge, _) = call(url, &[], "1.0", "GetTask", json!({"id": task})).await;
    assert_eq!(
        (status, challenge.as_deref()),
        (401, Some(r#"Bearer realm="a2a""#))
    );
    let a = format!("Bearer {alice}");
    let (status, _, r) = call(url, &[&a, &a], "1.0", "GetTask", json!({"id": task})).await;
    assert_eq!(status, 401);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than one"),
        "{r}"
    );
    let (status, _, r) = call(url, &["Basic YTpi"], "1.0", "GetTask", json!({"id": task})).await;
    assert_eq!(status, 401);
    assert!(
        r["error"]["message"].as_str().unwrap().contains("`Basic`"),
        "{r}"
    );

    // Unknown kids: one refetch for the lot, then 401 (no fetch storm).
    let before = idp.fetches();
    let stranger = Key::new("unknown-kid", Algorithm::ES256);
    let tokens: Vec<String> = (0..40)
        .map(|i| stranger.sign(&claims(&iss, &format!("s{i}"))))
        .collect();
    let answers = futures::future::join_all(tokens.iter().map(|t| send(url, t))).await;
    for a in answers {
        let (status, _, body) = a.expect_err("unknown kid");
        assert_eq!(status, 401);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("unknown key id"),
            "{body}"
        );
    }
    assert_eq!(
        idp.fetches() - before,
        1,
        "40 unknown-kid tokens fetched the key set more than once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_is_picked_up_and_a_provider_outage_keeps_the_cached_keys() {
    let (old, new) = (
        Key::new("k-old", Algorithm::RS256),
        Key::new("k-new", Algorithm::ES256),
    );
    let idp = Idp::start(&[&old]).await;
    let (server, _dir) = serve(&idp, "token_cache_size = 0", "", "");
    let url = &server.url;
    let iss = idp.issuer.clone();
    send(url, &old.sign(&claims(&iss, "alice")))
        .await
        .expect("old key");
    // The provider rotates: the new key is fetched on its first token, without a restart.
    idp.publish(&[&new]);
    send(url, &new.sign(&claims(&iss, "alice")))
        .await
        .expect("new key after rotation");
    refused(url, &old.sign(&claims(&iss, "alice")), "unknown key id").await;
    // The provider goes down: the cached keys still verify.
    idp.state.down.store(true, Ordering::SeqCst);
    send(url, &new.sign(&claims(&iss, "bob")))
        .await
        .expect("cached key while the provider is down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discovery_document_naming_another_issuer_stops_the_start() {
    let key = Key::new("k", Algorithm::RS256);
    let idp = Idp::start(&[&key]).await;
    *idp.state.claimed_issuer.lock() = Some("https://impostor.example".into());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("a2a.toml");
    std::fs::write(
        &config,
        format!(
            "[[auth.jwt]]\nissuer = {:?}\naudience = [{AUD:?}]\n",
            idp.issuer
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(support::BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--store",
            "memory:",
            "--config",
        ])
        .arg(&config)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success(), "the server started");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("names the issuer `https://impostor.example`"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_a_required_scope_is_403() {
    let key = Key::new("k", Algorithm::EdDSA);
    let idp = Idp::start(&[&key]).await;
    let (server, _dir, logs) = serve_logged(&idp, r#"required_scopes = ["a2a.invoke"]"#, "", "");
    let url = &server.url;
    let iss = idp.issuer.clone();
    let mut c = claims(&iss, "alice");
    c["scope"] = json!("openid profile");
    let token = key.sign(&c);
    let (status, challenge, body) = send(url, &token).await.expect_err("no scope");
    // One audit line naming who was refused, never the token.
    let lines = logs.wait_for("the refusal's audit line", |l| l.contains("a2a::auth"));
    let line = lines.iter().find(|l| l.contains("a2a::auth")).unwrap();
    assert!(
        line.contains("insufficient_scope") && line.contains(&format!("jwt:{iss}:alice")),
        "{line}"
    );
    assert!(
        !lines.iter().any(|l| l.contains(&token)),
        "the token was logged"
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], -31403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("a2a.invoke"),
        "{body}"
    );
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer realm="a2a", error="insufficient_scope", scope="a2a.invoke""#)
    );
    c["scope"] = json!("openid a2a.invoke");
    send(url, &key.sign(&c))
        .await
        .expect("space-separated scope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_extended_card_needs_credentials_and_the_card_declares_the_schemes() {
    let key = Key::new("k", Algorithm::ES256);
    let idp = Idp::start(&[&key]).await;
    let card = "[card.extended]\ndescription = \"For members\"\n[[card.extended.skills]]\nid = \"secret-skill\"\nname = \"Members only\"\ndescription = \"d\"\ntags = []\n";
    let (server, _dir) = serve(&idp, "allow_anonymous = true", "", card);
    let url = &server.url;
    let token = format!("Bearer {}", key.sign(&claims(&idp.issuer, "alice")));
    for (version, method) in [
        ("1.0", "GetExtendedAgentCard"),
        ("0.3", "agent/getAuthenticatedExtendedCard"),
    ] {
        let (status, challenge, body) = call(url, &[], version, method, json!({})).await;
        assert_eq!(status, 401, "{method} without credentials: {body}");
        assert_eq!(body["error"]["code"], -31401, "{body}");
        assert!(challenge.unwrap().starts_with("Bearer"));
        let (status, _, body) = call(url, &[&token], version, method, json!({})).await;
        assert_eq!(status, 200, "{body}");
        let card = &body["result"];
        assert_eq!(card["description"], "For members", "{method}: {body}");
        assert!(
            card["skills"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["id"] == "secret-skill")
        );
    }
    let v1: Value = reqwest::get(format!("{url}/.well-known/agent-card.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["capabilities"]["extendedAgentCard"], true, "{v1}");
    assert!(
        !v1.to_string().contains("secret-skill"),
        "the public card lists an extended skill"
    );
    let oidc = format!("{}/.well-known/openid-configuration", idp.issuer);
    assert_eq!(
        v1["securitySchemes"]["oidc"]["openIdConnectSecurityScheme"]["openIdConnectUrl"], oidc,
        "{v1}"
    );
    assert_eq!(
        v1["securityRequirements"],
        json!([{"schemes": {"oidc": {"list": []}}}])
    );
    let v03: Value = reqwest::get(format!("{url}/.well-known/agent.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v03["supportsAuthenticatedExtendedCard"], true, "{v03}");
    assert_eq!(
        v03["securitySchemes"]["oidc"],
        json!({"type": "openIdConnect", "openIdConnectUrl": oidc})
    );
    assert_eq!(v03["security"], json!([{"oidc": []}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sends_its_token() {
    let key = Key::new("k", Algorithm::RS256);
    let idp = Idp::start(&[&key]).await;
    let (server, _dir) = serve(&idp, "", "", "");
    let token = key.sign(&claims(&idp.issuer, "alice"));
    let run = |args: Vec<String>, env: Option<String>| {
        let mut cmd = tokio::process::Command::new(support::BIN);
        cmd.args(args)
            .env_remove("A2A_TOKEN")
            .env_remove("A2A_API_KEY");
        if let Some(t) = env {
            cmd.env("A2A_TOKEN", t);
        }
        cmd.output()
    };
    let send = |extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "send".into(),
            server.url.clone(),
            "hi".into(),
            "--json".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let out = run(send(&["--token", &token]), None).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(send(&[]), Some(token.clone())).await.unwrap();
    assert!(
        out.status.success(),
        "A2A_TOKEN: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(send(&[]), None).await.unwrap();
    assert!(!out.status.success(), "sent without a token");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("-31401") || stderr.contains("authentication required"),
        "{stderr}"
    );
}
