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
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    std::fs::write(&keys, line(ALICE, "alice") + &line(BOB, "bob")).unwrap();
    let config = dir.path().join("a2a.toml");
    std::fs::write(
        &config,
        format!(
            "[auth]\n{extra}\n[auth.api_keys]\nfile = {:?}\n",
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
