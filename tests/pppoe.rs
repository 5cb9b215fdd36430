//! PPPoE with `option ipv6 'auto'`: IPv6 arrives on netifd's dynamic `wan_6`, not `wan6`.
//! The fixtures follow netifd's own status dump (`netifd_dump_status` in netifd's ubus.c:
//! `up`, `pending`, `available`, `autostart`, `dynamic`, then `uptime`/`l3_device` while up,
//! `ipv6-prefix[]` with `class` and `assigned`, `ipv6-prefix-assignment[]` with
//! `local-address`) and OpenWrt's `/lib/netifd/ppp6-up`, which adds the PPP link-local
//! address to `wan` as a /128 and creates `wan_6` with `ubus call network add_dynamic`
//! (`name <iface>_6`, `ifname @<iface>`, `proto dhcpv6`).

mod common;

use common::*;
use route53_ddns::addresses;
use route53_ddns::addresses::wan6;
use route53_ddns::config::{Config, GLOBAL_OPTIONS};
use route53_ddns::netifd::{self, IfaceStatus, Interfaces};
use route53_ddns_protocol::AddrSpec;
use std::process::Command;

/// `ubus call network.interface.wan status` of a PPPoE WAN with `ipv6 auto`.
const PPPOE_WAN: &str = r#"{
	"up": true, "pending": false, "available": true, "autostart": true, "dynamic": false,
	"uptime": 8123, "l3_device": "pppoe-wan", "proto": "pppoe", "device": "eth0.2",
	"updated": [ "addresses", "routes" ],
	"metric": 0, "dns_metric": 0, "delegation": true,
	"ipv4-address": [ { "address": "87.123.45.67", "mask": 32, "ptpaddress": "87.123.0.1" } ],
	"ipv6-address": [ { "address": "fe80::a4b1:2c3d:4e5f:6071", "mask": 128 } ],
	"ipv6-prefix": [ ], "ipv6-prefix-assignment": [ ],
	"route": [ { "target": "0.0.0.0", "mask": 0, "nexthop": "87.123.0.1", "source": "0.0.0.0/0" } ],
	"dns-server": [ "87.123.0.53" ], "dns-search": [ ], "neighbors": [ ],
	"inactive": { "ipv4-address": [ ], "ipv6-address": [ ], "route": [ ], "dns-server": [ ], "dns-search": [ ], "neighbors": [ ] },
	"data": { }
}"#;

/// `ubus call network.interface.wan_6 status`: the dynamic DHCPv6 child on pppoe-wan,
/// with an IA_NA address and a delegated /56 of which `lan` got the first /64.
const WAN_6: &str = r#"{
	"up": true, "pending": false, "available": true, "autostart": true, "dynamic": true,
	"uptime": 8110, "l3_device": "pppoe-wan", "proto": "dhcpv6", "device": "pppoe-wan",
	"updated": [ "addresses", "routes", "prefixes" ],
	"metric": 0, "dns_metric": 0, "delegation": true,
	"ipv4-address": [ ],
	"ipv6-address": [ { "address": "2a02:8070:a1b2:ff00::1c3", "mask": 128, "preferred": 1500, "valid": 3300 } ],
	"ipv6-prefix": [ {
		"address": "2a02:8070:a1b2:c400::", "mask": 56, "preferred": 1500, "valid": 3300, "class": "wan_6",
		"assigned": { "lan": { "address": "2a02:8070:a1b2:c400::", "mask": 64 } }
	} ],
	"ipv6-prefix-assignment": [ ],
	"route": [ { "target": "::", "mask": 0, "nexthop": "fe80::1", "metric": 512, "valid": 1700, "source": "2a02:8070:a1b2:c400::/56" } ],
	"dns-server": [ "2a02:8070::53" ], "dns-search": [ ], "neighbors": [ ],
	"inactive": { "ipv4-address": [ ], "ipv6-address": [ ], "route": [ ], "dns-server": [ ], "dns-search": [ ], "neighbors": [ ] },
	"data": { "passthru": "00170010" }
}"#;

/// The stock `wan6` (DHCPv6 on the raw Ethernet) left over after switching `wan` to
/// PPPoE: no DHCPv6 server answers there, so it stays in setup.
const WAN6_PENDING: &str = r#"{"up":false,"pending":true,"available":true,"autostart":true,"dynamic":false,"proto":"dhcpv6","device":"eth0.2","data":{}}"#;

/// The LAN's share of the wan_6 delegation (and a ULA).
const LAN: &str = r#"{
	"up": true, "pending": false, "available": true, "autostart": true, "dynamic": false,
	"uptime": 8200, "l3_device": "br-lan", "proto": "static", "device": "br-lan",
	"metric": 0, "dns_metric": 0, "delegation": true,
	"ipv4-address": [ { "address": "192.168.1.1", "mask": 24 } ],
	"ipv6-address": [ ], "ipv6-prefix": [ ],
	"ipv6-prefix-assignment": [
		{ "address": "2a02:8070:a1b2:c400::", "mask": 64, "preferred": 1500, "valid": 3300,
		  "local-address": { "address": "2a02:8070:a1b2:c400::1", "mask": 64 } },
		{ "address": "fd3c:9f12:77ab::", "mask": 60,
		  "local-address": { "address": "fd3c:9f12:77ab::1", "mask": 60 } }
	],
	"route": [ ], "dns-server": [ ], "dns-search": [ "lan" ], "neighbors": [ ],
	"inactive": { "ipv4-address": [ ], "ipv6-address": [ ], "route": [ ], "dns-server": [ ], "dns-search": [ ], "neighbors": [ ] },
	"data": { }
}"#;

/// A DHCPv6 wan6 that works (native IPv6 next to PPPoE, or `@wan` set by hand).
const WAN6_OK: &str = r#"{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":99,"l3_device":"pppoe-wan","proto":"dhcpv6","device":"pppoe-wan","ipv4-address":[],"ipv6-address":[{"address":"2001:470:1f0b:aa::1","mask":128,"preferred":86400,"valid":172800}],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[],"inactive":{},"data":{}}"#;

fn config(global: &str, hosts: &str) -> Config {
    let dir = TempDir::new("pppoe");
    let p = dir.write(
        "c",
        &format!("config global 'global'\n\toption enabled '1'\n\toption endpoint 'https://x.on.aws'\n{global}\nconfig host\n\toption name 'home.example.com'\n{hosts}"),
    );
    Config::load(&p).expect("valid").0
}

/// Interfaces as netifd reports them; an interface given as `None` does not exist
/// (`ubus call` says "Not found", read as an empty status).
fn ifaces(list: &[(&str, Option<&str>)]) -> Interfaces {
    let mut i = Interfaces::default();
    for (name, json) in list {
        let st = match json {
            Some(j) => netifd::parse_status(j.as_bytes()).expect(name),
            None => IfaceStatus::default(),
        };
        i.insert(name, st);
    }
    i
}

fn v6(s: &str) -> AddrSpec<std::net::Ipv6Addr> {
    AddrSpec::Set(s.parse().expect("v6"))
}

#[test]
fn the_fixtures_parse_as_netifd_prints_them() {
    let w = netifd::parse_status(WAN_6.as_bytes()).expect("wan_6");
    assert!(w.up);
    assert_eq!(w.proto.as_deref(), Some("dhcpv6"));
    assert_eq!(w.device.as_deref(), Some("pppoe-wan"));
    assert_eq!(w.prefixes.len(), 1);
    assert_eq!(w.prefixes[0].mask, 56);
    assert_eq!(w.delegated.len(), 1);
    let p = netifd::parse_status(PPPOE_WAN.as_bytes()).expect("wan");
    assert_eq!(p.proto.as_deref(), Some("pppoe"));
    assert_eq!(addresses::pick_ipv6(&p), None, "only the PPP link-local");
}

#[test]
fn without_wan6_the_routers_ipv6_comes_from_wan_6() {
    let c = config("", "");
    let mut i = ifaces(&[
        ("wan", Some(PPPOE_WAN)),
        ("wan6", None),
        ("wan_6", Some(WAN_6)),
        ("lan", Some(LAN)),
    ]);
    let choice = addresses::choose(&c, &mut i);
    let plans = &choice.hosts;
    assert_eq!(
        plans[0].ipv4,
        AddrSpec::Set("87.123.45.67".parse().expect("v4"))
    );
    assert_eq!(plans[0].ipv6, v6("2a02:8070:a1b2:ff00::1c3"));
    let w = choice.ipv6_from.clone().expect("recorded");
    assert_eq!(w.interface, "wan_6");
    assert!(w.automatic);
    assert!(w.note.contains("has a global IPv6 address"), "{}", w.note);
    assert!(w.note.contains("PPPoE"), "{}", w.note);
    assert!(w.note.contains("wan6 is down or not there"), "{}", w.note);
}

#[test]
fn a_pending_stock_wan6_loses_to_wan_6() {
    let c = config("", "\nconfig host\n\toption name 'nas.example.com'\n\toption ipv4 '0'\n\toption ipv6_suffix '02:11:22:33:44:55'\n");
    let lan_without_assignment = r#"{"up":true,"l3_device":"br-lan","proto":"static","ipv4-address":[{"address":"192.168.1.1","mask":24}]}"#;
    let mut i = ifaces(&[
        ("wan", Some(PPPOE_WAN)),
        ("wan6", Some(WAN6_PENDING)),
        ("wan_6", Some(WAN_6)),
        ("lan", Some(lan_without_assignment)),
    ]);
    let choice = addresses::choose(&c, &mut i);
    let plans = &choice.hosts;
    assert_eq!(plans[0].ipv6, v6("2a02:8070:a1b2:ff00::1c3"));
    // The LAN host's /64 comes from what wan_6 (not wan6) says it assigned to lan; the
    // MAC 02:11:22:33:44:55 gives the EUI-64 0011:22ff:fe33:4455 (u/l bit flipped).
    assert_eq!(plans[1].ipv6, v6("2a02:8070:a1b2:c400:11:22ff:fe33:4455"));
    assert_eq!(
        choice.ipv6_from.clone().expect("recorded").interface,
        "wan_6"
    );
}

#[test]
fn a_prefix_only_wan_6_publishes_the_routers_lan_address() {
    // Many PPPoE providers hand out only a prefix (no IA_NA address).
    let prefix_only = WAN_6.replace(
        r#"[ { "address": "2a02:8070:a1b2:ff00::1c3", "mask": 128, "preferred": 1500, "valid": 3300 } ]"#,
        "[ ]",
    );
    assert_ne!(prefix_only, WAN_6);
    let c = config("", "");
    let mut i = ifaces(&[
        ("wan", Some(PPPOE_WAN)),
        ("wan6", Some(WAN6_PENDING)),
        ("wan_6", Some(&prefix_only)),
        ("lan", Some(LAN)),
    ]);
    let choice = addresses::choose(&c, &mut i);
    let plans = &choice.hosts;
    assert_eq!(plans[0].ipv6, v6("2a02:8070:a1b2:c400::1"));
    let w = choice.ipv6_from.clone().expect("recorded");
    assert_eq!(w.interface, "wan_6");
    assert!(w.note.contains("delegated IPv6 prefix"), "{}", w.note);
    assert!(w.note.contains("wan6 is down or not there"), "{}", w.note);
}

#[test]
fn a_working_wan6_is_preferred_over_wan_6() {
    let c = config("", "");
    let mut i = ifaces(&[
        ("wan", Some(PPPOE_WAN)),
        ("wan6", Some(WAN6_OK)),
        ("wan_6", Some(WAN_6)),
        ("lan", Some(LAN)),
    ]);
    let choice = addresses::choose(&c, &mut i);
    let plans = &choice.hosts;
    assert_eq!(plans[0].ipv6, v6("2001:470:1f0b:aa::1"));
    let w = choice.ipv6_from.clone().expect("recorded");
    assert_eq!(w.interface, "wan6");
    assert!(w.automatic);
}

#[test]
fn the_dynamic_name_follows_ipv4_interface() {
    let c = config("\toption ipv4_interface 'dsl'\n", "");
    let mut i = ifaces(&[
        ("dsl", Some(PPPOE_WAN)),
        ("wan6", None),
        ("dsl_6", Some(WAN_6)),
        ("wan_6", None),
        ("lan", Some(LAN)),
    ]);
    let choice = addresses::choose(&c, &mut i);
    let plans = &choice.hosts;
    assert_eq!(plans[0].ipv6, v6("2a02:8070:a1b2:ff00::1c3"));
    assert_eq!(
        choice.ipv6_from.clone().expect("recorded").interface,
        "dsl_6"
    );
    assert!(addresses::uses_interface(&c, "dsl_6"));
    assert!(!addresses::uses_interface(&c, "wan_6"));
}

#[test]
fn an_ipv6_interface_set_to_another_name_is_used_as_is() {
    let c = config("\toption ipv6_interface 'he6'\n", "");
    let mut i = ifaces(&[
        ("wan", Some(PPPOE_WAN)),
        ("he6", None),
        ("wan_6", Some(WAN_6)),
        ("lan", Some(LAN)),
    ]);
    let choice = addresses::choose(&c, &mut i);
    let plans = &choice.hosts;
    // Not wan_6's address: the router's own address in the LAN prefix, as before.
    assert_eq!(plans[0].ipv6, v6("2a02:8070:a1b2:c400::1"));
    let w = choice.ipv6_from.clone().expect("recorded");
    assert_eq!(w.interface, "he6");
    assert!(!w.automatic);
    assert!(w.note.starts_with("set by ipv6_interface"), "{}", w.note);
    assert!(!addresses::uses_interface(&c, "wan_6"));
    assert!(addresses::uses_interface(&c, "he6"));
}

#[test]
fn with_the_default_hotplug_events_of_wan_6_are_the_routers() {
    let c = config("", "");
    for name in ["wan", "wan6", "wan_6", "lan"] {
        assert!(addresses::uses_interface(&c, name), "{name}");
    }
    assert!(!addresses::uses_interface(&c, "wan6_6"));
    assert!(!addresses::uses_interface(&c, "guest"));
}

#[test]
fn the_search_is_keyed_to_the_schema_default() {
    let d = GLOBAL_OPTIONS
        .iter()
        .find(|o| o.name == "ipv6_interface")
        .and_then(|o| o.default);
    assert_eq!(d, Some(wan6::DEFAULT_IPV6_INTERFACE));
}

fn echo_server(pki: &Pki) -> Server {
    serve(Some(pki.server.clone()), move |_, r| {
        let req: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let h = &req["hosts"][0];
        let a = h["ipv4"].as_str().unwrap_or("");
        let aaaa = h["ipv6"].as_str().unwrap_or("");
        json(
            200,
            &format!(
                r#"{{"result":"updated","hosts":[{{"name":"home.example.com","a":["{a}"],"aaaa":["{aaaa}"],"ttl":60}}],"observed":"127.0.0.1","request_id":"req-1","server_time":{}}}"#,
                now_ms()
            ),
        )
    })
}

#[test]
fn the_binary_reacts_to_wan_6_and_status_says_which_interface() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki);
    let dir = TempDir::new("pppoe-bin");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let key = dir.join("key");
    route53_ddns::key::generate(&key, false).expect("keygen");
    let cfg = dir.write(
        "route53-ddns",
        &format!(
            "config global 'global'\n\toption enabled '1'\n\toption endpoint 'https://localhost:{}/'\n\toption key_file '{}'\n\toption ca_file '{}'\n\toption timeout '10'\n\nconfig host\n\toption name 'home.example.com'\n",
            server.port,
            key.display(),
            ca.display()
        ),
    );
    let ubus = fake_ubus(dir.path());
    dir.write("wan.json", PPPOE_WAN);
    dir.write("wan_6.json", WAN_6);
    dir.write("lan.json", LAN);
    // no wan6.json: `ubus call network.interface.wan6 status` fails with "Not found"
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .env("ROUTE53_DDNS_STATE_DIR", dir.join("state"))
            .env("ROUTE53_DDNS_UBUS", &ubus)
            .env("ROUTE53_DDNS_SYSLOG_SOCKET", dir.join("log.sock"))
            .output()
            .expect("run")
    };
    let up = run(&["update", "--interface", "wan_6"]);
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert_eq!(server.count(), 1);
    let body: serde_json::Value =
        serde_json::from_slice(&server.received()[0].body).expect("request json");
    assert_eq!(body["hosts"][0]["ipv6"], "2a02:8070:a1b2:ff00::1c3");

    let out = run(&["status", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status json");
    assert_eq!(s["ipv6_interface"]["name"], "wan_6");
    assert_eq!(s["ipv6_interface"]["automatic"], true);
    let note = s["ipv6_interface"]["note"].as_str().unwrap_or("");
    assert!(note.contains("wan6 is down or not there"), "{note}");

    let text = String::from_utf8_lossy(&run(&["status"]).stdout).into_owned();
    assert!(
        text.contains("IPv6 interface: wan_6 (found automatically: it has a global IPv6 address"),
        "{text}"
    );
}
