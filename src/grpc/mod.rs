//! gRPC: the generated messages and services of proto/, and the services on them.

/// `lf.a2a.v1`: A2A 1.0.
pub mod v1 {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("lf.a2a.v1");
    include!(concat!(env!("OUT_DIR"), "/lf.a2a.v1.serde.rs"));
}

/// `a2a.v1`: A2A 0.3 (prost only: its messages are mapped to the 0.3 JSON by hand).
pub mod v03 {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("a2a.v1");
}
