//! The accept loop. `axum::serve` hides hyper's connection builders; this one sets them up
//! for a server that holds thousands of idle SSE streams open, where every byte kept per
//! connection counts ten thousand times.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::http::Endpoint;
use super::tls::PeerCertificates;

/// hyper's HTTP/1 read buffer limit, at hyper's minimum. With the default (~400 KB) the
/// buffer doubles to 16 KB on the read that follows a request and stays that size for as
/// long as the connection lives: 8 KB more for every open stream. The limit also bounds a
/// request head (larger heads get 431); bodies are read through the buffer in pieces.
const READ_BUF_MAX: usize = 8 * 1024;

/// Serves `endpoint` on `listener` until `shutdown` resolves, then stops accepting and waits
/// for open connections to finish (the caller bounds that wait). A connection whose next
/// request head has not fully arrived within `header_read_timeout` is closed: a client
/// trickling a head byte by byte (or holding an idle connection) would otherwise keep its
/// socket and buffer forever. With `tls`, every connection is a TLS one (HTTP/2 or
/// HTTP/1.1 as ALPN chose), and the same timeout bounds its handshake.
pub async fn serve(
    listener: TcpListener,
    endpoint: Endpoint,
    tls: Option<Arc<rustls::ServerConfig>>,
    header_read_timeout: Option<Duration>,
    shutdown: impl Future<Output = ()>,
) {
    let endpoint = if tls.is_some() {
        endpoint.with_hsts()
    } else {
        endpoint
    };
    let tls = tls.map(TlsAcceptor::from);
    let mut h1 = http1::Builder::new();
    h1.max_buf_size(READ_BUF_MAX)
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let builders = Arc::new(Builders {
        h1,
        h2: http2::Builder::new(TokioExecutor::new()),
        first_bytes_timeout: header_read_timeout,
    });
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY, small SSE writes wait ~40 ms on Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        // An `Endpoint` clone is a few reference counts: the route table is built once.
        tokio::spawn(connection(
            tcp,
            peer.ip(),
            endpoint.clone(),
            tls.clone(),
            builders.clone(),
            graceful.watcher(),
        ));
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The connection settings, shared: each connection's task holds a pointer, not a copy.
struct Builders {
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
    /// How long a new connection may stay silent before it is closed.
    first_bytes_timeout: Option<Duration>,
}

/// The HTTP/2 client preface (RFC 9113, section 3.4): HTTP/2 with prior knowledge.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves one connection: over TLS when `tls` is set (HTTP/2 when ALPN chose `h2`), else
/// HTTP/1.1 or HTTP/2 by its first bytes.
async fn connection(
    tcp: TcpStream,
    peer: std::net::IpAddr,
    endpoint: Endpoint,
    tls: Option<TlsAcceptor>,
    builders: Arc<Builders>,
    watcher: Watcher,
) {
    let limit = builders.first_bytes_timeout;
    let Some(tls) = tls else {
        // The peek waits for the first bytes, before hyper's own head timer runs.
        let h2 = match within(limit, starts_with_h2_preface(&tcp)).await {
            Some(h2) => h2,
            None => return,
        };
        let service = endpoint.for_connection(peer, None);
        return serve_io(tcp, h2, service, &builders, watcher).await;
    };
    let stream = match within(limit, tls.accept(tcp)).await {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            // A client that does not trust us, offers no certificate where one is
            // required, or speaks no common version: its problem, reported at debug.
            tracing::debug!(error = %e, %peer, "TLS handshake failed");
            return;
        }
        None => return,
    };
    let session = stream.get_ref().1;
    let h2 = session.alpn_protocol() == Some(b"h2");
    let certs = session
        .peer_certificates()
        .filter(|c| !c.is_empty())
        .map(|c| PeerCertificates(c.iter().map(|c| c.clone().into_owned()).collect()));
    let service = endpoint.for_connection(peer, certs);
    serve_io(stream, h2, service, &builders, watcher).await;
}

/// `fut`, or `None` when it takes longer than `limit`.
async fn within<F: Future>(limit: Option<Duration>, fut: F) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, fut).await.ok(),
        None => Some(fut.await),
    }
}

/// The HTTP/2 connection is boxed: inline, its state would size every connection's task,
/// and nearly every A2A client speaks HTTP/1.1 (hyper-util's auto connection keeps both
/// inline).
async fn serve_io<I>(io: I, h2: bool, service: Endpoint, builders: &Builders, watcher: Watcher)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let result = if h2 {
        let conn = builders.h2.serve_connection(TokioIo::new(io), service);
        Box::pin(watcher.watch(conn)).await
    } else {
        watcher
            .watch(builders.h1.serve_connection(TokioIo::new(io), service))
            .await
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Whether the connection opens with the HTTP/2 preface. Peeks, so the bytes stay for
/// hyper. Two bytes tell `PRI` from every HTTP/1 method; a client that stops partway
/// through the preface is handed to HTTP/1, which rejects it.
async fn starts_with_h2_preface(tcp: &TcpStream) -> bool {
    let mut buf = [0u8; H2_PREFACE.len()];
    for _ in 0..100 {
        let n = match tcp.peek(&mut buf).await {
            Ok(n) => n,
            Err(_) => return false,
        };
        if n == 0 || buf[..n] != H2_PREFACE[..n] {
            return false;
        }
        if n == H2_PREFACE.len() {
            return true;
        }
        // A prefix of the preface: peek returns at once while bytes wait, so pause.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// A failed accept: a client that gave up is nothing to report; anything else (such as
/// running out of file descriptors) is logged and retried after a pause, as `axum::serve`
/// does, instead of spinning.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
