//! The push scenario's webhook receiver: a bare hyper server on 127.0.0.1 that counts
//! deliveries and, from the token (`bench-<ns>`, the send time), their latency.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::net::TcpListener;

use super::stats::Latency;

/// The header A2A servers put the registered token in.
pub const TOKEN_HEADER: &str = "x-a2a-notification-token";

/// Counts shared between the receiver and the scenario.
pub struct Hooks {
    clock: Instant,
    /// Deliveries whose request was sent in `[start, end)` (ns on `clock`) are counted.
    start_ns: AtomicU64,
    end_ns: AtomicU64,
    /// Every delivery, in the window or not.
    pub all: AtomicU64,
    /// Deliveries without a token of ours.
    pub untagged: AtomicU64,
    /// Deliveries for requests sent within the window.
    pub in_window: AtomicU64,
    pub latency: Mutex<Latency>,
}

impl Hooks {
    pub fn set_window(&self, start_ns: u64, end_ns: u64) {
        self.start_ns.store(start_ns, Ordering::SeqCst);
        self.end_ns.store(end_ns, Ordering::SeqCst);
    }

    fn arrive(&self, token: Option<&str>) {
        let now = self.clock.elapsed().as_nanos() as u64;
        self.all.fetch_add(1, Ordering::Relaxed);
        let sent = token
            .and_then(|t| t.strip_prefix("bench-"))
            .and_then(|t| t.parse::<u64>().ok());
        let Some(sent) = sent else {
            self.untagged.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let (start, end) = (
            self.start_ns.load(Ordering::Relaxed),
            self.end_ns.load(Ordering::Relaxed),
        );
        if sent >= start && sent < end {
            self.in_window.fetch_add(1, Ordering::Relaxed);
            self.latency
                .lock()
                .record_us(now.saturating_sub(sent) / 1_000);
        }
    }
}

/// Binds `listen` and serves until the runtime ends; answers the hook URL and the counts.
pub async fn start(listen: SocketAddr, clock: Instant) -> anyhow::Result<(String, Arc<Hooks>)> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let hooks = Arc::new(Hooks {
        clock,
        start_ns: AtomicU64::new(u64::MAX),
        end_ns: AtomicU64::new(u64::MAX),
        all: AtomicU64::new(0),
        untagged: AtomicU64::new(0),
        in_window: AtomicU64::new(0),
        latency: Mutex::new(Latency::default()),
    });
    let shared = hooks.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let hooks = shared.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let hooks = hooks.clone();
                    async move {
                        let token = req
                            .headers()
                            .get(TOKEN_HEADER)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        // Drain the body: the delivery is complete when it has arrived.
                        let _ = req.into_body().collect().await;
                        hooks.arrive(token.as_deref());
                        let mut resp = Response::new(Full::new(Bytes::new()));
                        *resp.status_mut() = StatusCode::OK;
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((format!("http://{addr}/a2a-bench-hook"), hooks))
}
