//! Legacy A2A 0.1 (`tasks/send` era): client-chosen task ids, `sessionId`, parts with
//! `type`, the 0.1 state set, `{id,status,final}` / `{id,artifact}` stream events.

use serde_json::{Value, json};

use crate::helpers::{TestApp, V};

const STATES_01: [&str; 7] = [
    "submitted",
    "working",
    "input-required",
    "completed",
    "canceled",
    "failed",
    "unknown",
];

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// `tasks/send` params for task `id`, optionally in session `session`.
fn send_params(id: &str, session: Option<&str>, text: &str) -> Value {
    let mut p = json!({
        "id": id,
        "message": {"role": "user", "parts": [{"type": "text", "text": text}]},
    });
    if let Some(s) = session {
        p["sessionId"] = json!(s);
    }
    p
}

/// True if `key` appears anywhere in `v`.
fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m.contains_key(key) || m.values().any(|x| has_key(x, key)),
        Value::Array(a) => a.iter().any(|x| has_key(x, key)),
        _ => false,
    }
}

/// Asserts the 0.1 task shape: `sessionId`, parts with `type`, no `kind`, 0.1 states.
fn assert_task_01(t: &Value) {
    assert!(t["id"].as_str().is_some_and(|s| !s.is_empty()), "{t}");
    assert!(
        t["sessionId"].as_str().is_some_and(|s| !s.is_empty()),
        "{t}"
    );
    assert!(t.get("contextId").is_none(), "{t}");
    assert!(!has_key(t, "kind"), "0.1 has no kind: {t}");
    let state = t["status"]["state"].as_str().unwrap();
    assert!(STATES_01.contains(&state), "state {state}");
    let messages = t["status"]
        .get("message")
        .into_iter()
        .chain(t["history"].as_array().into_iter().flatten());
    for m in messages {
        assert!(
            ["user", "agent"].contains(&m["role"].as_str().unwrap()),
            "{m}"
        );
        for p in m["parts"].as_array().unwrap() {
            assert!(
                ["text", "file", "data"].contains(&p["type"].as_str().unwrap()),
                "{p}"
            );
        }
    }
}

async fn tasks_send(app: &TestApp, params: Value) -> Value {
    app.ok(V::Legacy, "tasks/send", params).await
}

#[tokio::test]
async fn tasks_send_creates_the_task_with_the_client_chosen_id() {
    let app = crate::helpers::spawn_app().await;
    let id = new_id("client-task");
    let session = new_id("session");
    let t = tasks_send(&app, send_params(&id, Some(&session), "hello")).await;
    assert_task_01(&t);
    assert_eq!(t["id"], id.as_str());
    assert_eq!(t["sessionId"], session.as_str());
    // The conformance agent echoes unknown prefixes and asks for more input.
    assert_eq!(t["status"]["state"], "input-required");
    assert_eq!(t["status"]["message"]["role"], "agent");
    assert_eq!(
        t["status"]["message"]["parts"][0],
        json!({"type": "text", "text": "hello"})
    );
}

#[tokio::test]
async fn tasks_send_without_session_returns_a_generated_session_id() {
    let app = crate::helpers::spawn_app().await;
    let id = new_id("no-session");
    let t = tasks_send(&app, send_params(&id, None, "hi")).await;
    assert_task_01(&t);
    assert_eq!(t["id"], id.as_str());
}

#[tokio::test]
async fn repeating_tasks_send_with_the_same_id_continues_the_task() {
    let app = crate::helpers::spawn_app().await;
    let id = new_id("multi-turn");
    let session = new_id("session");
    let first = tasks_send(&app, send_params(&id, Some(&session), "first")).await;
    assert_eq!(first["status"]["state"], "input-required");
    let before = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    let before_len = before["history"].as_array().map_or(0, Vec::len);

    let second = tasks_send(&app, send_params(&id, Some(&session), "second")).await;
    assert_task_01(&second);
    assert_eq!(second["id"], id.as_str());
    assert_eq!(second["sessionId"], session.as_str());
    assert_eq!(second["status"]["state"], "input-required");
    assert_eq!(second["status"]["message"]["parts"][0]["text"], "second");

    let after = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    let history = after["history"].as_array().expect("history");
    assert!(
        history.len() > before_len,
        "history did not grow: {before_len} -> {}",
        history.len()
    );
}

#[tokio::test]
async fn tasks_get_answers_in_the_0_1_shape() {
    let app = crate::helpers::spawn_app().await;
    let id = new_id("get-01");
    let session = new_id("session");
    tasks_send(&app, send_params(&id, Some(&session), "hello")).await;
    let t = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    assert_task_01(&t);
    assert_eq!(t["id"], id.as_str());
    assert_eq!(t["sessionId"], session.as_str());
    assert_eq!(t["status"]["state"], "input-required");
    let history = t["history"].as_array().expect("history");
    assert_eq!(history[0]["role"], "user");
    assert_eq!(
        history[0]["parts"][0],
        json!({"type": "text", "text": "hello"})
    );

    let one = app
        .ok(
            V::Legacy,
            "tasks/get",
            json!({"id": id, "historyLength": 1}),
        )
        .await;
    assert_eq!(one["history"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn tasks_send_subscribe_streams_only_0_1_events_and_ends_final() {
    let app = crate::helpers::spawn_app().await;
    let id = new_id("subscribe-01");
    let events = app
        .stream(
            V::Legacy,
            "tasks/sendSubscribe",
            send_params(&id, None, "stream me"),
        )
        .await;
    assert!(!events.is_empty());
    for (_, e) in &events {
        assert_eq!(e["id"], "stream-1", "{e}");
        assert!(e.get("error").is_none(), "{e}");
        let r = &e["result"];
        assert!(!has_key(r, "kind"), "{r}");
        assert!(
            r.get("taskId").is_none() && r.get("contextId").is_none(),
            "{r}"
        );
        assert_eq!(r["id"], id.as_str(), "{r}");
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        let is_status = r.get("status").is_some();
        if is_status {
            assert!(
                keys.iter()
                    .all(|k| ["id", "status", "final", "metadata"].contains(k)),
                "{r}"
            );
            assert!(r["final"].is_boolean(), "{r}");
            assert!(
                STATES_01.contains(&r["status"]["state"].as_str().unwrap()),
                "{r}"
            );
        } else {
            assert!(
                keys.iter()
                    .all(|k| ["id", "artifact", "metadata"].contains(k)),
                "{r}"
            );
            assert!(r["artifact"]["parts"].is_array(), "{r}");
        }
    }
    let finals: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, (_, e))| e["result"]["final"] == true)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(finals, [events.len() - 1], "only the last event is final");
    assert_eq!(
        events.last().unwrap().1["result"]["status"]["state"],
        "input-required"
    );

    // The task exists under the client's id afterwards.
    let t = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    assert_task_01(&t);
}

#[tokio::test]
async fn tasks_cancel_cancels_a_0_1_task() {
    let app = crate::helpers::spawn_app().await;
    let id = new_id("cancel-01");
    tasks_send(&app, send_params(&id, None, "hello")).await;
    let t = app.ok(V::Legacy, "tasks/cancel", json!({"id": id})).await;
    assert_task_01(&t);
    assert_eq!(t["id"], id.as_str());
    assert_eq!(t["status"]["state"], "canceled");
    let got = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    assert_eq!(got["status"]["state"], "canceled");
    app.err(V::Legacy, "tasks/cancel", json!({"id": id}), -32002)
        .await;
}

#[tokio::test]
async fn tasks_send_to_a_canceled_task_is_refused() {
    let app = crate::helpers::spawn_app().await;
    let id = new_id("closed-01");
    tasks_send(&app, send_params(&id, None, "hello")).await;
    app.ok(V::Legacy, "tasks/cancel", json!({"id": id})).await;
    let e = app
        .call(V::Legacy, "tasks/send", send_params(&id, None, "again"))
        .await;
    let code = e["error"]["code"].as_i64().expect("an error");
    // Never the 0.1-prose -32009 (InvalidTaskState), which now means VersionNotSupported.
    assert_eq!(code, -32004, "{e}");
}

#[tokio::test]
async fn tasks_send_validates_its_params() {
    let app = crate::helpers::spawn_app().await;
    let e = app
        .err(
            V::Legacy,
            "tasks/send",
            json!({"message": {"role": "user", "parts": [{"type": "text", "text": "x"}]}}),
            -32602,
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("`id`"), "{e}");
    app.err(V::Legacy, "tasks/send", send_params("", None, "x"), -32602)
        .await;
    let mut p = send_params(&new_id("empty"), None, "x");
    p["message"]["parts"] = json!([]);
    let e = app.err(V::Legacy, "tasks/send", p, -32602).await;
    assert!(e["message"].as_str().unwrap().contains("parts"), "{e}");
}
