//! The client's error type.

use serde_json::Value;

use crate::protocol::TaskState;

/// How many characters of an unexpected HTTP body an error quotes.
const EXCERPT: usize = 300;

/// Everything that can go wrong talking to an agent.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Connecting, sending or reading failed.
    #[error("transport error talking to {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an HTTP error status and no JSON-RPC error body.
    #[error("HTTP {status} from {url}: {body}")]
    Http {
        status: u16,
        url: String,
        body: String,
    },
    /// The server answered with a JSON-RPC error object.
    #[error("error {code}: {message}")]
    JsonRpc {
        code: i64,
        message: String,
        data: Option<Value>,
    },
    /// The answer is not what the protocol version prescribes.
    #[error("cannot decode {what}: {detail}")]
    Decode { what: String, detail: String },
    /// The event stream ended (or broke) before the task reached a terminal or interrupted
    /// state.
    #[error(
        "the event stream ended before the task reached a final state (last state: {}){}",
        last_state.map_or("none", |s| s.kebab_name()),
        cause.as_ref().map(|c| format!(": {c}")).unwrap_or_default()
    )]
    StreamCut {
        last_state: Option<TaskState>,
        cause: Option<String>,
    },
    /// The operation does not exist in the chosen protocol version.
    #[error("{0}")]
    Unsupported(String),
    /// A URL could not be parsed or resolved.
    #[error("invalid URL `{0}`")]
    InvalidUrl(String),
}

impl ClientError {
    /// The JSON-RPC error code, for JSON-RPC errors.
    pub fn rpc_code(&self) -> Option<i64> {
        match self {
            ClientError::JsonRpc { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn transport(url: &str, source: reqwest::Error) -> Self {
        ClientError::Transport {
            url: url.to_string(),
            source,
        }
    }
}

pub(crate) fn excerpt(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(EXCERPT) {
        Some((i, _)) => format!("{}…", &body[..i]),
        None => body.to_string(),
    }
}
