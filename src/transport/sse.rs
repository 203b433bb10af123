//! Writes a method's result stream as Server-Sent Events: each `data:` line a complete
//! JSON-RPC response carrying the request id (or, on REST, the bare `StreamResponse`),
//! `id:` the task event sequence (1.0), keep-alive comments while the task is quiet.
//!
//! A stream lives no longer than the credentials that opened it: when they expire (a
//! token's `exp` plus the leeway, a client certificate's notAfter) it ends with one error
//! event (-31401, "token expired", no `id:`), so the client subscribes again with fresh
//! credentials and `Last-Event-ID` and misses nothing.
//!
//! Our own body instead of axum's `Sse`: the events ready together are written into one
//! buffer (our JSON is compact, so `data:` is always one line), and the keep-alive timer is
//! re-armed once per interval instead of on every event.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use http_body::Frame;
use jsonrpsee::types::Id;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::jsonrpc::{self, SseItem, SseStream};
use crate::metrics::Metrics;
use crate::protocol::{A2aError, Version};

/// Keep-alive interval: under the 5 s read timeout of the official Python SDK clients'
/// default HTTP client, and far under the idle timeouts of common proxies.
const KEEP_ALIVE: Duration = Duration::from_secs(2);

/// An SSE comment: ignored by clients, keeps the connection and proxies awake.
const KEEP_ALIVE_FRAME: &[u8] = b":\n\n";

/// When a stream's credentials stop being accepted, and what its last event then says.
pub struct Expiry {
    /// Unix seconds.
    pub at: u64,
    /// "token expired", "client certificate expired".
    pub message: &'static str,
}

impl Expiry {
    /// When `principal`'s credentials expire, if they do.
    pub fn of(principal: &crate::auth::Principal) -> Option<Expiry> {
        principal.expires_at.map(|at| Expiry {
            at,
            message: principal.scheme.expired_message(),
        })
    }
}

/// The stream of `items`, ended cleanly (the body's last chunk, not a reset) when `drain`
/// fires at shutdown: clients see the end and can resubscribe elsewhere. With `expiry`,
/// it ends then too, after an error event.
pub async fn respond(
    id: Id<'static>,
    version: Version,
    items: SseStream,
    drain: &CancellationToken,
    metrics: Arc<Metrics>,
    expiry: Option<Expiry>,
) -> Response {
    respond_framed(
        Framing::JsonRpc { id, version },
        items,
        drain,
        metrics,
        expiry,
    )
    .await
}

/// How each event's `data:` is written.
pub enum Framing {
    /// A JSON-RPC response to the request `id`.
    JsonRpc { id: Id<'static>, version: Version },
    /// HTTP+JSON (1.0): the bare result; an error is a `google.rpc.Status` body (its
    /// `error.code` the HTTP status the error would have had before the stream).
    Rest,
}

/// [`respond`] with any framing.
pub async fn respond_framed(
    framing: Framing,
    items: SseStream,
    drain: &CancellationToken,
    metrics: Arc<Metrics>,
    expiry: Option<Expiry>,
) -> Response {
    let mut body = SseBody::new(items, framing);
    body.drain = Some(Box::pin(drain.clone().cancelled_owned()));
    body.open = Some(OpenStream::new(metrics));
    body.expiry = expiry.map(|e| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let left = Duration::from_secs(e.at).saturating_sub(now);
        (Box::pin(tokio::time::sleep(left)), e.message)
    });
    // A first event that is ready now (a new task's run is driven by this poll; a
    // subscription starts with the task) leaves in the same write as the head: a write
    // is the dearest step of a short stream.
    match futures::poll!(body.items.next()) {
        Poll::Ready(Some(item)) => {
            let mut out = String::with_capacity(FRAME_CAPACITY);
            body.write(&mut out, item);
            body.written = Some(out);
        }
        Poll::Ready(None) => body.done = true,
        Poll::Pending => {}
    }
    event_stream(body)
}

/// A stream of one already serialized JSON-RPC response, then the end.
pub fn single(response: &str) -> Response {
    let mut out = String::with_capacity(response.len() + 16);
    write_event(&mut out, None, |out| out.push_str(response));
    let framing = Framing::JsonRpc {
        id: Id::Null,
        version: Version::V1,
    };
    let mut body = SseBody::new(Box::pin(futures::stream::empty()), framing);
    body.written = Some(out);
    body.done = true;
    event_stream(body)
}

/// Room for a few typical events up front.
const FRAME_CAPACITY: usize = 2048;

/// Events that are ready together go out as one frame, up to about this size: one chunk
/// for hyper to frame and one buffer for the socket, instead of one per event.
const MAX_FRAME: usize = 64 * 1024;

fn event_stream(body: SseBody) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::new(body),
    )
        .into_response()
}

/// `id:` and `data:` lines; `data` is one line, as our JSON is compact.
fn write_event(out: &mut String, seq: Option<u64>, data: impl FnOnce(&mut String)) {
    if let Some(seq) = seq {
        out.push_str("id: ");
        out.push_str(itoa::Buffer::new().format(seq));
        out.push('\n');
    }
    out.push_str("data: ");
    data(out);
    out.push_str("\n\n");
}

/// Counts a stream in `a2a_sse_streams_open` while its body lives: hyper drops the body
/// when the stream ends or the client goes away.
struct OpenStream(Arc<Metrics>);

impl OpenStream {
    fn new(metrics: Arc<Metrics>) -> Self {
        metrics.sse_streams_open.inc();
        Self(metrics)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.sse_streams_open.dec();
    }
}

/// The SSE response body: the events, and a comment after each quiet interval.
struct SseBody {
    /// `None` for a one-event answer ([`single`]), which is no open stream.
    open: Option<OpenStream>,
    items: SseStream,
    /// How events are written (JSON-RPC: the request they answer).
    framing: Framing,
    /// Events written and not yet handed to hyper.
    written: Option<String>,
    /// The items have ended.
    done: bool,
    keep_alive: Pin<Box<Sleep>>,
    /// When the last frame went out: a timer that fires after an event is re-armed for a
    /// full interval after that event, without a comment.
    last_sent: Instant,
    /// Resolves when the server drains: the stream then ends after what is written.
    drain: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    /// Fires when the caller's credentials expire: the stream then ends with an error
    /// event carrying this message.
    expiry: Option<(Pin<Box<Sleep>>, &'static str)>,
}

impl SseBody {
    fn new(items: SseStream, framing: Framing) -> Self {
        SseBody {
            open: None,
            items,
            framing,
            written: None,
            done: false,
            keep_alive: Box::pin(tokio::time::sleep(KEEP_ALIVE)),
            last_sent: Instant::now(),
            drain: None,
            expiry: None,
        }
    }

    /// The last event of a stream whose credentials expired: our authentication error
    /// and no `id:`, so `Last-Event-ID` stays the last event sent.
    fn write_expired(&self, out: &mut String, message: &str) {
        tracing::info!(target: "a2a::auth", reason = "expired", "stream ended: its credentials expired");
        let e = A2aError::Unauthenticated(message.to_string());
        write_event(out, None, |out| match &self.framing {
            Framing::JsonRpc { id, version } => {
                out.push_str(&jsonrpc::error_response(id.clone(), &e, *version))
            }
            Framing::Rest => out.push_str(&super::rest::error::status_json(&e)),
        });
    }

    /// One event: `id: <seq>` (1.0 only) and `data:` the JSON-RPC response or REST body.
    fn write(&self, out: &mut String, SseItem { id: seq, result }: SseItem) {
        if let Err(e) = &result {
            jsonrpc::error::log_server_error(e, "stream");
        }
        match &self.framing {
            Framing::JsonRpc { id, version } => {
                // 0.x streams carry no `id:`: those specs define none, and the official 0.3
                // Python SDK's resubscribe reads every keep-alive after an `id:` as an
                // empty event.
                let seq = seq.filter(|_| *version == Version::V1);
                write_event(out, seq, |out| match result {
                    Ok(r) => jsonrpc::push_success_response(out, id, &r),
                    Err(e) => out.push_str(&jsonrpc::error_response(id.clone(), &e, *version)),
                })
            }
            Framing::Rest => write_event(out, seq, |out| match result {
                Ok(r) => out.push_str(r.get()),
                Err(e) => out.push_str(&super::rest::error::status_json(&e)),
            }),
        }
    }
}

impl http_body::Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if let Some(drain) = &mut this.drain
            && drain.as_mut().poll(cx).is_ready()
        {
            this.drain = None;
            this.done = true;
        }
        let mut out = this.written.take();
        if !this.done
            && let Some((timer, message)) = &mut this.expiry
            && timer.as_mut().poll(cx).is_ready()
        {
            let message = *message;
            this.expiry = None;
            this.done = true;
            let o = out.get_or_insert_with(String::new);
            this.write_expired(o, message);
        }
        while !this.done && out.as_ref().is_none_or(|o| o.len() < MAX_FRAME) {
            match this.items.poll_next_unpin(cx) {
                Poll::Ready(Some(item)) => {
                    let o = out.get_or_insert_with(|| String::with_capacity(FRAME_CAPACITY));
                    this.write(o, item);
                }
                Poll::Ready(None) => this.done = true,
                Poll::Pending => break,
            }
        }
        if let Some(out) = out {
            this.last_sent = Instant::now();
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
        }
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            ready!(this.keep_alive.as_mut().poll(cx));
            let now = Instant::now();
            let due = this.last_sent + KEEP_ALIVE;
            if due > now {
                this.keep_alive.as_mut().reset(due);
                continue;
            }
            this.last_sent = now;
            this.keep_alive.as_mut().reset(now + KEEP_ALIVE);
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(KEEP_ALIVE_FRAME)))));
        }
    }
}
