//! The retry policy (docs/config.md, "Retries"), driven the way `update` drives it: a pass
//! whenever the scheduled next try is due, plus the safety-net timer every 10 minutes,
//! against an endpoint that keeps failing. Time is a fake clock; requests are real.

mod common;

use common::pass::{plan_v4 as plan, run as pass, Setup};
use common::*;
use route53_ddns::retry;
use route53_ddns::updater::{Clock, Exit};
use std::time::Duration;

fn setup(port: u16, ca_pem: &str) -> Setup {
    let options = "\toption timeout '2'";
    common::router::router("retry", &format!("localhost:{port}"), ca_pem, options)
}

/// Runs a router for `span` of fake time: a pass at every due retry and every 10-minute
/// timer tick. Returns the fake times (s since start) at which a request reached `server`.
fn simulate(s: &Setup, server: &Server, clock: &mut FakeClock, span: Duration) -> Vec<u64> {
    let start = clock.now().as_secs();
    let mut sent = Vec::new();
    let mut timer = start;
    while clock.now().as_secs() < start + span.as_secs() {
        let before = server.count();
        let now = clock.now().as_secs();
        pass(s, clock, false, &plan("192.0.2.1"));
        if server.count() > before {
            sent.push(now - start);
        }
        if now >= timer {
            timer = now + 600;
        }
        let next = s.store.run().next_try.unwrap_or(u64::MAX).min(timer);
        let now = clock.now().as_secs();
        clock.sleep(Duration::from_secs(next.saturating_sub(now).max(1)));
    }
    sent
}

fn assert_policy(sent: &[u64]) {
    assert!(sent.len() >= 2, "{sent:?}");
    assert_eq!(sent[0], 0);
    assert!((10..=13).contains(&sent[1]), "first retry: {sent:?}");
    let gaps: Vec<u64> = sent.windows(2).map(|w| w[1] - w[0]).collect();
    for g in &gaps[1..] {
        assert!(
            *g >= 60,
            "after the first retry, one request a minute at most: {sent:?}"
        );
        assert!(*g <= 1801, "the wait stops at the ceiling: {sent:?}");
    }
    assert!(
        gaps.windows(2).skip(1).all(|w| w[1] + 1 >= w[0]),
        "the waits grow: {gaps:?}"
    );
}

#[test]
fn a_failing_endpoint_gets_a_growing_schedule_up_to_half_an_hour() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(503, &error_body("unavailable", None))
    });
    let s = setup(server.port, &pki.ca_pem);
    let mut clock = FakeClock::new();
    let sent = simulate(&s, &server, &mut clock, Duration::from_secs(4 * 3600));
    assert_policy(&sent);
    // 0, 10, 70, 190, 430, 910, 1870, then every ~30 min: 11 in 4 h (today: 4-5 a minute).
    assert!(sent.len() <= 14, "{} requests in 4 h: {sent:?}", sent.len());
    let last_gap = sent[sent.len() - 1] - sent[sent.len() - 2];
    assert!(last_gap >= 1500, "{sent:?}");
}

/// An endpoint that paces a fleet (429 `throttled` with `retry_after`, docs/protocol.md) is
/// followed as a schedule: the router comes back when told, not after 10 s, 60 s, 120 s.
#[test]
fn a_pacing_endpoint_is_a_schedule_not_a_failure() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |n, _| {
        if n < 3 {
            json(429, &error_body("throttled", Some(3 + n as u64)))
        } else {
            json(
                200,
                &ok_body(&["home.example.com"], "192.0.2.1", "127.0.0.1"),
            )
        }
    });
    let s = setup(server.port, &pki.ca_pem);
    let mut clock = FakeClock::new();
    let sent = simulate(&s, &server, &mut clock, Duration::from_secs(60));
    // Before pacing: 0, 10-12, 70-82, ... (the failure backoff). The fake clock also
    // counts the real time a pass takes, so a gap may be a second longer.
    let gaps: Vec<u64> = sent.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps.len(), 3, "{sent:?}");
    for (gap, told) in gaps.iter().zip([3, 4, 5]) {
        assert!(
            (told..=told + 1).contains(gap),
            "at the times given: {sent:?}"
        );
    }
    let run = s.store.run();
    assert_eq!((run.failures, run.paced, run.next_try), (0, 0, None));
}

/// A paced answer repeated forever is not a request every `retry_after` seconds forever:
/// after `PACED_MAX` in a row they count as failures, with the failure backoff.
#[test]
fn paced_answers_in_a_row_are_bounded_then_count_as_failures() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| Behaviour::Respond {
        status: 429,
        headers: vec![("retry-after".into(), "2".into())],
        body: error_body("throttled", Some(2)),
    });
    let s = setup(server.port, &pki.ca_pem);
    let mut clock = FakeClock::new();
    let sent = simulate(&s, &server, &mut clock, Duration::from_secs(200));
    let paced = retry::PACED_MAX as usize;
    let gaps: Vec<u64> = sent.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() > paced, "{sent:?}");
    assert!(
        gaps[..paced].iter().all(|g| (2..=3).contains(g)),
        "paced: {sent:?}"
    );
    assert!(
        (10..=13).contains(&gaps[paced]),
        "then the backoff: {sent:?}"
    );
    assert!(gaps[paced + 1..].iter().all(|g| *g >= 60), "{sent:?}");
    assert!(
        sent.len() <= paced + 4,
        "{} requests in 200 s: {sent:?}",
        sent.len()
    );
    assert_eq!(s.store.run().paced, retry::PACED_MAX);
}

#[test]
fn a_server_wait_longer_than_the_policy_is_obeyed() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| Behaviour::Respond {
        status: 503,
        headers: vec![("retry-after".into(), "300".into())],
        body: "busy".into(),
    });
    let s = setup(server.port, &pki.ca_pem);
    let mut clock = FakeClock::new();
    let sent = simulate(&s, &server, &mut clock, Duration::from_secs(700));
    assert_eq!(&sent[..2], &[0, 300], "{sent:?}");
}

/// Each of `answers` (a Retry-After header or a JSON retry_after far beyond any sense)
/// is clamped to an hour: no abort, and the next try is scheduled at most an hour away.
#[test]
fn huge_retry_after_values_are_clamped_to_an_hour() {
    let answers: Vec<(Vec<(String, String)>, String)> = vec![
        (
            vec![("retry-after".into(), "18446744073709551615".into())],
            "overloaded".into(),
        ),
        (
            vec![("retry-after".into(), "99999999999".into())],
            "overloaded".into(),
        ),
        (vec![], error_body("throttled", Some(u64::MAX))),
    ];
    for (headers, body) in answers {
        let pki = pki(&["localhost"]);
        let (h, b) = (headers.clone(), body.clone());
        let server = serve(Some(pki.server.clone()), move |_, _| Behaviour::Respond {
            status: if b.starts_with('{') { 429 } else { 503 },
            headers: h.clone(),
            body: b.clone(),
        });
        let s = setup(server.port, &pki.ca_pem);
        let mut clock = FakeClock::new();
        assert_eq!(
            pass(&s, &mut clock, false, &plan("192.0.2.1")),
            Exit::Transient
        );
        let now = clock.now().as_secs();
        let next = s.store.run().next_try.expect("scheduled");
        assert!(
            next <= now + retry::RETRY_AFTER_MAX.as_secs(),
            "{headers:?}: next try {} s away",
            next - now
        );
        assert!(
            next >= now + 3599,
            "{headers:?}: the (clamped) floor is obeyed"
        );
    }
}

#[test]
fn an_address_change_or_force_goes_past_a_scheduled_retry() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |n, _| {
        if n == 0 {
            Behaviour::Respond {
                status: 429,
                headers: vec![("retry-after".into(), "99999999999".into())],
                body: error_body("throttled", Some(99_999_999_999)),
            }
        } else {
            json(503, &error_body("unavailable", None))
        }
    });
    let s = setup(server.port, &pki.ca_pem);
    let mut clock = FakeClock::new();
    assert_eq!(
        pass(&s, &mut clock, false, &plan("192.0.2.1")),
        Exit::Transient
    );
    // The same request is held back …
    assert_eq!(
        pass(&s, &mut clock, false, &plan("192.0.2.1")),
        Exit::Transient
    );
    assert_eq!(server.count(), 1);
    // … a new address is sent at once, and so is `--force`.
    assert_eq!(
        pass(&s, &mut clock, false, &plan("192.0.2.2")),
        Exit::Transient
    );
    assert_eq!(server.count(), 2);
    assert_eq!(
        pass(&s, &mut clock, true, &plan("192.0.2.2")),
        Exit::Transient
    );
    assert_eq!(server.count(), 3);
    // The count of failures goes on (the waits do not start over at 10 s); the first
    // answer paced (a 429 `throttled` with its wait) and is no failure.
    assert_eq!((s.store.run().failures, s.store.run().paced), (2, 1));
}

#[test]
fn a_schedule_in_a_garbage_state_file_is_clamped() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(503, &error_body("unavailable", None))
    });
    let s = setup(server.port, &pki.ca_pem);
    let mut clock = FakeClock::new();
    assert_eq!(
        pass(&s, &mut clock, false, &plan("192.0.2.1")),
        Exit::Transient
    );
    // Someone (or a clock jump) left a next try thousands of years away.
    let path = s.store.dir.join("run.json");
    let text = std::fs::read_to_string(&path).expect("run.json");
    let next = s.store.run().next_try.expect("next").to_string();
    std::fs::write(&path, text.replace(&next, "18446744073709551615")).expect("write");
    assert_eq!(s.store.run().next_try, Some(u64::MAX));
    clock.sleep(retry::RETRY_AFTER_MAX);
    assert_eq!(
        pass(&s, &mut clock, false, &plan("192.0.2.1")),
        Exit::Transient
    );
    assert_eq!(server.count(), 2, "sent again after at most an hour");
}

#[test]
fn the_policy_table() {
    let secs = |n, r| retry::delay(n, r).as_secs();
    assert_eq!((secs(1, 0.0), secs(1, 0.999)), (10, 11));
    assert_eq!((secs(2, 0.0), secs(2, 0.999)), (60, 71));
    assert_eq!(secs(3, 0.0), 120);
    assert_eq!((secs(7, 0.0), secs(7, 0.999)), (1500, 1799));
    assert_eq!(secs(u32::MAX, 1.0), 1800);
    assert_eq!(retry::next_wait(2, 0.0, Some(2)).as_secs(), 60);
    assert_eq!(retry::next_wait(2, 0.0, Some(u64::MAX)).as_secs(), 3600);
}
