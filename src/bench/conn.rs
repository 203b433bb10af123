//! One HTTP/1.1 keep-alive connection per concurrency slot (gRPC: one HTTP/2 connection,
//! one call at a time on it), straight on hyper: no pool, no per-request URL parsing,
//! reconnects after a failure.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use super::stats::Failure;

/// Where requests go: the resolved address and the request line's parts.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub host: HeaderValue,
    pub path: Uri,
    /// `A2A-Version: 1.0` on every request, or none (0.3).
    pub version_header: Option<HeaderValue>,
    /// `--token` / `--api-key`: the same on every request.
    pub credentials: http::HeaderMap,
    /// gRPC over h2c: `path` is the RPC's (`/lf.a2a.v1.A2AService/SendMessage`).
    pub grpc: bool,
}

impl Target {
    /// The headers every call carries, whatever the transport: the version, the
    /// credentials and the send's `Idempotency-Key`.
    fn call_headers(
        &self,
        h: &mut http::HeaderMap,
        idempotency_key: Option<&str>,
    ) -> Result<(), Failure> {
        if let Some(v) = &self.version_header {
            h.insert("a2a-version", v.clone());
        }
        for (name, value) in &self.credentials {
            h.insert(name, value.clone());
        }
        if let Some(k) = idempotency_key {
            let k = HeaderValue::from_str(k).map_err(|e| Failure::Invalid(e.to_string()))?;
            h.insert("idempotency-key", k);
        }
        Ok(())
    }

    /// Resolves a `http://host:port/path` endpoint. TLS is not supported: a load generator
    /// measures the server, and TLS would mostly measure the handshake and the cipher.
    pub async fn resolve(endpoint: &str, v1: bool) -> anyhow::Result<Target> {
        let uri: Uri = endpoint
            .parse()
            .map_err(|e| anyhow::anyhow!("bad endpoint URL {endpoint:?}: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => anyhow::bail!(
                "endpoint {endpoint}: only http:// is supported by `a2a bench`, not {other}://"
            ),
            None => anyhow::bail!("endpoint {endpoint}: an absolute http:// URL is needed"),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow::anyhow!("endpoint {endpoint} has no host"))?
            .clone();
        let port = authority.port_u16().unwrap_or(80);
        let addr = tokio::net::lookup_host((authority.host(), port))
            .await?
            .next()
            .ok_or_else(|| anyhow::anyhow!("{} resolves to no address", authority.host()))?;
        let path = uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse::<Uri>()?;
        Ok(Target {
            addr,
            host: HeaderValue::from_str(authority.as_str())?,
            path,
            version_header: v1.then(|| HeaderValue::from_static("1.0")),
            credentials: http::HeaderMap::new(),
            grpc: false,
        })
    }
}

pub const JSON: HeaderValue = HeaderValue::from_static("application/json");
pub const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");

/// A connection that reconnects on demand.
pub struct Conn {
    target: std::sync::Arc<Target>,
    sender: Option<SendRequest<Full<Bytes>>>,
    h2: Option<http2::SendRequest<Full<Bytes>>>,
}

fn transport(e: impl std::fmt::Display) -> Failure {
    Failure::Transport(e.to_string())
}

impl Conn {
    pub fn new(target: std::sync::Arc<Target>) -> Conn {
        Conn {
            target,
            sender: None,
            h2: None,
        }
    }

    /// Opens the connection now (rather than on the first request).
    pub async fn connect(&mut self) -> Result<(), Failure> {
        let tcp = TcpStream::connect(self.target.addr)
            .await
            .map_err(transport)?;
        tcp.set_nodelay(true).map_err(transport)?;
        if self.target.grpc {
            let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .map_err(transport)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.h2 = Some(sender);
            return Ok(());
        }
        let (sender, conn) = http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(transport)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        self.sender = Some(sender);
        Ok(())
    }

    /// Forgets the connection (after a timeout its state is unknown).
    pub fn reset(&mut self) {
        self.sender = None;
        self.h2 = None;
    }

    /// One gRPC call: `body` is the framed request message; answers the response head,
    /// its frames and trailers still to be read.
    pub async fn grpc_call(
        &mut self,
        body: Bytes,
        idempotency_key: Option<&str>,
    ) -> Result<Response<Incoming>, Failure> {
        if self.h2.as_ref().is_none_or(|s| s.is_closed()) {
            self.connect().await?;
        }
        let sender = self.h2.as_mut().expect("connected above");
        if sender.ready().await.is_err() {
            self.connect().await?;
        }
        let sender = self.h2.as_mut().expect("connected above");
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = self.target.path.clone();
        *req.version_mut() = http::Version::HTTP_2;
        let h = req.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        h.insert("te", HeaderValue::from_static("trailers"));
        self.target.call_headers(h, idempotency_key)?;
        match sender.send_request(req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                self.h2 = None;
                Err(transport(e))
            }
        }
    }

    /// POSTs `body` (a send with its `Idempotency-Key`, as clients send one); answers
    /// the response head, its body still to be read.
    pub async fn post(
        &mut self,
        body: Bytes,
        accept: &HeaderValue,
        idempotency_key: Option<&str>,
    ) -> Result<Response<Incoming>, Failure> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            self.connect().await?;
        }
        let sender = self.sender.as_mut().expect("connected above");
        if sender.ready().await.is_err() {
            self.connect().await?;
        }
        let sender = self.sender.as_mut().expect("connected above");
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = self.target.path.clone();
        let h = req.headers_mut();
        h.insert(HOST, self.target.host.clone());
        h.insert(CONTENT_TYPE, JSON);
        h.insert(ACCEPT, accept.clone());
        self.target.call_headers(h, idempotency_key)?;
        match sender.send_request(req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                self.sender = None;
                Err(transport(e))
            }
        }
    }

    /// POSTs `body` and reads the whole answer; a non-2xx status is a failure.
    pub async fn post_read(
        &mut self,
        body: Bytes,
        idempotency_key: Option<&str>,
    ) -> Result<Bytes, Failure> {
        let resp = self.post(body, &JSON, idempotency_key).await?;
        let status = resp.status();
        let bytes = match resp.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                self.sender = None;
                return Err(transport(e));
            }
        };
        if !status.is_success() {
            return Err(Failure::Http(status.as_u16()));
        }
        Ok(bytes)
    }
}

/// Reads the next chunk of a body: `Ok(None)` at its end.
pub async fn next_chunk(body: &mut Incoming) -> Result<Option<Bytes>, Failure> {
    loop {
        match body.frame().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(transport(e)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// An incremental `text/event-stream` parser that hands out each event's `data` (its
/// `data:` lines joined by `\n`); comments, `id:` and `event:` lines are skipped.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
}

impl SseParser {
    pub fn feed(&mut self, chunk: &[u8], mut on_event: impl FnMut(&[u8])) {
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(pos) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let mut line = &self.buf[start..start + pos];
            start += pos + 1;
            if let Some(l) = line.strip_suffix(b"\r") {
                line = l;
            }
            if line.is_empty() {
                if self.has_data {
                    on_event(&self.data);
                    self.data.clear();
                    self.has_data = false;
                }
            } else if let Some(rest) = line.strip_prefix(b"data:") {
                let rest = rest.strip_prefix(b" ").unwrap_or(rest);
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(rest);
                self.has_data = true;
            }
        }
        self.buf.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&str]) -> Vec<String> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c.as_bytes(), |d| {
                out.push(String::from_utf8(d.to_vec()).unwrap())
            });
        }
        out
    }

    #[test]
    fn sse_events_across_chunks_crlf_and_comments() {
        assert_eq!(
            events(&[
                ": keep-alive\n\nid: 1\nda",
                "ta: {\"a\":1}\n",
                "\nevent: x\r\ndata:two\r\ndata: lines\r\n\r\n",
                "data: partial"
            ]),
            vec!["{\"a\":1}".to_string(), "two\nlines".to_string()]
        );
    }
}
