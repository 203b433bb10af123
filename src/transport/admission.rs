//! Who may make a call, decided once for every transport (JSON-RPC today; REST and gRPC
//! answer the same decision in their own codes): the caller's credentials, then its
//! rate-limit bucket. Refusals are counted and logged here, the one place they are made.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use axum::http::HeaderMap;

use super::http::AppState;
use super::tls::PeerCertificates;
use crate::auth::{Credentials, Principal, Refusal};
use crate::ratelimit::RateKey;

/// What the connection and the request's headers say about the caller.
pub(crate) struct Caller<'a> {
    pub(crate) headers: &'a HeaderMap,
    pub(crate) peer: Option<IpAddr>,
    /// The verified client chain (mTLS).
    pub(crate) certs: Option<&'a PeerCertificates>,
}

/// The decision on one call.
pub(crate) enum Admission {
    /// Served, as this principal (the anonymous one when authentication is off).
    Admitted(Principal),
    /// No or bad credentials (401), or a missing scope (403). Already counted and logged.
    Refused(Refusal),
    /// Over the caller's rate limit: retry after this long (429). Already counted.
    RateLimited(Duration),
}

impl AppState {
    /// Authenticates the caller and charges its bucket: every call counts against the
    /// limit, a refused one too (it is charged to its IP's bucket), so that guessing
    /// credentials costs as much as calling.
    pub(crate) async fn admit(&self, caller: &Caller<'_>) -> Admission {
        let creds = Credentials {
            headers: caller.headers,
            peer_certificates: caller.certs,
        };
        let authenticated = self.0.auth.authenticate(&creds).await;
        if let Some(limiter) = &self.0.rate_limit {
            // The principal's bucket; anonymous and refused callers share their IP's.
            let key = match &authenticated {
                Ok(p) if p.is_authenticated() => RateKey::Owner(p.scope.owner.as_str().into()),
                _ => {
                    let ip = caller.peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                    RateKey::Ip(self.0.trusted_proxies.client_ip(ip, caller.headers))
                }
            };
            if let Err(wait) = limiter.check(&key).await {
                self.0.metrics.rate_limited.inc();
                return Admission::RateLimited(wait);
            }
        }
        match authenticated {
            Ok(p) => Admission::Admitted(p),
            Err(refusal) => {
                self.audit(&refusal, caller.peer);
                Admission::Refused(refusal)
            }
        }
    }

    /// A configured extended card needs credentials even where anonymous callers are
    /// allowed: the same refusal (401 and challenge) as a call without credentials.
    /// Without `[card.extended]` there is nothing to protect: everyone gets the method's
    /// "not configured" answer, as an authenticated caller does.
    pub(crate) fn extended_card_refusal(
        &self,
        principal: &Principal,
        peer: Option<IpAddr>,
    ) -> Option<Refusal> {
        if principal.is_authenticated()
            || !self.0.auth.is_enabled()
            || !self.0.module.has_extended_card()
        {
            return None;
        }
        let refusal = Refusal::Missing(self.0.auth.expected());
        self.audit(&refusal, peer);
        Some(refusal)
    }

    /// The `WWW-Authenticate` challenges that go with a refusal (one per scheme).
    pub(crate) fn challenges(&self, refusal: &Refusal) -> Vec<String> {
        self.0.auth.challenges(refusal)
    }

    /// One counter increment and one structured line per refusal; never the credential.
    fn audit(&self, refusal: &Refusal, remote: Option<IpAddr>) {
        let (reason, scheme) = (refusal.label(), refusal.scheme().as_str());
        self.0
            .metrics
            .auth_failures
            .with_label_values(&[reason, scheme])
            .inc();
        tracing::warn!(
            target: "a2a::auth",
            reason,
            scheme,
            remote = remote.map(tracing::field::display),
            principal = refusal.principal(),
            detail = %refusal,
            "request refused"
        );
    }
}
