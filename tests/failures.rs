//! Transient failures of one update pass against a local HTTPS server: 5xx, a gateway's
//! error page, hangs, resets, nothing listening, and a Retry-After of any size. Each is
//! recorded at once and a retry scheduled, never slept in the pass; sleeps go through a
//! fake clock, so the retry schedule is asserted without waiting for it.

mod common;

use common::pass::{plan_v4, run, setup, Setup};
use common::*;
use route53_ddns::updater::Exit;
use std::time::Duration;

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

/// Advances the fake clock to the scheduled next try (the waiter's job in `update`).
fn until_next_try(s: &Setup, clock: &mut FakeClock) -> Duration {
    use route53_ddns::updater::Clock;
    let next = s.store.run().next_try.expect("a retry is scheduled");
    let wait = Duration::from_secs(next.saturating_sub(clock.now().as_secs()));
    clock.sleep(wait);
    wait
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
