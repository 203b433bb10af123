//! Webhook URL safety (SSRF): which webhook URLs the server may POST to.
//!
//! A client registers a webhook URL and the server then makes requests to it, so a
//! careless server can be made to reach its own loopback services, the private network it
//! runs in, or a cloud metadata endpoint that hands out credentials. The rules here:
//!
//! - [`validate_webhook_url`] (registration time, no DNS): `http`/`https` only, a host,
//!   no `user:password@`; a host that is an IP literal, `localhost` (or `*.localhost`) or a
//!   cloud metadata name is checked right away.
//! - [`resolve_allowed`] (send time): resolves the host and refuses it when **any** of its
//!   addresses is blocked (an attacker's DNS answering one public and one private address
//!   gets nothing).
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

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The command-line switch that allows private addresses, named in error messages.
pub const ALLOW_PRIVATE_SWITCH: &str = "--push-allow-private-networks";

/// Host names of cloud metadata services, refused like the addresses they resolve to.
const METADATA_HOSTS: &[&str] = &["metadata.google.internal", "metadata.goog", "metadata"];

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedRange {
    Loopback,
    Private,
    LinkLocal,
    Unspecified,
    Broadcast,
    SharedCgnat,
    Multicast,
    Reserved,
    CloudMetadata,
}

impl fmt::Display for BlockedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockedRange::Loopback => "a loopback address",
            BlockedRange::Private => "a private-network address",
            BlockedRange::LinkLocal => "a link-local address",
            BlockedRange::Unspecified => "an unspecified address",
            BlockedRange::Broadcast => "a broadcast address",
            BlockedRange::SharedCgnat => "a shared (carrier-grade NAT) address",
            BlockedRange::Multicast => "a multicast address",
            BlockedRange::Reserved => "a reserved address",
            BlockedRange::CloudMetadata => "a cloud metadata address",
        })
    }
}

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

/// Classifies an address: `Some(range)` when it is refused without `allow_private`.
pub fn blocked_range(ip: IpAddr) -> Option<BlockedRange> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<BlockedRange> {
    let o = ip.octets();
    // 169.254.169.254: AWS, GCP, Azure, OpenStack...; 169.254.170.2: ECS task credentials.
    let range = if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(169, 254, 170, 2)
    {
        BlockedRange::CloudMetadata
    } else if ip.is_loopback() {
        BlockedRange::Loopback
    } else if ip.is_unspecified() || o[0] == 0 {
        BlockedRange::Unspecified
    } else if ip.is_private() {
        BlockedRange::Private
    } else if ip.is_link_local() {
        BlockedRange::LinkLocal
    } else if ip.is_broadcast() {
        BlockedRange::Broadcast
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        // 100.64.0.0/10; Alibaba's metadata service 100.100.100.200 is in it.
        BlockedRange::SharedCgnat
    } else if ip.is_multicast() {
        BlockedRange::Multicast
    } else if o[0] >= 240 {
        BlockedRange::Reserved
    } else {
        return None;
    };
    Some(range)
}

fn blocked_v6(ip: Ipv6Addr) -> Option<BlockedRange> {
    // IPv4 embedded in IPv6: mapped ::ffff:a.b.c.d, compatible ::a.b.c.d (not :: and ::1,
    // handled below), NAT64 64:ff9b::a.b.c.d. Each reaches the IPv4 address it embeds.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4);
    }
    let seg = ip.segments();
    if seg[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_unspecified() && !ip.is_loopback() {
        return blocked_v4(Ipv4Addr::from_bits(ip.to_bits() as u32));
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return blocked_v4(Ipv4Addr::from_bits(ip.to_bits() as u32));
    }
    let range = if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        BlockedRange::CloudMetadata
    } else if ip.is_loopback() {
        BlockedRange::Loopback
    } else if ip.is_unspecified() {
        BlockedRange::Unspecified
    } else if (seg[0] & 0xfe00) == 0xfc00 || (seg[0] & 0xffc0) == 0xfec0 {
        // fc00::/7 unique local; fec0::/10 the deprecated site-local.
        BlockedRange::Private
    } else if (seg[0] & 0xffc0) == 0xfe80 {
        BlockedRange::LinkLocal
    } else if ip.is_multicast() {
        BlockedRange::Multicast
    } else {
        return None;
    };
    Some(range)
}

/// Classifies a host name without resolving it: `localhost` and cloud metadata names.
fn blocked_name(host: &str) -> Option<BlockedRange> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        Some(BlockedRange::Loopback)
    } else if METADATA_HOSTS.contains(&host.as_str()) {
        Some(BlockedRange::CloudMetadata)
    } else {
        None
    }
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

/// A [`reqwest::dns::Resolve`] that resolves with the system resolver and refuses a name
/// when any of its addresses is blocked (unless `allow_private`). Install it with
/// `ClientBuilder::dns_resolver(SafeResolver { allow_private })`; the check then applies to
/// the addresses reqwest connects to, after any DNS change.
///
/// reqwest does not call a resolver for IP-literal hosts: those are checked by
/// [`validate_webhook_url`], which the delivery worker must run on every URL it sends to.
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

/// The redirect policy for webhook requests: redirects are not followed (see the module
/// docs); a 3xx answer comes back as the response.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::none()
}

/// A reqwest client builder for webhook delivery: [`SafeResolver`], no redirects, no
/// proxy, the given connect and total timeouts. Add TLS or pool settings before `build()`.
/// IP-literal URLs bypass the resolver: run [`validate_webhook_url`] before each send.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(url: &str) -> UrlError {
        validate_webhook_url(url, false).expect_err(url)
    }

    #[test]
    fn every_blocked_range_is_refused_and_allowed_with_the_switch() {
        let cases: &[(&str, BlockedRange)] = &[
            ("http://127.0.0.1:9/", BlockedRange::Loopback),
            ("http://127.255.0.7/", BlockedRange::Loopback),
            ("http://[::1]/", BlockedRange::Loopback),
            ("http://10.1.2.3/", BlockedRange::Private),
            ("http://172.16.0.1/", BlockedRange::Private),
            ("http://172.31.255.255/", BlockedRange::Private),
            ("http://192.168.1.1/", BlockedRange::Private),
            ("http://[fc00::1]/", BlockedRange::Private),
            ("http://[fd12:3456::1]/", BlockedRange::Private),
            ("http://169.254.1.1/", BlockedRange::LinkLocal),
            ("http://[fe80::1]/", BlockedRange::LinkLocal),
            ("http://0.0.0.0/", BlockedRange::Unspecified),
            ("http://0.1.2.3/", BlockedRange::Unspecified),
            ("http://[::]/", BlockedRange::Unspecified),
            ("http://255.255.255.255/", BlockedRange::Broadcast),
            ("http://100.64.0.1/", BlockedRange::SharedCgnat),
            ("http://100.127.255.254/", BlockedRange::SharedCgnat),
            ("http://224.0.0.1/", BlockedRange::Multicast),
            ("http://[ff02::1]/", BlockedRange::Multicast),
            ("http://240.0.0.1/", BlockedRange::Reserved),
            (
                "http://169.254.169.254/latest/meta-data/",
                BlockedRange::CloudMetadata,
            ),
            ("http://[fd00:ec2::254]/", BlockedRange::CloudMetadata),
            ("http://[::ffff:127.0.0.1]/", BlockedRange::Loopback),
            ("http://[::ffff:10.0.0.1]/", BlockedRange::Private),
            (
                "http://[::ffff:169.254.169.254]/",
                BlockedRange::CloudMetadata,
            ),
            ("http://[::127.0.0.1]/", BlockedRange::Loopback),
            ("http://[64:ff9b::192.168.0.1]/", BlockedRange::Private),
            // Legacy IPv4 spellings are normalised by the URL parser.
            ("http://2130706433/", BlockedRange::Loopback),
            ("http://0x7f.1/", BlockedRange::Loopback),
        ];
        for (url, range) in cases {
            match blocked(url) {
                UrlError::Blocked { range: got, .. } => assert_eq!(got, *range, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
            validate_webhook_url(url, true).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }

    #[test]
    fn blocked_names_are_refused_without_dns() {
        for (url, range) in [
            ("http://localhost:8080/hook", BlockedRange::Loopback),
            ("http://LOCALHOST./hook", BlockedRange::Loopback),
            ("http://api.localhost/hook", BlockedRange::Loopback),
            (
                "http://metadata.google.internal/",
                BlockedRange::CloudMetadata,
            ),
            (
                "http://metadata.google.internal./",
                BlockedRange::CloudMetadata,
            ),
        ] {
            match blocked(url) {
                UrlError::BlockedHost { range: got, .. } => assert_eq!(got, range, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
            validate_webhook_url(url, true).unwrap();
        }
    }

    #[test]
    fn public_addresses_pass() {
        for url in [
            "https://example.com/hook",
            "http://93.184.216.34/",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/",
            "http://100.63.255.255/",
            "http://100.128.0.1/",
            "http://172.32.0.1/",
            "http://[::ffff:8.8.8.8]/",
        ] {
            validate_webhook_url(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }

    #[test]
    fn message_says_why() {
        assert_eq!(
            blocked("http://127.0.0.1:9/").to_string(),
            "webhook URL http://127.0.0.1:9/ resolves to 127.0.0.1, a loopback address; \
             set --push-allow-private-networks to allow it"
        );
        assert_eq!(
            blocked("http://[::ffff:127.0.0.1]/x").to_string(),
            "webhook URL http://[::ffff:7f00:1]/x resolves to ::ffff:127.0.0.1, a loopback \
             address; set --push-allow-private-networks to allow it"
        );
        assert!(
            blocked("http://169.254.169.254/")
                .to_string()
                .contains("a cloud metadata address")
        );
    }

    #[test]
    fn form_rules() {
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "ws://example.com/",
            "javascript:alert(1)",
        ] {
            assert!(
                matches!(
                    validate_webhook_url(url, true),
                    Err(UrlError::Scheme { .. })
                ),
                "{url}"
            );
        }
        assert!(matches!(
            validate_webhook_url("/relative", true),
            Err(UrlError::Invalid { .. })
        ));
        assert!(matches!(
            validate_webhook_url("not a url", true),
            Err(UrlError::Invalid { .. })
        ));
        let err = validate_webhook_url("https://user:secret@example.com/", true).unwrap_err();
        assert!(matches!(err, UrlError::UserInfo { .. }));
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(matches!(
            validate_webhook_url("https://user@example.com/", true),
            Err(UrlError::UserInfo { .. })
        ));
    }

    #[tokio::test]
    async fn resolution_is_checked() {
        let err = resolve_allowed("http://localhost:9/", false)
            .await
            .unwrap_err();
        assert!(matches!(err, UrlError::BlockedHost { .. }), "{err}");
        let err = resolve_allowed("http://127.0.0.1:9/", false)
            .await
            .unwrap_err();
        assert!(matches!(err, UrlError::Blocked { .. }), "{err}");

        let addrs = resolve_allowed("http://127.0.0.1:9/", true).await.unwrap();
        assert_eq!(addrs, vec!["127.0.0.1:9".parse().unwrap()]);
        let addrs = resolve_allowed("http://localhost/", true).await.unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
    }

    #[tokio::test]
    async fn safe_resolver_filters_what_reqwest_connects_to() {
        // A name resolving to loopback, resolved the way reqwest would.
        let strict = SafeResolver {
            allow_private: false,
        };
        let err = strict
            .resolve("localhost".parse::<Name>().unwrap())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("loopback"), "{err}");
        let open = SafeResolver {
            allow_private: true,
        };
        let addrs: Vec<_> = open
            .resolve("localhost".parse::<Name>().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());

        // End to end: a real server on 127.0.0.1, reached through a host name.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        let url = format!("http://localhost:{port}/hook");
        let client = webhook_client_builder(false, Duration::from_secs(2), Duration::from_secs(5))
            .build()
            .unwrap();
        let err = client.post(&url).send().await.unwrap_err();
        let mut chain = String::new();
        let mut source: Option<&dyn std::error::Error> = Some(&err);
        while let Some(e) = source {
            chain.push_str(&e.to_string());
            chain.push_str(" / ");
            source = e.source();
        }
        assert!(chain.contains("loopback"), "{chain}");

        let client = webhook_client_builder(true, Duration::from_secs(2), Duration::from_secs(5))
            .build()
            .unwrap();
        let resp = client.post(&url).send().await.unwrap();
        assert_eq!(resp.status(), 302, "redirects are not followed");
    }
}
