//! The connection layer: HTTP/1.1 and HTTP/2 (prior knowledge) on one port, request heads
//! and bodies larger than the per-connection read buffer, the request head timeout.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{V, msg_v1, spawn_app, spawn_with};

fn send_body(text: &str) -> Value {
    let mut message = msg_v1("transport");
    message["parts"] = json!([{ "text": text }]);
    json!({"jsonrpc": "2.0", "id": 7, "method": "SendMessage", "params": {"message": message}})
}

#[tokio::test]
async fn http2_with_prior_knowledge_serves_json_rpc_and_sse() {
    let app = spawn_app().await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();

    let resp = h2
        .post(format!("{}/", app.url))
        .header("A2A-Version", "1.0")
        .json(&send_body("over h2"))
        .send()
        .await
        .expect("h2 request sent");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let body: Value = resp.json().await.unwrap();
    assert!(body["result"]["task"]["id"].is_string(), "{body}");

    let mut stream = send_body("streamed over h2");
    stream["method"] = json!("SendStreamingMessage");
    let resp = h2
        .post(format!("{}/", app.url))
        .header("A2A-Version", "1.0")
        .json(&stream)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = resp.text().await.unwrap();
    assert!(text.contains("\"task\""), "{text}");
}

#[tokio::test]
async fn http1_body_larger_than_the_read_buffer_arrives_whole() {
    let app = spawn_app().await;
    let text = "x".repeat(200 * 1024);
    let body = app
        .call(V::V1, "SendMessage", send_body(&text)["params"].clone())
        .await;
    let task = &body["result"]["task"];
    let history = task["history"].as_array().expect("history");
    assert_eq!(history[0]["parts"][0]["text"].as_str(), Some(text.as_str()));
}

#[tokio::test]
async fn request_head_over_8_kib_is_431_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let resp = app
        .http
        .post(format!("{}/", app.url))
        .header("A2A-Version", "1.0")
        .header("x-padding", "p".repeat(9 * 1024))
        .json(&send_body("big head"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 431);

    let resp = app
        .http
        .post(format!("{}/", app.url))
        .header("A2A-Version", "1.0")
        .json(&send_body("after"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_quiet_stream_gets_keep_alive_comments_between_events() {
    let app = spawn_app().await;
    // The conformance agent moves this task to working, stays quiet for 4 s, then completes.
    let message = msg_v1("test-resubscribe-message-id");
    let resp = app
        .stream_request(V::V1, "SendStreamingMessage", json!({"message": message}))
        .send()
        .await
        .unwrap();
    let mut chunks = resp.bytes_stream();
    let mut raw = String::new();
    while let Some(chunk) = futures::StreamExt::next(&mut chunks).await {
        raw.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
    }
    let working = raw.find("TASK_STATE_WORKING").expect("a working event");
    let completed = raw.find("TASK_STATE_COMPLETED").expect("a completed event");
    let comment = raw[working..completed]
        .find("\n:\n\n")
        .unwrap_or_else(|| panic!("no keep-alive comment in the quiet 4 s: {raw}"));
    // A comment is its own SSE block, not glued to an event's lines.
    assert!(raw[working..working + comment].ends_with('\n'), "{raw}");
}

/// Reads until the server closes the connection; fails after 10 s (a connection the server
/// keeps forever). Returns what arrived and when the close came.
async fn until_closed(mut tcp: TcpStream) -> (String, Duration) {
    let start = Instant::now();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server kept the connection open for 10 s");
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

#[tokio::test]
async fn a_request_head_that_never_finishes_is_cut_off_after_the_header_timeout() {
    let app = spawn_with(|c| c.header_read_timeout_secs = 1).await;
    let addr = app.url.trim_start_matches("http://");

    // A head sent in part (slowloris), and a connection that sends nothing at all.
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial
        .write_all(b"POST / HTTP/1.1\r\nhost: a2a\r\ncontent-type: application/json\r\n")
        .await
        .unwrap();
    let silent = TcpStream::connect(addr).await.unwrap();
    let (partial, silent) = tokio::join!(until_closed(partial), until_closed(silent));
    for (what, (got, after)) in [("partial head", partial), ("silent", silent)] {
        assert!(!got.contains("200 OK"), "{what}: {got}");
        assert!(
            after >= Duration::from_millis(900),
            "{what}: closed after {after:?}"
        );
    }

    // A request sent in time is served, and the server goes on serving.
    let resp = app
        .unary_request(V::V1, "SendMessage", json!({"message": msg_v1("in-time")}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_stream_outlives_the_header_timeout() {
    // The timeout bounds reading a head, not writing a response: this stream is quiet
    // for 4 s, four times the limit, and still ends with its task completed.
    let app = spawn_with(|c| c.header_read_timeout_secs = 1).await;
    let events = app
        .stream(
            V::V1,
            "SendStreamingMessage",
            json!({"message": msg_v1("test-resubscribe-message-id")}),
        )
        .await;
    let last = &events.last().expect("events").1;
    assert_eq!(
        last["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{events:?}"
    );
}
