//! API-key authentication on the real binary: no key or a wrong one is 401 with a
//! `WWW-Authenticate` challenge and a JSON-RPC error naming the problem; a right key is
//! served in its owner's scope (another owner's task is -32001, as a missing one); a key
//! whose line is deleted from the file stops working without a restart.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::ServerProcess;

const ALICE: &str = "a2a_alice_0123456789abcdef";
const BOB: &str = "a2a_bob_fedcba9876543210";

fn line(key: &str, owner: &str) -> String {
    format!("{} {owner}\n", hex::encode(Sha256::digest(key.as_bytes())))
}

struct Server {
    process: ServerProcess,
    keys: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn start(extra: &str) -> Server {
    start_with("", extra)
}

/// [`start`] with `card` TOML (`[card.extended]`) before the `[auth]` table.
fn start_with(card: &str, extra: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    std::fs::write(&keys, line(ALICE, "alice") + &line(BOB, "bob")).unwrap();
    let config = dir.path().join("a2a.toml");
    std::fs::write(
        &config,
        format!(
            "{card}\n[auth]\n{extra}\n[auth.api_keys]\nfile = {:?}\n",
            keys.display().to_string()
        ),
    )
    .unwrap();
    let process = ServerProcess::start(
        &["--store", "memory:", "--config", config.to_str().unwrap()],
        &[],
    );
    Server {
        process,
        keys,
        _dir: dir,
    }
}

async fn post(url: &str, key: Option<&str>, method: &str, params: Value) -> reqwest::Response {
    let mut rb = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}));
    if let Some(k) = key {
        rb = rb.header("X-API-Key", k);
    }
    rb.send().await.unwrap()
}

async fn send(url: &str, key: &str) -> String {
    let msg = json!({"message": {"messageId": uuid::Uuid::new_v4().to_string(), "role": "ROLE_USER", "parts": [{"text": "hi"}]}});
    let r: Value = post(url, Some(key), "SendMessage", msg)
        .await
        .json()
        .await
        .unwrap();
    r["result"]["task"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("SendMessage: {r}"))
        .to_string()
}

#[tokio::test]
async fn missing_and_wrong_keys_are_401_with_a_challenge() {
    let s = start("");
    let url = &s.process.url;
    for (key, says) in [
        (None, "X-API-Key"),
        (Some("a2a_mallory_x"), "unknown API key"),
    ] {
        let r = post(url, key, "GetTask", json!({"id": "t-1"})).await;
        assert_eq!(r.status(), 401, "key {key:?}");
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(challenge.starts_with("ApiKey"), "{challenge}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["id"], 7, "{body}");
        assert_eq!(body["error"]["code"], -31401, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        if let Some(k) = key {
            assert!(
                !message.contains(k),
                "the key leaked into the error: {message}"
            );
        }
    }
    // The card needs no credentials.
    let card = reqwest::get(format!("{url}/.well-known/agent-card.json"))
        .await
        .unwrap();
    assert_eq!(card.status(), 200);
    // Refusals are counted by reason and scheme.
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"a2a_auth_failures_total{reason="invalid",scheme="apikey"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"a2a_auth_failures_total{reason="missing",scheme="anonymous"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn each_key_sees_only_its_owners_tasks() {
    let s = start("");
    let url = &s.process.url;
    let task = send(url, ALICE).await;
    let mine: Value = post(url, Some(ALICE), "GetTask", json!({"id": task}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["result"]["id"], task.as_str(), "{mine}");
    let theirs: Value = post(url, Some(BOB), "GetTask", json!({"id": task}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["error"]["code"], -32001, "{theirs}");
    let listed: Value = post(url, Some(BOB), "ListTasks", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["result"]["tasks"], json!([]), "{listed}");
}

#[tokio::test]
async fn anonymous_callers_are_served_apart_when_allowed() {
    let s = start("allow_anonymous = true");
    let url = &s.process.url;
    let task = send(url, ALICE).await;
    let r = post(url, None, "GetTask", json!({"id": task})).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32001, "{body}");
    // A wrong key is still refused: never demoted to anonymous.
    let r = post(url, Some("a2a_wrong"), "GetTask", json!({"id": task})).await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_deleted_line_revokes_its_key_without_a_restart() {
    let s = start("");
    let url = &s.process.url;
    send(url, BOB).await;
    std::fs::write(&s.keys, line(ALICE, "alice")).unwrap();
    let mut status = 0;
    for _ in 0..100 {
        status = post(url, Some(BOB), "ListTasks", json!({}))
            .await
            .status()
            .as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 401,
        "Bob's key still works after its line was deleted"
    );
    assert_eq!(
        post(url, Some(ALICE), "ListTasks", json!({}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn without_an_extended_card_anonymous_callers_get_not_configured_as_everyone() {
    let s = start("allow_anonymous = true");
    let url = &s.process.url;
    for (version, method, code) in [
        // 1.0: the card does not declare the capability (-32004); 0.3: -32007.
        ("1.0", "GetExtendedAgentCard", -32004),
        ("0.3", "agent/getAuthenticatedExtendedCard", -32007),
    ] {
        let mut answers = Vec::new();
        for key in [None, Some(ALICE)] {
            let mut rb = reqwest::Client::new()
                .post(format!("{url}/"))
                .json(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": {}}));
            if version == "1.0" {
                rb = rb.header("A2A-Version", "1.0");
            }
            if let Some(k) = key {
                rb = rb.header("X-API-Key", k);
            }
            let r = rb.send().await.unwrap();
            let status = r.status().as_u16();
            assert!(r.headers().get("www-authenticate").is_none(), "{method}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(
                (status, &body["error"]["code"]),
                (200, &json!(code)),
                "{method} {key:?}: {body}"
            );
            answers.push(body["error"].clone());
        }
        assert_eq!(
            answers[0], answers[1],
            "{method}: anonymous and authenticated alike"
        );
    }
}

#[tokio::test]
async fn with_an_extended_card_anonymous_callers_get_401_and_keys_get_the_card() {
    let card = "[card.extended]\ndescription = \"For members\"\n";
    let s = start_with(card, "allow_anonymous = true");
    let url = &s.process.url;
    for (version, method) in [
        (Some("1.0"), "GetExtendedAgentCard"),
        (None, "agent/getAuthenticatedExtendedCard"),
    ] {
        for key in [None, Some(ALICE)] {
            let mut rb = reqwest::Client::new()
                .post(format!("{url}/"))
                .json(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": {}}));
            if let Some(v) = version {
                rb = rb.header("A2A-Version", v);
            }
            if let Some(k) = key {
                rb = rb.header("X-API-Key", k);
            }
            let r = rb.send().await.unwrap();
            let status = r.status().as_u16();
            let challenge = r
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_string());
            let body: Value = r.json().await.unwrap();
            match key {
                None => {
                    assert_eq!(status, 401, "{method}: {body}");
                    assert!(
                        challenge.is_some_and(|c| c.starts_with("ApiKey")),
                        "{method}"
                    );
                    assert_eq!(body["error"]["code"], -31401);
                }
                Some(_) => {
                    assert_eq!(status, 200);
                    assert_eq!(
                        body["result"]["description"], "For members",
                        "{method}: {body}"
                    );
                }
            }
        }
    }
}

/// `a2a ARGS` with no credentials in the environment.
async fn cli(args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(support::BIN)
        .args(args)
        .env_remove("A2A_TOKEN")
        .env_remove("A2A_API_KEY")
        .output()
        .await
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

// Multi-threaded: the card server below runs in this runtime while the CLI waits on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_card_sends_credentials_and_fetches_the_extended_card() {
    let card = "[card.extended]\ndescription = \"For members\"\n";
    let s = start_with(card, "");
    let url = s.process.url.as_str();
    let (ok, out, err) = cli(&["card", url, "--extended", "--api-key", ALICE, "--json"]).await;
    assert!(ok, "{err}");
    let extended: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(extended["description"], "For members", "{extended}");
    let (ok, _, err) = cli(&[
        "card",
        url,
        "--extended",
        "--protocol",
        "0.3",
        "--api-key",
        ALICE,
    ])
    .await;
    assert!(ok, "0.3: {err}");
    let (ok, _, err) = cli(&["card", url, "--extended"]).await;
    assert!(!ok, "the extended card without a key");
    assert!(err.contains("-31401"), "{err}");

    // The public card fetch carries the credentials too: a card server that records them.
    let seen = std::sync::Arc::new(parking_lot::Mutex::new(Vec::<(String, String)>::new()));
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/.well-known/agent-card.json",
        axum::routing::get(move |h: axum::http::HeaderMap| {
            let header = |n: &str| {
                h.get(n)
                    .map_or(String::new(), |v| v.to_str().unwrap().into())
            };
            record
                .lock()
                .push((header("authorization"), header("x-api-key")));
            async { axum::Json(json!({"name": "recorder", "version": "1", "description": "d"})) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let card_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (ok, out, err) = cli(&["card", &card_url, "--token", "T0KEN", "--api-key", "K3Y"]).await;
    assert!(ok && out.contains("recorder"), "{out}{err}");
    assert_eq!(
        seen.lock().as_slice(),
        [("Bearer T0KEN".to_string(), "K3Y".to_string())]
    );
}
