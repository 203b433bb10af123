//! Authorization on the real binary with two API-key owners: another owner's task answers
//! exactly as a task that does not exist (the whole error object, the id substituted);
//! 0.1 client-chosen ids are per owner; the 1.0 `tenant` must be the caller's; request
//! limits are refused naming the limit.

mod support;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::ServerProcess;

const A: &str = "a2a_alice_0123456789abcdef";
const B: &str = "a2a_bob_fedcba9876543210";

fn line(key: &str, owner: &str) -> String {
    format!("{} {owner}\n", hex::encode(Sha256::digest(key.as_bytes())))
}

fn start(extra: &str) -> (ServerProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    std::fs::write(&keys, line(A, "alice") + &line(B, "bob")).unwrap();
    let config = dir.path().join("a2a.toml");
    std::fs::write(
        &config,
        format!(
            "{extra}\n[auth.api_keys]\nfile = {:?}\n",
            keys.display().to_string()
        ),
    )
    .unwrap();
    let p = ServerProcess::start(
        &["--store", "memory:", "--config", config.to_str().unwrap()],
        &[],
    );
    (p, dir)
}

async fn call(url: &str, key: &str, v1: bool, method: &str, params: Value) -> Value {
    let mut rb = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("X-API-Key", key)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
    if v1 {
        rb = rb.header("A2A-Version", "1.0");
    }
    rb.send().await.unwrap().json().await.unwrap()
}

fn msg_v01(text: &str) -> Value {
    json!({"role": "user", "parts": [{"type": "text", "text": text}]})
}

/// The error with `id` replaced by a placeholder, to compare with a random id's.
fn shape(r: &Value, id: &str) -> String {
    r["error"].to_string().replace(id, "<id>")
}

#[tokio::test]
async fn another_owners_task_is_an_unknown_task_on_1_0_and_0_3() {
    let (s, _d) = start("");
    let url = &s.url;
    let m = json!({"message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hi"}]}});
    let r = call(url, A, true, "SendMessage", m).await;
    let a_task = r["result"]["task"]["id"].as_str().unwrap().to_string();
    let random = uuid::Uuid::new_v4().to_string();
    for (v1, method) in [
        (true, "GetTask"),
        (true, "CancelTask"),
        (false, "tasks/get"),
        (false, "tasks/cancel"),
    ] {
        let foreign = call(url, B, v1, method, json!({"id": a_task})).await;
        let missing = call(url, B, v1, method, json!({"id": random})).await;
        assert_eq!(foreign["error"]["code"], -32001, "{method}: {foreign}");
        assert_eq!(
            shape(&foreign, &a_task),
            shape(&missing, &random),
            "{method}"
        );
    }
    // A's own read still works; B's listing is empty.
    let own = call(url, A, true, "GetTask", json!({"id": a_task})).await;
    assert_eq!(own["result"]["id"], a_task.as_str());
    let list = call(url, B, true, "ListTasks", json!({})).await;
    assert_eq!(list["result"]["tasks"], json!([]), "{list}");
    // referenceTaskIds naming A's task: refused as unknown.
    let m = json!({"message": {"messageId": "m2", "role": "ROLE_USER", "parts": [{"text": "hi"}], "referenceTaskIds": [a_task]}});
    let r = call(url, B, true, "SendMessage", m).await;
    assert_eq!(r["error"]["code"], -32001, "{r}");
    // Another tenant: the same answer as an unknown task.
    let foreign = call(
        url,
        A,
        true,
        "GetTask",
        json!({"id": a_task, "tenant": "t2"}),
    )
    .await;
    let missing = call(url, A, true, "GetTask", json!({"id": random})).await;
    assert_eq!(
        shape(&foreign, &a_task),
        shape(&missing, &random),
        "{foreign}"
    );
    let list = call(url, A, true, "ListTasks", json!({"tenant": "t2"})).await;
    assert_eq!(list["error"]["code"], -32001, "{list}");
}

#[tokio::test]
async fn two_owners_choosing_the_same_0_1_id_each_get_their_own_task() {
    let (s, _d) = start("");
    let url = &s.url;
    for (key, text) in [(A, "from alice"), (B, "from bob")] {
        let r = call(
            url,
            key,
            false,
            "tasks/send",
            json!({"id": "job-1", "message": msg_v01(text)}),
        )
        .await;
        assert_eq!(r["result"]["id"], "job-1", "{r}");
    }
    for (key, text, other) in [(A, "from alice", "from bob"), (B, "from bob", "from alice")] {
        let r = call(
            url,
            key,
            false,
            "tasks/get",
            json!({"id": "job-1", "historyLength": 10}),
        )
        .await;
        assert_eq!(r["result"]["id"], "job-1", "{r}");
        let h = r["result"]["history"].to_string();
        assert!(h.contains(text) && !h.contains(other), "{h}");
    }
}

#[tokio::test]
async fn request_limits_are_refused_naming_the_limit() {
    let (s, _d) =
        start("max_json_depth = 8\nmax_parts = 2\nmax_string_bytes = 64\nmax_metadata_bytes = 32");
    let url = &s.url;
    let part = json!({"text": "hi"});
    let msg = |parts: Value, meta: Value| json!({"message": {"messageId": uuid::Uuid::new_v4().to_string(), "role": "ROLE_USER", "parts": parts, "metadata": meta}});
    let deep = json!({"a": [[[[[[[[1]]]]]]]]});
    let cases = [
        (msg(json!([part]), deep), "max_json_depth = 8"),
        (msg(json!([part, part, part]), json!({})), "max_parts"),
        (
            msg(json!([{"text": "x".repeat(65)}]), json!({})),
            "max_string_bytes = 64",
        ),
        (
            msg(json!([part]), json!({"a": "b".repeat(40)})),
            "max_metadata_bytes",
        ),
    ];
    for (params, says) in cases {
        let r = call(url, A, true, "SendMessage", params).await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
        assert!(
            r["error"]["message"].as_str().unwrap().contains(says),
            "{r}"
        );
    }
    let r = call(
        url,
        A,
        true,
        "SendMessage",
        msg(json!([part, part]), json!({"a": 1})),
    )
    .await;
    assert!(r["result"]["task"]["id"].is_string(), "{r}");
}
