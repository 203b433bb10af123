//! Error paths: the JSON-RPC envelope, params validation, HTTP limits, version
//! negotiation, capability gating and unknown tasks, for every wire version.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use a2a_server::protocol::request::ListTasksQuery;
use a2a_server::store::Scope;

use crate::helpers::{TestApp, V, eventually, msg_v1, msg_v03, spawn_app, spawn_with};

/// jsonrpsee's own server codes, which mean something else in A2A; the HTTP limits must
/// never answer with them.
const JSONRPSEE_CODES: std::ops::RangeInclusive<i64> = -32009..=-32005;

/// POSTs `body` to `/{query}` with extra headers; returns status, headers and JSON body.
async fn post(
    app: &TestApp,
    query: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> (u16, HeaderMap, Value) {
    let mut rb = app
        .http
        .post(format!("{}/{query}", app.url))
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let resp = rb.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body read");
    let json =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body {text:?}: {e}"));
    (status, headers, json)
}

/// A JSON-RPC request body.
fn rpc(id: Value, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// Asserts a well-formed JSON-RPC error response with `code`; returns the error object.
fn assert_error(body: &Value, code: i64) -> &Value {
    assert_eq!(body["jsonrpc"], "2.0", "{body}");
    assert!(body.get("result").is_none(), "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    &body["error"]
}

/// A streaming call that must fail with `code`: the error comes as a JSON body or, for
/// 0.x streaming methods, as the single event of an SSE stream. Returns the error object.
async fn stream_err(app: &TestApp, v: V, method: &str, params: Value, code: i64) -> Value {
    let resp = app
        .stream_request(v, method, params)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200, "{method}");
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    let body: Value = if ct.starts_with("text/event-stream") {
        let events: Vec<_> = eventsource_stream::EventStream::new(resp.bytes_stream())
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .map(|e| e.expect("valid SSE"))
            .collect();
        assert_eq!(
            events.len(),
            1,
            "{method}: one error event, then the end: {events:?}"
        );
        serde_json::from_str(&events[0].data).expect("JSON data")
    } else {
        assert!(
            ct.starts_with("application/json"),
            "{method}: content-type {ct}"
        );
        resp.json().await.expect("JSON body")
    };
    assert_eq!(body["id"], "stream-1", "{method}: {body}");
    assert_error(&body, code).clone()
}

fn assert_not_jsonrpsee_code(body: &Value) {
    let code = body["error"]["code"].as_i64().expect("numeric error code");
    assert!(
        !JSONRPSEE_CODES.contains(&code),
        "a jsonrpsee code leaked: {body}"
    );
}

// ---- envelope ----

#[tokio::test]
async fn malformed_json_is_parse_error_with_null_id() {
    let app = spawn_app().await;
    for body in [r#"{not json"#, r#"{"jsonrpc":"2.0","id":5,"method":"#, ""] {
        let (status, body) = app.post_raw(body, "application/json").await;
        assert_eq!(status, 200);
        assert_error(&body, -32700);
        assert!(body["id"].is_null(), "{body}");
    }
}

#[tokio::test]
async fn request_without_jsonrpc_is_invalid_request_with_id_echoed() {
    let app = spawn_app().await;
    let body = json!({"id": "req-1", "method": "tasks/get", "params": {"id": "x"}});
    let (status, body) = app.post_raw(body.to_string(), "application/json").await;
    assert_eq!(status, 200);
    assert_error(&body, -32600);
    assert_eq!(body["id"], "req-1");
}

#[tokio::test]
async fn jsonrpc_1_0_is_invalid_request_with_id_echoed() {
    let app = spawn_app().await;
    let body = json!({"jsonrpc": "1.0", "id": 17, "method": "tasks/get", "params": {"id": "x"}});
    let (_, body) = app.post_raw(body.to_string(), "application/json").await;
    assert_error(&body, -32600);
    assert_eq!(body["id"], 17);
}

#[tokio::test]
async fn request_without_method_is_invalid_request_with_id_echoed() {
    let app = spawn_app().await;
    let body = json!({"jsonrpc": "2.0", "id": "no-method", "params": {}});
    let (_, body) = app.post_raw(body.to_string(), "application/json").await;
    assert_error(&body, -32600);
    assert_eq!(body["id"], "no-method");
}

#[tokio::test]
async fn array_params_are_invalid_request_with_id_echoed() {
    let app = spawn_app().await;
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tasks/get", "params": ["x"]});
    let (_, body) = app.post_raw(body.to_string(), "application/json").await;
    assert_error(&body, -32600);
    assert_eq!(body["id"], 3);
}

#[tokio::test]
async fn json_that_is_not_an_object_is_invalid_request() {
    let app = spawn_app().await;
    for raw in ["\"a string\"", "42", "null", "true"] {
        let (_, body) = app.post_raw(raw, "application/json").await;
        assert_error(&body, -32600);
        assert!(body["id"].is_null(), "{body}");
    }
}

#[tokio::test]
async fn batch_is_invalid_request_and_never_a_jsonrpsee_code() {
    let app = spawn_app().await;
    let one = json!({"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}});
    let batches = [
        json!([one]),
        json!([one, one]),
        // Four elements line up with a struct's four fields: still a batch, not a request.
        json!([one, one, one, one]),
        json!([]),
    ];
    for batch in batches {
        let (status, body) = app.post_raw(batch.to_string(), "application/json").await;
        assert_eq!(status, 200, "{batch}");
        assert_error(&body, -32600);
        assert_not_jsonrpsee_code(&body);
        assert!(
            body.is_object(),
            "a batch must not get a batch reply: {body}"
        );
    }
}

#[tokio::test]
async fn positional_array_is_not_read_as_a_request() {
    let app = spawn_app().await;
    // An array whose elements happen to be jsonrpc, id, method and params, in order.
    let body = json!(["2.0", 1, "tasks/get", {"id": "x"}]);
    let (_, body) = app.post_raw(body.to_string(), "application/json").await;
    assert_error(&body, -32600);
    assert!(body["id"].is_null(), "{body}");
}

#[tokio::test]
async fn unknown_method_is_method_not_found_with_id_echoed_in_its_type() {
    let app = spawn_app().await;
    for id in [json!("abc"), json!("7"), json!(7), json!(0)] {
        for headers in [&[][..], &[("A2A-Version", "1.0")][..]] {
            let (status, _, body) = post(
                &app,
                "",
                headers,
                rpc(id.clone(), "tasks/frobnicate", json!({})),
            )
            .await;
            assert_eq!(status, 200);
            assert_error(&body, -32601);
            assert_eq!(body["id"], id, "id must keep its JSON type: {body}");
        }
    }
}

#[tokio::test]
async fn successful_responses_echo_the_id_in_its_type() {
    let app = spawn_app().await;
    for id in [json!("s-1"), json!("1"), json!(1)] {
        let params = json!({"message": msg_v03("tck-complete-task")});
        let (_, _, body) = post(&app, "", &[], rpc(id.clone(), "message/send", params)).await;
        assert!(body.get("error").is_none(), "{body}");
        assert_eq!(body["id"], id, "{body}");
    }
}

// ---- params validation ----

#[tokio::test]
async fn send_message_without_message_is_invalid_params_naming_it() {
    let app = spawn_app().await;
    let e = app.err(V::V1, "SendMessage", json!({}), -32602).await;
    assert!(e["message"].as_str().unwrap().contains("message"), "{e}");
    let e = app.err(V::Legacy, "message/send", json!({}), -32602).await;
    assert!(e["message"].as_str().unwrap().contains("message"), "{e}");
}

#[tokio::test]
async fn message_without_parts_is_invalid_params_naming_parts() {
    let app = spawn_app().await;
    let mut m = msg_v1("no-parts");
    m.as_object_mut().unwrap().remove("parts");
    let e = app
        .err(V::V1, "SendMessage", json!({"message": m}), -32602)
        .await;
    assert!(e["message"].as_str().unwrap().contains("parts"), "{e}");

    let mut m = msg_v03("no-parts");
    m.as_object_mut().unwrap().remove("parts");
    let e = app
        .err(V::Legacy, "message/send", json!({"message": m}), -32602)
        .await;
    assert!(e["message"].as_str().unwrap().contains("parts"), "{e}");
}

#[tokio::test]
async fn message_with_empty_parts_is_invalid_params_naming_parts() {
    let app = spawn_app().await;
    let mut m = msg_v1("empty-parts");
    m["parts"] = json!([]);
    let e = app
        .err(V::V1, "SendMessage", json!({"message": m}), -32602)
        .await;
    assert!(e["message"].as_str().unwrap().contains("parts"), "{e}");

    let mut m = msg_v03("empty-parts");
    m["parts"] = json!([]);
    let e = app
        .err(V::Legacy, "message/send", json!({"message": m}), -32602)
        .await;
    assert!(e["message"].as_str().unwrap().contains("parts"), "{e}");
}

#[tokio::test]
async fn missing_task_id_is_invalid_params_naming_id() {
    let app = spawn_app().await;
    for (v, method) in [
        (V::V1, "GetTask"),
        (V::V1, "CancelTask"),
        (V::Legacy, "tasks/get"),
        (V::Legacy, "tasks/cancel"),
    ] {
        let e = app.err(v, method, json!({}), -32602).await;
        assert!(
            e["message"].as_str().unwrap().contains("`id`"),
            "{method}: {e}"
        );
    }
}

#[tokio::test]
async fn negative_history_length_is_invalid_params() {
    let app = spawn_app().await;
    let e = app
        .err(
            V::V1,
            "GetTask",
            json!({"id": "x", "historyLength": -1}),
            -32602,
        )
        .await;
    assert!(
        e["message"].as_str().unwrap().contains("historyLength"),
        "{e}"
    );
    let e = app
        .err(
            V::Legacy,
            "tasks/get",
            json!({"id": "x", "historyLength": -1}),
            -32602,
        )
        .await;
    assert!(
        e["message"].as_str().unwrap().contains("historyLength"),
        "{e}"
    );
    let params = json!({"message": msg_v1("neg-history"), "configuration": {"historyLength": -1}});
    let e = app.err(V::V1, "SendMessage", params, -32602).await;
    assert!(
        e["message"].as_str().unwrap().contains("historyLength"),
        "{e}"
    );
}

#[tokio::test]
async fn list_tasks_page_size_over_100_is_invalid_params() {
    let app = spawn_app().await;
    let e = app
        .err(V::V1, "ListTasks", json!({"pageSize": 150}), -32602)
        .await;
    assert!(e["message"].as_str().unwrap().contains("pageSize"), "{e}");
    let e = app
        .err(V::V1, "ListTasks", json!({"pageSize": -1}), -32602)
        .await;
    assert!(e["message"].as_str().unwrap().contains("pageSize"), "{e}");
}

#[tokio::test]
async fn list_tasks_invalid_status_is_invalid_params() {
    let app = spawn_app().await;
    let e = app
        .err(
            V::V1,
            "ListTasks",
            json!({"status": "TASK_STATE_BOGUS"}),
            -32602,
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("status"), "{e}");
}

#[tokio::test]
async fn v1_params_errors_use_1_0_error_shape() {
    let app = spawn_app().await;
    let r = app.call(V::V1, "GetTask", json!({})).await;
    assert_eq!(r["jsonrpc"], "2.0");
    assert_eq!(r["id"], 1);
    assert_eq!(r["error"]["code"], -32602);
}

// ---- HTTP limits ----

#[tokio::test]
async fn wrong_content_type_is_415_with_content_type_not_supported() {
    let app = spawn_app().await;
    let body = rpc(json!(1), "tasks/get", json!({"id": "x"}));
    let (status, body) = app.post_raw(body, "text/plain").await;
    assert_eq!(status, 415);
    assert_error(&body, -32005);
}

#[tokio::test]
async fn json_content_types_with_parameters_are_accepted() {
    let app = spawn_app().await;
    for ct in [
        "application/json; charset=utf-8",
        "application/a2a+json",
        "Application/JSON",
    ] {
        let body = rpc(json!(1), "tasks/get", json!({"id": "x"}));
        let (status, body) = app.post_raw(body, ct).await;
        assert_eq!(status, 200, "{ct}");
        assert_error(&body, -32001);
    }
}

#[tokio::test]
async fn oversized_body_is_413_with_a_json_rpc_error() {
    let app = spawn_with(|c| c.max_body_bytes = 2048).await;
    let mut m = msg_v03("tck-complete-task");
    m["parts"][0]["text"] = json!("x".repeat(10 * 1024));
    let body = rpc(json!(1), "message/send", json!({"message": m}));
    assert!(body.len() > 10 * 1024);
    let (status, body) = app.post_raw(body, "application/json").await;
    assert_eq!(status, 413);
    assert_eq!(body["jsonrpc"], "2.0", "{body}");
    assert!(body["error"]["code"].is_i64(), "{body}");
    assert_not_jsonrpsee_code(&body);

    // A body under the limit still works.
    let small = rpc(json!(2), "tasks/get", json!({"id": "x"}));
    let (status, body) = app.post_raw(small, "application/json").await;
    assert_eq!(status, 200);
    assert_error(&body, -32001);
}

#[tokio::test]
async fn oversized_chunked_body_is_413_without_a_content_length() {
    let app = spawn_with(|c| c.max_body_bytes = 2048).await;
    let mut m = msg_v03("tck-complete-task");
    m["parts"][0]["text"] = json!("x".repeat(10 * 1024));
    let body = rpc(json!(1), "message/send", json!({"message": m})).into_bytes();
    // Streamed in pieces: chunked transfer encoding, so only the bytes read can tell.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(1024).map(|c| Ok(c.to_vec())).collect();
    let (status, _, body) = post(
        &app,
        "",
        &[],
        reqwest::Body::wrap_stream(futures::stream::iter(chunks)),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(body["jsonrpc"], "2.0", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("2048 bytes")),
        "{body}"
    );
    assert_not_jsonrpsee_code(&body);
}

#[tokio::test]
async fn other_methods_on_the_endpoint_are_405_naming_post() {
    let app = spawn_app().await;
    let resp = app.http.get(format!("{}/", app.url)).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    let body: Value = resp.json().await.expect("a JSON body");
    assert!(body["error"].as_str().unwrap().contains("POST"), "{body}");
}

#[tokio::test]
async fn concurrency_limit_answers_503_with_retry_after_and_a_non_jsonrpsee_code() {
    let app = spawn_with(|c| c.max_concurrent_requests = 1).await;
    // Hold the only slot: a blocking send that takes about 4 s.
    let hold = app
        .http
        .post(format!("{}/", app.url))
        .header("A2A-Version", "1.0")
        .json(&json!({
            "jsonrpc": "2.0", "id": "hold", "method": "SendMessage",
            "params": {"message": msg_v1("test-resubscribe-message-id")},
        }));
    let started = Instant::now();
    let holder =
        tokio::spawn(async move { hold.send().await.expect("sent").json::<Value>().await });

    // Wait until the holder is inside the handler: its task exists.
    eventually(|| async {
        let q = ListTasksQuery {
            page_size: 10,
            ..Default::default()
        };
        app.service
            .list(&Scope::default(), &q)
            .await
            .is_ok_and(|p| p.total_size == 1)
    })
    .await;

    let probe = || async {
        post(
            &app,
            "",
            &[],
            rpc(json!(9), "tasks/get", json!({"id": "x"})),
        )
        .await
    };
    let mut shed = None;
    for _ in 0..200 {
        let r = probe().await;
        if r.0 == 503 {
            shed = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_, headers, body) = shed.expect("no request was shed while the slot was held");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the slot was not held"
    );
    assert!(headers.contains_key("retry-after"), "{headers:?}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(body["jsonrpc"], "2.0", "{body}");
    assert!(body["error"]["code"].is_i64(), "{body}");
    assert!(body.get("result").is_none());
    assert_not_jsonrpsee_code(&body);

    // The held request completes, and then the slot is free again.
    let held = holder.await.unwrap().expect("JSON response");
    assert_eq!(
        held["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{held}"
    );
    let (status, _, body) = probe().await;
    assert_eq!(status, 200);
    assert_error(&body, -32001);
}

// ---- versions ----

#[tokio::test]
async fn unsupported_a2a_versions_are_version_not_supported() {
    let app = spawn_app().await;
    for version in ["0.5", "2.0", "banana"] {
        let params = json!({"message": msg_v1("tck-complete-task")});
        let (status, _, body) = post(
            &app,
            "",
            &[("A2A-Version", version)],
            rpc(json!(4), "SendMessage", params),
        )
        .await;
        assert_eq!(status, 200);
        assert_error(&body, -32009);
        assert_eq!(body["id"], 4);
    }
}

#[tokio::test]
async fn patch_version_is_treated_as_1_0() {
    let app = spawn_app().await;
    let params = json!({"message": msg_v1("tck-complete-task")});
    let (_, _, body) = post(
        &app,
        "",
        &[("A2A-Version", "1.0.7")],
        rpc(json!(1), "SendMessage", params),
    )
    .await;
    assert_eq!(
        body["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{body}"
    );
    assert!(body["result"]["task"].get("kind").is_none());
}

#[tokio::test]
async fn version_query_parameter_is_honoured_like_the_header() {
    let app = spawn_app().await;
    let params = json!({"message": msg_v1("tck-complete-task")});
    let (_, _, body) = post(
        &app,
        "?A2A-Version=1.0",
        &[],
        rpc(json!(1), "SendMessage", params),
    )
    .await;
    assert_eq!(
        body["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{body}"
    );
    let (_, _, body) = post(
        &app,
        "?A2A-Version=0.5",
        &[],
        rpc(json!(1), "GetTask", json!({"id": "x"})),
    )
    .await;
    assert_error(&body, -32009);
}

#[tokio::test]
async fn v03_method_with_v1_header_is_method_not_found() {
    let app = spawn_app().await;
    for method in ["message/send", "tasks/get", "tasks/send"] {
        let params = json!({"id": "x", "message": msg_v03("tck-complete-task")});
        let r = app.call(V::V1, method, params).await;
        assert_eq!(r["error"]["code"], -32601, "{method}: {r}");
        assert_eq!(r["id"], 1);
    }
}

/// Without the header a request is 0.3, so a 1.0 method name is refused. The server
/// answers -32009 (VersionNotSupported, as the official SDK does), not -32601.
#[tokio::test]
async fn v1_method_without_header_is_refused_as_version_not_supported() {
    let app = spawn_app().await;
    for method in ["SendMessage", "GetTask", "ListTasks"] {
        let params = json!({"id": "x", "message": msg_v1("tck-complete-task")});
        let e = app.err(V::Legacy, method, params, -32009).await;
        assert!(
            e["message"].as_str().unwrap().contains("A2A-Version"),
            "{e}"
        );
    }
    // Nothing was executed.
    let q = ListTasksQuery {
        page_size: 10,
        ..Default::default()
    };
    assert_eq!(
        app.service
            .list(&Scope::default(), &q)
            .await
            .unwrap()
            .total_size,
        0
    );
}

// ---- unknown tasks ----

#[tokio::test]
async fn unknown_task_is_task_not_found_on_get_cancel_and_subscribe_in_v1() {
    let app = spawn_app().await;
    for method in ["GetTask", "CancelTask", "SubscribeToTask"] {
        let e = stream_err(&app, V::V1, method, json!({"id": "no-such-task"}), -32001).await;
        assert_eq!(e["data"][0]["reason"], "TASK_NOT_FOUND", "{method}: {e}");
    }
    let mut m = msg_v1("tck-complete-task");
    m["taskId"] = json!("no-such-task");
    app.err(V::V1, "SendMessage", json!({"message": m}), -32001)
        .await;
}

#[tokio::test]
async fn unknown_task_is_task_not_found_on_get_cancel_and_resubscribe_in_legacy() {
    let app = spawn_app().await;
    for method in ["tasks/get", "tasks/cancel", "tasks/resubscribe"] {
        stream_err(
            &app,
            V::Legacy,
            method,
            json!({"id": "no-such-task"}),
            -32001,
        )
        .await;
    }
    let mut m = msg_v03("tck-complete-task");
    m["taskId"] = json!("no-such-task");
    app.err(V::Legacy, "message/send", json!({"message": m}), -32001)
        .await;
}

// ---- capability gating ----

#[tokio::test]
async fn streaming_disabled_makes_streaming_methods_unsupported() {
    let app = spawn_with(|c| c.streaming = false).await;
    // A task to subscribe to.
    let task = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required")}),
        )
        .await;
    let id = task["task"]["id"].as_str().unwrap().to_string();

    stream_err(
        &app,
        V::V1,
        "SendStreamingMessage",
        json!({"message": msg_v1("tck-stream-001")}),
        -32004,
    )
    .await;
    stream_err(&app, V::V1, "SubscribeToTask", json!({"id": id}), -32004).await;
    stream_err(
        &app,
        V::Legacy,
        "message/stream",
        json!({"message": msg_v03("tck-stream-001")}),
        -32004,
    )
    .await;
    stream_err(
        &app,
        V::Legacy,
        "tasks/resubscribe",
        json!({"id": id}),
        -32004,
    )
    .await;
    let v01 = json!({"id": uuid::Uuid::new_v4().to_string(), "message": {"role": "user", "parts": [{"type": "text", "text": "hi"}]}});
    stream_err(&app, V::Legacy, "tasks/sendSubscribe", v01, -32004).await;

    for path in ["/.well-known/agent-card.json", "/.well-known/agent.json"] {
        let card: Value = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(card["capabilities"]["streaming"], false, "{path}");
    }
}

#[tokio::test]
async fn push_config_methods_of_every_version_are_not_supported_when_push_is_off() {
    let app = spawn_with(|c| c.push_notifications = false).await;
    let task = app
        .ok(
            V::V1,
            "SendMessage",
            json!({"message": msg_v1("tck-input-required")}),
        )
        .await;
    let id = task["task"]["id"].as_str().unwrap().to_string();
    let url = "https://example.com/webhook";
    let calls = [
        (
            V::V1,
            "CreateTaskPushNotificationConfig",
            json!({"taskId": id, "url": url}),
        ),
        (
            V::V1,
            "GetTaskPushNotificationConfig",
            json!({"taskId": id, "id": "cfg"}),
        ),
        (
            V::V1,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": id}),
        ),
        (
            V::V1,
            "DeleteTaskPushNotificationConfig",
            json!({"taskId": id, "id": "cfg"}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/set",
            json!({"taskId": id, "pushNotificationConfig": {"url": url}}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/get",
            json!({"id": id}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/list",
            json!({"id": id}),
        ),
        (
            V::Legacy,
            "tasks/pushNotificationConfig/delete",
            json!({"id": id, "pushNotificationConfigId": "cfg"}),
        ),
        (
            V::Legacy,
            "tasks/pushNotification/set",
            json!({"id": id, "pushNotificationConfig": {"url": url}}),
        ),
        (V::Legacy, "tasks/pushNotification/get", json!({"id": id})),
    ];
    for (v, method, params) in calls {
        app.err(v, method, params, -32003).await;
    }
}

#[tokio::test]
async fn extended_card_is_unsupported_in_v1_and_not_configured_in_v03() {
    let app = spawn_app().await;
    let e = app
        .err(V::V1, "GetExtendedAgentCard", json!({}), -32004)
        .await;
    assert_eq!(e["data"][0]["reason"], "UNSUPPORTED_OPERATION", "{e}");
    // Params may be omitted entirely for this method.
    let (_, _, body) = post(
        &app,
        "",
        &[("A2A-Version", "1.0")],
        json!({"jsonrpc": "2.0", "id": 1, "method": "GetExtendedAgentCard"}).to_string(),
    )
    .await;
    assert_error(&body, -32004);
    app.err(
        V::Legacy,
        "agent/getAuthenticatedExtendedCard",
        json!({}),
        -32007,
    )
    .await;
}
