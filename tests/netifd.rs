//! netifd status JSON (shaped like `ubus call network.interface.<if> status` output on
//! OpenWrt; fixtures in common/ifstatus.rs) → the addresses each host gets. Cases: PPPoE,
//! DHCP, DHCPv6 with prefix delegation, dual-stack, IPv6-only, CGNAT and a router behind
//! another NAT, and LAN hosts' addresses from a delegated prefix and a suffix.

mod common;

use common::ifstatus::{dhcp_wan, DHCPV6_NA_ONLY, DHCPV6_PD, DOWN, LAN, PPPOE_WAN};
use common::*;
use route53_ddns::addresses::{self, Nat};
use route53_ddns::config::Config;
use route53_ddns::host_id::HostId;
use route53_ddns::netifd::{self, Interfaces};
use route53_ddns_protocol::AddrSpec;
use std::net::Ipv6Addr;

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
