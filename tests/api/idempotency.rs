//! Retry safety by `Idempotency-Key`: the same key with the same request answers as the
//! first did without running the agent again; the same key with another request is
//! -32602; no key, no deduplication (a reused messageId is just another message).

use serde_json::{Value, json};

use crate::helpers::{TestApp, V, msg_v1, spawn_app};

/// A 1.0 call with `key` and JSON-RPC id `id`; returns the whole response.
async fn keyed(app: &TestApp, key: &str, method: &str, params: &Value, id: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    app.http
        .post(format!("{}/", app.url))
        .header("A2A-Version", "1.0")
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn total_tasks(app: &TestApp) -> u64 {
    app.ok(V::V1, "ListTasks", json!({})).await["totalSize"]
        .as_u64()
        .unwrap()
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn the_same_key_and_request_returns_the_first_task_whatever_the_id() {
    let app = spawn_app().await;
    let k = key();
    let params = json!({"message": msg_v1("tck-complete-task")});
    let first = keyed(&app, &k, "SendMessage", &params, json!(1)).await;
    // Another id, the members in another order, the key quoted as the draft writes it.
    let text = serde_json::to_string(&params).unwrap();
    let reordered: Value = serde_json::from_str(&text).unwrap();
    let again = keyed(
        &app,
        &format!("\"{k}\""),
        "SendMessage",
        &reordered,
        json!("x"),
    )
    .await;
    assert_eq!(again["id"], "x");
    assert_eq!(first["result"], again["result"], "the first answer again");
    assert_eq!(total_tasks(&app).await, 1, "the agent ran once");
}

#[tokio::test]
async fn the_same_key_with_another_request_is_invalid_params_naming_the_key() {
    let app = spawn_app().await;
    let k = key();
    let params = json!({"message": msg_v1("tck-complete-task")});
    keyed(&app, &k, "SendMessage", &params, json!(1)).await;
    let other = json!({"message": msg_v1("tck-complete-task")});
    for (method, params) in [("SendMessage", &other), ("SendStreamingMessage", &params)] {
        let r = keyed(&app, &k, method, params, json!(2)).await;
        assert_eq!(r["error"]["code"], -32602, "{method}: {r}");
        let msg = r["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&k) && msg.contains("Idempotency-Key"), "{msg}");
    }
    assert_eq!(total_tasks(&app).await, 1);
}

#[tokio::test]
async fn a_reused_message_id_without_a_key_is_a_new_message() {
    let app = spawn_app().await;
    let params = json!({"message": msg_v1("tck-complete-task")});
    let a = app.ok(V::V1, "SendMessage", params.clone()).await;
    let b = app.ok(V::V1, "SendMessage", params).await;
    assert_ne!(a["task"]["id"], b["task"]["id"]);
    // A follow-up may reuse the messageId too (the kit keeps one per scenario).
    let mut waiting = msg_v1("tck-input-required");
    let task = app
        .ok(V::V1, "SendMessage", json!({"message": waiting}))
        .await;
    waiting["taskId"] = task["task"]["id"].clone();
    let follow_up = app
        .ok(V::V1, "SendMessage", json!({"message": waiting}))
        .await;
    assert_eq!(follow_up["task"]["id"], task["task"]["id"], "{follow_up}");
    assert_eq!(total_tasks(&app).await, 3);
}

#[tokio::test]
async fn empty_or_malformed_keys_are_invalid_params_naming_the_header() {
    let app = spawn_app().await;
    let params = json!({"message": msg_v1("tck-complete-task")});
    for bad in ["", "two words", "\"unterminated", "\"\""] {
        let r = keyed(&app, bad, "SendMessage", &params, json!(7)).await;
        assert_eq!(r["error"]["code"], -32602, "{bad:?}: {r}");
        assert_eq!(r["id"], 7);
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{r}"
        );
    }
    assert_eq!(total_tasks(&app).await, 0);
}

#[tokio::test]
async fn a_retried_stream_replays_from_its_first_event() {
    let app = spawn_app().await;
    let k = key();
    let params = json!({"message": msg_v1("tck-stream-artifact-text")});
    let stream = |id: &str| {
        app.http
            .post(format!("{}/", app.url))
            .header("A2A-Version", "1.0")
            .header("Idempotency-Key", &k)
            .json(&json!({"jsonrpc": "2.0", "id": id, "method": "SendStreamingMessage", "params": params}))
    };
    let first = app.stream_with(stream("a"), usize::MAX).await;
    let again = app.stream_with(stream("a"), usize::MAX).await;
    assert!(first.len() >= 3, "{first:?}");
    assert_eq!(first, again, "the same events, from the first");
    assert_eq!(total_tasks(&app).await, 1);
}

#[tokio::test]
async fn a_retried_follow_up_answers_as_the_first_and_is_committed_once() {
    let app = spawn_app().await;
    let mut message = msg_v1("tck-input-required");
    let task = app
        .ok(V::V1, "SendMessage", json!({"message": message}))
        .await;
    let id = task["task"]["id"].clone();
    message["taskId"] = id.clone();
    message["messageId"] = json!(format!("tck-input-required-{}", key()));
    let params = json!({"message": message});
    let k = key();
    let first = keyed(&app, &k, "SendMessage", &params, json!(1)).await;
    let again = keyed(&app, &k, "SendMessage", &params, json!(2)).await;
    assert_eq!(first["result"], again["result"], "{first} / {again}");
    let stored = app.ok(V::V1, "GetTask", json!({"id": id})).await;
    let follow_ups = stored["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["messageId"] == message["messageId"])
        .count();
    assert_eq!(follow_ups, 1, "{stored}");
    // Its retried stream begins with the task as of the follow-up's commit.
    let streamed = |key: &str| {
        app.http
            .post(format!("{}/", app.url))
            .header("A2A-Version", "1.0")
            .header("Idempotency-Key", key)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage", "params": params}))
    };
    // (A new key: the same message again is another follow-up.)
    let k2 = key();
    let live = app.stream_with(streamed(&k2), usize::MAX).await;
    let replayed = app.stream_with(streamed(&k2), usize::MAX).await;
    assert!(live.len() >= 2, "{live:?}");
    assert_eq!(live, replayed);
}

#[tokio::test]
async fn a_retried_bare_message_reply_is_the_same_message() {
    let app = spawn_app().await;
    let k = key();
    let params = json!({"message": msg_v1("tck-message-response")});
    let first = keyed(&app, &k, "SendMessage", &params, json!(1)).await;
    let again = keyed(&app, &k, "SendMessage", &params, json!(1)).await;
    let id = &first["result"]["message"]["messageId"];
    assert!(id.is_string(), "{first}");
    assert_eq!(first, again, "the agent did not run again");
}
