//! What clients in the wild send: requests without an id, `pageSize: 0`, the legacy
//! `tasks/send`-era paths, 0.3 messages and parts without `kind`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, V, msg_v1, msg_v03, spawn_app};

/// POSTs `body` to `path` (with `A2A-Version: 1.0` for `V::V1`); status and JSON.
async fn post(app: &TestApp, path: &str, v: V, body: &Value) -> (u16, Value) {
    let mut rb = app.http.post(format!("{}{path}", app.url)).json(body);
    if let V::V1 = v {
        rb = rb.header("A2A-Version", "1.0");
    }
    let resp = rb.send().await.expect("sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body read");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON {text:?}: {e}"));
    (status, json)
}

/// The body without an id member, or with `"id": null`.
fn without_id(method: &str, params: Value, null: bool) -> Value {
    let mut body = json!({"jsonrpc": "2.0", "method": method, "params": params});
    if null {
        body["id"] = Value::Null;
    }
    body
}

#[tokio::test]
async fn a_request_without_id_is_checked_like_any_other_and_answered_with_id_null() {
    let app = spawn_app().await;
    for null in [false, true] {
        let (_, r) = post(
            &app,
            "/",
            V::V1,
            &without_id("NoSuchMethod", json!({}), null),
        )
        .await;
        assert_eq!(r["error"]["code"], -32601, "{r}");
        assert_eq!(r.get("id"), Some(&Value::Null), "{r}");

        let (_, r) = post(&app, "/", V::V1, &without_id("GetTask", json!({}), null)).await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
        assert_eq!(r.get("id"), Some(&Value::Null), "{r}");

        let params = json!({"message": msg_v1("tck-complete-task")});
        let (status, r) = post(&app, "/", V::V1, &without_id("SendMessage", params, null)).await;
        assert_eq!(status, 200);
        assert_eq!(r.get("id"), Some(&Value::Null), "{r}");
        assert_eq!(
            r["result"]["task"]["status"]["state"],
            "TASK_STATE_COMPLETED"
        );

        let params = json!({"message": msg_v03("tck-message-response")});
        let (_, r) = post(
            &app,
            "/",
            V::Legacy,
            &without_id("message/send", params, null),
        )
        .await;
        assert_eq!(r.get("id"), Some(&Value::Null), "{r}");
        assert_eq!(r["result"]["kind"], "message", "{r}");
    }
}

#[tokio::test]
async fn list_tasks_refuses_a_page_size_of_zero_or_below_or_above_100() {
    let app = spawn_app().await;
    app.ok(
        V::V1,
        "SendMessage",
        json!({"message": msg_v1("tck-complete-task")}),
    )
    .await;
    for n in [0, -1, 101, i64::from(i32::MAX) + 1] {
        let e = app
            .err(V::V1, "ListTasks", json!({"pageSize": n}), -32602)
            .await;
        assert!(e["message"].as_str().unwrap().contains("pageSize"), "{e}");
    }
    let r = app.ok(V::V1, "ListTasks", json!({"pageSize": 1})).await;
    assert_eq!(r["tasks"].as_array().unwrap().len(), 1, "{r}");
}

#[tokio::test]
async fn legacy_paths_serve_the_json_rpc_endpoint_in_every_version() {
    let app = spawn_app().await;
    for path in ["/tasks/send", "/a2a/tasks/send", "/a2a"] {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
                          "params": {"message": msg_v1("tck-complete-task")}});
        let (status, r) = post(&app, path, V::V1, &body).await;
        assert_eq!(status, 200, "{path}: {r}");
        assert_eq!(
            r["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED",
            "{path}: {r}"
        );

        let body = json!({"jsonrpc": "2.0", "id": "b", "method": "message/send",
                          "params": {"message": msg_v03("tck-complete-task")}});
        let (_, r) = post(&app, path, V::Legacy, &body).await;
        assert_eq!(r["id"], "b");
        assert_eq!(r["result"]["status"]["state"], "completed", "{path}: {r}");

        let id = uuid::Uuid::new_v4().to_string();
        let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tasks/send", "params": {
            "id": id, "message": {"role": "user", "parts": [{"type": "text", "text": "hi"}]}}});
        let (_, r) = post(&app, path, V::Legacy, &body).await;
        assert_eq!(r["result"]["id"], id.as_str(), "{path}: {r}");

        let resp = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "GET {path}");
    }
}

#[tokio::test]
async fn get_health_answers_like_healthz() {
    let app = spawn_app().await;
    for path in ["/health", "/healthz"] {
        let resp = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.text().await.unwrap(), "ok", "{path}");
    }
}

#[tokio::test]
async fn a_v03_message_and_parts_without_kind_are_read_by_the_member_present() {
    let app = spawn_app().await;
    // As pydantic's fasta2a client sends it.
    let message = json!({"role": "user", "messageId": format!("tck-complete-task-{}", uuid::Uuid::new_v4()),
    "parts": [
        {"text": "hi"},
        {"data": {"a": 1}},
        {"file": {"bytes": "dGNr", "mimeType": "text/plain", "name": "x.txt"}},
    ]});
    let t = app
        .ok(V::Legacy, "message/send", json!({"message": message}))
        .await;
    assert_eq!(t["status"]["state"], "completed", "{t}");
    let t = app.ok(V::Legacy, "tasks/get", json!({"id": t["id"]})).await;
    let sent = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["messageId"] == message["messageId"])
        .expect("the message is in the history");
    assert_eq!(sent["kind"], "message");
    assert_eq!(
        sent["parts"],
        json!([
            {"kind": "text", "text": "hi"},
            {"kind": "data", "data": {"a": 1}},
            {"kind": "file", "file": {"bytes": "dGNr", "mimeType": "text/plain", "name": "x.txt"}},
        ])
    );
}

#[tokio::test]
async fn a_v03_part_with_no_content_member_is_refused_naming_it() {
    let app = spawn_app().await;
    let mut m = msg_v03("tck-complete-task");
    m["parts"] = json!([{"text": "ok"}, {"metadata": {"x": 1}}]);
    let e = app
        .err(V::Legacy, "message/send", json!({"message": m}), -32602)
        .await;
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("parts[1]") && msg.contains("none of `text`, `file` or `data`"),
        "{msg}"
    );
    // A kind that is there still decides.
    let mut m = msg_v03("tck-complete-task");
    m["parts"] = json!([{"kind": "data", "text": "ok"}]);
    let e = app
        .err(V::Legacy, "message/send", json!({"message": m}), -32602)
        .await;
    assert!(e["message"].as_str().unwrap().contains("`data`"), "{e}");
}
