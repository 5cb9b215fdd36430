//! Clock skew refused by the server: corrected once from the server's time within the
//! pass, and not retried forever when the correction fails too.

mod common;

use common::pass::{plan_v4, run, setup};
use common::*;
use route53_ddns::updater::Exit;

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
        let server_now = FAKE_START_MS + ahead;
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
