//! The `config host` sections: each checked against the schema, its name canonical and
//! not configured twice, at most [`MAX_HOSTS`] of them.

use super::{parse_bool, parse_suffix, problem, unset, Checked, Findings, Host, HOST_OPTIONS};
use crate::uci::{Package, Section};
use route53_ddns_protocol::{hostname, MAX_HOSTS};

/// One `config host` section; `None` if it has problems (they are in `f`).
fn check_host(section: &Section, hosts: &[Host], f: &mut Findings) -> Option<Host> {
    let h = Checked {
        section,
        specs: HOST_OPTIONS,
    };
    let before = f.problems.len();
    h.check(&mut f.problems, &mut f.warnings);
    if f.problems.len() > before {
        return None;
    }
    let name = hostname::canonical_record(h.get("name")).ok()?;
    if let Some(prev) = hosts.iter().find(|x| x.name == name) {
        f.problems.push(problem(
            Some(section.line),
            format!("the name {} is configured twice", prev.name),
        ));
        return None;
    }
    let host = Host {
        name,
        ipv4: parse_bool(h.get("ipv4")).unwrap_or(true),
        ipv6: parse_bool(h.get("ipv6")).unwrap_or(true),
        ipv6_suffix: match h.get("ipv6_suffix") {
            "" => None,
            s => parse_suffix(s).ok(),
        },
    };
    let warn = |f: &mut Findings, m: String| f.warnings.push(problem(Some(section.line), m));
    if !host.ipv4 && !host.ipv6 {
        warn(
            f,
            format!(
                "{}: both ipv4 and ipv6 are off; it is never updated",
                host.name
            ),
        );
    }
    if host.ipv6_suffix.is_some() && host.ipv4 {
        warn(f, format!(
            "{}: a LAN host (ipv6_suffix) gets the router's public IPv4; set ipv4 to 0 if that is not wanted",
            host.name
        ));
    }
    Some(host)
}

/// Every host section, in order; unknown section types are warned about.
pub(super) fn check_hosts(package: &Package, f: &mut Findings) -> Vec<Host> {
    let mut hosts: Vec<Host> = Vec::new();
    for section in &package.sections {
        match section.kind.as_str() {
            "global" => {}
            "host" => hosts.extend(check_host(section, &hosts, f)),
            other => f.warnings.push(problem(
                Some(section.line),
                format!("unknown section type '{other}' is ignored"),
            )),
        }
    }
    if hosts.is_empty() && f.problems.iter().all(|p| p.unset) {
        f.problems.push(unset(
            None,
            "no host sections: add `config host` with `option name 'home.example.com'`",
        ));
    }
    if hosts.len() > MAX_HOSTS {
        f.problems.push(problem(
            None,
            format!(
                "{} host names; at most {MAX_HOSTS} fit in one update",
                hosts.len()
            ),
        ));
    }
    hosts
}
