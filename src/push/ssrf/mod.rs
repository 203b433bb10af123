//! Webhook URL safety (SSRF): which webhook URLs the server may POST to.
//!
//! A client registers a webhook URL and the server then makes requests to it, so a
//! careless server can be made to reach its own loopback services, the private network it
//! runs in, or a cloud metadata endpoint that hands out credentials. The rules here:
//!
//! - [`validate_webhook_url`] (no DNS): `http`/`https` only, a host, no `user:password@`;
//!   a host that is an IP literal, `localhost` (or `*.localhost`) or a cloud metadata name
//!   is checked right away.
//! - [`check_registration`] (registration time): the above, then a name is refused when it
//!   resolves to a blocked address; a name that does not resolve (yet, or on a host without
//!   DNS) is accepted, since whatever it resolves to later meets the connect-time filter.
//! - [`resolve_allowed`]: resolves the host and refuses it when **any** of its addresses
//!   is blocked (an attacker's DNS answering one public and one private address gets
//!   nothing).
//! - [`SafeResolver`] (connect time): a [`reqwest::dns::Resolve`] that applies the same filter
//!   to the addresses reqwest actually connects to, so a DNS answer that changes between
//!   the check and the connect (DNS rebinding) cannot bypass it.
//! - Redirects are **not followed** ([`redirect_policy`] is `Policy::none()`): a 3xx answer
//!   is returned as-is and counts as a failed delivery. A webhook POST that is redirected
//!   would be replayed as a GET (301/302/303) or to a URL the notification's JWT audience
//!   does not name, and not following means no redirect can lead to a blocked address.
//!
//! Blocked unless `allow_private` (`--push-allow-private-networks`): loopback (127/8, ::1),
//! private (10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10), link-local (169.254/16,
//! fe80::/10), unspecified / "this network" (0/8, ::), broadcast (255.255.255.255),
//! shared CGNAT space (100.64/10), multicast (224/4, ff00::/8), reserved (240/4), cloud
//! metadata (169.254.169.254, fd00:ec2::254, `metadata.google.internal`), and the
//! IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) and NAT64
//! (`64:ff9b::a.b.c.d`) IPv6 forms of the blocked IPv4 ranges.
//!
//! [`webhook_client_builder`] puts it together for the delivery worker: the resolver, no
//! redirects, no proxy (a proxy would resolve the name itself, out of the filter's reach),
//! and connect and total timeouts.
//!
//! Which addresses and names are blocked is in `ranges`, the connect-time resolver and the
//! client builder in `resolver`; this module checks and resolves webhook URLs.

mod ranges;
mod resolver;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

use ranges::blocked_name;
pub use ranges::{BlockedRange, blocked_range};
pub use resolver::{ResolveError, SafeResolver, redirect_policy, webhook_client_builder};

/// The command-line switch that allows private addresses, named in error messages.
pub const ALLOW_PRIVATE_SWITCH: &str = "--push-allow-private-networks";

/// Why a webhook URL is refused. The messages are meant for the API client (-32602).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("webhook URL {url:?} is not a valid absolute URL: {reason}")]
    Invalid { url: String, reason: String },
    #[error("webhook URL {url} has scheme {scheme:?}; only http and https are allowed")]
    Scheme { url: String, scheme: String },
    #[error("webhook URL {url} has no host")]
    NoHost { url: String },
    #[error(
        "webhook URL {url} contains credentials (user:password@); put them in the config's authentication instead"
    )]
    UserInfo { url: String },
    #[error(
        "webhook URL {url} resolves to {addr}, {range}; set {ALLOW_PRIVATE_SWITCH} to allow it"
    )]
    Blocked {
        url: String,
        addr: IpAddr,
        range: BlockedRange,
    },
    #[error("webhook URL {url} names {host}, {range}; set {ALLOW_PRIVATE_SWITCH} to allow it")]
    BlockedHost {
        url: String,
        host: String,
        range: BlockedRange,
    },
    #[error("webhook URL {url}: cannot resolve {host}: {reason}")]
    Resolve {
        url: String,
        host: String,
        reason: String,
    },
    #[error("webhook URL {url}: {host} resolves to no address")]
    NoAddresses { url: String, host: String },
}

/// Checks a webhook URL's form, without DNS: `http`/`https`, a host, no userinfo; with
/// `allow_private` false, also refuses a host that is a blocked IP literal, `localhost` or
/// a cloud metadata name. A host name that resolves to a blocked address passes here;
/// [`resolve_allowed`] and [`SafeResolver`] catch it.
pub fn validate_webhook_url(url: &str, allow_private: bool) -> Result<Url, UrlError> {
    let parsed = Url::parse(url).map_err(|e| UrlError::Invalid {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let shown = parsed.as_str().to_owned();
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(UrlError::Scheme {
                url: shown,
                scheme: other.to_owned(),
            });
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Do not echo the credentials back.
        let mut redacted = parsed.clone();
        let _ = redacted.set_username("");
        let _ = redacted.set_password(None);
        return Err(UrlError::UserInfo {
            url: redacted.to_string(),
        });
    }
    let host = match parsed.host() {
        Some(host) => host,
        None => return Err(UrlError::NoHost { url: shown }),
    };
    if !allow_private {
        match host {
            Host::Ipv4(ip) => check_ip(&shown, IpAddr::V4(ip))?,
            Host::Ipv6(ip) => check_ip(&shown, IpAddr::V6(ip))?,
            Host::Domain(name) => {
                if name.is_empty() {
                    return Err(UrlError::NoHost { url: shown });
                }
                if let Some(range) = blocked_name(name) {
                    return Err(UrlError::BlockedHost {
                        url: shown,
                        host: name.to_owned(),
                        range,
                    });
                }
            }
        }
    }
    Ok(parsed)
}

fn check_ip(url: &str, addr: IpAddr) -> Result<(), UrlError> {
    match blocked_range(addr) {
        Some(range) => Err(UrlError::Blocked {
            url: url.to_owned(),
            addr,
            range,
        }),
        None => Ok(()),
    }
}

/// How long registration waits for DNS before taking the name as unresolvable for now.
const REGISTRATION_LOOKUP: Duration = Duration::from_secs(2);

/// The registration-time check: [`validate_webhook_url`], then, unless `allow_private`,
/// refuses a name that resolves to a blocked address. A name that does not resolve now
/// (no such host yet, no DNS, a lookup slower than [`REGISTRATION_LOOKUP`]) is accepted:
/// a delivery re-resolves through [`SafeResolver`], so no blocked address is ever called,
/// and one that cannot resolve fails and is retried like any failed delivery.
pub async fn check_registration(url: &str, allow_private: bool) -> Result<Url, UrlError> {
    let parsed = validate_webhook_url(url, allow_private)?;
    if allow_private {
        return Ok(parsed);
    }
    match tokio::time::timeout(REGISTRATION_LOOKUP, resolve_allowed(url, false)).await {
        Ok(Ok(_)) | Ok(Err(UrlError::Resolve { .. } | UrlError::NoAddresses { .. })) => Ok(parsed),
        Err(_elapsed) => Ok(parsed),
        Ok(Err(e)) => Err(e),
    }
}

/// Validates the URL, resolves its host (`tokio::net::lookup_host`) and returns the
/// addresses to connect to (with the URL's port, or 80/443). Refuses the URL when any
/// address is blocked, unless `allow_private`.
pub async fn resolve_allowed(url: &str, allow_private: bool) -> Result<Vec<SocketAddr>, UrlError> {
    let parsed = validate_webhook_url(url, allow_private)?;
    let shown = parsed.as_str().to_owned();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match parsed.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            let resolved =
                tokio::net::lookup_host((name, port))
                    .await
                    .map_err(|e| UrlError::Resolve {
                        url: shown.clone(),
                        host: name.to_owned(),
                        reason: e.to_string(),
                    })?;
            resolved.collect()
        }
        None => return Err(UrlError::NoHost { url: shown }),
    };
    if addrs.is_empty() {
        return Err(UrlError::NoAddresses {
            url: shown,
            host: parsed.host_str().unwrap_or_default().to_owned(),
        });
    }
    if !allow_private {
        for addr in &addrs {
            check_ip(&shown, addr.ip())?;
        }
    }
    Ok(addrs)
}
