//! End-to-end tests: the real server on a random port, driven over HTTP.

mod helpers;

mod card;
mod cross_version;
mod errors;
mod streaming;
mod v01;
mod v03;
mod v1;
