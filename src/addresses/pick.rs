//! Which address of one interface may be published: a global WAN IPv4 (or "auto" behind
//! NAT), a stable global IPv6, a live delegated prefix for LAN hosts.

use crate::netifd::{Assignment, IfaceStatus};
use route53_ddns_protocol::address::{classify_v4, classify_v6, NotGlobal};
use route53_ddns_protocol::AddrSpec;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether the router's WAN IPv4 is the public address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nat {
    /// The WAN address is public.
    None,
    /// 100.64.0.0/10: the provider's carrier-grade NAT.
    Cgnat,
    /// RFC 1918 or other private address: another NAT in front of this router.
    Nat,
}

impl Nat {
    pub fn as_str(self) -> &'static str {
        match self {
            Nat::None => "none",
            Nat::Cgnat => "cgnat",
            Nat::Nat => "nat",
        }
    }

    pub fn parse(s: &str) -> Option<Nat> {
        match s {
            "none" => Some(Nat::None),
            "cgnat" => Some(Nat::Cgnat),
            "nat" => Some(Nat::Nat),
            _ => None,
        }
    }
}

/// Documentation ranges count as global here: they never appear on a real WAN, local
/// tests use them, and the server (which decides) refuses them unless allowed.
fn publishable_v4(ip: Ipv4Addr) -> Result<(), NotGlobal> {
    match classify_v4(ip) {
        Err(NotGlobal::Documentation) => Ok(()),
        other => other,
    }
}

fn publishable_v6(ip: Ipv6Addr) -> Result<(), NotGlobal> {
    match classify_v6(ip) {
        Err(NotGlobal::Documentation) => Ok(()),
        other => other,
    }
}

/// The IPv4 side of the WAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wan4 {
    pub spec: AddrSpec<Ipv4Addr>,
    /// The address on the WAN interface itself.
    pub local: Option<Ipv4Addr>,
    pub nat: Option<Nat>,
}

/// Picks the IPv4 to publish: a global WAN address as is; behind NAT, "auto".
pub fn pick_ipv4(st: &IfaceStatus) -> Wan4 {
    if let Some(ip) = st.ipv4.iter().find(|ip| publishable_v4(**ip).is_ok()) {
        return Wan4 {
            spec: AddrSpec::Set(*ip),
            local: Some(*ip),
            nat: Some(Nat::None),
        };
    }
    let Some(ip) = st
        .ipv4
        .iter()
        .find(|ip| !ip.is_loopback() && !ip.is_link_local() && !ip.is_unspecified())
    else {
        return Wan4 {
            spec: AddrSpec::Keep,
            local: None,
            nat: None,
        };
    };
    let nat = match classify_v4(*ip) {
        Err(NotGlobal::CarrierGradeNat) => Nat::Cgnat,
        _ => Nat::Nat,
    };
    Wan4 {
        spec: AddrSpec::Auto,
        local: Some(*ip),
        nat: Some(nat),
    }
}

/// A stable global IPv6 of an interface: the lowest eligible address, so the choice does
/// not flap between runs.
pub fn pick_ipv6(st: &IfaceStatus) -> Option<Ipv6Addr> {
    st.ipv6
        .iter()
        .filter(|a| !a.temporary && !a.deprecated() && publishable_v6(a.addr).is_ok())
        .map(|a| a.addr)
        .min()
}

/// A prefix that may be published under: not deprecated, global.
pub fn live_prefix(a: &Assignment) -> bool {
    a.preferred != Some(0) && publishable_v6(a.prefix).is_ok()
}

pub(super) fn usable(a: &Assignment) -> bool {
    a.mask <= 64 && live_prefix(a)
}

/// The prefix a LAN host lives in, with its length: the LAN's own prefix assignment, else
/// what the WAN6 delegation says it assigned to the LAN. Prefixes up to /64 come first
/// (any interface identifier fits), then the lowest address, so the choice does not flap.
pub fn lan_prefix(lan: &IfaceStatus, wan6: &IfaceStatus, lan_name: &str) -> Option<(Ipv6Addr, u8)> {
    let best = |it: &mut dyn Iterator<Item = &Assignment>| {
        it.filter(|a| live_prefix(a))
            .map(|a| (a.mask > 64, a.prefix, a.mask))
            .min()
            .map(|(_, p, m)| (p, m))
    };
    best(&mut lan.assignments.iter()).or_else(|| {
        best(
            &mut wan6
                .delegated
                .iter()
                .filter(|(i, _)| i == lan_name)
                .map(|(_, a)| a),
        )
    })
}
