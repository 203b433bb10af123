//! The client's IP address: the TCP peer, or what `X-Forwarded-For` says when the peer is
//! a reverse proxy the operator trusts (`auth.trusted_proxies`).

use std::net::IpAddr;

use http::HeaderMap;
use ipnet::IpNet;

/// The CIDRs of trusted reverse proxies.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses CIDRs (`10.0.0.0/8`) or bare addresses (one host).
    pub fn parse(list: &[String]) -> Result<Self, String> {
        list.iter()
            .map(|s| {
                let s = s.trim();
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{s}` is not a CIDR such as 10.0.0.0/8 or an IP address"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address. A peer that is not a trusted proxy is the client, whatever
    /// its headers say (anyone can send `X-Forwarded-For`). From a trusted one,
    /// `X-Forwarded-For` is walked from the right (each proxy appends the address it saw),
    /// skipping trusted hops: the first untrusted address is the client. A malformed entry
    /// stops the walk at the last address known good.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if self.0.is_empty() || !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        // Several headers are one list, in order.
        let values: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        for hop in values.iter().rev().flat_map(|v| v.rsplit(',')) {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_are_the_client() {
        let t = TrustedProxies::parse(&["10.0.0.0/8".into()]).unwrap();
        assert_eq!(
            t.client_ip(ip("1.2.3.4"), &headers(&["9.9.9.9"])),
            ip("1.2.3.4")
        );
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("10.0.0.1"), &headers(&["9.9.9.9"])),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn trusted_hops_are_skipped_from_the_right() {
        let t = TrustedProxies::parse(&["10.0.0.0/8".into(), "127.0.0.1".into()]).unwrap();
        let h = headers(&["6.6.6.6, 5.5.5.5", "10.1.1.1"]);
        assert_eq!(t.client_ip(ip("127.0.0.1"), &h), ip("5.5.5.5"));
        assert_eq!(t.client_ip(ip("::ffff:127.0.0.1"), &h), ip("5.5.5.5"));
        // Nothing forwarded: the proxy itself.
        assert_eq!(
            t.client_ip(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        // Garbage stops the walk at the last good address.
        let h = headers(&["5.5.5.5, junk, 10.2.2.2"]);
        assert_eq!(t.client_ip(ip("10.0.0.2"), &h), ip("10.2.2.2"));
    }

    #[test]
    fn bad_cidrs_are_named() {
        let e = TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(e.contains("10.0.0.0/33"), "{e}");
    }
}
