//! One task store behind every wire version: a task created through one version reads
//! correctly, in the reader's shape, through another.

use serde_json::{Value, json};

use crate::helpers::{V, msg_v1, msg_v03, spawn_app};

/// True if `key` appears anywhere in `v`.
fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m.contains_key(key) || m.values().any(|x| has_key(x, key)),
        Value::Array(a) => a.iter().any(|x| has_key(x, key)),
        _ => false,
    }
}

#[tokio::test]
async fn task_created_through_v1_reads_through_v03_tasks_get() {
    let app = spawn_app().await;
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-artifact-text")}),
        )
        .await;
    let created = &r["task"];
    assert_eq!(created["status"]["state"], "TASK_STATE_COMPLETED");
    let id = created["id"].as_str().unwrap();

    let t = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    assert_eq!(t["kind"], "task", "{t}");
    assert_eq!(t["id"], id);
    assert_eq!(t["contextId"], created["contextId"]);
    assert_eq!(t["status"]["state"], "completed");
    assert_eq!(
        t["artifacts"][0]["parts"][0],
        json!({"kind": "text", "text": "Generated text content"})
    );
    let user = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "user")
        .expect("user message");
    assert_eq!(user["kind"], "message");
    assert_eq!(user["parts"][0], json!({"kind": "text", "text": "hello"}));
}

#[tokio::test]
async fn task_created_through_v03_reads_through_v1_get_task() {
    let app = spawn_app().await;
    let created = app
        .ok(
            V::Legacy,
            "message/send",
            json!({"message": msg_v03("tck-complete-task")}),
        )
        .await;
    assert_eq!(created["kind"], "task");
    let id = created["id"].as_str().unwrap();

    let t = app.ok(V::V1, "GetTask", json!({"id": id})).await;
    assert!(!has_key(&t, "kind"), "1.0 must not emit kind: {t}");
    assert_eq!(t["id"], id);
    assert_eq!(t["contextId"], created["contextId"]);
    assert_eq!(t["status"]["state"], "TASK_STATE_COMPLETED");
    assert_eq!(t["status"]["message"]["role"], "ROLE_AGENT");
    assert_eq!(
        t["status"]["message"]["parts"][0],
        json!({"text": "Hello from TCK"})
    );
    let history = t["history"].as_array().unwrap();
    assert!(history.iter().any(|m| m["role"] == "ROLE_USER"), "{t}");
}

#[tokio::test]
async fn task_created_through_v03_continues_through_v1() {
    let app = spawn_app().await;
    let created = app
        .ok(
            V::Legacy,
            "message/send",
            json!({"message": msg_v03("tck-input-required")}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let mut m = msg_v1("tck-complete-task");
    m["taskId"] = json!(id);
    let r = app.ok(V::V1, "SendMessage", json!({"message": m})).await;
    assert_eq!(r["task"]["id"], id);
    assert_eq!(r["task"]["status"]["state"], "TASK_STATE_COMPLETED");
    let t = app.ok(V::Legacy, "tasks/get", json!({"id": id})).await;
    assert_eq!(t["status"]["state"], "completed");
}

#[tokio::test]
async fn task_created_through_v01_is_visible_to_v1_get_task_and_list_tasks() {
    let app = spawn_app().await;
    let id = format!("legacy-{}", uuid::Uuid::new_v4());
    let session = format!("session-{}", uuid::Uuid::new_v4());
    let params = json!({
        "id": id,
        "sessionId": session,
        "message": {"role": "user", "parts": [{"type": "text", "text": "from 0.1"}]},
    });
    app.ok(V::Legacy, "tasks/send", params).await;

    let t = app.ok(V::V1, "GetTask", json!({"id": id})).await;
    assert!(!has_key(&t, "kind") && !has_key(&t, "type"), "{t}");
    assert_eq!(t["id"], id.as_str());
    assert_eq!(t["contextId"], session.as_str(), "sessionId is the context");
    assert_eq!(t["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    assert_eq!(
        t["status"]["message"]["parts"][0],
        json!({"text": "from 0.1"})
    );

    let list = app.ok(V::V1, "ListTasks", json!({})).await;
    let ids: Vec<&str> = list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()), "{list}");
    let by_context = app
        .ok(V::V1, "ListTasks", json!({"contextId": session}))
        .await;
    assert_eq!(
        by_context["tasks"].as_array().unwrap().len(),
        1,
        "{by_context}"
    );
    assert_eq!(by_context["tasks"][0]["id"], id.as_str());
}

#[tokio::test]
async fn task_created_through_v1_cancels_through_v03() {
    let app = spawn_app().await;
    let r = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required")}),
        )
        .await;
    let id = r["task"]["id"].as_str().unwrap();
    let t = app.ok(V::Legacy, "tasks/cancel", json!({"id": id})).await;
    assert_eq!(t["kind"], "task");
    assert_eq!(t["status"]["state"], "canceled");
    let t = app.ok(V::V1, "GetTask", json!({"id": id})).await;
    assert_eq!(t["status"]["state"], "TASK_STATE_CANCELED");
    app.err(V::V1, "CancelTask", json!({"id": id}), -32002)
        .await;
}
