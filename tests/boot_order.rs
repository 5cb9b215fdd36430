//! netifd brings `wan6` up before `wan` at many boots. The update `wan6`'s ifup starts then
//! has no route to an IPv4-only endpoint: while `wan` has no IPv4 address yet, that is the
//! expected boot order, not a fault (no error recorded, no retry scheduled, exit 3). With
//! `wan` up, the same failure is one. The router runs in a network namespace of its own
//! whose loopback is down, so that no address has a route.

mod common;

use common::cli::{wan, Router};
use common::*;
use std::process::{Command, Output};

/// `wan` configured but not up yet (no address), as netifd reports it during boot.
const WAN_DOWN: &str = r#"{"up":false,"pending":true,"available":true,"autostart":true,"dynamic":false,"proto":"dhcp","device":"eth1","ipv4-address":[],"ipv6-address":[],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[],"inactive":{},"data":{}}"#;

/// `update --interface wan6` in a new network namespace; None when namespaces are not
/// available here (not root).
fn update_without_routes(r: &Router) -> Option<Output> {
    // --no-wait: a transient failure exits 6 at once instead of waiting for its retry.
    let c = r.cmd(&["update", "--interface", "wan6", "--no-wait"]);
    let mut u = Command::new("unshare");
    u.arg("--net").arg(c.get_program()).args(c.get_args());
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            u.env(k, v);
        }
    }
    let out = u.output().expect("unshare");
    if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("unshare failed") {
        return None;
    }
    Some(out)
}

#[test]
fn wan6_before_wan_is_not_a_fault_but_no_route_with_wan_up_is() {
    let pki = pki(&["localhost"]);
    let r = Router::new(9, &pki.ca_pem);
    std::fs::write(r.dir.join("wan.json"), WAN_DOWN).expect("wan");
    let Some(out) = update_without_routes(&r) else {
        eprintln!("skipped: no network namespaces here");
        return;
    };
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = r.status();
    assert_eq!(st["run"]["state"], "idle", "{st}");
    assert_eq!(st["run"]["next_try"], serde_json::Value::Null);
    assert_eq!(st["hosts"][0]["result"], "never", "no error recorded: {st}");

    // wan is up and there is still no route: a real failure, retried.
    std::fs::write(r.dir.join("wan.json"), wan("198.51.100.7")).expect("wan");
    let out = update_without_routes(&r).expect("namespaces");
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = r.status();
    assert_eq!(st["run"]["state"], "retrying", "{st}");
    assert_eq!(st["hosts"][0]["result"], "error");
    let e = st["hosts"][0]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(e.contains("network unreachable"), "{e}");
}
