//! The HTTP+JSON binding on the real binary, across transports: a task created over REST is
//! read, followed (SSE) and cancelled over JSON-RPC and the other way round; push
//! notifications are the same whichever transport registered them; bad requests, wrong
//! routes, another owner's task and a refused caller each get a `google.rpc.Status` body
//! with the right HTTP status.

mod support;
#[path = "support/webhook.rs"]
mod webhook;

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::ServerProcess;
use webhook::Receiver;

const A: &str = "a2a_alice_0123456789abcdef";
const B: &str = "a2a_bob_fedcba9876543210";

fn start() -> (ServerProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    let line = |key: &str, owner: &str| {
        format!("{} {owner}\n", hex::encode(Sha256::digest(key.as_bytes())))
    };
    std::fs::write(&keys, line(A, "alice") + &line(B, "bob")).unwrap();
    let config = dir.path().join("a2a.toml");
    std::fs::write(
        &config,
        format!("[auth.api_keys]\nfile = {:?}\n", keys.display().to_string()),
    )
    .unwrap();
    let p = ServerProcess::start(
        &[
            "--store",
            "memory:",
            "--push-allow-private-networks",
            "--config",
            config.to_str().unwrap(),
        ],
        &[],
    );
    (p, dir)
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

fn msg(id_prefix: &str) -> Value {
    json!({"messageId": format!("{id_prefix}-{}", uuid::Uuid::new_v4()), "role": "ROLE_USER",
           "parts": [{"text": "hello"}]})
}

/// A 1.0 JSON-RPC call as `key`: its `result`, or its `error` as `Err`.
async fn rpc(url: &str, key: &str, method: &str, params: Value) -> Result<Value, Value> {
    let r: Value = http()
        .post(format!("{url}/"))
        .header("X-API-Key", key)
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    match r.get("error") {
        Some(e) => Err(e.clone()),
        None => Ok(r["result"].clone()),
    }
}

/// A REST call as `key`: status, Content-Type and the JSON body.
async fn rest(
    url: &str,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut rb = http()
        .request(method, format!("{url}/rest{path}"))
        .header("X-API-Key", key)
        .header("A2A-Version", "1.0");
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = content_type(&r);
    let text = r.text().await.unwrap();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, ct, v)
}

fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The `data:` payloads of an SSE response, one JSON value each, as they arrive.
fn sse_events(r: reqwest::Response) -> impl futures::Stream<Item = Value> + Unpin {
    let mut events = eventsource_stream::EventStream::new(r.bytes_stream());
    Box::pin(async_stream::stream! {
        while let Some(Ok(ev)) = events.next().await {
            if !ev.data.is_empty() {
                yield serde_json::from_str::<Value>(&ev.data).expect("each data line is JSON");
            }
        }
    })
}

/// Reads events until one is a status update with `state`; panics if the stream ends
/// first (or after 20 s).
async fn until_state(
    events: &mut (impl futures::Stream<Item = Value> + Unpin),
    unwrap: impl Fn(Value) -> Value,
    state: &str,
) -> Vec<Value> {
    let mut seen = Vec::new();
    let got = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(ev) = events.next().await {
            let ev = unwrap(ev);
            let done = ev["statusUpdate"]["status"]["state"] == state;
            seen.push(ev);
            if done {
                return true;
            }
        }
        false
    })
    .await;
    assert!(got == Ok(true), "no {state} status update; saw {seen:#?}");
    seen
}

#[tokio::test]
async fn a_rest_task_is_read_followed_and_cancelled_over_jsonrpc() {
    let (server, _dir) = start();
    let url = &server.url;
    let (status, ct, r) = rest(
        url,
        A,
        reqwest::Method::POST,
        "/message:send",
        Some(json!({"message": msg("tck-input-required")})),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert!(ct.starts_with("application/json"), "{ct}");
    let task = r["task"].clone();
    let id = task["id"].as_str().unwrap().to_string();
    assert_eq!(task["status"]["state"], "TASK_STATE_INPUT_REQUIRED");

    // Read over JSON-RPC: the same task.
    let got = rpc(url, A, "GetTask", json!({"id": id})).await.unwrap();
    assert_eq!(got["id"], task["id"]);
    assert_eq!(got["contextId"], task["contextId"]);
    assert_eq!(got["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    // And over REST, the same JSON.
    let (status, _, via_rest) =
        rest(url, A, reqwest::Method::GET, &format!("/tasks/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(via_rest, got);

    // Followed over JSON-RPC, cancelled over REST: the subscriber sees the cancel.
    let sub = http()
        .post(format!("{url}/"))
        .header("X-API-Key", A)
        .header("A2A-Version", "1.0")
        .json(
            &json!({"jsonrpc": "2.0", "id": 7, "method": "SubscribeToTask", "params": {"id": id}}),
        )
        .send()
        .await
        .unwrap();
    assert!(content_type(&sub).starts_with("text/event-stream"));
    let mut events = sse_events(sub);
    let first = events.next().await.expect("the subscription's first event");
    assert_eq!(first["result"]["task"]["id"], task["id"]);
    let (status, _, canceled) = rest(
        url,
        A,
        reqwest::Method::POST,
        &format!("/tasks/{id}:cancel"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["status"]["state"], "TASK_STATE_CANCELED");
    until_state(&mut events, |e| e["result"].clone(), "TASK_STATE_CANCELED").await;
    // A second cancel: the task is final.
    let (status, _, e) = rest(
        url,
        A,
        reqwest::Method::POST,
        &format!("/tasks/{id}:cancel"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["error"]["details"][0]["reason"], "TASK_NOT_CANCELABLE");
    let e = rpc(url, A, "CancelTask", json!({"id": id}))
        .await
        .unwrap_err();
    assert_eq!(e["code"], -32002);
}

#[tokio::test]
async fn a_jsonrpc_task_is_read_followed_and_cancelled_over_rest() {
    let (server, _dir) = start();
    let url = &server.url;
    let task = rpc(
        url,
        A,
        "SendMessage",
        json!({"message": msg("tck-input-required")}),
    )
    .await
    .unwrap()["task"]
        .clone();
    let id = task["id"].as_str().unwrap().to_string();
    let (status, _, got) = rest(url, A, reqwest::Method::GET, &format!("/tasks/{id}"), None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["id"], task["id"]);
    assert_eq!(got["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    // Listed over REST, by context.
    let ctx = task["contextId"].as_str().unwrap();
    let (status, _, list) = rest(
        url,
        A,
        reqwest::Method::GET,
        &format!("/tasks?contextId={ctx}&includeArtifacts=true"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["tasks"][0]["id"], task["id"]);

    // Followed over REST (GET :subscribe, as the proto has it), cancelled over JSON-RPC.
    let sub = http()
        .get(format!("{url}/rest/tasks/{id}:subscribe"))
        .header("X-API-Key", A)
        .header("A2A-Version", "1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(sub.status(), 200);
    assert!(content_type(&sub).starts_with("text/event-stream"));
    let mut events = sse_events(sub);
    // Each data line is a bare StreamResponse, no JSON-RPC envelope.
    let first = events.next().await.expect("the subscription's first event");
    assert_eq!(first["task"]["id"], task["id"], "{first}");
    let canceled = rpc(url, A, "CancelTask", json!({"id": id})).await.unwrap();
    assert_eq!(canceled["status"]["state"], "TASK_STATE_CANCELED");
    until_state(&mut events, |e| e, "TASK_STATE_CANCELED").await;
}

#[tokio::test]
async fn a_rest_stream_is_bare_stream_responses_and_post_subscribe_works() {
    let (server, _dir) = start();
    let url = &server.url;
    let r = http()
        .post(format!("{url}/rest/message:stream"))
        .header("X-API-Key", A)
        .header("A2A-Version", "1.0")
        .json(&json!({"message": msg("tck-stream-003")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events: Vec<Value> = sse_events(r).collect().await;
    assert!(events[0]["task"]["id"].is_string(), "{events:#?}");
    let last = events.last().unwrap();
    assert_eq!(
        last["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    // POST :subscribe with an empty body on a final task: the error is a plain HTTP
    // answer, not a 200 stream.
    let id = events[0]["task"]["id"].as_str().unwrap();
    let r = http()
        .post(format!("{url}/rest/tasks/{id}:subscribe"))
        .header("X-API-Key", A)
        .header("A2A-Version", "1.0")
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!(content_type(&r).starts_with("application/json"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], status, "{body}");
    assert!(status >= 400, "{body}");
}

/// A notification with what differs between two runs of the same script blanked out.
fn normalized(v: &Value, ids: &[&str]) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if k == "timestamp" || k == "messageId" || k == "artifactId" {
                        Value::String("<x>".into())
                    } else {
                        normalized(v, ids)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| normalized(v, ids)).collect()),
        Value::String(s) if ids.contains(&s.as_str()) => Value::String("<id>".into()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn push_notifications_are_the_same_whichever_transport_registered_them() {
    let (server, _dir) = start();
    let url = &server.url;
    let hook = Receiver::start().await;
    let config =
        |path: &str| json!({"taskPushNotificationConfig": {"url": hook.url(path), "token": "t"}});
    let (status, _, r) = rest(
        url,
        A,
        reqwest::Method::POST,
        "/message:send",
        Some(json!({"message": msg("tck-stream-artifact-chunked"), "configuration": config("/rest")})),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let rest_task = r["task"].clone();
    let rpc_task = rpc(
        url,
        A,
        "SendMessage",
        json!({"message": msg("tck-stream-artifact-chunked"), "configuration": config("/rpc")}),
    )
    .await
    .unwrap()["task"]
        .clone();
    // task, working, 2 artifact chunks, completed: for each.
    let got = hook.wait_for(10).await;
    let of = |path: &str, task: &Value| -> Vec<Value> {
        let ids = [
            task["id"].as_str().unwrap(),
            task["contextId"].as_str().unwrap(),
        ];
        got.iter()
            .filter(|r| r.path == path)
            .map(|r| normalized(&r.json(), &ids))
            .collect()
    };
    let (a, b) = (of("/rest", &rest_task), of("/rpc", &rpc_task));
    assert_eq!(a.len(), 5, "{a:#?}");
    assert_eq!(a, b);

    // A config created over REST reads the same over JSON-RPC, and is deleted over REST.
    let task = rpc(
        url,
        A,
        "SendMessage",
        json!({"message": msg("tck-input-required")}),
    )
    .await
    .unwrap()["task"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, created) = rest(
        url,
        A,
        reqwest::Method::POST,
        &format!("/tasks/{task}/pushNotificationConfigs"),
        Some(json!({"url": hook.url("/c"), "token": "secret"})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let cid = created["id"].as_str().unwrap();
    assert_eq!(created["taskId"], task.as_str());
    let via_rpc = rpc(
        url,
        A,
        "GetTaskPushNotificationConfig",
        json!({"taskId": task, "id": cid}),
    )
    .await
    .unwrap();
    assert_eq!(via_rpc, created);
    let (status, _, listed) = rest(
        url,
        A,
        reqwest::Method::GET,
        &format!("/tasks/{task}/pushNotificationConfigs?pageSize=10"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listed["configs"][0], created);
    let path = format!("/tasks/{task}/pushNotificationConfigs/{cid}");
    let (status, _, _) = rest(url, A, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 200);
    let (status, _, e) = rest(url, A, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 404, "{e}");
}

/// A REST request with a raw body and headers: status, headers, body.
async fn raw(
    url: &str,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &'static str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut rb = http()
        .request(method, format!("{url}/rest{path}"))
        .body(body);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, headers, v)
}

/// `body` is a `google.rpc.Status` answered with `status`.
fn assert_status(status: u16, headers: &reqwest::header::HeaderMap, body: &Value, expected: u16) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(headers["content-type"], "application/json", "{body}");
    assert_eq!(body["error"]["code"], expected, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["status"].is_string(), "{body}");
}

#[tokio::test]
async fn bad_requests_wrong_routes_foreign_tasks_and_refusals_are_status_bodies() {
    let (server, _dir) = start();
    let url = &server.url;
    let json_ct = ("Content-Type", "application/json");
    let key = ("X-API-Key", A);
    let v1 = ("A2A-Version", "1.0");
    let post = reqwest::Method::POST;

    // Bad JSON: 400, naming the problem.
    let (s, h, b) = raw(
        url,
        post.clone(),
        "/message:send",
        &[json_ct, key, v1],
        "{nope",
    )
    .await;
    assert_status(s, &h, &b, 400);
    assert!(
        b["error"]["message"].as_str().unwrap().contains("not JSON"),
        "{b}"
    );
    // A missing required field: 400 naming it.
    let (s, h, b) = raw(
        url,
        post.clone(),
        "/message:send",
        &[json_ct, key, v1],
        "{}",
    )
    .await;
    assert_status(s, &h, &b, 400);
    assert!(
        b["error"]["message"].as_str().unwrap().contains("message"),
        "{b}"
    );
    // Unknown fields are ignored (spec 1.0 §5.7; the kit checks it).
    let body = r#"{"message":{"messageId":"u-1","role":"ROLE_USER","parts":[{"text":"x"}],"zz":1},"extra":2}"#;
    let r = http()
        .post(format!("{url}/rest/message:send"))
        .header("X-API-Key", A)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Wrong Content-Type: 415 (the kit's v1.0.0 table).
    let (s, h, b) = raw(
        url,
        post.clone(),
        "/message:send",
        &[("Content-Type", "text/plain"), key],
        "{}",
    )
    .await;
    assert_status(s, &h, &b, 415);
    assert_eq!(
        b["error"]["details"][0]["reason"],
        "CONTENT_TYPE_NOT_SUPPORTED"
    );
    // Wrong method: 405 with Allow.
    let (s, h, b) = raw(url, reqwest::Method::PUT, "/tasks", &[key], "").await;
    assert_status(s, &h, &b, 405);
    assert_eq!(h["allow"], "GET");
    // Unknown route: 404, naming the routes.
    let (s, h, b) = raw(url, reqwest::Method::GET, "/no/such/route/here", &[key], "").await;
    assert_status(s, &h, &b, 404);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("message:send"),
        "{b}"
    );
    // An unsupported version: 400.
    let (s, h, b) = raw(
        url,
        reqwest::Method::GET,
        "/tasks/x",
        &[key, ("A2A-Version", "99.0")],
        "",
    )
    .await;
    assert_status(s, &h, &b, 400);
    assert_eq!(b["error"]["details"][0]["reason"], "VERSION_NOT_SUPPORTED");

    // Another owner's task is exactly an unknown task.
    let (_, _, r) = rest(
        url,
        A,
        post.clone(),
        "/message:send",
        Some(json!({"message": msg("tck-input-required")})),
    )
    .await;
    let id = r["task"]["id"].as_str().unwrap().to_string();
    let unknown = uuid::Uuid::new_v4().to_string();
    for (method, path) in [
        (reqwest::Method::GET, "/tasks/{}"),
        (post.clone(), "/tasks/{}:cancel"),
        (reqwest::Method::GET, "/tasks/{}/pushNotificationConfigs"),
    ] {
        let (s1, _, foreign) = rest(url, B, method.clone(), &path.replace("{}", &id), None).await;
        let (s2, _, missing) = rest(url, B, method, &path.replace("{}", &unknown), None).await;
        assert_eq!((s1, s2), (404, 404), "{foreign} {missing}");
        assert_eq!(
            foreign.to_string().replace(&id, "<id>"),
            missing.to_string().replace(&unknown, "<id>")
        );
        assert_eq!(foreign["error"]["details"][0]["reason"], "TASK_NOT_FOUND");
    }
    // ... also in a tenant that is not the caller's.
    let (s, _, b) = rest(
        url,
        A,
        reqwest::Method::GET,
        &format!("/other-tenant/tasks/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 404, "{b}");
    // ... and the owner still sees it.
    let (s, _, _) = rest(url, A, reqwest::Method::GET, &format!("/tasks/{id}"), None).await;
    assert_eq!(s, 200);

    // No credentials: 401 with a challenge, a Status body.
    let (s, h, b) = raw(url, reqwest::Method::GET, &format!("/tasks/{id}"), &[], "").await;
    assert_status(s, &h, &b, 401);
    assert!(h.get("www-authenticate").is_some(), "{h:?}");
    assert_eq!(b["error"]["status"], "UNAUTHENTICATED");
    let (s, h, b) = raw(
        url,
        reqwest::Method::GET,
        "/tasks",
        &[("X-API-Key", "a2a_wrong_0000000000000000")],
        "",
    )
    .await;
    assert_status(s, &h, &b, 401);
}

#[tokio::test]
async fn our_client_speaks_rest_to_our_server() {
    use a2a_server::client::{self, A2aClient, SendOptions, Transport};
    use a2a_server::protocol::{SendResult, TaskState, Version};
    let (server, _dir) = start();
    let url = &server.url;
    let mut headers = http::HeaderMap::new();
    headers.insert("x-api-key", A.parse().unwrap());
    let http = client::http_client(headers);
    let card = client::fetch_card_with(&http, url).await.unwrap();
    let endpoint = client::interface_endpoint(&card, Version::V1, Transport::Rest, url).unwrap();
    assert_eq!(endpoint, format!("{url}/rest"));
    // JSON-RPC is the card's first interface: the client's default.
    assert_eq!(client::preferred_transport(&card), Transport::JsonRpc);
    let c = A2aClient::with_http(http, endpoint, Version::V1).with_transport(Transport::Rest);

    let opts = SendOptions {
        message_id: Some(format!("tck-input-required-{}", uuid::Uuid::new_v4())),
        ..SendOptions::text("hello")
    };
    let SendResult::Task(task) = c.send(&opts).await.unwrap() else {
        panic!("a task")
    };
    assert_eq!(task.status.state, TaskState::InputRequired);
    let got = c.get(&task.id, None).await.unwrap();
    assert_eq!(got.id, task.id);
    let canceled = c.cancel(&task.id).await.unwrap();
    assert_eq!(canceled.status.state, TaskState::Canceled);
    // An error is the A2A error, whatever the transport.
    let e = c.get("no-such-task", None).await.unwrap_err();
    assert_eq!(e.rpc_code(), Some(-32001), "{e}");

    // A stream: every event decoded, ending in a final state.
    let opts = SendOptions {
        message_id: Some(format!("tck-stream-003-{}", uuid::Uuid::new_v4())),
        ..SendOptions::text("hello")
    };
    let events: Vec<_> = c.stream(&opts).collect().await;
    assert!(events.len() >= 2, "{events:?}");
    assert!(events.iter().all(Result::is_ok), "{events:?}");
}
