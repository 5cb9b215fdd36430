//! Failure paths of one update pass against a local HTTPS server: 5xx, 429 with
//! Retry-After, hangs, resets, certificates from the wrong CA or for the wrong name,
//! permanent refusals and clock skew. Sleeps go through a fake clock, so the retry
//! schedule is asserted without waiting for it.

mod common;

use common::*;
use route53_ddns::addresses::{HostPlan, Nat};
use route53_ddns::updater::{Exit, Pass};
use route53_ddns_protocol::{AddrSpec, SignedHeaders, UpdateRequest};
use std::time::Duration;

type Setup = common::router::Router;

fn setup(port: u16, ca_pem: &str, extra: &str) -> Setup {
    let options = format!("\toption connect_timeout '2'\n\toption timeout '2'\n{extra}");
    common::router::router("fail", &format!("localhost:{port}"), ca_pem, &options)
}

/// A TLS server whose first answer comes from `first`; every later one is a success.
fn first_then_ok(pki: &Pki, first: fn() -> Behaviour) -> Server {
    serve(Some(pki.server.clone()), move |n, _| {
        if n == 0 {
            first()
        } else {
            json(
                200,
                &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
            )
        }
    })
}

fn plan_v4(ip: &str) -> Vec<HostPlan> {
    vec![HostPlan {
        name: "home.example.com".into(),
        ipv4: AddrSpec::Set(ip.parse().expect("ip")),
        ipv6: AddrSpec::Keep,
        wan_ipv4: ip.parse().ok(),
        nat: Some(Nat::None),
    }]
}

fn run(s: &Setup, clock: &mut FakeClock, force: bool, plans: &[HostPlan]) -> Exit {
    Pass {
        config: &s.config,
        store: &s.store,
        key: &s.key,
        next: None,
        force,
        clock_synced: false,
        clock,
    }
    .deliver(plans)
}

/// Advances the fake clock to the scheduled next try (the waiter's job in `update`).
fn until_next_try(s: &Setup, clock: &mut FakeClock) -> Duration {
    use route53_ddns::updater::Clock;
    let next = s.store.run().next_try.expect("a retry is scheduled");
    let wait = Duration::from_secs(next.saturating_sub(clock.now().as_secs()));
    clock.sleep(wait);
    wait
}

#[test]
fn success_is_signed_verifiable_and_recorded() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
        )
    });
    let s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(run(&s, &mut clock, false, &plan_v4("192.0.2.1")), Exit::Ok);
    let got = server.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v2/update"));
    let signed = SignedHeaders::parse(|name| r.header(name)).expect("signature headers");
    assert_eq!(signed.verify("POST", "/v2/update", &r.body), Ok(()));
    // Signed for the host the router addressed, which is also the Host header it sent.
    assert_eq!(signed.host, format!("localhost:{}", server.port));
    assert_eq!(r.header("host"), Some(signed.host.as_str()));
    assert_eq!(&signed.key_id, s.key.key_id());
    let req = UpdateRequest::from_body(&r.body).expect("protocol body");
    assert_eq!(req.hosts[0].name, "home.example.com");
    assert_eq!(req.hosts[0].ipv6, AddrSpec::Keep, "unknown family left out");
    let st = s.store.host("home.example.com");
    assert_eq!(st.ipv4.as_deref(), Some("192.0.2.1"));
    assert_eq!(st.result.as_deref(), Some("updated"));
    assert_eq!(st.request_id.as_deref(), Some("req-1"));

    // Same address again: nothing is sent.
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Nothing
    );
    assert_eq!(server.count(), 1);
    // --force sends anyway.
    assert_eq!(run(&s, &mut clock, true, &plan_v4("192.0.2.1")), Exit::Ok);
    assert_eq!(server.count(), 2);
}

#[test]
fn server_errors_are_recorded_at_once_and_scheduled_not_slept() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(503, &error_body("unavailable", None))
    });
    let s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Transient
    );
    // One request per pass; the pass never sleeps (it would hold the lock).
    assert_eq!(server.count(), 1);
    assert!(clock.sleeps.is_empty());
    let st = s.store.host("home.example.com");
    assert_eq!(st.result.as_deref(), Some("error"));
    let e = st.error.expect("error recorded");
    assert_eq!(e.code, "unavailable");
    assert!(!e.permanent);
    let r = s.store.run();
    assert_eq!(r.failures, 1);
    assert_eq!(r.last_error.map(|e| e.code).as_deref(), Some("unavailable"));
}

/// A server whose first answer is `first` and later ones succeed: the first pass fails
/// and schedules a retry, a pass before it is due sends nothing, the retry succeeds.
fn fails_once_then_retried(first: fn() -> Behaviour, code: &str) {
    let pki = pki(&["localhost"]);
    let server = first_then_ok(&pki, first);
    let s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Transient
    );
    assert_eq!(server.count(), 1);
    let e = s.store.host("home.example.com").error.expect("error");
    assert_eq!(e.code, code);
    assert!(!e.message.contains("os error"), "{code}: {}", e.message);
    // The timer or another event before the retry is due: nothing sent.
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Transient
    );
    assert_eq!(server.count(), 1);
    let wait = until_next_try(&s, &mut clock);
    assert!(
        (10..=12).contains(&wait.as_secs()),
        "first retry after {wait:?}"
    );
    assert_eq!(run(&s, &mut clock, false, &plan_v4("192.0.2.1")), Exit::Ok);
    assert_eq!(server.count(), 2);
    let r = s.store.run();
    assert_eq!((r.failures, r.next_try), (0, None), "schedule cleared");
}

#[test]
fn a_gateway_error_page_is_transient_too() {
    fails_once_then_retried(
        || Behaviour::Respond {
            status: 502,
            headers: vec![],
            body: "<html>Bad Gateway</html>".into(),
        },
        "http_502",
    );
}

#[test]
fn a_hanging_server_hits_the_timeout_and_is_retried_later() {
    fails_once_then_retried(|| Behaviour::Hang, "timeout");
}

#[test]
fn a_reset_connection_is_transient() {
    fails_once_then_retried(|| Behaviour::Reset, "network");
}

#[test]
fn nothing_listening_is_transient_and_scheduled() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let pki = pki(&["localhost"]);
    let s = setup(port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Transient
    );
    assert!(clock.sleeps.is_empty());
    assert!(s.store.run().next_try.is_some());
    // Said once, in words, with the address: what LuCI and `status` show.
    let e = s.store.host("home.example.com").error.expect("error");
    assert_eq!(e.code, "network");
    assert!(
        e.message
            .contains(&format!("127.0.0.1:{port}: connection refused")),
        "{}",
        e.message
    );
    assert!(!e.message.contains("network:"), "{}", e.message);
    assert!(!e.message.contains("os error"), "{}", e.message);
}

fn assert_bad_cert(server_pki: &Pki, trusted_ca: &str, reason: &str) {
    let server = serve(Some(server_pki.server.clone()), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
        )
    });
    let s = setup(server.port, trusted_ca, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Transient
    );
    // The handshake was attempted once, never retried in the run...
    assert_eq!(
        server.connections.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert!(clock.sleeps.is_empty());
    // ...and the server never decrypted a byte: no request line, headers, signature or body.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server
            .plaintext_bytes
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert_eq!(server.count(), 0);
    let e = s.store.host("home.example.com").error.expect("error");
    assert_eq!(e.code, "tls");
    assert!(e.advice.contains("nothing was sent"));
    // Worded by the router (src/tls.rs): the rustls name and what it means.
    assert!(
        e.message
            .contains(&format!("invalid peer certificate: {reason}: ")),
        "{}",
        e.message
    );
}

#[test]
fn a_certificate_from_the_wrong_ca_gets_no_signature() {
    let trusted = pki(&["localhost"]);
    let rogue = pki(&["localhost"]);
    // Both CAs have the same name: the chain is found, its signature does not verify.
    assert_bad_cert(&rogue, &trusted.ca_pem, "BadSignature");
}

#[test]
fn a_certificate_for_the_wrong_name_gets_no_signature() {
    let other = pki(&["other.example.net"]);
    assert_bad_cert(&other, &other.ca_pem, "NotValidForName");
}

#[test]
fn a_permanent_refusal_stops_until_config_or_key_change() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(403, &error_body("name_not_allowed", None))
    });
    let mut s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 1, "no retry of a permanent refusal");
    let e = s.store.host("home.example.com").error.expect("error");
    assert!(e.permanent);
    assert_eq!(e.code, "name_not_allowed");
    assert!(e.advice.contains("registry"), "{}", e.advice);

    // Hotplug events and timers: still nothing sent, even with a new address.
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.9")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 1);

    // A changed config is tried again.
    s.config.fingerprint.push('x');
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 2);
    // So is a new key.
    s.key = route53_ddns::key::generate(&s.dir.join("key2"), false).expect("keygen");
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 3);
    // And --force.
    assert_eq!(
        run(&s, &mut clock, true, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 4);
}

#[test]
fn a_wrong_url_answer_is_permanent() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| Behaviour::Respond {
        status: 404,
        headers: vec![],
        body: "Not Found".into(),
    });
    let s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 1);
}

#[test]
fn clock_skew_is_corrected_by_the_server_time_once() {
    let pki = pki(&["localhost"]);
    // The server's clock is two hours ahead of the router's.
    let ahead = 2 * 3600 * 1000;
    let server = serve(Some(pki.server.clone()), move |_, r| {
        let t: u64 = r
            .header("x-r53ddns-time")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let server_now = now_ms() + ahead;
        if t.abs_diff(server_now) > 300_000 {
            json(
                401,
                &format!(
                    r#"{{"error":"clock_skew","message":"skew","request_id":"r","server_time":{server_now}}}"#
                ),
            )
        } else {
            json(
                200,
                &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
            )
        }
    });
    let s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(run(&s, &mut clock, false, &plan_v4("192.0.2.1")), Exit::Ok);
    assert_eq!(server.count(), 2);
    assert!(clock.sleeps.is_empty());
}

#[test]
fn persistent_clock_skew_is_not_retried_forever() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(
            401,
            r#"{"error":"clock_skew","message":"skew","request_id":"r","server_time":1}"#,
        )
    });
    let s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Transient
    );
    assert_eq!(server.count(), 2);
}

#[test]
fn unchanged_addresses_are_sent_again_once_the_force_interval_passed() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
        )
    });
    let s = setup(server.port, &pki.ca_pem, "\toption force_interval '2'\n");
    let mut clock = FakeClock::new();
    assert_eq!(run(&s, &mut clock, false, &plan_v4("192.0.2.1")), Exit::Ok);
    clock.slept += Duration::from_secs(3600);
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Nothing
    );
    assert_eq!(server.count(), 1);
    clock.slept += Duration::from_secs(3601);
    assert_eq!(run(&s, &mut clock, false, &plan_v4("192.0.2.1")), Exit::Ok);
    assert_eq!(server.count(), 2);
    // A clock that went backwards (confirmation in the future) also resends.
    let mut past = FakeClock::new();
    past.base -= Duration::from_secs(86_400);
    assert_eq!(run(&s, &mut past, false, &plan_v4("192.0.2.1")), Exit::Ok);
    assert_eq!(server.count(), 3);
}

#[test]
fn a_missing_ca_file_is_a_config_error_shown_in_status() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| json(500, "{}"));
    let s = setup(server.port, &pki.ca_pem, "");
    std::fs::remove_file(s.dir.join("ca.pem")).expect("rm");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Config
    );
    assert_eq!(server.count(), 0);
    let e = s.store.host("home.example.com").error.expect("error");
    assert_eq!(e.code, "config");
    assert!(e.message.contains("ca.pem"), "{}", e.message);
}

#[test]
fn a_retry_after_of_any_size_neither_aborts_nor_blocks_the_run() {
    for value in ["18446744073709551615", "99999999999"] {
        let pki = pki(&["localhost"]);
        let server = serve(Some(pki.server.clone()), move |_, _| Behaviour::Respond {
            status: 503,
            headers: vec![("retry-after".into(), value.into())],
            body: "<html>busy</html>".into(),
        });
        let s = setup(server.port, &pki.ca_pem, "");
        let mut clock = FakeClock::new();
        assert_eq!(
            run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
            Exit::Transient
        );
        assert_eq!(server.count(), 1, "{value}");
        assert!(clock.sleeps.is_empty(), "{value}: {:?}", clock.sleeps);
        let wait = until_next_try(&s, &mut clock);
        assert!(
            wait <= route53_ddns::retry::RETRY_AFTER_MAX,
            "{value}: next try in {wait:?}"
        );
    }
}
