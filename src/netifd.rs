//! Interface addresses: netifd's `ubus call network.interface.<if> status`, or the kernel's
//! addresses (`ip -j addr`, then `/proc/net/if_inet6`) where there is no ubus (not OpenWrt;
//! the interface names are then kernel device names).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::{Command, Stdio};

/// One IPv6 address with its lifetimes (seconds; `None` = not reported / forever).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V6Addr {
    pub addr: Ipv6Addr,
    pub mask: u8,
    pub preferred: Option<u64>,
    pub temporary: bool,
}

impl V6Addr {
    /// Deprecated addresses (preferred lifetime 0) are on their way out.
    pub fn deprecated(&self) -> bool {
        self.preferred == Some(0)
    }
}

/// A delegated prefix handed to a downstream interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub prefix: Ipv6Addr,
    pub mask: u8,
    pub preferred: Option<u64>,
    /// The router's own address in it (netifd's `local-address`).
    pub local: Option<Ipv6Addr>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfaceStatus {
    pub up: bool,
    pub proto: Option<String>,
    pub device: Option<String>,
    pub ipv4: Vec<Ipv4Addr>,
    pub ipv6: Vec<V6Addr>,
    /// `ipv6-prefix-assignment`: prefixes this (LAN) interface got from a delegation.
    pub assignments: Vec<Assignment>,
    /// `ipv6-prefix[].assigned`: per downstream interface, what it got (seen on wan6).
    pub delegated: Vec<(String, Assignment)>,
}

#[derive(Deserialize)]
struct RawAddr {
    address: String,
    #[serde(default)]
    mask: u8,
    #[serde(default)]
    preferred: Option<u64>,
}

#[derive(Deserialize)]
struct RawPrefix {
    address: String,
    #[serde(default)]
    mask: u8,
    #[serde(default)]
    preferred: Option<u64>,
    #[serde(default)]
    assigned: BTreeMap<String, RawAddr>,
    #[serde(default, rename = "local-address")]
    local_address: Option<RawAddr>,
}

#[derive(Deserialize)]
struct RawStatus {
    #[serde(default)]
    up: bool,
    #[serde(default)]
    proto: Option<String>,
    #[serde(default)]
    l3_device: Option<String>,
    #[serde(default)]
    device: Option<String>,
    #[serde(default, rename = "ipv4-address")]
    ipv4_address: Vec<RawAddr>,
    #[serde(default, rename = "ipv6-address")]
    ipv6_address: Vec<RawAddr>,
    #[serde(default, rename = "ipv6-prefix")]
    ipv6_prefix: Vec<RawPrefix>,
    #[serde(default, rename = "ipv6-prefix-assignment")]
    ipv6_prefix_assignment: Vec<RawPrefix>,
}

/// Parses the JSON netifd prints for `ubus call network.interface.<if> status`.
/// Entries that are not addresses are skipped.
pub fn parse_status(json: &[u8]) -> Result<IfaceStatus, String> {
    let raw: RawStatus =
        serde_json::from_slice(json).map_err(|e| format!("unexpected netifd status: {e}"))?;
    let v6 = |a: &RawAddr| -> Option<V6Addr> {
        Some(V6Addr {
            addr: a.address.parse().ok()?,
            mask: a.mask,
            preferred: a.preferred,
            temporary: false,
        })
    };
    let assignment = |p: &RawPrefix| -> Option<Assignment> {
        Some(Assignment {
            prefix: p.address.parse().ok()?,
            mask: p.mask,
            preferred: p.preferred,
            local: p
                .local_address
                .as_ref()
                .and_then(|l| l.address.parse().ok()),
        })
    };
    let mut delegated = Vec::new();
    for p in &raw.ipv6_prefix {
        for (iface, a) in &p.assigned {
            if let Ok(prefix) = a.address.parse() {
                delegated.push((
                    iface.clone(),
                    Assignment {
                        prefix,
                        mask: a.mask,
                        preferred: p.preferred,
                        local: None,
                    },
                ));
            }
        }
    }
    Ok(IfaceStatus {
        up: raw.up,
        proto: raw.proto,
        device: raw.l3_device.or(raw.device),
        ipv4: raw
            .ipv4_address
            .iter()
            .filter_map(|a| a.address.parse().ok())
            .collect(),
        ipv6: raw.ipv6_address.iter().filter_map(v6).collect(),
        assignments: raw
            .ipv6_prefix_assignment
            .iter()
            .filter_map(assignment)
            .collect(),
        delegated,
    })
}

/// Where addresses come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Netifd,
    Kernel,
}

/// Asks netifd (through the `ubus` command) for an interface's status. `Ok(None)` when
/// there is no ubus at all, so the caller falls back to the kernel.
fn ubus_status(iface: &str) -> Result<Option<IfaceStatus>, String> {
    let ubus = std::env::var_os(crate::config::ENV_UBUS).unwrap_or_else(|| "ubus".into());
    let out = match Command::new(&ubus)
        .args(["call", &format!("network.interface.{iface}"), "status"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot run ubus: {e}")),
    };
    if !out.status.success() {
        // `ubus call` exits 4 ("Not found") for an interface netifd does not know.
        log::debug!("netifd has no interface '{iface}'");
        return Ok(Some(IfaceStatus::default()));
    }
    parse_status(&out.stdout)
        .map(Some)
        .map_err(|e| format!("{iface}: {e}"))
}

#[derive(Deserialize)]
struct IpLink {
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    operstate: Option<String>,
    #[serde(default)]
    addr_info: Vec<IpAddrInfo>,
}

#[derive(Deserialize)]
struct IpAddrInfo {
    family: String,
    local: String,
    #[serde(default)]
    prefixlen: u8,
    #[serde(default)]
    preferred_life_time: Option<u64>,
    #[serde(default)]
    temporary: bool,
    #[serde(default)]
    deprecated: bool,
}

/// Parses `ip -j addr show dev <dev>` output.
pub fn parse_ip_json(json: &[u8]) -> Result<IfaceStatus, String> {
    let links: Vec<IpLink> =
        serde_json::from_slice(json).map_err(|e| format!("unexpected `ip -j addr` output: {e}"))?;
    let mut st = IfaceStatus::default();
    for link in links {
        st.up |= link.flags.iter().any(|f| f == "UP") || link.operstate.as_deref() == Some("UP");
        for a in link.addr_info {
            match a.family.as_str() {
                "inet" => st.ipv4.extend(a.local.parse::<Ipv4Addr>().ok()),
                "inet6" => st.ipv6.extend(a.local.parse().ok().map(|addr| V6Addr {
                    addr,
                    mask: a.prefixlen,
                    preferred: if a.deprecated {
                        Some(0)
                    } else {
                        a.preferred_life_time.filter(|t| *t != u64::from(u32::MAX))
                    },
                    temporary: a.temporary,
                })),
                _ => {}
            }
        }
    }
    Ok(st)
}

/// Parses `/proc/net/if_inet6` lines for one device.
pub fn parse_if_inet6(text: &str, dev: &str) -> IfaceStatus {
    const TEMPORARY: u32 = 0x01;
    const DEPRECATED: u32 = 0x20;
    let mut st = IfaceStatus::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [hex, _idx, plen, _scope, flags, name] = f[..] else {
            continue;
        };
        if name != dev || hex.len() != 32 {
            continue;
        }
        let Ok(bits) = u128::from_str_radix(hex, 16) else {
            continue;
        };
        let flags = u32::from_str_radix(flags, 16).unwrap_or(0);
        st.up = true;
        st.ipv6.push(V6Addr {
            addr: Ipv6Addr::from(bits),
            mask: u8::from_str_radix(plen, 16).unwrap_or(0),
            preferred: (flags & DEPRECATED != 0).then_some(0),
            temporary: flags & TEMPORARY != 0,
        });
    }
    st
}

fn kernel_status(dev: &str) -> Result<IfaceStatus, String> {
    match Command::new("ip")
        .args(["-j", "addr", "show", "dev", dev])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => parse_ip_json(&out.stdout),
        Ok(_) => Ok(IfaceStatus::default()),
        Err(_) => Ok(std::fs::read_to_string("/proc/net/if_inet6")
            .map(|t| parse_if_inet6(&t, dev))
            .unwrap_or_default()),
    }
}

/// Reads interface statuses, each at most once per run.
#[derive(Default)]
pub struct Interfaces {
    cache: BTreeMap<String, IfaceStatus>,
    pub source: Option<Source>,
}

impl Interfaces {
    /// Pre-seeds an interface's status (used by tests and by callers that already have it).
    pub fn insert(&mut self, iface: &str, status: IfaceStatus) {
        self.cache.insert(iface.to_owned(), status);
    }

    pub fn status(&mut self, iface: &str) -> Result<&IfaceStatus, String> {
        if !self.cache.contains_key(iface) {
            let st = if self.source == Some(Source::Kernel) {
                kernel_status(iface)?
            } else {
                match ubus_status(iface)? {
                    Some(st) => {
                        self.source = Some(Source::Netifd);
                        st
                    }
                    None => {
                        log::debug!("no ubus here: reading kernel addresses of device '{iface}'");
                        self.source = Some(Source::Kernel);
                        kernel_status(iface)?
                    }
                }
            };
            self.cache.insert(iface.to_owned(), st);
        }
        self.cache
            .get(iface)
            .ok_or_else(|| format!("no status for {iface}"))
    }
}
