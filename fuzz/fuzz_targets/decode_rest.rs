//! Arbitrary bytes as an HTTP+JSON request (`METHOD PATH[?QUERY]`, a newline, the body):
//! routing (tenant prefix, `:verb` split, percent-decoding) and building the params.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    a2a_server::transport::rest::decode::fuzz_decode(data);
});
