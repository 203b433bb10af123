//! The agent card routes, rendered once at start-up, with cache validators.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// A rendered card with its validators.
#[derive(Clone)]
pub struct CachedCard {
    body: bytes::Bytes,
    etag: HeaderValue,
    last_modified: HeaderValue,
}

/// How long clients may cache the card.
const MAX_AGE_SECS: u32 = 300;

impl CachedCard {
    /// The card document as served.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    pub fn new(card: &serde_json::Value, modified: std::time::SystemTime) -> Self {
        let body = bytes::Bytes::from(serde_json::to_vec_pretty(card).expect("card serializes"));
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", hex_prefix(&digest));
        Self {
            body,
            etag: HeaderValue::from_str(&etag).expect("hex is a valid header"),
            last_modified: HeaderValue::from_str(&httpdate::fmt_http_date(modified))
                .expect("HTTP dates are valid headers"),
        }
    }

    /// 304 when the client's `If-None-Match` matches, else the card.
    pub fn respond(&self, req_headers: &HeaderMap) -> Response {
        let matches = req_headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| {
                let t = t.trim();
                t == "*" || t.trim_start_matches("W/") == self.etag.to_str().unwrap_or_default()
            });
        let mut resp = if matches {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut r = Response::new(Body::from(self.body.clone()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        };
        let h = resp.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECS}")).expect("valid"),
        );
        h.insert(header::ETAG, self.etag.clone());
        h.insert(header::LAST_MODIFIED, self.last_modified.clone());
        resp
    }
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
