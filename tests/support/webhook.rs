//! A real webhook receiver for push tests: an HTTP server on 127.0.0.1 that records every
//! request and answers 200, or 500 while told to fail. It can stop and start again on the
//! same port (a receiver outage).
#![allow(dead_code)] // each test binary uses its own part of this module

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use parking_lot::Mutex;
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `X-A2A-Event-Id` split into (task id, seq).
    pub fn event(&self) -> (String, u64) {
        let id = self.header("x-a2a-event-id").expect("event id header");
        let (task, seq) = id.rsplit_once(':').expect("task:seq");
        (task.to_string(), seq.parse().expect("numeric seq"))
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// Requests answered 500 (counted down).
    fail_next: AtomicUsize,
    /// All requests answered 500 while set.
    always_fail: std::sync::atomic::AtomicBool,
    /// Requests answered 500, in all.
    failed: AtomicUsize,
}

/// The receiver; shuts down on drop.
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn record(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let fail = s.always_fail.load(Ordering::SeqCst)
        || s.fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    if fail {
        s.failed.fetch_add(1, Ordering::SeqCst);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    s.received.lock().push(Received {
        path: uri.path().to_string(),
        headers,
        body,
    });
    StatusCode::OK
}

impl Receiver {
    /// Listens on a free port.
    pub async fn start() -> Receiver {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    /// Listens on `addr` (retrying while the port is still being released).
    pub async fn start_on(addr: SocketAddr) -> Receiver {
        Self::serve(addr, Arc::new(Shared::default())).await
    }

    async fn serve(addr: SocketAddr, shared: Arc<Shared>) -> Receiver {
        let mut listener = None;
        for _ in 0..50 {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let listener = listener.expect("webhook receiver binds");
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .fallback(axum::routing::post(record))
            .with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Receiver {
            addr,
            shared,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// A free port with nothing listening on it (a receiver that is down).
    pub async fn unused_addr() -> SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers the next `n` requests with 500.
    pub fn fail_next(&self, n: usize) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    /// Answers every request with 500 until told otherwise.
    pub fn always_fail(&self, on: bool) {
        self.shared.always_fail.store(on, Ordering::SeqCst);
    }

    /// How many requests were answered 500.
    pub fn failed(&self) -> usize {
        self.shared.failed.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().clone()
    }

    /// Waits until `pred` holds for what was received; panics after `timeout`.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        pred: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.received();
            if pred(&got) {
                return got;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "webhook condition not reached within {timeout:?}; received {} requests: {:#?}",
                    got.len(),
                    got.iter()
                        .map(|r| r.header("x-a2a-event-id").map(str::to_owned))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for at least `n` requests.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        self.wait_until(Duration::from_secs(20), |r| r.len() >= n)
            .await
    }

    /// Stops listening (connections are refused until a restart).
    pub async fn stop(mut self) -> SocketAddr {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.addr
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
