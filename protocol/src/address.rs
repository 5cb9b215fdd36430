//! Which addresses may be published in public DNS.
//!
//! Both ends use this: the router to notice that its WAN address is private or CGNAT
//! (and ask for the observed one instead), the server to refuse such addresses.

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
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32.
    Documentation,
    /// ::ffff:0:0/96 and friends: an IPv4 address in IPv6 clothing.
    Ipv4Mapped,
    /// Everything else IANA reserves: 0/8, 192.0.0/24, 198.18/15, 240/4, 64:ff9b::/96, 2002::/16 …
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
            NotGlobal::Ipv4Mapped => "an IPv4-mapped or -translated IPv6 address",
            NotGlobal::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for NotGlobal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
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
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

pub fn classify_v4(ip: Ipv4Addr) -> Result<(), NotGlobal> {
    let [a, b, c, _] = ip.octets();
    let reason = match (a, b, c) {
        _ if ip.is_unspecified() => NotGlobal::Unspecified,
        _ if ip.is_broadcast() => NotGlobal::Broadcast,
        (127, _, _) => NotGlobal::Loopback,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => NotGlobal::Private,
        (100, 64..=127, _) => NotGlobal::CarrierGradeNat,
        (169, 254, _) => NotGlobal::LinkLocal,
        (224..=239, _, _) => NotGlobal::Multicast,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => NotGlobal::Documentation,
        (0, _, _) | (192, 0, 0) | (198, 18..=19, _) | (240..=255, _, _) => NotGlobal::Reserved,
        _ => return Ok(()),
    };
    Err(reason)
}

pub fn classify_v6(ip: Ipv6Addr) -> Result<(), NotGlobal> {
    let s = ip.segments();
    let reason = match s {
        _ if ip.is_unspecified() => NotGlobal::Unspecified,
        _ if ip.is_loopback() => NotGlobal::Loopback,
        // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), 64:ff9b::/96 (NAT64).
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => NotGlobal::Ipv4Mapped,
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] | [0x64, 0xff9b, 1, ..] => NotGlobal::Ipv4Mapped,
        [0x2002, ..] => NotGlobal::Ipv4Mapped,
        [0x2001, 0x0db8, ..] | [0x3fff, 0..=0x0fff, ..] => NotGlobal::Documentation,
        [x, ..] if x & 0xfe00 == 0xfc00 => NotGlobal::Private,
        [x, ..] if x & 0xffc0 == 0xfe80 => NotGlobal::LinkLocal,
        [x, ..] if x & 0xff00 == 0xff00 => NotGlobal::Multicast,
        // Only 2000::/3 is allocated as global unicast.
        [x, ..] if x & 0xe000 != 0x2000 => NotGlobal::Reserved,
        _ => return Ok(()),
    };
    Err(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Result<(), NotGlobal> {
        classify(s.parse().expect("test address"))
    }

    #[test]
    fn public_addresses_pass() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "2a00:1450:4001::1",
            "2606:4700::1111",
        ] {
            assert_eq!(v4(s), Ok(()), "{s}");
        }
    }

    #[test]
    fn each_kind_of_non_global_is_named() {
        let cases = [
            ("0.0.0.0", NotGlobal::Unspecified),
            ("127.0.0.1", NotGlobal::Loopback),
            ("10.1.2.3", NotGlobal::Private),
            ("172.31.0.1", NotGlobal::Private),
            ("192.168.1.1", NotGlobal::Private),
            ("100.64.0.1", NotGlobal::CarrierGradeNat),
            ("100.127.255.254", NotGlobal::CarrierGradeNat),
            ("169.254.1.1", NotGlobal::LinkLocal),
            ("224.0.0.1", NotGlobal::Multicast),
            ("255.255.255.255", NotGlobal::Broadcast),
            ("192.0.2.7", NotGlobal::Documentation),
            ("203.0.113.9", NotGlobal::Documentation),
            ("198.18.0.1", NotGlobal::Reserved),
            ("::", NotGlobal::Unspecified),
            ("::1", NotGlobal::Loopback),
            ("::ffff:8.8.8.8", NotGlobal::Ipv4Mapped),
            ("64:ff9b::808:808", NotGlobal::Ipv4Mapped),
            ("2002:808:808::1", NotGlobal::Ipv4Mapped),
            ("fd00::1", NotGlobal::Private),
            ("fe80::1", NotGlobal::LinkLocal),
            ("ff02::1", NotGlobal::Multicast),
            ("2001:db8::1", NotGlobal::Documentation),
            ("4000::1", NotGlobal::Reserved),
        ];
        for (s, want) in cases {
            assert_eq!(v4(s), Err(want), "{s}");
        }
    }

    #[test]
    fn documentation_ranges_only_when_allowed() {
        let ip: IpAddr = "2001:db8::5".parse().expect("test address");
        assert!(Policy::default().check(ip).is_err());
        assert!(Policy {
            allow_documentation: true
        }
        .check(ip)
        .is_ok());
        let private: IpAddr = "10.0.0.1".parse().expect("test address");
        assert!(Policy {
            allow_documentation: true
        }
        .check(private)
        .is_err());
    }
}
