//! Connect-time enforcement: a reqwest resolver that applies the address filter to what
//! reqwest actually connects to, and the webhook client built around it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{ALLOW_PRIVATE_SWITCH, BlockedRange, blocked_name, blocked_range};

/// A [`reqwest::dns::Resolve`] that resolves with the system resolver and refuses a name
/// when any of its addresses is blocked (unless `allow_private`). Install it with
/// `ClientBuilder::dns_resolver(SafeResolver { allow_private })`; the check then applies to
/// the addresses reqwest connects to, after any DNS change.
///
/// reqwest does not call a resolver for IP-literal hosts: those are checked by
/// [`validate_webhook_url`](super::validate_webhook_url), which the delivery worker must
/// run on every URL it sends to.
#[derive(Debug, Clone, Copy, Default)]
pub struct SafeResolver {
    pub allow_private: bool,
}

/// The error a [`SafeResolver`] refuses a name with (reqwest wraps it in its own error;
/// walk `std::error::Error::source` to find it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("host {host} resolves to {addr}, {range}; set {ALLOW_PRIVATE_SWITCH} to allow it")]
    Blocked {
        host: String,
        addr: IpAddr,
        range: BlockedRange,
    },
    #[error("host {host} is {range}; set {ALLOW_PRIVATE_SWITCH} to allow it")]
    BlockedName { host: String, range: BlockedRange },
    #[error("cannot resolve host {host}: {reason}")]
    Lookup { host: String, reason: String },
    #[error("host {host} resolves to no address")]
    NoAddresses { host: String },
}

impl SafeResolver {
    /// Resolves `host` and applies the filter; the ports of the result are 0.
    pub async fn resolve_host(&self, host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        if !self.allow_private
            && let Some(range) = blocked_name(host)
        {
            return Err(ResolveError::BlockedName {
                host: host.to_owned(),
                range,
            });
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|e| ResolveError::Lookup {
                host: host.to_owned(),
                reason: e.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(ResolveError::NoAddresses {
                host: host.to_owned(),
            });
        }
        if !self.allow_private {
            for addr in &addrs {
                if let Some(range) = blocked_range(addr.ip()) {
                    return Err(ResolveError::Blocked {
                        host: host.to_owned(),
                        addr: addr.ip(),
                        range,
                    });
                }
            }
        }
        Ok(addrs)
    }
}

impl Resolve for SafeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = *self;
        Box::pin(async move {
            let addrs = this.resolve_host(name.as_str()).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The redirect policy for webhook requests: redirects are not followed (see the
/// [`ssrf`](super) module docs); a 3xx answer comes back as the response.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::none()
}

/// A reqwest client builder for webhook delivery: [`SafeResolver`], no redirects, no
/// proxy, the given connect and total timeouts. Add TLS or pool settings before `build()`.
/// IP-literal URLs bypass the resolver: run
/// [`validate_webhook_url`](super::validate_webhook_url) before each send.
pub fn webhook_client_builder(
    allow_private: bool,
    connect_timeout: Duration,
    timeout: Duration,
) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(SafeResolver { allow_private })
        .redirect(redirect_policy())
        .no_proxy()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
}
