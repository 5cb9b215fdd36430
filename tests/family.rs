//! Which address family an update goes over, against an endpoint on 127.0.0.1 AND ::1 (one
//! port, one name resolving to both through the test-only `ROUTE53_DDNS_TEST_RESOLVE`):
//! an `"auto"` pins the family whose source address the server is to publish; without one,
//! every address is tried, so a broken IPv6 path falls back to IPv4 within connect_timeout.

mod common;
#[path = "support/raw.rs"]
mod raw;

use common::*;
use raw::*;
use route53_ddns::addresses::{HostPlan, Nat};
use route53_ddns::updater::{Exit, Pass};
use route53_ddns_protocol::AddrSpec;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// IPv6 first (as getaddrinfo orders a dual-stack name with a global IPv6 address), and a
/// name with IPv4 first.
const NAMES: &str = "dual.test=::1,127.0.0.1;dual4.test=127.0.0.1,::1";

type Setup = common::router::Router;

fn setup(name: &str, port: u16, pki: &Pki) -> Setup {
    std::env::set_var(route53_ddns::transport::ENV_TEST_RESOLVE, NAMES);
    let options = "\toption connect_timeout '2'\n\toption timeout '4'";
    common::router::router("family", &format!("{name}:{port}"), &pki.ca_pem, options)
}

fn run(s: &Setup, clock: &mut FakeClock, plans: &[HostPlan]) -> Exit {
    Pass {
        config: &s.config,
        store: &s.store,
        key: &s.key,
        next: None,
        force: false,
        clock_synced: false,
        clock,
    }
    .deliver(plans)
}

fn plan(ipv4: AddrSpec<std::net::Ipv4Addr>, ipv6: AddrSpec<std::net::Ipv6Addr>) -> Vec<HostPlan> {
    vec![HostPlan {
        name: "home.example.com".into(),
        ipv4,
        ipv6,
        wan_ipv4: "100.64.3.4".parse().ok(),
        nat: Some(Nat::Cgnat),
    }]
}

fn answer(observed: &str) -> Vec<u8> {
    let body = format!(
        r#"{{"result":"updated","hosts":[{{"name":"home.example.com","a":["{observed}"],"aaaa":[],"ttl":60}}],"observed":"{observed}","request_id":"req-1","server_time":{}}}"#,
        now_ms()
    );
    let mut a = head("200 OK", &[&format!("content-length: {}", body.len())]);
    a.extend_from_slice(body.as_bytes());
    a
}

/// Both addresses answer; returns the address the one request arrived on.
fn arrived_on(name: &str, plans: &[HostPlan]) -> (IpAddr, Setup) {
    let pki = pki(&[name]);
    let ok = Mode::Script(vec![Step::Send(answer("203.0.113.50"))]);
    let server = raw_server(Some(pki.server.clone()), &[(v4(), ok.clone()), (v6(), ok)]);
    let s = setup(name, server.port, &pki);
    let mut clock = FakeClock::new();
    assert_eq!(run(&s, &mut clock, plans), Exit::Ok);
    let hits = server.hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    (hits[0].local, s)
}

#[test]
fn auto_ipv4_connects_over_ipv4_though_ipv6_comes_first() {
    let plans = plan(AddrSpec::Auto, AddrSpec::Keep);
    let (on, s) = arrived_on("dual.test", &plans);
    assert_eq!(on, v4());
    let st = s.store.host("home.example.com");
    assert_eq!(st.ipv4.as_deref(), Some("203.0.113.50"));
    let d = st.diagnosis.expect("diagnosis");
    assert!(
        d.contains("WAN address 100.64.3.4, public address 203.0.113.50"),
        "{d}"
    );
    assert!(d.contains("carrier-grade NAT"), "{d}");
}

#[test]
fn auto_ipv6_connects_over_ipv6_though_ipv4_comes_first() {
    let plans = plan(AddrSpec::Keep, AddrSpec::Auto);
    let (on, s) = arrived_on("dual4.test", &plans);
    assert_eq!(on, v6());
    let req = s.store.host("home.example.com");
    assert_eq!(req.result.as_deref(), Some("updated"));
}

#[test]
fn without_auto_the_first_address_of_either_family_is_used() {
    let set = plan(
        AddrSpec::Set("192.0.2.1".parse().expect("ip")),
        AddrSpec::Keep,
    );
    assert_eq!(arrived_on("dual.test", &set).0, v6());
    assert_eq!(arrived_on("dual4.test", &set).0, v4());
}

#[test]
fn a_broken_ipv6_path_falls_back_to_ipv4_within_connect_timeout() {
    let pki = pki(&["dual.test"]);
    let ok = Mode::Script(vec![Step::Send(answer("192.0.2.1"))]);
    // ::1 accepts the connection and then is never heard from (a black hole after the SYN).
    let server = raw_server(
        Some(pki.server.clone()),
        &[(v4(), ok), (v6(), Mode::Silent)],
    );
    let s = setup("dual.test", server.port, &pki);
    let set = plan(
        AddrSpec::Set("192.0.2.1".parse().expect("ip")),
        AddrSpec::Keep,
    );
    let mut clock = FakeClock::new();
    let start = Instant::now();
    assert_eq!(run(&s, &mut clock, &set), Exit::Ok);
    let took = start.elapsed();
    assert!(
        clock.sleeps.is_empty(),
        "no retry needed: {:?}",
        clock.sleeps
    );
    assert_eq!(server.accepted(), vec![v6(), v4()]);
    let hits = server.hits();
    assert_eq!((hits.len(), hits[0].local), (1, v4()), "{hits:?}");
    // connect_timeout is 2 s: ::1 had half of it.
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn the_last_address_gets_all_that_is_left_of_connect_timeout() {
    let pki = pki(&["dual.test"]);
    // Nothing on ::1 (refused at once); 127.0.0.1 starts its handshake after 1.4 s of the
    // 2 s connect_timeout, more than half of it.
    let late = Mode::Late(
        Duration::from_millis(1400),
        vec![Step::Send(answer("192.0.2.1"))],
    );
    let server = raw_server(Some(pki.server.clone()), &[(v4(), late)]);
    let s = setup("dual.test", server.port, &pki);
    let set = plan(
        AddrSpec::Set("192.0.2.1".parse().expect("ip")),
        AddrSpec::Keep,
    );
    let mut clock = FakeClock::new();
    assert_eq!(run(&s, &mut clock, &set), Exit::Ok);
    assert_eq!(server.hits().len(), 1);
}

#[test]
fn a_pinned_family_that_is_broken_is_not_swapped_for_the_other() {
    let pki = pki(&["dual.test"]);
    let ok = Mode::Script(vec![Step::Send(answer("203.0.113.50"))]);
    let server = raw_server(
        Some(pki.server.clone()),
        &[(v4(), ok), (v6(), Mode::Silent)],
    );
    let s = setup("dual.test", server.port, &pki);
    let mut clock = FakeClock::new();
    // "auto" for IPv6: the server must see IPv6, so IPv4 is never used.
    let exit = run(&s, &mut clock, &plan(AddrSpec::Keep, AddrSpec::Auto));
    assert_eq!(exit, Exit::Transient);
    assert!(
        server.accepted().iter().all(|a| *a == v6()),
        "{:?}",
        server.accepted()
    );
    assert!(server.hits().is_empty());
    let e = s.store.host("home.example.com").error.expect("error");
    assert_eq!(e.code, "timeout", "{e:?}");
}
