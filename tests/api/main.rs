//! End-to-end tests: the real server on a random port, driven over HTTP.

mod helpers;
#[path = "../support/webhook.rs"]
mod webhook;

mod card;
mod cross_version;
mod errors;
mod idempotency;
mod kit_agent;
mod push;
mod push_hosts;
mod streaming;
mod transport;
mod v01;
mod v03;
mod v1;
mod wild;
