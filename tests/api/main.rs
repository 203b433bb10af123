//! End-to-end tests: the real server on a random port, driven over HTTP.

mod helpers;

mod card;
mod streaming;
mod v1;
