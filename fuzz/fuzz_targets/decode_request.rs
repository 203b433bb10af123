//! Arbitrary bytes as a JSON-RPC request body: envelope, version selection and the
//! params decoders of every method of every A2A version.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    a2a_server::jsonrpc::fuzz_decode(data);
});
