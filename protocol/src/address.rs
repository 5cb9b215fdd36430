//! Which addresses may be published in public DNS.
//!
//! Both ends use this: the router to notice that its WAN address is private or CGNAT
//! (and ask for the observed one instead), the server to refuse such addresses.
//!
//! The rules are one table, [`SPECIAL_PURPOSE`], taken from the IANA IPv4 and IPv6
//! Special-Purpose Address Registries (as of 2025: every record, including the
//! globally reachable ones), plus multicast and the IPv4-compatible IPv6 block. An
//! address takes the verdict of the most specific entry that contains it, so an
//! exception inside a refused block (192.0.0.9 inside 192.0.0.0/24) is published. An
//! IPv6 address that no entry names must lie in 2000::/3, the only block allocated as
//! global unicast.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not a public, globally routable unicast address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotGlobal {
    Unspecified,
    Loopback,
    /// RFC 1918 or IPv6 unique local (fc00::/7).
    Private,
    /// RFC 6598 shared address space 100.64.0.0/10, used by carrier-grade NAT.
    CarrierGradeNat,
    LinkLocal,
    Multicast,
    Broadcast,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// An IPv4 address in IPv6 clothing: ::ffff:0:0/96, ::/96, 6to4 2002::/16.
    Ipv4Mapped,
    /// NAT64: 64:ff9b::/96 and the local-use 64:ff9b:1::/48.
    Translation,
    /// 198.18.0.0/15 and 2001:2::/48.
    Benchmarking,
    /// Teredo tunnels, 2001::/32.
    Teredo,
    /// Overlay identifiers, not locators: 2001:10::/28, 2001:20::/28, 2001:30::/28.
    Orchid,
    /// The deprecated 6to4 relay anycast block 192.88.99.0/24.
    Relay6to4,
    /// Everything else IANA reserves: 0/8, 192.0.0/24, 240/4, 100::/64, 2001::/23,
    /// 5f00::/16, and IPv6 outside 2000::/3.
    Reserved,
}

impl NotGlobal {
    /// A short explanation a person can act on.
    pub fn describe(self) -> &'static str {
        match self {
            NotGlobal::Unspecified => "the unspecified address",
            NotGlobal::Loopback => "a loopback address",
            NotGlobal::Private => "a private (RFC 1918 / ULA) address",
            NotGlobal::CarrierGradeNat => "a carrier-grade NAT address (100.64.0.0/10)",
            NotGlobal::LinkLocal => "a link-local address",
            NotGlobal::Multicast => "a multicast address",
            NotGlobal::Broadcast => "the broadcast address",
            NotGlobal::Documentation => "a documentation-only address",
            NotGlobal::Ipv4Mapped => {
                "an IPv6 address that embeds an IPv4 one (mapped, compatible or 6to4); \
                 publish the IPv4 address itself"
            }
            NotGlobal::Translation => {
                "a NAT64 translation address (64:ff9b::/96, 64:ff9b:1::/48); \
                 publish the IPv4 address itself"
            }
            NotGlobal::Benchmarking => "a benchmarking-only address",
            NotGlobal::Teredo => {
                "a Teredo tunnel address (2001::/32); publish a native IPv6 address"
            }
            NotGlobal::Orchid => "an overlay identifier (ORCHID), not a routable address",
            NotGlobal::Relay6to4 => "a 6to4 relay anycast address (192.88.99.0/24)",
            NotGlobal::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for NotGlobal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// An address block: network address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    V4(Ipv4Addr, u8),
    V6(Ipv6Addr, u8),
}

impl Block {
    /// Whether `ip` lies in this block (an IPv4 address never lies in an IPv6 block).
    pub fn contains(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Block::V4(net, len), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                u32::from(ip) & mask == u32::from(net)
            }
            (Block::V6(net, len), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }

    pub fn prefix_len(self) -> u8 {
        match self {
            Block::V4(_, len) | Block::V6(_, len) => len,
        }
    }
}

/// One row of [`SPECIAL_PURPOSE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Special {
    pub block: Block,
    /// `None`: globally reachable, published (an exception inside a refused block, or a
    /// registry entry kept here so the table is the whole registry).
    pub refused: Option<NotGlobal>,
    /// The registry's name for the block.
    pub name: &'static str,
    /// The registry's reference.
    pub rfc: &'static str,
}

const fn v4(
    o: [u8; 4],
    len: u8,
    refused: Option<NotGlobal>,
    name: &'static str,
    rfc: &'static str,
) -> Special {
    let block = Block::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3]), len);
    Special {
        block,
        refused,
        name,
        rfc,
    }
}

const fn v6(
    s: [u16; 8],
    len: u8,
    refused: Option<NotGlobal>,
    name: &'static str,
    rfc: &'static str,
) -> Special {
    let ip = Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
    Special {
        block: Block::V6(ip, len),
        refused,
        name,
        rfc,
    }
}

/// Published: the registry says "Globally Reachable: True".
const GLOBAL: Option<NotGlobal> = None;

/// Every special-purpose block, with its verdict. Sources: the IANA IPv4 Special-Purpose
/// Address Registry and the IANA IPv6 Special-Purpose Address Registry (RFC 6890; both as
/// updated through 2025, 25 records each), the IANA multicast registries, RFC 4291.
///
/// Where the registry says "Globally Reachable: False" the block is refused. Decided here:
/// - "N/A" (2001::/32 Teredo, 2002::/16 6to4) and the terminated 192.88.99.0/24 and
///   2001:10::/28 (no values): refused; they are transition or overlay space, never a
///   host's own native address.
/// - 64:ff9b::/96 (True), 2001:20::/28 ORCHIDv2 and 2001:30::/28 DETs (True): refused.
///   A NAT64 address reaches an IPv4 host only through a translator; publish the IPv4
///   address. ORCHIDs "should not appear in actual IPv6 headers" (RFC 7343, abstract);
///   DETs are host identity tags in the ORCHIDv2 format (RFC 9374 updates RFC 7343).
/// - The other True entries are published.
#[rustfmt::skip]
pub const SPECIAL_PURPOSE: &[Special] = {
    use NotGlobal::*;
    &[
    // IANA IPv4 Special-Purpose Address Registry.
    v4([0, 0, 0, 0], 8, Some(Reserved), "\"This network\"", "RFC 791, Section 3.2"),
    v4([0, 0, 0, 0], 32, Some(Unspecified), "\"This host on this network\"", "RFC 1122, Section 3.2.1.3"),
    v4([10, 0, 0, 0], 8, Some(Private), "Private-Use", "RFC 1918"),
    v4([100, 64, 0, 0], 10, Some(CarrierGradeNat), "Shared Address Space", "RFC 6598"),
    v4([127, 0, 0, 0], 8, Some(Loopback), "Loopback", "RFC 1122, Section 3.2.1.3"),
    v4([169, 254, 0, 0], 16, Some(LinkLocal), "Link Local", "RFC 3927"),
    v4([172, 16, 0, 0], 12, Some(Private), "Private-Use", "RFC 1918"),
    v4([192, 0, 0, 0], 24, Some(Reserved), "IETF Protocol Assignments", "RFC 6890, Section 2.1"),
    v4([192, 0, 0, 0], 29, Some(Reserved), "IPv4 Service Continuity Prefix", "RFC 7335"),
    v4([192, 0, 0, 8], 32, Some(Reserved), "IPv4 dummy address", "RFC 7600"),
    v4([192, 0, 0, 9], 32, GLOBAL, "Port Control Protocol Anycast", "RFC 7723"),
    v4([192, 0, 0, 10], 32, GLOBAL, "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    v4([192, 0, 0, 170], 32, Some(Reserved), "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
    v4([192, 0, 0, 171], 32, Some(Reserved), "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
    v4([192, 0, 2, 0], 24, Some(Documentation), "Documentation (TEST-NET-1)", "RFC 5737"),
    v4([192, 31, 196, 0], 24, GLOBAL, "AS112-v4", "RFC 7535"),
    v4([192, 52, 193, 0], 24, GLOBAL, "AMT", "RFC 7450"),
    v4([192, 88, 99, 0], 24, Some(Relay6to4), "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    v4([192, 88, 99, 2], 32, Some(Relay6to4), "6a44-relay anycast address", "RFC 6751"),
    v4([192, 168, 0, 0], 16, Some(Private), "Private-Use", "RFC 1918"),
    v4([192, 175, 48, 0], 24, GLOBAL, "Direct Delegation AS112 Service", "RFC 7534"),
    v4([198, 18, 0, 0], 15, Some(Benchmarking), "Benchmarking", "RFC 2544"),
    v4([198, 51, 100, 0], 24, Some(Documentation), "Documentation (TEST-NET-2)", "RFC 5737"),
    v4([203, 0, 113, 0], 24, Some(Documentation), "Documentation (TEST-NET-3)", "RFC 5737"),
    v4([240, 0, 0, 0], 4, Some(Reserved), "Reserved", "RFC 1112, Section 4"),
    v4([255, 255, 255, 255], 32, Some(Broadcast), "Limited Broadcast", "RFC 8190, RFC 919 Section 7"),
    // IANA IPv4 Multicast Address Space Registry.
    v4([224, 0, 0, 0], 4, Some(Multicast), "Multicast", "RFC 5771"),
    // IANA IPv6 Special-Purpose Address Registry.
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, Some(Loopback), "Loopback Address", "RFC 4291"),
    v6([0, 0, 0, 0, 0, 0, 0, 0], 128, Some(Unspecified), "Unspecified Address", "RFC 4291"),
    v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, Some(Ipv4Mapped), "IPv4-mapped Address", "RFC 4291"),
    v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, Some(Translation), "IPv4-IPv6 Translat.", "RFC 6052"),
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, Some(Translation), "IPv4-IPv6 Translat.", "RFC 8215"),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, Some(Reserved), "Discard-Only Address Block", "RFC 6666"),
    v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, Some(Reserved), "Dummy IPv6 Prefix", "RFC 9780"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, Some(Reserved), "IETF Protocol Assignments", "RFC 2928"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, Some(Teredo), "TEREDO", "RFC 4380, RFC 8190"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128, GLOBAL, "Port Control Protocol Anycast", "RFC 7723"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128, GLOBAL, "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128, GLOBAL, "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
    v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, Some(Benchmarking), "Benchmarking", "RFC 5180, RFC Errata 1752"),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, GLOBAL, "AMT", "RFC 7450"),
    v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48, GLOBAL, "AS112-v6", "RFC 7535"),
    v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, Some(Orchid), "Deprecated (previously ORCHID)", "RFC 4843"),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, Some(Orchid), "ORCHIDv2", "RFC 7343"),
    v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28, Some(Orchid), "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Some(Documentation), "Documentation", "RFC 3849"),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, Some(Ipv4Mapped), "6to4", "RFC 3056"),
    v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48, GLOBAL, "Direct Delegation AS112 Service", "RFC 7534"),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, Some(Documentation), "Documentation", "RFC 9637"),
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, Some(Reserved), "Segment Routing (SRv6) SIDs", "RFC 9602"),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, Some(Private), "Unique-Local", "RFC 4193, RFC 8190"),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, Some(LinkLocal), "Link-Local Unicast", "RFC 4291"),
    // IANA IPv6 Address Space Registry (::/8 "Reserved by IETF"): IPv4-compatible, deprecated.
    v6([0, 0, 0, 0, 0, 0, 0, 0], 96, Some(Ipv4Mapped), "IPv4-Compatible IPv6 Address", "RFC 4291, Section 2.5.5.1"),
    // IANA IPv6 Multicast Address Space Registry.
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Some(Multicast), "Multicast", "RFC 4291"),
    ]
};

/// The most specific table entry containing `ip`, if any.
pub fn special(ip: IpAddr) -> Option<&'static Special> {
    SPECIAL_PURPOSE
        .iter()
        .filter(|s| s.block.contains(ip))
        .max_by_key(|s| s.block.prefix_len())
}

/// What counts as publishable. Documentation ranges are refused unless a deployment
/// explicitly allows them (local tests use 192.0.2.0/24 and 2001:db8::/32).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    pub allow_documentation: bool,
}

impl Policy {
    /// `Ok` if `ip` may be published; otherwise why not.
    pub fn check(self, ip: IpAddr) -> Result<(), NotGlobal> {
        match classify(ip) {
            Err(NotGlobal::Documentation) if self.allow_documentation => Ok(()),
            other => other,
        }
    }
}

/// Classifies an address: `Ok` for global unicast, `Err(reason)` otherwise.
pub fn classify(ip: IpAddr) -> Result<(), NotGlobal> {
    match special(ip) {
        Some(s) => s.refused.map_or(Ok(()), Err),
        // Only 2000::/3 is allocated as global unicast (IANA IPv6 Address Space Registry).
        None => match ip {
            IpAddr::V6(v6) if v6.segments()[0] & 0xe000 != 0x2000 => Err(NotGlobal::Reserved),
            _ => Ok(()),
        },
    }
}

pub fn classify_v4(ip: Ipv4Addr) -> Result<(), NotGlobal> {
    classify(IpAddr::V4(ip))
}

pub fn classify_v6(ip: Ipv6Addr) -> Result<(), NotGlobal> {
    classify(IpAddr::V6(ip))
}
