//! Which netifd interface the router's IPv6 comes from. With `ipv6_interface` left at its
//! default `wan6`, the router also looks at netifd's dynamic `<ipv4_interface>_6`: the
//! DHCPv6 child that PPPoE with `option ipv6 'auto'` creates (`wan_6`, made by
//! `/lib/netifd/ppp6-up` through `ubus call network add_dynamic`). The choice is kept in the
//! state directory for `status`.

use super::{live_prefix, pick_ipv6};
use crate::config::Config;
use crate::netifd::{IfaceStatus, Interfaces};
use route53_ddns_protocol::json::Json;
use std::io::Read;
use std::path::Path;

/// The schema's default of `ipv6_interface`: the value that turns the search on.
pub const DEFAULT_IPV6_INTERFACE: &str = "wan6";
/// Where the last choice is kept (in the state directory).
pub const STATE_FILE: &str = "ipv6-interface.json";

/// The interface the router's IPv6 was taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wan6 {
    pub interface: String,
    /// Found by the search (ipv6_interface at its default) rather than named in the config.
    pub automatic: bool,
    /// Why this one, in words.
    pub note: String,
}

/// The interfaces looked at, in order of preference.
pub fn candidates(config: &Config) -> Vec<String> {
    let mut c = vec![config.ipv6_interface.clone()];
    if config.ipv6_interface == DEFAULT_IPV6_INTERFACE {
        let dynamic = format!("{}_6", config.ipv4_interface);
        if dynamic != config.ipv6_interface {
            c.push(dynamic);
        }
    }
    c
}

/// How much IPv6 an interface has: 3 a global address, 2 a delegated prefix, 1 up, 0 none.
fn score(st: &IfaceStatus) -> u8 {
    if pick_ipv6(st).is_some() {
        3
    } else if st.prefixes.iter().any(live_prefix) {
        2
    } else {
        u8::from(st.up)
    }
}

fn what(score: u8) -> &'static str {
    match score {
        3 => "has a global IPv6 address",
        2 => "has a delegated IPv6 prefix but no global address of its own",
        1 => "is up without IPv6",
        _ => "is down or not there",
    }
}

/// Picks the interface to read IPv6 from (reading the second candidate only when the
/// first has no global address).
pub fn resolve(config: &Config, ifaces: &mut Interfaces) -> Wan6 {
    let names = candidates(config);
    let automatic = names.len() > 1;
    let mut seen: Vec<(String, u8)> = Vec::new();
    for name in &names {
        let s = match ifaces.status(name) {
            Ok(st) => score(st),
            Err(e) => {
                log::warn!("cannot read interface {name}: {e}");
                0
            }
        };
        seen.push((name.clone(), s));
        if s == 3 {
            break;
        }
    }
    // The best; on a tie the earlier (the configured name first).
    let best = seen
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, s))| (*s, usize::MAX - i))
        .map(|(_, x)| x.clone())
        .unwrap_or_else(|| (config.ipv6_interface.clone(), 0));
    let mut note = String::from(if automatic {
        "found automatically: it "
    } else {
        "set by ipv6_interface: it "
    });
    note.push_str(what(best.1));
    if best.0 != config.ipv6_interface {
        note.push_str("; netifd's dynamic interface of PPPoE with ipv6 auto");
    }
    for (n, s) in seen.iter().filter(|(n, _)| *n != best.0) {
        note.push_str("; ");
        note.push_str(n);
        note.push(' ');
        note.push_str(what(*s));
    }
    let w = Wan6 {
        interface: best.0,
        automatic,
        note,
    };
    log::debug!("IPv6 interface {} ({})", w.interface, w.note);
    w
}

/// Keeps the choice for `status` (atomically replaced; failures only logged).
pub fn record(state_dir: &Path, w: &Wan6) {
    // The same map type as state.rs writes, so no second serializer is compiled in.
    let mut m: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    m.insert("interface".into(), w.interface.clone());
    m.insert(
        "automatic".into(),
        if w.automatic { "1" } else { "0" }.into(),
    );
    m.insert("note".into(), w.note.clone());
    let written = serde_json::to_vec(&m)
        .map_err(std::io::Error::other)
        .and_then(|b| crate::state::write_atomic(&state_dir.join(STATE_FILE), &b));
    if let Err(e) = written {
        log::warn!("cannot write {STATE_FILE} in {}: {e}", state_dir.display());
    }
}

/// Largest file read back: it holds one short object.
const MAX_FILE: u64 = 4096;

/// The last recorded choice, if any.
pub fn recorded(state_dir: &Path) -> Option<Wan6> {
    let mut bytes = Vec::new();
    std::fs::File::open(state_dir.join(STATE_FILE))
        .ok()?
        .take(MAX_FILE)
        .read_to_end(&mut bytes)
        .ok()?;
    let j = Json::parse(&bytes).ok()?;
    let text = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_owned);
    Some(Wan6 {
        interface: text("interface")?,
        automatic: text("automatic").as_deref() == Some("1"),
        note: text("note").unwrap_or_default(),
    })
}
