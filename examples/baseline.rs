//! The yardstick for `a2a bench`: a bare hyper 1 + serde_json JSON-RPC server that parses
//! each request and answers a fixed reply. No framework, no store, no agent: whatever our
//! server spends beyond this is its own overhead.
//!
//! ```sh
//! cargo run --release --example baseline -- --listen 127.0.0.1:9100
//! a2a bench http://127.0.0.1:9100 --scenario send
//! ```
//!
//! - `SendMessage` / `message/send`: a completed task (1.0 or 0.3 shape, by method).
//! - `SendStreamingMessage` / `message/stream`, `SubscribeToTask` / `tasks/resubscribe`:
//!   five SSE events (task, working, artifact, artifact last chunk, completed), each a
//!   JSON-RPC response carrying the request id.
//! - `GetTask` / `tasks/get`: the completed task.
//! - `GET /.well-known/agent-card.json`: a minimal card naming this endpoint for 1.0 and 0.3.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::net::TcpListener;

#[derive(Deserialize)]
#[allow(dead_code)] // parsed like a real server would, not all of it read
struct RpcRequest<'a> {
    jsonrpc: &'a str,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    method: &'a str,
    #[serde(default)]
    params: Value,
}

const TASK_V1: &str = r#"{"task":{"id":"b1a5e11e-0000-4000-8000-000000000001","contextId":"b1a5e11e-0000-4000-8000-000000000002","status":{"state":"TASK_STATE_COMPLETED","message":{"messageId":"b1a5e11e-0000-4000-8000-000000000003","role":"ROLE_AGENT","parts":[{"text":"hello"}]},"timestamp":"2025-01-01T00:00:00.000Z"},"history":[{"messageId":"m","role":"ROLE_USER","parts":[{"text":"hello"}]}]}}"#;
const TASK_V03: &str = r#"{"kind":"task","id":"b1a5e11e-0000-4000-8000-000000000001","contextId":"b1a5e11e-0000-4000-8000-000000000002","status":{"state":"completed","message":{"kind":"message","messageId":"b1a5e11e-0000-4000-8000-000000000003","role":"agent","parts":[{"kind":"text","text":"hello"}]},"timestamp":"2025-01-01T00:00:00.000Z"},"history":[{"kind":"message","messageId":"m","role":"user","parts":[{"kind":"text","text":"hello"}]}]}"#;

const EVENTS_V1: [&str; 5] = [
    r#"{"task":{"id":"t1","contextId":"c1","status":{"state":"TASK_STATE_SUBMITTED","timestamp":"2025-01-01T00:00:00.000Z"}}}"#,
    r#"{"statusUpdate":{"taskId":"t1","contextId":"c1","status":{"state":"TASK_STATE_WORKING","timestamp":"2025-01-01T00:00:00.000Z"}}}"#,
    r#"{"artifactUpdate":{"taskId":"t1","contextId":"c1","artifact":{"artifactId":"a1","parts":[{"text":"hello "}]},"append":false,"lastChunk":false}}"#,
    r#"{"artifactUpdate":{"taskId":"t1","contextId":"c1","artifact":{"artifactId":"a1","parts":[{"text":"world"}]},"append":true,"lastChunk":true}}"#,
    r#"{"statusUpdate":{"taskId":"t1","contextId":"c1","status":{"state":"TASK_STATE_COMPLETED","timestamp":"2025-01-01T00:00:00.000Z"}}}"#,
];
const EVENTS_V03: [&str; 5] = [
    r#"{"kind":"task","id":"t1","contextId":"c1","status":{"state":"submitted","timestamp":"2025-01-01T00:00:00.000Z"}}"#,
    r#"{"kind":"status-update","taskId":"t1","contextId":"c1","status":{"state":"working","timestamp":"2025-01-01T00:00:00.000Z"},"final":false}"#,
    r#"{"kind":"artifact-update","taskId":"t1","contextId":"c1","artifact":{"artifactId":"a1","parts":[{"kind":"text","text":"hello "}]},"append":false,"lastChunk":false}"#,
    r#"{"kind":"artifact-update","taskId":"t1","contextId":"c1","artifact":{"artifactId":"a1","parts":[{"kind":"text","text":"world"}]},"append":true,"lastChunk":true}"#,
    r#"{"kind":"status-update","taskId":"t1","contextId":"c1","status":{"state":"completed","timestamp":"2025-01-01T00:00:00.000Z"},"final":true}"#,
];

fn envelope(out: &mut Vec<u8>, id: Option<&RawValue>, field: &str, value: &str) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.map_or("null", |i| i.get()).as_bytes());
    out.extend_from_slice(format!(r#","{field}":"#).as_bytes());
    out.extend_from_slice(value.as_bytes());
    out.push(b'}');
}

fn reply(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn rpc(body: &[u8]) -> Response<Full<Bytes>> {
    let req: RpcRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(_) => {
            let mut out = Vec::new();
            envelope(
                &mut out,
                None,
                "error",
                r#"{"code":-32700,"message":"parse error"}"#,
            );
            return reply(StatusCode::OK, "application/json", out);
        }
    };
    let mut out = Vec::with_capacity(1024);
    match req.method {
        "SendMessage" => envelope(&mut out, req.id, "result", TASK_V1),
        // 1.0 answers GetTask with the bare task.
        "GetTask" => envelope(&mut out, req.id, "result", &TASK_V1[8..TASK_V1.len() - 1]),
        "message/send" | "tasks/get" => envelope(&mut out, req.id, "result", TASK_V03),
        "SendStreamingMessage" | "SubscribeToTask" | "message/stream" | "tasks/resubscribe" => {
            let events = if req.method.contains('/') {
                &EVENTS_V03
            } else {
                &EVENTS_V1
            };
            for e in events {
                out.extend_from_slice(b"data: ");
                envelope(&mut out, req.id, "result", e);
                out.extend_from_slice(b"\n\n");
            }
            let mut r = reply(StatusCode::OK, "text/event-stream", out);
            r.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            return r;
        }
        _ => envelope(
            &mut out,
            req.id,
            "error",
            r#"{"code":-32601,"message":"method not found"}"#,
        ),
    }
    reply(StatusCode::OK, "application/json", out)
}

fn card(addr: SocketAddr) -> Vec<u8> {
    let url = format!("http://{addr}/");
    serde_json::to_vec(&serde_json::json!({
        "name": "baseline",
        "description": "bare hyper + serde_json JSON-RPC yardstick",
        "version": "1.0.0",
        "supportedInterfaces": [
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "0.3"},
        ],
        "url": url,
        "preferredTransport": "JSONRPC",
        "protocolVersion": "0.3.0",
        "capabilities": {"streaming": true},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [],
    }))
    .expect("the card serializes")
}

async fn handle(req: Request<Incoming>, card: Bytes) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() == Method::GET {
        return Ok(match req.uri().path() {
            "/.well-known/agent-card.json" | "/.well-known/agent.json" => {
                let mut r = Response::new(Full::new(card));
                r.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                r
            }
            _ => reply(StatusCode::NOT_FOUND, "text/plain", b"not found".to_vec()),
        });
    }
    if req.method() != Method::POST {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            Vec::new(),
        ));
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(reply(StatusCode::BAD_REQUEST, "text/plain", Vec::new())),
    };
    Ok(rpc(&body))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut listen: SocketAddr = "127.0.0.1:9100".parse().expect("a valid address");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => {
                let v = args.next().expect("--listen ADDR");
                listen = v.parse().expect("--listen takes host:port");
            }
            other => {
                eprintln!("usage: baseline [--listen 127.0.0.1:9100] (unknown {other})");
                std::process::exit(2);
            }
        }
    }
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let card = Bytes::from(card(addr));
    println!("listening on http://{addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let card = card.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, card.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
