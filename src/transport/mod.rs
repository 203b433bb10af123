//! HTTP: the accept loop, the axum router, the JSON-RPC endpoint with its limits, SSE, the agent card.

mod card;
mod http;
mod serve;
mod sse;

pub use http::{AppState, Endpoint, Limits};
pub use serve::serve;
