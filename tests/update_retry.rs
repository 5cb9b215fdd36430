//! `update` after a failed request: the run waiting for its retry holds no lock and
//! `status` shows it, sends the retry itself when due; `--no-wait` only records the schedule,
//! `--force` goes past it, and `--clock-synced` sends at once after a clock failure only.

mod common;

use common::cli::{body, echo_server, wan, Router};
use common::*;
use std::time::Duration;

/// The first request fails with `first`; every later one is echoed as a success.
fn fails_first(pki: &Pki, first: fn() -> Behaviour) -> Server {
    let ok = echo_server(pki, Duration::ZERO);
    drop(ok);
    serve(Some(pki.server.clone()), move |n, r| {
        if n == 0 {
            return first();
        }
        let req: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let a = req["hosts"][0]["ipv4"].as_str().unwrap_or("").to_owned();
        json(200, &ok_body(&["home.example.com"], &a, "127.0.0.1"))
    })
}

fn unavailable() -> Behaviour {
    json(503, &error_body("unavailable", None))
}

#[test]
fn a_run_waiting_for_its_retry_holds_no_lock_and_status_says_so_at_once() {
    let pki = pki(&["localhost"]);
    let server = fails_first(&pki, unavailable);
    let r = Router::new(server.port, &pki.ca_pem);
    r.set("check_interval", "1");
    let started = std::time::Instant::now();
    let waiter = r.cmd(&["update"]).spawn().expect("spawn");
    // Within ~2 s of the failure, status tells: retrying, try 1, the error, the next try.
    let s = r.status_until(Duration::from_secs(8), |s| s["run"]["state"] == "retrying");
    assert!(started.elapsed() < Duration::from_secs(8), "{s}");
    let run = &s["run"];
    assert_eq!(run["state"], "retrying", "{s}");
    assert_eq!(run["attempt"], 1);
    assert_eq!(run["waiting"], true, "{s}");
    assert_eq!(run["last_error"]["code"], "unavailable");
    assert!(run["last_error"]["advice"]
        .as_str()
        .is_some_and(|a| !a.is_empty()));
    // The first retry waits 10-12 s after the failure, both times by the router's own clock.
    let failed = run["since"].as_u64().expect("since");
    let next = run["next_try"].as_u64().expect("next_try");
    assert!(
        (failed + 10..=failed + 13).contains(&next),
        "next try {} s after the failure",
        next.saturating_sub(failed)
    );
    assert_eq!(s["hosts"][0]["result"], "error");
    // A new address during the wait: sent at once (the lock is free), with the new address.
    r.dir.write("wan.json", &wan("198.51.100.99"));
    let event = r.run(&["update", "--interface", "wan", "--no-wait"]);
    assert_eq!(
        event.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&event.stderr)
    );
    assert_eq!(server.count(), 2);
    assert_eq!(
        body(&server.received()[1])["hosts"][0]["ipv4"],
        "198.51.100.99"
    );
    // The waiter wakes, sees nothing left to retry, and ends without a request.
    let out = waiter.wait_with_output().expect("wait");
    assert!(out.status.code().is_some());
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(server.count(), 2);
    assert_eq!(r.status()["run"]["state"], "idle");
}

#[test]
fn a_waiting_run_sends_the_retry_itself_when_it_is_due() {
    let pki = pki(&["localhost"]);
    let server = fails_first(&pki, unavailable);
    let r = Router::new(server.port, &pki.ca_pem);
    r.set("check_interval", "1");
    let mut cmd = r.cmd(&["update"]);
    let out = output_within(&mut cmd, Duration::from_secs(40)).expect("update ended");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.count(), 2);
    assert_eq!(r.status()["hosts"][0]["result"], "updated");
}

#[test]
fn no_wait_records_the_schedule_and_the_timer_run_before_it_sends_nothing() {
    let pki = pki(&["localhost"]);
    let server = fails_first(&pki, unavailable);
    let r = Router::new(server.port, &pki.ca_pem);
    assert_eq!(r.run(&["update", "--no-wait"]).status.code(), Some(6));
    assert_eq!(r.run(&["update", "--no-wait"]).status.code(), Some(6));
    assert_eq!(server.count(), 1, "the retry is not due yet");
    assert_eq!(r.status()["run"]["waiting"], false);
    // "Update now" (LuCI runs `update --force`): goes past the schedule.
    assert_eq!(
        r.run(&["update", "--force", "--no-wait"]).status.code(),
        Some(0)
    );
    assert_eq!(server.count(), 2);
}

fn skewed() -> Behaviour {
    json(401, &error_body("clock_skew", None))
}

#[test]
fn ntp_sync_sends_at_once_after_a_clock_failure_only() {
    let pki = pki(&["localhost"]);
    // Two clock-skew answers (the one correction fails too), then successes.
    let server = serve(Some(pki.server.clone()), |n, _| {
        if n < 2 {
            skewed()
        } else {
            json(
                200,
                &ok_body(&["home.example.com"], "198.51.100.7", "127.0.0.1"),
            )
        }
    });
    let r = Router::new(server.port, &pki.ca_pem);
    assert_eq!(r.run(&["update", "--no-wait"]).status.code(), Some(6));
    assert_eq!(server.count(), 2);
    assert_eq!(r.run(&["update", "--no-wait"]).status.code(), Some(6));
    assert_eq!(server.count(), 2, "held back until the next try");
    assert_eq!(
        r.run(&["update", "--clock-synced", "--no-wait"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(server.count(), 3);
    // Not after a failure that is not the clock's.
    let server = fails_first(&pki, unavailable);
    let r = Router::new(server.port, &pki.ca_pem);
    assert_eq!(r.run(&["update", "--no-wait"]).status.code(), Some(6));
    assert_eq!(
        r.run(&["update", "--clock-synced", "--no-wait"])
            .status
            .code(),
        Some(6)
    );
    assert_eq!(server.count(), 1);
}
