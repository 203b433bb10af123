//! The headers every answer carries (security headers, CORS), added in one place for the
//! JSON-RPC endpoint and the router alike: [`super::http::Endpoint`] calls
//! [`AnswerHeaders::apply`] on each response. Static values, a few inserts per answer.
//!
//! CORS is written here rather than with tower-http's `CorsLayer`, which answers every
//! `OPTIONS` as a preflight (200, whatever the path or method asked for) and adds its
//! `Allow-Methods`/`Allow-Headers`/`Vary` headers for origins it refuses too; here a
//! refused origin gets no CORS header at all and a preflight is answered 204.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const DENY: HeaderValue = HeaderValue::from_static("DENY");
const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
/// One year; subdomains are the operator's to decide (a proxy can add `includeSubDomains`).
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

const ALLOW_METHODS: HeaderValue = HeaderValue::from_static("GET, POST, OPTIONS");
const ALLOW_HEADERS: HeaderValue = HeaderValue::from_static(
    "Authorization, Content-Type, A2A-Version, A2A-Extensions, Idempotency-Key, Last-Event-ID, X-API-Key",
);
const EXPOSE_HEADERS: HeaderValue = HeaderValue::from_static("Retry-After, WWW-Authenticate");
/// How long a browser may reuse a preflight's answer, in seconds.
const MAX_AGE: HeaderValue = HeaderValue::from_static("600");
const ORIGIN: HeaderValue = HeaderValue::from_static("Origin");

/// What is added to every answer of one listener.
#[derive(Debug, Clone, Default)]
pub struct AnswerHeaders {
    /// `Strict-Transport-Security` (the listener serves HTTPS).
    pub hsts: bool,
    /// The allowed origins; `None`: no CORS at all.
    cors: Option<Arc<[HeaderValue]>>,
}

impl AnswerHeaders {
    /// `allowed_origins` are checked by the configuration (`cors.allowed_origins`).
    pub fn new(allowed_origins: &[String]) -> Self {
        let origins: Vec<HeaderValue> = allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
            .collect();
        Self {
            hsts: false,
            cors: (!origins.is_empty()).then(|| origins.into()),
        }
    }

    /// The request's `Origin` when it is allowed.
    pub fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let allowed = self.cors.as_ref()?;
        let origin = headers.get(header::ORIGIN)?;
        allowed
            .iter()
            .any(|a| a.as_bytes().eq_ignore_ascii_case(origin.as_bytes()))
            .then(|| origin.clone())
    }

    /// The answer to a CORS preflight from an allowed origin; `None` when `req` is not
    /// one (it is then served as any other request).
    pub fn preflight<B>(&self, req: &Request<B>, origin: Option<&HeaderValue>) -> Option<Response> {
        let origin = origin?;
        if req.method() != Method::OPTIONS
            || !req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return None;
        }
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS);
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS);
        h.insert(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE);
        self.apply(&mut r, None);
        h_vary(r.headers_mut());
        Some(r)
    }

    /// Adds the security headers, and the CORS ones for an allowed `origin`. With CORS
    /// configured every answer says `Vary: Origin`, so that a shared cache never hands one
    /// origin's answer (with or without `Access-Control-Allow-Origin`) to another.
    pub fn apply(&self, r: &mut Response, origin: Option<HeaderValue>) {
        let h = r.headers_mut();
        h.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
        h.insert(header::X_FRAME_OPTIONS, DENY);
        h.insert(header::REFERRER_POLICY, NO_REFERRER);
        if self.hsts {
            h.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
        }
        if self.cors.is_some() {
            h_vary(h);
        }
        if let Some(origin) = origin {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS);
        }
    }
}

/// `Vary: Origin`, once, beside any `Vary` the handler set.
fn h_vary(h: &mut HeaderMap) {
    let name: HeaderName = header::VARY;
    let present = h.get_all(&name).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("origin"))
        })
    });
    if !present {
        h.append(name, ORIGIN);
    }
}
