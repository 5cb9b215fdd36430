//! What counts as a change after a success (docs/config.md, "What `update` does", 3):
//! one family alone changing is sent, a family that disappears is not (its record is left
//! as it is), and an "auto" address behind NAT is sent again when the WAN address moves
//! and at least hourly otherwise; an NTP sync alone is no change. Requests are real; time
//! is a fake clock.

mod common;

use common::*;
use route53_ddns::addresses::{HostPlan, Nat};
use route53_ddns::updater::{Exit, Pass};
use route53_ddns_protocol::AddrSpec;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

type Setup = common::router::Router;

/// An endpoint that accepts everything, and a router whose force interval is 72 h.
fn setup() -> (Server, Setup) {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "203.0.113.9", "203.0.113.9"),
        )
    });
    let options = "\toption timeout '2'\n\toption force_interval '72'";
    let s = common::router::router(
        "changes",
        &format!("localhost:{}", server.port),
        &pki.ca_pem,
        options,
    );
    (server, s)
}

fn run(s: &Setup, clock: &mut FakeClock, plan: HostPlan) -> Exit {
    common::pass::run(s, clock, false, &[plan])
}

/// A host on a public WAN address `v4` (or none) and IPv6 `v6` (or none).
fn public(v4: Option<&str>, v6: Option<&str>) -> HostPlan {
    let v4: Option<Ipv4Addr> = v4.map(|a| a.parse().expect("ipv4"));
    let v6: Option<Ipv6Addr> = v6.map(|a| a.parse().expect("ipv6"));
    HostPlan {
        name: "home.example.com".into(),
        ipv4: v4.map_or(AddrSpec::Keep, AddrSpec::Set),
        ipv6: v6.map_or(AddrSpec::Keep, AddrSpec::Set),
        wan_ipv4: v4,
        nat: v4.map(|_| Nat::None),
    }
}

/// A host behind another NAT (WAN address `wan`): its A record is what the endpoint sees.
fn behind_nat(wan: &str, v6: &str) -> HostPlan {
    HostPlan {
        name: "home.example.com".into(),
        ipv4: AddrSpec::Auto,
        ipv6: AddrSpec::Set(v6.parse().expect("ipv6")),
        wan_ipv4: Some(wan.parse().expect("wan")),
        nat: Some(Nat::Nat),
    }
}

/// The body of the last request the endpoint received.
fn last_sent(server: &Server) -> serde_json::Value {
    let all = server.received();
    let last = all.last().expect("a request");
    serde_json::from_slice(&last.body).expect("json body")
}

#[test]
fn one_family_changing_alone_is_sent() {
    let (server, s) = setup();
    let mut clock = FakeClock::new();
    let both = |a, b| public(Some(a), Some(b));
    assert_eq!(
        run(&s, &mut clock, both("198.51.100.1", "2001:db8::1")),
        Exit::Ok
    );
    assert_eq!(
        run(&s, &mut clock, both("198.51.100.1", "2001:db8::1")),
        Exit::Nothing
    );
    assert_eq!(server.count(), 1);
    // A new IPv4 address, the same IPv6 one.
    assert_eq!(
        run(&s, &mut clock, both("198.51.100.2", "2001:db8::1")),
        Exit::Ok
    );
    assert_eq!(server.count(), 2);
    assert_eq!(last_sent(&server)["hosts"][0]["ipv4"], "198.51.100.2");
    // A new IPv6 address, the same IPv4 one.
    assert_eq!(
        run(&s, &mut clock, both("198.51.100.2", "2001:db8::2")),
        Exit::Ok
    );
    assert_eq!(server.count(), 3);
    assert_eq!(last_sent(&server)["hosts"][0]["ipv6"], "2001:db8::2");
    assert_eq!(
        run(&s, &mut clock, both("198.51.100.2", "2001:db8::2")),
        Exit::Nothing
    );
    assert_eq!(server.count(), 3);
}

#[test]
fn losing_the_ipv4_address_while_ipv6_stays_sends_nothing() {
    let (server, s) = setup();
    let mut clock = FakeClock::new();
    let plan = public(Some("198.51.100.1"), Some("2001:db8::1"));
    assert_eq!(run(&s, &mut clock, plan), Exit::Ok);
    // The WAN lost its IPv4 address (the A record is left as it is); IPv6 is unchanged.
    for _ in 0..2 {
        assert_eq!(
            run(&s, &mut clock, public(None, Some("2001:db8::1"))),
            Exit::Nothing
        );
    }
    assert_eq!(server.count(), 1);
}

#[test]
fn behind_nat_a_new_wan_address_is_sent_at_once_and_otherwise_hourly() {
    let (server, s) = setup();
    let mut clock = FakeClock::new();
    let v6 = "2001:db8::1";
    assert_eq!(run(&s, &mut clock, behind_nat("10.0.0.2", v6)), Exit::Ok);
    assert_eq!(last_sent(&server)["hosts"][0]["ipv4"], "auto");
    clock.slept += Duration::from_secs(600);
    assert_eq!(
        run(&s, &mut clock, behind_nat("10.0.0.2", v6)),
        Exit::Nothing
    );
    assert_eq!(server.count(), 1, "unchanged within the hour");
    // The WAN address moved: the public one probably did too.
    assert_eq!(run(&s, &mut clock, behind_nat("10.0.0.3", v6)), Exit::Ok);
    assert_eq!(server.count(), 2);
    assert_eq!(
        run(&s, &mut clock, behind_nat("10.0.0.3", v6)),
        Exit::Nothing
    );
    // An hour later it is confirmed again though nothing changed locally (the force
    // interval is 72 h; a fixed IPv6 address next to the auto one does not matter).
    clock.slept += Duration::from_secs(3600);
    assert_eq!(run(&s, &mut clock, behind_nat("10.0.0.3", v6)), Exit::Ok);
    assert_eq!(server.count(), 3);
}

#[test]
fn a_public_address_is_not_rechecked_hourly() {
    let (server, s) = setup();
    let mut clock = FakeClock::new();
    let plan = || public(Some("198.51.100.1"), Some("2001:db8::1"));
    assert_eq!(run(&s, &mut clock, plan()), Exit::Ok);
    clock.slept += Duration::from_secs(3 * 3600);
    assert_eq!(run(&s, &mut clock, plan()), Exit::Nothing);
    assert_eq!(server.count(), 1);
}

#[test]
fn an_ntp_sync_after_a_success_is_not_a_change() {
    // NTP syncing resends at once only after a failure that may have been the clock.
    let (server, s) = setup();
    let mut clock = FakeClock::new();
    let plan = || public(Some("198.51.100.1"), None);
    assert_eq!(run(&s, &mut clock, plan()), Exit::Ok);
    let synced = Pass {
        config: &s.config,
        store: &s.store,
        key: &s.key,
        next: None,
        force: false,
        clock_synced: true,
        clock: &mut clock,
    }
    .deliver(&[plan()]);
    assert_eq!(synced, Exit::Nothing);
    assert_eq!(server.count(), 1);
}
