//! Interface addresses: netifd's `ubus call network.interface.<if> status`, or the kernel's
//! addresses (`ip -j addr`, then `/proc/net/if_inet6`) where there is no ubus (not OpenWrt;
//! the interface names are then kernel device names).

use crate::command::{RunError, COMMAND_DEADLINE, MAX_OUTPUT};
use route53_ddns_protocol::json::Json;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;

/// Names the `ubus` binary to run instead of the one on `PATH` (tests, other layouts).
pub const ENV_UBUS: &str = "ROUTE53_DDNS_UBUS";

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
    /// `ipv6-prefix`: the prefixes delegated to this (WAN) interface itself.
    pub prefixes: Vec<Assignment>,
}

/// The members of a list field; missing or not a list reads as empty.
fn field<'a>(o: &'a Json, key: &str) -> &'a [Json] {
    o.get(key).and_then(Json::as_array).unwrap_or_default()
}

fn text<'a>(o: &'a Json, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Json::as_str)
}

fn number(o: &Json, key: &str) -> Option<u64> {
    o.get(key).and_then(Json::as_u64)
}

/// A prefix length (`mask`, `prefixlen`); missing or out of range reads as 0.
fn prefix_len(o: &Json, key: &str) -> u8 {
    number(o, key)
        .and_then(|m| u8::try_from(m).ok())
        .unwrap_or(0)
}

fn ip<T: std::str::FromStr>(o: &Json, key: &str) -> Option<T> {
    o.get(key)?.as_parsed()
}

/// Parses the JSON netifd prints for `ubus call network.interface.<if> status`.
/// Entries that are not addresses are skipped.
pub fn parse_status(json: &[u8]) -> Result<IfaceStatus, String> {
    let raw = Json::parse(json).map_err(|e| format!("unexpected netifd status: {e}"))?;
    if raw.as_object().is_none() {
        return Err("unexpected netifd status: not a JSON object".into());
    }
    // "up" decides whether anything is published: a value of another type means the format
    // changed under us, which is an error rather than "down".
    let up = match raw.get("up") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or("unexpected netifd status: \"up\" is not true or false")?,
    };
    let assignment = |p: &Json, preferred: Option<u64>| -> Option<Assignment> {
        Some(Assignment {
            prefix: ip(p, "address")?,
            mask: prefix_len(p, "mask"),
            preferred,
            local: p.get("local-address").and_then(|l| ip(l, "address")),
        })
    };
    let mut delegated = Vec::new();
    let mut prefixes = Vec::new();
    for p in field(&raw, "ipv6-prefix") {
        prefixes.extend(assignment(p, number(p, "preferred")));
        let Some(assigned) = p.get("assigned").and_then(Json::as_object) else {
            continue;
        };
        for (iface, a) in assigned {
            if let Some(mut got) = assignment(a, number(p, "preferred")) {
                got.local = None;
                delegated.push((iface.clone(), got));
            }
        }
    }
    Ok(IfaceStatus {
        up,
        proto: text(&raw, "proto").map(str::to_owned),
        device: text(&raw, "l3_device")
            .or_else(|| text(&raw, "device"))
            .map(str::to_owned),
        ipv4: field(&raw, "ipv4-address")
            .iter()
            .filter_map(|a| ip(a, "address"))
            .collect(),
        ipv6: field(&raw, "ipv6-address")
            .iter()
            .filter_map(|a| {
                Some(V6Addr {
                    addr: ip(a, "address")?,
                    mask: prefix_len(a, "mask"),
                    preferred: number(a, "preferred"),
                    temporary: false,
                })
            })
            .collect(),
        assignments: field(&raw, "ipv6-prefix-assignment")
            .iter()
            .filter_map(|p| assignment(p, number(p, "preferred")))
            .collect(),
        delegated,
        prefixes,
    })
}

/// Where addresses come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Netifd,
    Kernel,
}

/// Largest `/proc/net/if_inet6` read (one 54-byte line per address).
const MAX_IF_INET6: usize = 256 * 1024;

/// Runs a command with the runner's deadline and output cap (see [`crate::command`]).
fn stdout_of(cmd: &mut Command) -> Result<Option<Vec<u8>>, RunError> {
    crate::command::stdout_of(cmd, COMMAND_DEADLINE, MAX_OUTPUT)
}

/// Asks netifd (through the `ubus` command) for an interface's status. `Ok(None)` when
/// there is no ubus at all, so the caller falls back to the kernel.
fn ubus_status(iface: &str) -> Result<Option<IfaceStatus>, String> {
    let ubus = std::env::var_os(ENV_UBUS).unwrap_or_else(|| "ubus".into());
    let out = match stdout_of(Command::new(&ubus).args([
        "call",
        &format!("network.interface.{iface}"),
        "status",
    ])) {
        Ok(o) => o,
        Err(RunError::Spawn(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("ubus call network.interface.{iface} status: {e}")),
    };
    let Some(stdout) = out else {
        // `ubus call` exits 4 ("Not found") for an interface netifd does not know.
        log::debug!("netifd has no interface '{iface}'");
        return Ok(Some(IfaceStatus::default()));
    };
    parse_status(&stdout)
        .map(Some)
        .map_err(|e| format!("{iface}: {e}"))
}

/// Parses `ip -j addr show dev <dev>` output.
pub fn parse_ip_json(json: &[u8]) -> Result<IfaceStatus, String> {
    let links = Json::parse(json).map_err(|e| format!("unexpected `ip -j addr` output: {e}"))?;
    let links = links
        .as_array()
        .ok_or("unexpected `ip -j addr` output: not a JSON array")?;
    let flag = |o: &Json, key: &str| o.get(key).and_then(Json::as_bool).unwrap_or(false);
    let mut st = IfaceStatus::default();
    for link in links {
        st.up |= field(link, "flags")
            .iter()
            .any(|f| f.as_str() == Some("UP"))
            || text(link, "operstate") == Some("UP");
        for a in field(link, "addr_info") {
            match text(a, "family") {
                Some("inet") => st.ipv4.extend(ip::<Ipv4Addr>(a, "local")),
                Some("inet6") => st.ipv6.extend(ip(a, "local").map(|addr| V6Addr {
                    addr,
                    mask: prefix_len(a, "prefixlen"),
                    preferred: if flag(a, "deprecated") {
                        Some(0)
                    } else {
                        number(a, "preferred_life_time").filter(|t| *t != u64::from(u32::MAX))
                    },
                    temporary: flag(a, "temporary"),
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
    match stdout_of(Command::new("ip").args(["-j", "addr", "show", "dev", dev])) {
        Ok(Some(out)) => parse_ip_json(&out),
        Ok(None) => Ok(IfaceStatus::default()),
        Err(RunError::Spawn(_)) => Ok(crate::files::read_text_capped(
            std::path::Path::new("/proc/net/if_inet6"),
            MAX_IF_INET6,
        )
        .map(|t| parse_if_inet6(&t, dev))
        .unwrap_or_default()),
        Err(e) => Err(format!("ip -j addr show dev {dev}: {e}")),
    }
}

/// Reads interface statuses, each at most once per run: a failure too is kept, so a hung
/// `ubus` costs one deadline per interface, not one per question.
#[derive(Default)]
pub struct Interfaces {
    cache: BTreeMap<String, Result<IfaceStatus, String>>,
    pub source: Option<Source>,
}

impl Interfaces {
    /// Pre-seeds an interface's status (used by tests and by callers that already have it).
    pub fn insert(&mut self, iface: &str, status: IfaceStatus) {
        self.cache.insert(iface.to_owned(), Ok(status));
    }

    pub fn status(&mut self, iface: &str) -> Result<&IfaceStatus, String> {
        if !self.cache.contains_key(iface) {
            let st = self.read(iface);
            self.cache.insert(iface.to_owned(), st);
        }
        match self.cache.get(iface) {
            Some(Ok(st)) => Ok(st),
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("no status for {iface}")),
        }
    }

    fn read(&mut self, iface: &str) -> Result<IfaceStatus, String> {
        if self.source == Some(Source::Kernel) {
            return kernel_status(iface);
        }
        match ubus_status(iface)? {
            Some(st) => {
                self.source = Some(Source::Netifd);
                Ok(st)
            }
            None => {
                log::debug!("no ubus here: reading kernel addresses of device '{iface}'");
                self.source = Some(Source::Kernel);
                kernel_status(iface)
            }
        }
    }
}
