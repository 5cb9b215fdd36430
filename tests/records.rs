//! What a failing pass records for `status` (docs/config.md, "State"): the request id of
//! a refusal, to look the request up in the endpoint's log, and since when the endpoint
//! has been failing, which later failures do not move.

mod common;

use common::pass::Setup;
use common::*;
use route53_ddns::updater::{Clock, Exit};
use std::time::Duration;

fn setup(port: u16, ca_pem: &str) -> Setup {
    common::pass::setup(port, ca_pem, "")
}

fn run(s: &Setup, clock: &mut FakeClock) -> Exit {
    common::pass::run(s, clock, false, &common::pass::plan_v4("192.0.2.1"))
}

#[test]
fn a_refusal_keeps_its_request_id_and_no_answer_keeps_none() {
    let pki = pki(&["localhost"]);
    for (code, exit) in [
        ("name_not_allowed", Exit::Permanent),
        ("unavailable", Exit::Transient),
    ] {
        let status = if exit == Exit::Permanent { 403 } else { 503 };
        let server = serve(Some(pki.server.clone()), move |_, _| {
            json(status, &error_body(code, None))
        });
        let s = setup(server.port, &pki.ca_pem);
        assert_eq!(run(&s, &mut FakeClock::new()), exit, "{code}");
        let host = s.store.host("home.example.com");
        assert_eq!(host.request_id.as_deref(), Some("req-err"), "{code}");
        assert_eq!(host.error.map(|e| e.code).as_deref(), Some(code));
    }
    // Nothing listening: no answer, no request id.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let s = setup(port, &pki.ca_pem);
    assert_eq!(run(&s, &mut FakeClock::new()), Exit::Transient);
    assert_eq!(s.store.host("home.example.com").request_id, None);
}

#[test]
fn failing_since_is_the_first_failure_of_a_run_of_failures() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |n, _| {
        if n < 3 {
            json(503, &error_body("unavailable", None))
        } else {
            json(
                200,
                &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
            )
        }
    });
    let s = setup(server.port, &pki.ca_pem);
    let mut clock = FakeClock::new();
    let first = clock.now().as_secs();
    for n in 1..=3 {
        assert_eq!(run(&s, &mut clock), Exit::Transient);
        let r = s.store.run();
        assert_eq!(r.failures, n);
        assert_eq!(r.failing_since, Some(first), "after failure {n}");
        assert!(r.tried_at >= Some(first + u64::from(n - 1) * 10), "{r:?}");
        let next = r.next_try.expect("a retry is scheduled");
        clock.sleep(Duration::from_secs(
            next.saturating_sub(clock.now().as_secs()),
        ));
    }
    assert_eq!(run(&s, &mut clock), Exit::Ok);
    assert_eq!(server.count(), 4);
    let r = s.store.run();
    assert_eq!((r.failures, r.failing_since), (0, None));
}
