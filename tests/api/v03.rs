//! A2A 0.3 over JSON-RPC: bare results with `kind`, kebab-case states, blocking
//! semantics, multi-turn tasks, cancel, streaming with `final`, resubscribe, artifacts.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, V, msg_v03, spawn_app};

const KEBAB_STATES: [&str; 9] = [
    "submitted",
    "working",
    "input-required",
    "completed",
    "canceled",
    "failed",
    "rejected",
    "auth-required",
    "unknown",
];

/// `message/send` with `message`; returns the bare result.
async fn send(app: &TestApp, message: Value) -> Value {
    app.ok(V::Legacy, "message/send", json!({"message": message}))
        .await
}

/// A 0.3 message continuing `task_id`.
fn follow_up(prefix: &str, task_id: &str) -> Value {
    let mut m = msg_v03(prefix);
    m["taskId"] = json!(task_id);
    m
}

fn assert_message_03(m: &Value) {
    assert_eq!(m["kind"], "message", "{m}");
    assert!(
        ["user", "agent"].contains(&m["role"].as_str().unwrap()),
        "{m}"
    );
    assert!(
        m["messageId"].as_str().is_some_and(|s| !s.is_empty()),
        "{m}"
    );
    for p in m["parts"].as_array().unwrap() {
        assert!(
            ["text", "file", "data"].contains(&p["kind"].as_str().unwrap()),
            "{p}"
        );
    }
}

fn assert_task_03(t: &Value) {
    assert_eq!(t["kind"], "task", "{t}");
    assert!(t["id"].as_str().is_some_and(|s| !s.is_empty()), "{t}");
    assert!(
        t["contextId"].as_str().is_some_and(|s| !s.is_empty()),
        "{t}"
    );
    let state = t["status"]["state"].as_str().unwrap();
    assert!(KEBAB_STATES.contains(&state), "state {state}");
    if let Some(m) = t["status"].get("message") {
        assert_message_03(m);
    }
    for m in t["history"].as_array().into_iter().flatten() {
        assert_message_03(m);
    }
    for a in t["artifacts"].as_array().into_iter().flatten() {
        for p in a["parts"].as_array().unwrap() {
            assert!(p["kind"].is_string(), "{p}");
        }
    }
}

#[tokio::test]
async fn message_send_returns_a_bare_task_with_kind_and_kebab_states() {
    let app = spawn_app().await;
    let t = send(&app, msg_v03("tck-complete-task")).await;
    assert_task_03(&t);
    assert!(t.get("task").is_none(), "0.3 results are not wrapped: {t}");
    assert_eq!(t["status"]["state"], "completed");
    assert_eq!(t["status"]["message"]["role"], "agent");
    assert_eq!(
        t["status"]["message"]["parts"][0],
        json!({"kind": "text", "text": "Hello from TCK"})
    );
    let ts = t["status"]["timestamp"].as_str().unwrap();
    assert!(ts.ends_with('Z'), "{ts}");

    let t = send(&app, msg_v03("tck-input-required")).await;
    assert_task_03(&t);
    assert_eq!(t["status"]["state"], "input-required");

    let t = send(&app, msg_v03("tck-reject-task")).await;
    assert_task_03(&t);
    assert_eq!(t["status"]["state"], "failed");
    assert_eq!(t["status"]["message"]["parts"][0]["text"], "rejected");
}

#[tokio::test]
async fn message_send_keeps_a_client_context_id() {
    let app = spawn_app().await;
    let mut m = msg_v03("tck-complete-task");
    m["contextId"] = json!("ctx-0.3-client");
    let t = send(&app, m).await;
    assert_eq!(t["contextId"], "ctx-0.3-client");
}

#[tokio::test]
async fn message_send_blocks_until_completion_by_default() {
    let app = spawn_app().await;
    let started = Instant::now();
    let t = send(&app, msg_v03("test-resubscribe-message-id")).await;
    assert_eq!(t["status"]["state"], "completed", "{t}");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "returned before the work finished"
    );

    // Explicit `blocking: true` is the same.
    let params =
        json!({"message": msg_v03("tck-complete-task"), "configuration": {"blocking": true}});
    let t = app.ok(V::Legacy, "message/send", params).await;
    assert_eq!(t["status"]["state"], "completed");
}

#[tokio::test]
async fn non_blocking_message_send_returns_a_non_terminal_task_at_once() {
    let app = spawn_app().await;
    let started = Instant::now();
    let params = json!({
        "message": msg_v03("test-resubscribe-message-id"),
        "configuration": {"blocking": false},
    });
    let t = app.ok(V::Legacy, "message/send", params).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_task_03(&t);
    let state = t["status"]["state"].as_str().unwrap();
    assert!(["submitted", "working"].contains(&state), "state {state}");

    // It completes later.
    let id = t["id"].as_str().unwrap().to_string();
    crate::helpers::eventually(|| async {
        let t = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
        t["status"]["state"] == "completed"
    })
    .await;
}

#[tokio::test]
async fn follow_up_to_input_required_task_continues_the_same_task() {
    let app = spawn_app().await;
    let first = send(&app, msg_v03("turn-one")).await;
    assert_eq!(first["status"]["state"], "input-required");
    let id = first["id"].as_str().unwrap();
    let before = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    let before_len = before["history"].as_array().map_or(0, Vec::len);

    let second = send(&app, follow_up("turn-two", id)).await;
    assert_task_03(&second);
    assert_eq!(second["id"], id);
    assert_eq!(second["contextId"], first["contextId"]);
    assert_eq!(second["status"]["state"], "input-required");

    let after = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    let history = after["history"].as_array().expect("history present");
    assert!(
        history.len() > before_len,
        "history did not grow: {before_len} -> {}",
        history.len()
    );
    let last_user = history.iter().rev().find(|m| m["role"] == "user").unwrap();
    assert!(
        last_user["messageId"]
            .as_str()
            .unwrap()
            .starts_with("turn-two"),
        "{last_user}"
    );
}

#[tokio::test]
async fn message_to_completed_task_returns_unsupported_operation() {
    let app = spawn_app().await;
    let t = send(&app, msg_v03("tck-complete-task")).await;
    let id = t["id"].as_str().unwrap();
    let params = json!({"message": follow_up("tck-complete-task", id)});
    app.err(V::Legacy, "message/send", params, -32004).await;
}

#[tokio::test]
async fn message_with_mismatched_context_is_invalid_params() {
    let app = spawn_app().await;
    let t = send(&app, msg_v03("tck-input-required")).await;
    let mut m = follow_up("tck-input-required", t["id"].as_str().unwrap());
    m["contextId"] = json!("some-other-context");
    app.err(V::Legacy, "message/send", json!({"message": m}), -32602)
        .await;
}

#[tokio::test]
async fn tasks_get_honours_history_length() {
    let app = spawn_app().await;
    let t = send(&app, msg_v03("history")).await;
    let id = t["id"].as_str().unwrap();
    send(&app, follow_up("history-2", id)).await;

    let full = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    let full_history = full["history"].as_array().unwrap();
    assert!(full_history.len() >= 2, "{full}");

    let one = app
        .ok(
            V::Legacy,
            "tasks/get",
            json!({"id": id, "historyLength": 1}),
        )
        .await;
    assert_task_03(&one);
    let history = one["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0],
        *full_history.last().unwrap(),
        "must keep the most recent message"
    );
}

#[tokio::test]
async fn tasks_cancel_cancels_input_required_task_and_a_second_cancel_is_not_cancelable() {
    let app = spawn_app().await;
    let t = send(&app, msg_v03("tck-input-required")).await;
    let id = t["id"].as_str().unwrap();
    let canceled = app.ok(V::Legacy, "tasks/cancel", json!({"id": id})).await;
    assert_task_03(&canceled);
    assert_eq!(canceled["id"], id);
    assert_eq!(canceled["status"]["state"], "canceled");

    let got = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    assert_eq!(got["status"]["state"], "canceled");
    app.err(V::Legacy, "tasks/cancel", json!({"id": id}), -32002)
        .await;
    // A canceled task takes no more messages.
    app.err(
        V::Legacy,
        "message/send",
        json!({"message": follow_up("x", id)}),
        -32004,
    )
    .await;
}

#[tokio::test]
async fn message_stream_marks_only_the_last_status_event_final() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::Legacy,
            "message/stream",
            json!({"message": msg_v03("tck-stream-001")}),
        )
        .await;
    let results: Vec<&Value> = events.iter().map(|(_, e)| &e["result"]).collect();
    for (_, e) in &events {
        assert_eq!(e["jsonrpc"], "2.0");
        assert_eq!(e["id"], "stream-1", "{e}");
        assert!(e.get("error").is_none(), "{e}");
    }
    let first = results[0];
    assert_task_03(first);
    let (task_id, context_id) = (first["id"].clone(), first["contextId"].clone());

    let kinds: Vec<&str> = results
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"status-update"), "{kinds:?}");
    assert!(kinds.contains(&"artifact-update"), "{kinds:?}");
    for r in &results[1..] {
        assert!(
            ["status-update", "artifact-update"].contains(&r["kind"].as_str().unwrap()),
            "{r}"
        );
        assert_eq!(r["taskId"], task_id, "{r}");
        assert_eq!(r["contextId"], context_id, "{r}");
    }

    let last = results.last().unwrap();
    assert_eq!(last["kind"], "status-update");
    assert_eq!(last["status"]["state"], "completed");
    assert_eq!(last["final"], true);
    for r in &results[..results.len() - 1] {
        if r["kind"] == "status-update" {
            assert_eq!(
                r["final"], false,
                "only the last status event is final: {r}"
            );
        }
    }
    let artifact = results
        .iter()
        .find(|r| r["kind"] == "artifact-update")
        .unwrap();
    assert_eq!(artifact["artifact"]["parts"][0]["kind"], "text");
}

#[tokio::test]
async fn message_stream_of_input_required_ends_with_final_true() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::Legacy,
            "message/stream",
            json!({"message": msg_v03("tck-input-required")}),
        )
        .await;
    let last = &events.last().unwrap().1["result"];
    assert_eq!(last["kind"], "status-update", "{last}");
    assert_eq!(last["status"]["state"], "input-required");
    assert_eq!(last["final"], true);
}

#[tokio::test]
async fn message_stream_of_a_message_reply_is_one_message_event() {
    let app = spawn_app().await;
    let events = app
        .stream(
            V::Legacy,
            "message/stream",
            json!({"message": msg_v03("tck-message-response")}),
        )
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    let m = &events[0].1["result"];
    assert_message_03(m);
    assert_eq!(m["role"], "agent");
}

#[tokio::test]
async fn tasks_resubscribe_starts_with_the_task_and_ends_with_final_completed() {
    let app = spawn_app().await;
    let params = json!({
        "message": msg_v03("test-resubscribe-message-id"),
        "configuration": {"blocking": false},
    });
    let t = app.ok(V::Legacy, "message/send", params).await;
    let id = t["id"].as_str().unwrap();

    let events = app
        .stream(V::Legacy, "tasks/resubscribe", json!({"id": id}))
        .await;
    let first = &events[0].1["result"];
    assert_task_03(first);
    assert_eq!(first["id"], id);
    assert!(
        ["submitted", "working"].contains(&first["status"]["state"].as_str().unwrap()),
        "{first}"
    );
    for (_, e) in &events[1..] {
        assert_eq!(e["result"]["taskId"], id, "{e}");
    }
    let last = &events.last().unwrap().1["result"];
    assert_eq!(last["kind"], "status-update", "{last}");
    assert_eq!(last["status"]["state"], "completed");
    assert_eq!(last["final"], true);
}

#[tokio::test]
async fn message_response_prefix_returns_a_bare_message() {
    let app = spawn_app().await;
    let m = send(&app, msg_v03("tck-message-response")).await;
    assert_message_03(&m);
    assert_eq!(m["role"], "agent");
    assert_eq!(
        m["parts"][0],
        json!({"kind": "text", "text": "Direct message response"})
    );
    assert!(m.get("status").is_none(), "{m}");
}

async fn artifact_part(app: &TestApp, prefix: &str) -> Value {
    let t = send(app, msg_v03(prefix)).await;
    assert_task_03(&t);
    assert_eq!(t["status"]["state"], "completed", "{t}");
    let artifacts = t["artifacts"].as_array().expect("artifacts");
    assert_eq!(artifacts.len(), 1, "{t}");
    assert!(
        artifacts[0]["artifactId"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    artifacts[0]["parts"][0].clone()
}

#[tokio::test]
async fn artifact_text_is_a_text_part() {
    let app = spawn_app().await;
    let p = artifact_part(&app, "tck-artifact-text").await;
    assert_eq!(p, json!({"kind": "text", "text": "Generated text content"}));
}

#[tokio::test]
async fn artifact_file_is_a_file_part_with_base64_bytes() {
    let app = spawn_app().await;
    let p = artifact_part(&app, "tck-artifact-file").await;
    assert_eq!(p["kind"], "file", "{p}");
    assert_eq!(p["file"]["name"], "output.txt");
    assert_eq!(p["file"]["mimeType"], "text/plain");
    // base64("tck"), the kit's bytes.
    assert_eq!(p["file"]["bytes"], "dGNr");
    assert!(p["file"].get("uri").is_none(), "{p}");
}

#[tokio::test]
async fn artifact_file_url_is_a_file_part_with_a_uri() {
    let app = spawn_app().await;
    let p = artifact_part(&app, "tck-artifact-file-url").await;
    assert_eq!(p["kind"], "file", "{p}");
    assert_eq!(p["file"]["uri"], "https://example.com/output.txt");
    assert_eq!(p["file"]["name"], "output.txt");
    assert_eq!(p["file"]["mimeType"], "text/plain");
    assert!(p["file"].get("bytes").is_none(), "{p}");
}

#[tokio::test]
async fn artifact_data_is_a_data_part() {
    let app = spawn_app().await;
    let p = artifact_part(&app, "tck-artifact-data").await;
    assert_eq!(
        p,
        json!({"kind": "data", "data": {"key": "value", "count": 42}})
    );
}

#[tokio::test]
async fn file_and_data_parts_are_accepted_as_input() {
    let app = spawn_app().await;
    let mut m = msg_v03("tck-complete-task");
    m["parts"] = json!([
        {"kind": "text", "text": "see attached"},
        {"kind": "file", "file": {"name": "a.txt", "mimeType": "text/plain", "bytes": "aGk="}},
        {"kind": "file", "file": {"uri": "https://example.com/b.txt"}},
        {"kind": "data", "data": {"n": 1}},
    ]);
    let t = send(&app, m).await;
    assert_eq!(t["status"]["state"], "completed");
    let got = app.ok(V::Legacy, "tasks/get", json!({"id": t["id"]})).await;
    let user = got["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "user")
        .unwrap();
    let kinds: Vec<&str> = user["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["text", "file", "file", "data"]);
    assert_eq!(user["parts"][1]["file"]["bytes"], "aGk=");
}
