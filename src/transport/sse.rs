//! Writes a method's result stream as Server-Sent Events: each `data:` line a complete
//! JSON-RPC response carrying the request id, `id:` the task event sequence (1.0), keep-alive
//! comments while the task is quiet.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use jsonrpsee::types::Id;

use crate::jsonrpc::{self, SseItem, SseStream};
use crate::protocol::Version;

/// Keep-alive interval: under the 5 s read timeout of the official Python SDK clients'
/// default HTTP client, and far under the idle timeouts of common proxies.
const KEEP_ALIVE: Duration = Duration::from_secs(2);

pub fn respond(id: Id<'static>, version: Version, stream: SseStream) -> Response {
    let id_json = serde_json::to_string(&id).expect("ids serialize");
    let events = stream.map(move |SseItem { id: seq, result }| {
        let data = match result {
            Ok(r) => format!(r#"{{"jsonrpc":"2.0","id":{id_json},"result":{}}}"#, r.get()),
            Err(e) => {
                let err = jsonrpc::error_object(&e, version);
                format!(
                    r#"{{"jsonrpc":"2.0","id":{id_json},"error":{}}}"#,
                    serde_json::to_string(&err).expect("errors serialize")
                )
            }
        };
        let mut event = Event::default().data(data);
        // 0.x streams carry no `id:`: those specs define none, and the official 0.3 Python
        // SDK's resubscribe reads every keep-alive after an `id:` as an empty event.
        if let (Some(seq), Version::V1) = (seq, version) {
            event = event.id(seq.to_string());
        }
        Ok::<_, Infallible>(event)
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// A stream of one already serialized JSON-RPC response, then the end.
pub fn single(response: &str) -> Response {
    let event = Event::default().data(response);
    Sse::new(futures::stream::once(
        async move { Ok::<_, Infallible>(event) },
    ))
    .into_response()
}
