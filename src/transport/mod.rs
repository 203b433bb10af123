//! HTTP: the accept loop, the axum router, the JSON-RPC endpoint with its limits, SSE,
//! gRPC, the agent card.

mod admission;
mod answers;
mod card;
pub mod client_ip;
pub mod grpc;
mod headers;
pub mod health;
mod http;
pub mod rest;
mod routes;
mod serve;
mod sse;
pub mod tls;

pub use health::{Lifecycle, Readiness};
pub use http::{AppState, Endpoint, Limits, Parts};
pub use serve::serve;
