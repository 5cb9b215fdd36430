//! What to publish for each host, from the interface statuses: a stable global IPv6
//! (not ULA, link-local, deprecated or temporary), a LAN host's address from the delegated
//! prefix and its suffix, and "auto" for IPv4 when the WAN address is private or CGNAT.

use crate::config::Config;
use crate::host_id::HostId;
use crate::netifd::{Assignment, IfaceStatus, Interfaces};
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

fn usable(a: &Assignment) -> bool {
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

/// What one host should be set to, and what was seen on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPlan {
    pub name: String,
    pub ipv4: AddrSpec<Ipv4Addr>,
    pub ipv6: AddrSpec<Ipv6Addr>,
    pub wan_ipv4: Option<Ipv4Addr>,
    pub nat: Option<Nat>,
}

/// Works out every host's addresses. Problems reading an interface are logged and
/// leave that family untouched; they are not fatal.
pub fn plan(config: &Config, ifaces: &mut Interfaces) -> Vec<HostPlan> {
    let wan4 = if config.hosts.iter().any(|h| h.ipv4) {
        match ifaces.status(&config.ipv4_interface) {
            Ok(st) => {
                let w = pick_ipv4(st);
                if w.spec == AddrSpec::Keep {
                    log::info!(
                        "interface {} has no IPv4 address; A records are left as they are",
                        config.ipv4_interface
                    );
                }
                w
            }
            Err(e) => {
                log::warn!("cannot read interface {}: {e}", config.ipv4_interface);
                Wan4 {
                    spec: AddrSpec::Keep,
                    local: None,
                    nat: None,
                }
            }
        }
    } else {
        Wan4 {
            spec: AddrSpec::Keep,
            local: None,
            nat: None,
        }
    };
    // The interface the router's IPv6 comes from (wan6, or PPPoE's dynamic wan_6).
    let wan6 = if config.hosts.iter().any(|h| h.ipv6) {
        let w = crate::wan6::resolve(config, ifaces);
        ifaces.status(&w.interface).cloned().unwrap_or_default()
    } else {
        IfaceStatus::default()
    };
    let v6_name = ifaces
        .wan6
        .as_ref()
        .map_or(config.ipv6_interface.as_str(), |w| w.interface.as_str())
        .to_owned();
    let own_v6 = if config
        .hosts
        .iter()
        .any(|h| h.ipv6 && h.ipv6_suffix.is_none())
    {
        pick_ipv6(&wan6)
    } else {
        None
    };
    let need_lan = config
        .hosts
        .iter()
        .any(|h| h.ipv6 && h.ipv6_suffix.is_some())
        || (own_v6.is_none() && config.hosts.iter().any(|h| h.ipv6));
    let (prefix, lan_local) = if need_lan {
        match ifaces.status(&config.lan_interface) {
            Ok(lan) => (
                lan_prefix(lan, &wan6, &config.lan_interface),
                lan.assignments
                    .iter()
                    .filter(|a| usable(a))
                    .filter_map(|a| a.local)
                    .min()
                    .or_else(|| pick_ipv6(lan)),
            ),
            Err(e) => {
                log::warn!("cannot read interface {}: {e}", config.lan_interface);
                (None, None)
            }
        }
    } else {
        (None, None)
    };
    // Without a global address on the WAN (common with PPPoE + prefix delegation only),
    // the router is reached at its own address in the delegated LAN prefix.
    let router_v6 = own_v6.or(lan_local);
    config
        .hosts
        .iter()
        .map(|h| {
            let ipv6 = if !h.ipv6 {
                AddrSpec::Keep
            } else if let Some(id) = &h.ipv6_suffix {
                lan_host(&h.name, id, prefix, &config.lan_interface)
            } else {
                match router_v6 {
                    Some(a) => AddrSpec::Set(a),
                    None => {
                        log::info!(
                            "{}: no global IPv6 address on {v6_name}; AAAA left as it is",
                            h.name
                        );
                        AddrSpec::Keep
                    }
                }
            };
            HostPlan {
                name: h.name.clone(),
                ipv4: if h.ipv4 { wan4.spec } else { AddrSpec::Keep },
                ipv6,
                wan_ipv4: if h.ipv4 { wan4.local } else { None },
                nat: if h.ipv4 { wan4.nat } else { None },
            }
        })
        .collect()
}

/// A LAN host's AAAA: its interface identifier under the delegated prefix. Without a
/// prefix, or when the identifier does not fit it, the record is left as it is.
fn lan_host(
    name: &str,
    id: &HostId,
    prefix: Option<(Ipv6Addr, u8)>,
    lan: &str,
) -> AddrSpec<Ipv6Addr> {
    let Some((p, len)) = prefix else {
        log::info!("{name}: no delegated IPv6 prefix on {lan}; AAAA left as it is");
        return AddrSpec::Keep;
    };
    match id.under(p, len) {
        Ok(a) => AddrSpec::Set(a),
        Err(e) => {
            log::warn!("{name}: {e}; AAAA left as it is");
            AddrSpec::Keep
        }
    }
}

/// The sentence kept in the state and logged when the router is behind NAT.
pub fn diagnosis(nat: Nat, wan: Ipv4Addr, observed: Option<std::net::IpAddr>) -> Option<String> {
    let public = observed.map_or_else(|| "unknown".to_owned(), |o| o.to_string());
    match nat {
        Nat::None => None,
        Nat::Cgnat => Some(format!(
            "WAN address {wan}, public address {public}: you are behind carrier-grade NAT; inbound connections will not reach this router"
        )),
        Nat::Nat => Some(format!(
            "WAN address {wan} is private, public address {public}: this router is behind another NAT; inbound connections need port forwarding on the upstream router"
        )),
    }
}
