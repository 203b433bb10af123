//! gRPC on the HTTP/2 connections of the endpoint (`content-type: application/grpc*`) or
//! on a listener of its own (`grpc_listen`): the services of proto/, one error mapping.

mod call;
pub mod fuzz;
pub(crate) mod status;
mod v03;
mod v1;

use std::convert::Infallible;

use axum::body::Body;
use axum::response::Response;
use http::Request;
use hyper::body::Incoming;
use tower::ServiceExt;

pub(crate) use call::Peer;

use super::http::AppState;
use crate::grpc::v1::a2a_service_server::A2aServiceServer;
use crate::grpc::v03::a2a_service_server::A2aServiceServer as V03Server;

/// The gRPC services of one server.
#[derive(Clone)]
pub(crate) struct Grpc {
    v1: A2aServiceServer<v1::V1>,
    v03: V03Server<v03::V03>,
}

impl Grpc {
    pub(crate) fn new(state: &AppState) -> Self {
        // Messages as large as a JSON-RPC body may be, in both directions.
        let max = state.0.max_body_bytes;
        Self {
            v1: A2aServiceServer::new(v1::V1(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(usize::MAX),
            v03: V03Server::new(v03::V03(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(usize::MAX),
        }
    }

    /// Serves one gRPC request (its content type said so).
    pub(crate) async fn call(&self, req: Request<Incoming>) -> Result<Response, Infallible> {
        let r = if req.uri().path().starts_with("/lf.a2a.v1.A2AService/") {
            self.v1.clone().oneshot(req).await
        } else if req.uri().path().starts_with("/a2a.v1.A2AService/") {
            self.v03.clone().oneshot(req).await
        } else {
            Ok(unimplemented(req.uri().path()))
        };
        let Ok(r) = r;
        Ok(r.map(Body::new))
    }
}

/// `UNIMPLEMENTED` for a service this server does not have (as a trailers-only answer).
fn unimplemented(path: &str) -> http::Response<tonic::body::Body> {
    let s = tonic::Status::unimplemented(format!("no gRPC service at `{path}`"));
    s.into_http()
}

/// Whether a request is gRPC: `application/grpc` with or without a `+format` suffix.
pub(crate) fn is_grpc(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.as_bytes();
            ct.len() >= 16
                && ct[..16].eq_ignore_ascii_case(b"application/grpc")
                && matches!(ct.get(16), None | Some(b'+' | b';'))
        })
}
