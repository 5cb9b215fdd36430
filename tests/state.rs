//! State files: atomic replacement (a reader never sees a half-written file), and the
//! lock's "at most one more pass" rule.

mod common;

use common::*;
use route53_ddns::lock::Coalescer;
use route53_ddns::state::{write_atomic, HostState, Store};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

#[test]
fn readers_never_see_a_partial_state_file() {
    let dir = TempDir::new("state");
    let path = dir.join("host-x.json");
    let a = serde_json::to_vec(&serde_json::json!({"v": "a".repeat(200_000)})).expect("json");
    let b = serde_json::to_vec(&serde_json::json!({"v": "b".repeat(300_000)})).expect("json");
    write_atomic(&path, &a).expect("write");
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (path, a, b, done) = (path.clone(), a.clone(), b.clone(), done.clone());
        std::thread::spawn(move || {
            for i in 0..200 {
                write_atomic(&path, if i % 2 == 0 { &b } else { &a }).expect("write");
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut reads = 0;
    while !done.load(Ordering::SeqCst) {
        let got = std::fs::read(&path).expect("always present");
        assert!(got == a || got == b, "partial read of {} bytes", got.len());
        reads += 1;
    }
    writer.join().expect("writer");
    assert!(reads > 0);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temp files left: {names:?}");
}

#[test]
fn host_state_round_trips_and_a_corrupt_file_reads_as_empty() {
    let dir = TempDir::new("state");
    let store = Store::new(dir.join("s"));
    store.ensure_dir().expect("dir");
    let h = HostState {
        name: "home.example.com".into(),
        ipv4: Some("192.0.2.1".into()),
        result: Some("updated".into()),
        time: Some(5),
        ..Default::default()
    };
    store.save_host(&h).expect("save");
    assert_eq!(store.host("home.example.com"), h);
    std::fs::write(dir.join("s/host-home.example.com.json"), b"{trunc").expect("write");
    assert_eq!(store.host("home.example.com").result, None);
}

#[test]
fn events_during_a_pass_cause_exactly_one_more_pass() {
    let dir = TempDir::new("lock");
    let c = Arc::new(Coalescer::new(dir.path()));
    let passes = Arc::new(AtomicUsize::new(0));
    let in_pass = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let holder = {
        let (c, passes, in_pass, release) =
            (c.clone(), passes.clone(), in_pass.clone(), release.clone());
        std::thread::spawn(move || {
            c.run(false, |_| {
                if passes.fetch_add(1, Ordering::SeqCst) == 0 {
                    in_pass.wait();
                    release.wait();
                }
            })
            .expect("lock")
        })
    };
    in_pass.wait();
    // Ten events while the first pass runs: each one finds the lock taken.
    for _ in 0..10 {
        let r = c
            .run(false, |_| panic!("must not run a pass of its own"))
            .expect("lock");
        assert!(r.is_none());
    }
    release.wait();
    assert!(holder.join().expect("holder").is_some());
    assert_eq!(passes.load(Ordering::SeqCst), 2);
}

#[test]
fn a_waiting_force_request_is_not_lost() {
    let dir = TempDir::new("lock");
    let c = Coalescer::new(dir.path());
    c.mark(true).expect("mark");
    c.mark(false).expect("mark");
    let mut seen = None;
    c.run(false, |force| seen = Some(force)).expect("lock");
    assert_eq!(seen, Some(true));
}

#[test]
fn huge_garbage_or_fifo_state_files_read_as_empty_without_hanging() {
    let dir = TempDir::new("state");
    let store = Store::new(dir.path().to_owned());
    // 1 MiB of a valid-looking JSON object: over the cap, ignored.
    let big = format!("{{\"name\":\"x\",\"ipv4\":\"{}\"}}", "1".repeat(1 << 20));
    std::fs::write(dir.join("host-x.json"), big).expect("write");
    assert_eq!(store.host("x").ipv4, None);
    // Garbage numbers: out-of-range values read as absent or clamped, never a panic.
    std::fs::write(
        dir.join("run.json"),
        r#"{"last_run":"99999999999999999999999","failures":"4294967296","next_try":"18446744073709551615","tried_at":"-1"}"#,
    )
    .expect("write");
    let r = store.run();
    assert_eq!(r.last_run, None);
    assert_eq!(r.failures, 0);
    assert_eq!(r.due(1_000), Some(3_600), "an hour at most");
    // A count of paced waits beyond the policy's bound reads as the bound: no more paced
    // tries than the policy allows.
    std::fs::write(
        dir.join("run.json"),
        r#"{"paced":"4000000000","next_try":"5"}"#,
    )
    .expect("write");
    assert_eq!(store.run().paced, route53_ddns::retry::PACED_MAX);
    // A FIFO where a state file should be: a blocking read would hang the run.
    std::fs::remove_file(dir.join("host-x.json")).expect("rm");
    mkfifo(&dir.join("host-x.json"));
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.path().to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(Store::new(d).host("x"));
    });
    let h = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("reading a FIFO state file hung");
    assert_eq!(h.ipv4, None);
}

#[test]
fn a_held_lock_is_seen_without_taking_it_and_cleared_on_release() {
    let dir = TempDir::new("lock");
    let c = Coalescer::new(dir.path());
    assert!(!c.is_running());
    let g = c.try_lock().expect("lock").expect("free");
    assert!(c.is_running());
    // The probe never took the lock: it is still ours, and nobody else can take it.
    assert!(c.try_lock().expect("lock").is_none());
    drop(g);
    assert!(!c.is_running());
    assert_eq!(std::fs::read(dir.join("lock")).expect("lock file"), b"");
    // A stale pid of a process that is gone reads as not running.
    std::fs::write(dir.join("lock"), b"2147483646").expect("write");
    assert!(!c.is_running());
}
