//! The one place that chooses addresses: what to publish for each host, from the
//! interface statuses. A stable global IPv6 (not ULA, link-local, deprecated or temporary),
//! a LAN host's address from the delegated prefix and its suffix, and "auto" for IPv4 when
//! the WAN address is private or CGNAT.
//!
//! | part      | concern                                                                  |
//! |-----------|--------------------------------------------------------------------------|
//! | `pick`    | which address of one interface may be published; NAT kinds               |
//! | [`wan6`]  | which interface the router's IPv6 comes from (wan6, or PPPoE's wan_6)     |
//! | here      | [`choose`]: every host's addresses, and the interfaces a config reads     |

mod pick;
pub mod wan6;

use pick::usable;
pub use pick::{lan_prefix, live_prefix, pick_ipv4, pick_ipv6, Nat, Wan4};
use wan6::Wan6;

use crate::config::Config;
use crate::host_id::HostId;
use crate::netifd::{IfaceStatus, Interfaces};
use route53_ddns_protocol::AddrSpec;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether netifd's `INTERFACE` is one `config` reads addresses from.
pub fn uses_interface(config: &Config, name: &str) -> bool {
    name == config.ipv4_interface
        || name == config.lan_interface
        || wan6::candidates(config).iter().any(|c| c == name)
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

/// Every host's addresses, and the interface the router's IPv6 was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub hosts: Vec<HostPlan>,
    /// Set when some host publishes IPv6 (see [`wan6::resolve`]).
    pub ipv6_from: Option<Wan6>,
}

/// Works out every host's addresses ([`choose`] without the IPv6 interface).
pub fn plan(config: &Config, ifaces: &mut Interfaces) -> Vec<HostPlan> {
    choose(config, ifaces).hosts
}

/// Works out every host's addresses. Problems reading an interface are logged and
/// leave that family untouched; they are not fatal.
pub fn choose(config: &Config, ifaces: &mut Interfaces) -> Choice {
    let wan4 = if config.hosts.iter().any(|h| h.ipv4) {
        wan4(config, ifaces)
    } else {
        Wan4 {
            spec: AddrSpec::Keep,
            local: None,
            nat: None,
        }
    };
    // The interface the router's IPv6 comes from (wan6, or PPPoE's dynamic wan_6).
    let ipv6_from = if config.hosts.iter().any(|h| h.ipv6) {
        Some(wan6::resolve(config, ifaces))
    } else {
        None
    };
    let v6 = V6::read(config, ifaces, ipv6_from.as_ref());
    let hosts = config
        .hosts
        .iter()
        .map(|h| HostPlan {
            name: h.name.clone(),
            ipv4: if h.ipv4 { wan4.spec } else { AddrSpec::Keep },
            ipv6: if h.ipv6 {
                v6.host(&h.name, h.ipv6_suffix.as_ref(), &config.lan_interface)
            } else {
                AddrSpec::Keep
            },
            wan_ipv4: if h.ipv4 { wan4.local } else { None },
            nat: if h.ipv4 { wan4.nat } else { None },
        })
        .collect();
    Choice { hosts, ipv6_from }
}

/// The IPv4 side, from `ipv4_interface`.
fn wan4(config: &Config, ifaces: &mut Interfaces) -> Wan4 {
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
}

/// The IPv6 side: the router's own address and the LAN's prefix.
struct V6 {
    /// The interface named in "no global IPv6 address on ...".
    name: String,
    /// The router's address: on the WAN, else its own in the delegated LAN prefix.
    router: Option<Ipv6Addr>,
    /// The prefix LAN hosts live in, with its length.
    prefix: Option<(Ipv6Addr, u8)>,
}

impl V6 {
    fn read(config: &Config, ifaces: &mut Interfaces, from: Option<&Wan6>) -> V6 {
        let wan6 = from
            .and_then(|w| ifaces.status(&w.interface).ok().cloned())
            .unwrap_or_default();
        let name = from.map_or(config.ipv6_interface.as_str(), |w| w.interface.as_str());
        let hosts = &config.hosts;
        let own = if hosts.iter().any(|h| h.ipv6 && h.ipv6_suffix.is_none()) {
            pick_ipv6(&wan6)
        } else {
            None
        };
        let need_lan = hosts.iter().any(|h| h.ipv6 && h.ipv6_suffix.is_some())
            || (own.is_none() && hosts.iter().any(|h| h.ipv6));
        let (prefix, lan_local) = if need_lan {
            lan_side(config, ifaces, &wan6)
        } else {
            (None, None)
        };
        // Without a global address on the WAN (common with PPPoE + prefix delegation
        // only), the router is reached at its own address in the delegated LAN prefix.
        V6 {
            name: name.to_owned(),
            router: own.or(lan_local),
            prefix,
        }
    }

    /// One IPv6 host's AAAA: a LAN host's from its suffix, else the router's.
    fn host(&self, name: &str, suffix: Option<&HostId>, lan: &str) -> AddrSpec<Ipv6Addr> {
        if let Some(id) = suffix {
            return lan_host(name, id, self.prefix, lan);
        }
        match self.router {
            Some(a) => AddrSpec::Set(a),
            None => {
                log::info!(
                    "{name}: no global IPv6 address on {}; AAAA left as it is",
                    self.name
                );
                AddrSpec::Keep
            }
        }
    }
}

/// The LAN's prefix and the router's own address in it.
fn lan_side(
    config: &Config,
    ifaces: &mut Interfaces,
    wan6: &IfaceStatus,
) -> (Option<(Ipv6Addr, u8)>, Option<Ipv6Addr>) {
    match ifaces.status(&config.lan_interface) {
        Ok(lan) => (
            lan_prefix(lan, wan6, &config.lan_interface),
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
