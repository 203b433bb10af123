//! HTTP: the accept loop, the axum router, the JSON-RPC endpoint with its limits, SSE, the agent card.

mod card;
pub mod health;
mod http;
mod serve;
mod sse;

pub use health::{Lifecycle, Readiness};
pub use http::{AppState, Endpoint, Limits, Parts};
pub use serve::serve;
