//! The blocked address ranges and host names, and how an address or name is classified.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
pub(super) fn blocked_name(host: &str) -> Option<BlockedRange> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        Some(BlockedRange::Loopback)
    } else if METADATA_HOSTS.contains(&host.as_str()) {
        Some(BlockedRange::CloudMetadata)
    } else {
        None
    }
}
