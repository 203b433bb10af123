//! Arbitrary bytes as a gRPC request message: the first byte picks the message (1.0 or
//! 0.3), the rest is decoded with prost and taken on as the server does (ProtoJSON or the
//! 0.3 mapping, then the method's params decoder).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    a2a_server::transport::grpc::fuzz::fuzz_decode(data);
});
