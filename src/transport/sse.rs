//! Writes a method's result stream as Server-Sent Events: each `data:` line a complete
//! JSON-RPC response carrying the request id, `id:` the task event sequence (1.0), keep-alive
//! comments while the task is quiet.
//!
//! Our own body instead of axum's `Sse`: each event is one buffer (our JSON is compact, so
//! `data:` is always one line), and the keep-alive timer is re-armed once per interval
//! instead of on every event.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use http_body::Frame;
use jsonrpsee::types::Id;
use tokio::time::{Instant, Sleep};

use crate::jsonrpc::{self, SseItem, SseStream};
use crate::protocol::Version;

/// Keep-alive interval: under the 5 s read timeout of the official Python SDK clients'
/// default HTTP client, and far under the idle timeouts of common proxies.
const KEEP_ALIVE: Duration = Duration::from_secs(2);

/// An SSE comment: ignored by clients, keeps the connection and proxies awake.
const KEEP_ALIVE_FRAME: &[u8] = b":\n\n";

pub async fn respond(id: Id<'static>, version: Version, mut stream: SseStream) -> Response {
    // A first event that is ready now (a new task's run is driven by this poll; a
    // subscription starts with the task) leaves in the same write as the head: a write
    // is the dearest step of a short stream.
    let first = futures::poll!(stream.next());
    let encode = move |item: SseItem| frame(&id, version, item);
    let events: FrameStream = match first {
        Poll::Ready(Some(item)) => {
            let first = encode(item);
            Box::pin(futures::stream::once(async move { first }).chain(stream.map(encode)))
        }
        Poll::Ready(None) => Box::pin(futures::stream::empty()),
        Poll::Pending => Box::pin(stream.map(encode)),
    };
    event_stream(events)
}

/// A stream of one already serialized JSON-RPC response, then the end.
pub fn single(response: &str) -> Response {
    let bytes = event(None, response.len(), |out| out.push_str(response));
    event_stream(Box::pin(futures::stream::once(async move { bytes })))
}

type FrameStream = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

fn event_stream(events: FrameStream) -> Response {
    let body = SseBody {
        events,
        keep_alive: Box::pin(tokio::time::sleep(KEEP_ALIVE)),
        last_sent: Instant::now(),
    };
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

/// One event: `id: <seq>` (1.0 only) and `data:` the JSON-RPC response for `id`.
fn frame(id: &Id<'_>, version: Version, SseItem { id: seq, result }: SseItem) -> Bytes {
    // 0.x streams carry no `id:`: those specs define none, and the official 0.3 Python
    // SDK's resubscribe reads every keep-alive after an `id:` as an empty event.
    let seq = seq.filter(|_| version == Version::V1);
    match result {
        // Written straight into the event's buffer: this is every streamed event.
        Ok(r) => event(seq, r.get().len() + 64, |out| {
            jsonrpc::push_success_response(out, id, &r)
        }),
        Err(e) => event(seq, 0, |out| {
            out.push_str(&jsonrpc::error_response(id.clone(), &e, version))
        }),
    }
}

/// `id:` and `data:` lines in one buffer; `data` is one line, as our JSON is compact.
fn event(seq: Option<u64>, data_len: usize, data: impl FnOnce(&mut String)) -> Bytes {
    let mut out = String::with_capacity(data_len + 32);
    if let Some(seq) = seq {
        out.push_str("id: ");
        out.push_str(itoa::Buffer::new().format(seq));
        out.push('\n');
    }
    out.push_str("data: ");
    data(&mut out);
    out.push_str("\n\n");
    Bytes::from(out)
}

/// The SSE response body: the events, and a comment after each quiet interval.
struct SseBody {
    events: FrameStream,
    keep_alive: Pin<Box<Sleep>>,
    /// When the last frame went out: a timer that fires after an event is re-armed for a
    /// full interval after that event, without a comment.
    last_sent: Instant,
}

impl http_body::Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if let Poll::Ready(next) = this.events.poll_next_unpin(cx) {
            this.last_sent = Instant::now();
            return Poll::Ready(next.map(|bytes| Ok(Frame::data(bytes))));
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
