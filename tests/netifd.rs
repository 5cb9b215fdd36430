//! netifd status JSON (shaped like `ubus call network.interface.<if> status` output on
//! OpenWrt) → the addresses each host gets. Cases: PPPoE, DHCP, DHCPv6 with prefix
//! delegation, dual-stack, IPv6-only, CGNAT and a router behind another NAT; plus the
//! kernel fallback formats.

mod common;

use common::*;
use route53_ddns::addresses::{self, Nat};
use route53_ddns::config::Config;
use route53_ddns::host_id::HostId;
use route53_ddns::netifd::{self, Interfaces};
use route53_ddns_protocol::AddrSpec;
use std::net::Ipv6Addr;

const PPPOE_WAN: &str = r#"{
	"up": true,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": false,
	"uptime": 51234,
	"l3_device": "pppoe-wan",
	"proto": "pppoe",
	"device": "eth0.2",
	"updated": [
		"addresses",
		"routes"
	],
	"metric": 0,
	"dns_metric": 0,
	"delegation": true,
	"ipv4-address": [
		{
			"address": "87.123.45.67",
			"mask": 32,
			"ptpaddress": "87.123.0.1"
		}
	],
	"ipv6-address": [
		{
			"address": "fe80::5054:ff:fe12:3456",
			"mask": 10
		}
	],
	"ipv6-prefix": [
	],
	"ipv6-prefix-assignment": [
	],
	"route": [
		{
			"target": "0.0.0.0",
			"mask": 0,
			"nexthop": "87.123.0.1",
			"source": "0.0.0.0/0"
		}
	],
	"dns-server": [
		"87.123.0.53"
	],
	"dns-search": [
	],
	"neighbors": [
	],
	"inactive": {
		"ipv4-address": [
		],
		"ipv6-address": [
		],
		"route": [
		],
		"dns-server": [
		],
		"dns-search": [
		],
		"neighbors": [
		]
	},
	"data": {
	}
}"#;

/// DHCPv6 on top of PPPoE (`wan_6`/`wan6`): an IA_NA address, a deprecated old one, a
/// ULA, and a delegated /56 of which the LAN got a /64.
const DHCPV6_PD: &str = r#"{
	"up": true,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": true,
	"uptime": 51200,
	"l3_device": "pppoe-wan",
	"proto": "dhcpv6",
	"device": "pppoe-wan",
	"metric": 0,
	"dns_metric": 0,
	"delegation": true,
	"ipv4-address": [
	],
	"ipv6-address": [
		{
			"address": "2a02:8070:a1b2:ff00::1c3",
			"mask": 128,
			"preferred": 1500,
			"valid": 3300
		},
		{
			"address": "2a02:8070:a1b2:fe00::17",
			"mask": 128,
			"preferred": 0,
			"valid": 600
		},
		{
			"address": "fd00:1234::2",
			"mask": 64,
			"preferred": 3600,
			"valid": 7200
		}
	],
	"ipv6-prefix": [
		{
			"address": "2a02:8070:a1b2:c400::",
			"mask": 56,
			"preferred": 1500,
			"valid": 3300,
			"class": "wan_6",
			"assigned": {
				"lan": {
					"address": "2a02:8070:a1b2:c400::",
					"mask": 64
				}
			}
		}
	],
	"ipv6-prefix-assignment": [
	],
	"route": [
		{
			"target": "::",
			"mask": 0,
			"nexthop": "fe80::1",
			"metric": 512,
			"valid": 1700,
			"source": "2a02:8070:a1b2:c400::/56"
		}
	],
	"dns-server": [
		"2a02:8070::53"
	],
	"dns-search": [
	],
	"neighbors": [
	],
	"inactive": {
		"ipv4-address": [
		],
		"ipv6-address": [
		],
		"route": [
		],
		"dns-server": [
		],
		"dns-search": [
		],
		"neighbors": [
		]
	},
	"data": {
		"passthru": "00170010"
	}
}"#;

const LAN: &str = r#"{
	"up": true,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": false,
	"uptime": 51300,
	"l3_device": "br-lan",
	"proto": "static",
	"device": "br-lan",
	"metric": 0,
	"dns_metric": 0,
	"delegation": true,
	"ipv4-address": [
		{
			"address": "192.168.1.1",
			"mask": 24
		}
	],
	"ipv6-address": [
	],
	"ipv6-prefix": [
	],
	"ipv6-prefix-assignment": [
		{
			"address": "2a02:8070:a1b2:c400::",
			"mask": 64,
			"preferred": 1500,
			"valid": 3300,
			"local-address": {
				"address": "2a02:8070:a1b2:c400::1",
				"mask": 64
			}
		},
		{
			"address": "fd3c:9f12:77ab::",
			"mask": 60,
			"local-address": {
				"address": "fd3c:9f12:77ab::1",
				"mask": 60
			}
		}
	],
	"route": [
	],
	"dns-server": [
	],
	"dns-search": [
		"lan"
	],
	"neighbors": [
	],
	"inactive": {
		"ipv4-address": [
		],
		"ipv6-address": [
		],
		"route": [
		],
		"dns-server": [
		],
		"dns-search": [
		],
		"neighbors": [
		]
	},
	"data": {
	}
}"#;

fn dhcp_wan(addr: &str) -> String {
    format!(
        r#"{{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":3600,"l3_device":"eth1","proto":"dhcp","device":"eth1","metric":0,"dns_metric":0,"delegation":true,"ipv4-address":[{{"address":"{addr}","mask":22}}],"ipv6-address":[],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[{{"target":"0.0.0.0","mask":0,"nexthop":"{addr}","source":"{addr}/32"}}],"dns-server":["9.9.9.9"],"dns-search":[],"neighbors":[],"inactive":{{"ipv4-address":[],"ipv6-address":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[]}},"data":{{"leasetime":86400}}}}"#
    )
}

/// An interface that is configured but down: what netifd prints then.
const DOWN: &str = r#"{
	"up": false,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": false,
	"proto": "dhcp",
	"device": "eth1",
	"data": {
	},
	"errors": [
		{
			"subsystem": "dhcp",
			"code": "NO_LEASE"
		}
	]
}"#;

/// A native dual-stack DHCPv6 WAN with a SLAAC address and no delegation.
const DHCPV6_NA_ONLY: &str = r#"{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":99,"l3_device":"eth1","proto":"dhcpv6","device":"eth1","ipv4-address":[],"ipv6-address":[{"address":"2001:470:1f0b:aa::2","mask":64,"preferred":86400,"valid":172800},{"address":"2001:470:1f0b:aa::1","mask":64,"preferred":86400,"valid":172800}],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[],"inactive":{},"data":{}}"#;

fn config(extra_hosts: &str) -> Config {
    let dir = TempDir::new("netifd");
    let p = dir.write(
        "c",
        &format!("config global 'global'\n\toption enabled '1'\n\toption endpoint 'https://x.on.aws'\n\nconfig host\n\toption name 'home.example.com'\n{extra_hosts}"),
    );
    Config::load(&p).expect("valid").0
}

fn ifaces(wan: &str, wan6: &str, lan: &str) -> Interfaces {
    let mut i = Interfaces::default();
    for (name, json) in [("wan", wan), ("wan6", wan6), ("lan", lan)] {
        i.insert(name, netifd::parse_status(json.as_bytes()).expect(name));
    }
    i
}

#[test]
fn pppoe_with_dhcpv6_pd_dual_stack() {
    let c = config("\nconfig host\n\toption name 'nas.example.com'\n\toption ipv4 '0'\n\toption ipv6_suffix '::1234'\n");
    let plans = addresses::plan(&c, &mut ifaces(PPPOE_WAN, DHCPV6_PD, LAN));
    assert_eq!(plans[0].name, "home.example.com");
    assert_eq!(
        plans[0].ipv4,
        AddrSpec::Set("87.123.45.67".parse().expect("v4"))
    );
    assert_eq!(plans[0].nat, Some(Nat::None));
    // Not the deprecated one, not the ULA, not link-local.
    assert_eq!(
        plans[0].ipv6,
        AddrSpec::Set("2a02:8070:a1b2:ff00::1c3".parse().expect("v6"))
    );
    // LAN host: delegated /64 + suffix; IPv4 off.
    assert_eq!(plans[1].ipv4, AddrSpec::Keep);
    assert_eq!(
        plans[1].ipv6,
        AddrSpec::Set("2a02:8070:a1b2:c400::1234".parse().expect("v6"))
    );
}

#[test]
fn plain_dhcp_ipv4_only() {
    let plans = addresses::plan(
        &config(""),
        &mut ifaces(&dhcp_wan("81.2.69.160"), DOWN, LAN),
    );
    assert_eq!(
        plans[0].ipv4,
        AddrSpec::Set("81.2.69.160".parse().expect("v4"))
    );
    // wan6 is down, but the LAN still has a delegated prefix (stale or static): the router's
    // own LAN address is used then.
    assert_eq!(
        plans[0].ipv6,
        AddrSpec::Set("2a02:8070:a1b2:c400::1".parse().expect("v6"))
    );
}

#[test]
fn ipv4_only_without_any_ipv6_leaves_aaaa_alone() {
    let lan_v4_only = r#"{"up":true,"l3_device":"br-lan","proto":"static","ipv4-address":[{"address":"192.168.1.1","mask":24}],"ipv6-address":[],"ipv6-prefix-assignment":[]}"#;
    let plans = addresses::plan(
        &config(""),
        &mut ifaces(&dhcp_wan("81.2.69.160"), DOWN, lan_v4_only),
    );
    assert_eq!(
        plans[0].ipv4,
        AddrSpec::Set("81.2.69.160".parse().expect("v4"))
    );
    assert_eq!(plans[0].ipv6, AddrSpec::Keep);
}

#[test]
fn ipv6_only_leaves_a_records_alone() {
    let plans = addresses::plan(&config(""), &mut ifaces(DOWN, DHCPV6_NA_ONLY, LAN));
    assert_eq!(plans[0].ipv4, AddrSpec::Keep);
    assert_eq!(plans[0].wan_ipv4, None);
    // The lowest stable address, so the choice does not flap.
    assert_eq!(
        plans[0].ipv6,
        AddrSpec::Set("2001:470:1f0b:aa::1".parse().expect("v6"))
    );
}

#[test]
fn cgnat_asks_the_server_for_the_observed_address() {
    let plans = addresses::plan(
        &config(""),
        &mut ifaces(&dhcp_wan("100.72.14.3"), DHCPV6_PD, LAN),
    );
    assert_eq!(plans[0].ipv4, AddrSpec::Auto);
    assert_eq!(plans[0].wan_ipv4, Some("100.72.14.3".parse().expect("v4")));
    assert_eq!(plans[0].nat, Some(Nat::Cgnat));
    let d = addresses::diagnosis(
        Nat::Cgnat,
        "100.72.14.3".parse().expect("v4"),
        "203.0.113.50".parse().ok(),
    )
    .expect("diagnosis");
    assert_eq!(
        d,
        "WAN address 100.72.14.3, public address 203.0.113.50: you are behind carrier-grade NAT; inbound connections will not reach this router"
    );
}

#[test]
fn a_private_wan_is_nat_not_cgnat() {
    let plans = addresses::plan(
        &config(""),
        &mut ifaces(&dhcp_wan("192.168.178.20"), DOWN, LAN),
    );
    assert_eq!(plans[0].ipv4, AddrSpec::Auto);
    assert_eq!(plans[0].nat, Some(Nat::Nat));
}

#[test]
fn lan_host_prefix_falls_back_to_the_wan6_delegation() {
    let c = config(
        "\nconfig host\n\toption name 'nas.example.com'\n\toption ipv6_suffix '::a:b:c:d'\n",
    );
    let lan_no_assignment = r#"{"up":true,"l3_device":"br-lan","proto":"static","ipv4-address":[{"address":"192.168.1.1","mask":24}]}"#;
    let plans = addresses::plan(&c, &mut ifaces(PPPOE_WAN, DHCPV6_PD, lan_no_assignment));
    assert_eq!(
        plans[1].ipv6,
        AddrSpec::Set("2a02:8070:a1b2:c400:a:b:c:d".parse().expect("v6"))
    );
}

#[test]
fn deprecated_prefix_gives_no_lan_address() {
    let c =
        config("\nconfig host\n\toption name 'nas.example.com'\n\toption ipv6_suffix '::1234'\n");
    let lan = LAN.replace("\"preferred\": 1500", "\"preferred\": 0");
    let wan6 = DHCPV6_PD.replace("\"preferred\": 1500", "\"preferred\": 0");
    let plans = addresses::plan(&c, &mut ifaces(PPPOE_WAN, &wan6, &lan));
    assert_eq!(plans[1].ipv6, AddrSpec::Keep);
}

#[test]
fn suffix_fills_the_bits_after_the_prefix() {
    let p: Ipv6Addr = "2a02:8070:a1b2:c400::1".parse().expect("v6");
    let s: HostId = "::1234".parse().expect("suffix");
    assert_eq!(
        s.under(p, 64),
        Ok("2a02:8070:a1b2:c400::1234".parse::<Ipv6Addr>().expect("v6"))
    );
}

#[test]
fn interfaces_come_from_the_ubus_command() {
    let dir = TempDir::new("ubus");
    dir.write("wan.json", PPPOE_WAN);
    let ubus = fake_ubus(dir.path());
    let out = std::process::Command::new(&ubus)
        .args(["call", "network.interface.wan", "status"])
        .output()
        .expect("run stand-in");
    let st = netifd::parse_status(&out.stdout).expect("parses");
    assert!(st.up);
    assert_eq!(st.proto.as_deref(), Some("pppoe"));
    assert_eq!(st.device.as_deref(), Some("pppoe-wan"));
    let missing = std::process::Command::new(&ubus)
        .args(["call", "network.interface.nope", "status"])
        .output()
        .expect("run stand-in");
    assert_eq!(missing.status.code(), Some(4));
}

#[test]
fn kernel_fallback_ip_json_skips_temporary_and_deprecated() {
    let json = r#"[{"ifindex":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","addr_info":[
        {"family":"inet","local":"81.2.69.160","prefixlen":24,"scope":"global","dynamic":true,"label":"eth0","valid_life_time":80000,"preferred_life_time":80000},
        {"family":"inet6","local":"2a01:4f8::aaaa","prefixlen":64,"scope":"global","temporary":true,"dynamic":true,"valid_life_time":3000,"preferred_life_time":1000},
        {"family":"inet6","local":"2a01:4f8::1","prefixlen":64,"scope":"global","deprecated":true,"dynamic":true,"valid_life_time":3000,"preferred_life_time":0},
        {"family":"inet6","local":"2a01:4f8::5","prefixlen":64,"scope":"global","dynamic":true,"mngtmpaddr":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},
        {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]"#;
    let st = netifd::parse_ip_json(json.as_bytes()).expect("parses");
    assert!(st.up);
    assert_eq!(
        addresses::pick_ipv4(&st).spec,
        AddrSpec::Set("81.2.69.160".parse().expect("v4"))
    );
    assert_eq!(
        addresses::pick_ipv6(&st),
        Some("2a01:4f8::5".parse().expect("v6"))
    );
}

#[test]
fn kernel_fallback_proc_if_inet6() {
    let text = "\
2a0104f8000000000000000000000aaa 02 40 00 01     eth0
2a0104f8000000000000000000000001 02 40 00 20     eth0
2a0104f8000000000000000000000005 02 40 00 00     eth0
fe800000000000000000000000000001 02 40 20 80     eth0
2a0104f8000000000000000000000009 03 40 00 00     eth1
";
    let st = netifd::parse_if_inet6(text, "eth0");
    assert_eq!(st.ipv6.len(), 4);
    assert_eq!(
        addresses::pick_ipv6(&st),
        Some("2a01:4f8::5".parse().expect("v6"))
    );
}

#[test]
fn garbage_status_is_an_error_not_a_panic() {
    assert!(netifd::parse_status(b"Command failed: Not found").is_err());
    assert!(netifd::parse_status(b"{\"up\":\"yes\"}").is_err());
    let st =
        netifd::parse_status(br#"{"up":true,"ipv4-address":[{"address":"not-an-ip","mask":24}]}"#)
            .expect("entries that are not addresses are skipped");
    assert!(st.ipv4.is_empty());
}
