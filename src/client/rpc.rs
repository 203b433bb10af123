//! The JSON-RPC response envelope and the end-of-stream rule.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{ClientError, DecodedItem, excerpt};
use crate::protocol::{StreamItem, TaskEvent, TaskState};

/// The JSON-RPC response envelope; `result: null` counts as present.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<RpcErrorObject>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct RpcErrorObject {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

/// Splits a JSON-RPC response into its result or its error, checking the id.
pub(crate) fn unwrap_envelope(text: &str, id: u64) -> Result<Box<RawValue>, ClientError> {
    let env: Envelope = serde_json::from_str(text).map_err(|e| ClientError::Decode {
        what: "JSON-RPC response".into(),
        detail: format!("{e}: {}", excerpt(text)),
    })?;
    if let Some(err) = env.error {
        return Err(ClientError::JsonRpc {
            code: err.code,
            message: err.message,
            data: err.data,
        });
    }
    if env.id.as_ref() != Some(&json!(id)) {
        return Err(ClientError::Decode {
            what: "JSON-RPC response".into(),
            detail: format!("id {:?} does not match the request id {id}", env.id),
        });
    }
    env.result.ok_or_else(|| ClientError::Decode {
        what: "JSON-RPC response".into(),
        detail: "neither `result` nor `error` is present".into(),
    })
}

/// Tracks whether a stream reached a point where the server may close it.
#[derive(Debug, Default)]
pub(crate) struct Finality {
    pub last_state: Option<TaskState>,
    pub done: bool,
}

impl Finality {
    pub fn observe(&mut self, d: &DecodedItem) {
        match &d.item {
            StreamItem::Message(_) => self.done = true,
            StreamItem::Event(e) => {
                if let Some(s) = e.event.state() {
                    self.last_state = Some(s);
                    let is_status = matches!(e.event, TaskEvent::StatusUpdate(_));
                    if s.is_terminal() || (is_status && s.is_interrupted()) {
                        self.done = true;
                    } else if is_status {
                        // The task resumed: the cycle is open again.
                        self.done = false;
                    }
                    // A snapshot of an interrupted task (how a 1.0 subscription starts, or a
                    // closing snapshot) keeps the verdict: the server may still wait.
                }
            }
        }
        if d.final_flag {
            self.done = true;
        }
    }

    pub fn cut(&self, cause: Option<String>) -> ClientError {
        ClientError::StreamCut {
            last_state: self.last_state,
            cause,
        }
    }
}
