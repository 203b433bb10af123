//! An Agent2Agent (A2A) protocol server and client.
//!
//! - [`protocol`]: the internal model, task states, errors; no I/O.
//! - [`codec`]: one wire codec per A2A version (1.0, 0.3, 0.1).
//! - [`store`]: the `TaskStore` seam and its backends.
//! - [`events`]: the event bus that carries committed events to subscribers.
//! - [`service`]: the task service: sends, cancels, streams, the agent runs.
//! - [`agents`]: the `AgentExecutor` seam and the built-in agents.
//! - [`conformance`]: `a2a conformance URL`, the spec checks for any server.
//! - [`schemas`]: JSON Schemas of the wire types (`a2a schemas`).

pub mod agents;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod client;
pub mod codec;
pub mod config;
pub mod conformance;
pub mod events;
pub mod grpc;
pub mod jsonrpc;
pub mod metrics;
pub mod protocol;
pub mod push;
pub mod ratelimit;
pub mod schemas;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod traces;
pub mod transport;
