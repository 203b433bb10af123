//! The HTTP+JSON binding of A2A 0.3 (`/rest/v1/…`) on the real binary: 0.3 ProtoJSON in
//! either spelling (the 0.3 kit's snake_case, the SDK's camelCase), answers with only proto
//! members and proto enums, SSE of `StreamResponse`s, push configs by resource name, the
//! same tasks as the other transports, and `google.rpc.Status` errors that name the problem.

mod support;

use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use support::ServerProcess;

fn start() -> ServerProcess {
    ServerProcess::start(&["--store", "memory:"], &[])
}

/// A 0.3 REST call: status, `Allow` and the JSON body.
async fn call(url: &str, method: Method, path: &str, body: Option<&str>) -> (u16, String, Value) {
    let mut rb = reqwest::Client::new().request(method, format!("{url}/rest/v1{path}"));
    if let Some(b) = body {
        rb = rb
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let allow = r
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, allow, v)
}

/// What the 0.3 kit sends: proto field names.
fn kit_send(prefix: &str) -> String {
    json!({"request": {"message_id": format!("{prefix}-{}", uuid::Uuid::new_v4()),
        "role": "ROLE_USER", "content": [{"text": "hello"}]},
        "configuration": {"blocking": true}})
    .to_string()
}

#[tokio::test]
async fn a_0_3_rest_task_is_proto_json_and_the_same_task_over_jsonrpc() {
    let server = start();
    let url = &server.url;
    let (status, _, sent) = call(
        url,
        Method::POST,
        "/message:send",
        Some(&kit_send("tck-complete-task")),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    let task = &sent["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{sent}");
    assert_eq!(task["status"]["message"]["role"], "ROLE_AGENT", "{sent}");
    assert_eq!(
        task["status"]["message"]["content"][0]["text"],
        "Hello from TCK"
    );
    assert!(!sent.to_string().contains("\"kind\""), "{sent}");
    let id = task["id"].as_str().unwrap();

    let (status, _, got) = call(
        url,
        Method::GET,
        &format!("/tasks/{id}?historyLength=1"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["id"], id);
    assert_eq!(got["history"].as_array().unwrap().len(), 1, "{got}");

    // The same task, read over 1.0 JSON-RPC.
    let rpc: Value = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": id}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        rpc["result"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{rpc}"
    );

    // Cancel an input-required task: CANCELLED (the proto's spelling), then 409.
    let body = json!({"message": {"messageId": format!("tck-input-required-{}", uuid::Uuid::new_v4()),
        "role": "ROLE_USER", "content": [{"text": "wait"}]}, "configuration": {"blocking": true}});
    let (_, _, waiting) = call(url, Method::POST, "/message:send", Some(&body.to_string())).await;
    assert_eq!(
        waiting["task"]["status"]["state"], "TASK_STATE_INPUT_REQUIRED",
        "{waiting}"
    );
    let wid = waiting["task"]["id"].as_str().unwrap();
    let (status, _, canceled) = call(
        url,
        Method::POST,
        &format!("/tasks/{wid}:cancel"),
        Some("{}"),
    )
    .await;
    assert_eq!(
        (status, &canceled["status"]["state"]),
        (200, &json!("TASK_STATE_CANCELLED")),
        "{canceled}"
    );
    let (status, _, again) = call(url, Method::POST, &format!("/tasks/{wid}:cancel"), None).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(
        again["error"]["details"][0]["reason"], "TASK_NOT_CANCELABLE",
        "{again}"
    );
}

#[tokio::test]
async fn a_0_3_rest_stream_is_stream_responses_without_event_ids() {
    let server = start();
    let r = reqwest::Client::new()
        .post(format!("{}/rest/v1/message:stream", server.url))
        .header("Content-Type", "application/json")
        .body(kit_send("tck-stream-001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut events = eventsource_stream::EventStream::new(r.bytes_stream());
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(ev)) = events.next().await {
            assert!(ev.id.is_empty(), "0.3 events carry no id: {ev:?}");
            let v: Value = serde_json::from_str(&ev.data).unwrap();
            let done = v["statusUpdate"]["final"] == true;
            seen.push(v);
            if done {
                break;
            }
        }
    })
    .await
    .expect("the stream ends");
    let kinds: Vec<&str> = seen
        .iter()
        .map(|v| v.as_object().unwrap().keys().next().unwrap().as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"task"), "{seen:?}");
    assert!(kinds.contains(&"artifactUpdate"), "{seen:?}");
    let last = &seen.last().unwrap()["statusUpdate"];
    assert_eq!(last["status"]["state"], "TASK_STATE_COMPLETED", "{seen:?}");
}

#[tokio::test]
async fn push_configs_go_by_resource_name() {
    let server = ServerProcess::start(
        &["--store", "memory:", "--push-allow-private-networks"],
        &[],
    );
    let url = &server.url;
    let (_, _, t) = call(
        url,
        Method::POST,
        "/message:send",
        Some(&kit_send("tck-input-required")),
    )
    .await;
    let id = t["task"]["id"].as_str().unwrap();
    let create = json!({"parent": format!("tasks/{id}"), "config_id": "c1",
        "config": {"name": format!("tasks/{id}/pushNotificationConfigs/c1"),
            "push_notification_config": {"url": "http://127.0.0.1:9/hook", "token": "tok"}}});
    let path = format!("/tasks/{id}/pushNotificationConfigs");
    let (status, _, made) = call(url, Method::POST, &path, Some(&create.to_string())).await;
    assert_eq!(status, 200, "{made}");
    let name = format!("tasks/{id}/pushNotificationConfigs/c1");
    assert_eq!(made["name"], name, "{made}");
    assert_eq!(
        made["pushNotificationConfig"]["url"],
        "http://127.0.0.1:9/hook"
    );
    let (_, _, got) = call(url, Method::GET, &format!("{path}/c1"), None).await;
    assert_eq!(got["pushNotificationConfig"]["token"], "tok", "{got}");
    let (_, _, list) = call(url, Method::GET, &path, None).await;
    assert_eq!(list["configs"][0]["name"], name, "{list}");
    let (status, _, deleted) = call(url, Method::DELETE, &format!("{path}/c1"), None).await;
    assert_eq!((status, deleted), (200, json!({})));
    let (_, _, list) = call(url, Method::GET, &path, None).await;
    assert_eq!(list, json!({"configs": []}));
}

#[tokio::test]
async fn bad_0_3_requests_are_status_bodies_naming_the_problem() {
    let server = start();
    let url = &server.url;
    for (method, path, body, status, says) in [
        (Method::GET, "/tasks", None, 404, "/v1/message:send"),
        (Method::POST, "/message:send", Some("{"), 400, "not JSON"),
        (
            Method::POST,
            "/message:send",
            Some("{}"),
            400,
            "`message` is required",
        ),
        (
            Method::POST,
            "/message:send",
            Some(r#"{"message":{"role":"ROLE_USER","content":[{}]}}"#),
            400,
            "`text`, `file` or `data`",
        ),
        (Method::PUT, "/message:send", Some("{}"), 405, "POST"),
        (Method::GET, "/tasks/nope", None, 404, "nope"),
    ] {
        let (got, allow, v) = call(url, method.clone(), path, body).await;
        assert_eq!(got, status, "{method} {path}: {v}");
        assert_eq!(v["error"]["code"], status, "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{method} {path}: {message}");
        if status == 405 {
            assert_eq!(allow, "POST");
        }
    }
    // A 0.3 route asked for in 1.0.
    let r = reqwest::Client::new()
        .get(format!("{url}/rest/v1/tasks/x"))
        .header("A2A-Version", "1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["error"]["details"][0]["reason"], "VERSION_NOT_SUPPORTED",
        "{v}"
    );
}
