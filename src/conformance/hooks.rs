//! The webhook receiver push-delivery checks register: a bare hyper server on
//! 127.0.0.1 that records every request, by path, for the checks to inspect.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Delivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The receiver: its base URL and what arrived.
pub struct Hooks {
    base: String,
    got: Mutex<Vec<Delivery>>,
    arrived: Notify,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hooks {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hooks {
    /// A webhook URL of its own for one check.
    pub fn url(&self, name: &str) -> String {
        format!("{}/hook/{name}", self.base)
    }

    /// Deliveries to `url` so far.
    pub fn deliveries(&self, url: &str) -> Vec<Delivery> {
        let path = url.strip_prefix(&self.base).unwrap_or(url);
        self.got
            .lock()
            .iter()
            .filter(|d| d.path == path)
            .cloned()
            .collect()
    }

    /// Waits up to `limit` for a first delivery to `url`.
    pub async fn wait(&self, url: &str, limit: Duration) -> Option<Delivery> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.arrived.notified();
            if let Some(d) = self.deliveries(url).into_iter().next() {
                return Some(d);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }
}

/// Binds 127.0.0.1 on a free port and serves until the returned [`Hooks`] is dropped.
pub async fn start() -> anyhow::Result<Arc<Hooks>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let hooks = Arc::new_cyclic(|weak: &std::sync::Weak<Hooks>| {
        let weak = weak.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let Some(hooks) = weak.upgrade() else { return };
                tokio::spawn(serve(stream, hooks));
            }
        });
        Hooks {
            base: format!("http://{addr}"),
            got: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            task,
        }
    });
    Ok(hooks)
}

async fn serve(stream: tokio::net::TcpStream, hooks: Arc<Hooks>) {
    let service = service_fn(move |req: Request<Incoming>| {
        let hooks = hooks.clone();
        async move {
            let method = req.method().to_string();
            let path = req.uri().path().to_string();
            let headers = req
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            hooks.got.lock().push(Delivery {
                method,
                path,
                headers,
                body,
            });
            hooks.arrived.notify_waiters();
            let mut resp = Response::new(Full::new(Bytes::new()));
            *resp.status_mut() = StatusCode::OK;
            Ok::<_, Infallible>(resp)
        }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
