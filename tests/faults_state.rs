//! Faults in the state directory and between runs: whatever sits where the state or lock
//! files belong is removed or refused loudly (never read as "another update is running"), a run
//! that sent keeps exit 0 when an event arrives during its pass, a failing `ubus` is asked
//! once per interface, and temporaries of killed writers are cleaned up.

mod common;

use common::cli::{echo_server, Router};
use common::*;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// Runs `cmd` (at most 30 s) with a syslog socket bound; returns what it logged.
fn logged(r: &Router, cmd: &mut Command) -> (Output, Vec<String>) {
    let path = r.dir.join("log.sock");
    let _ = std::fs::remove_file(&path);
    let sock = UnixDatagram::bind(&path).expect("bind log socket");
    let out = output_within(cmd, Duration::from_secs(30)).expect("the run ended");
    sock.set_nonblocking(true).expect("nonblocking");
    let mut lines = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(n) = sock.recv(&mut buf) {
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    (out, lines)
}

/// Writes `<dir>/<name>` as an executable shell script.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

fn state(r: &Router) -> PathBuf {
    let s = r.dir.join("state");
    std::fs::create_dir_all(&s).expect("state dir");
    s
}

#[test]
fn a_directory_at_pending_is_removed_and_the_update_sent() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    std::fs::create_dir(state(&r).join("pending")).expect("mkdir");
    let (out, lines) = logged(&r, &mut r.cmd(&["update"]));
    assert_eq!(out.status.code(), Some(0), "{lines:#?}");
    assert_eq!(server.count(), 1, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("pending was a directory") && l.contains("removed")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("another update")));
}

#[test]
fn a_fifo_at_pending_or_lock_neither_hangs_nor_silences_update() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    for (n, name) in ["pending", "lock"].into_iter().enumerate() {
        let _ = std::fs::remove_file(state(&r).join(name));
        mkfifo(&state(&r).join(name));
        // --force writes "force" into the mark: a FIFO without a reader would block it.
        let (out, lines) = logged(&r, &mut r.cmd(&["update", "--force"]));
        assert_eq!(out.status.code(), Some(0), "{name}: {lines:#?}");
        assert_eq!(server.count(), n + 1, "{name}: {lines:#?}");
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("{name} was a FIFO"))),
            "{lines:#?}"
        );
    }
}

#[test]
fn a_directory_that_cannot_be_removed_is_an_error_not_another_run() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    let pending = state(&r).join("pending");
    std::fs::create_dir(&pending).expect("mkdir");
    std::fs::write(pending.join("x"), "x").expect("write");
    let (out, lines) = logged(&r, &mut r.cmd(&["update"]));
    assert_eq!(out.status.code(), Some(6), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("is a directory") && l.contains("cannot be removed")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("another update")));
    assert_eq!(server.count(), 0);
}

/// A directory where a state file belongs would make every run forget what it published
/// (and send again): it is removed when the state is written.
#[test]
fn a_directory_at_a_state_file_is_replaced_by_the_state() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    for name in ["host-home.example.com.json", "run.json"] {
        std::fs::create_dir(state(&r).join(name)).expect("mkdir");
    }
    let (out, lines) = logged(&r, &mut r.cmd(&["update"]));
    assert_eq!(out.status.code(), Some(0), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("host-home.example.com.json was a directory")),
        "{lines:#?}"
    );
    assert!(state(&r).join("run.json").is_file());
    // The next event finds what was published: nothing to send.
    assert_eq!(r.run(&["update"]).status.code(), Some(3));
    assert_eq!(server.count(), 1);
}

/// The second event arrives while the first run is in its pass (its `ubus` call starts
/// it): the first run sends and makes one more pass, which has nothing to send.
#[test]
fn the_run_that_sent_exits_0_though_an_event_came_during_its_pass() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    let d = r.dir.path().display().to_string();
    let racing = script(
        r.dir.path(),
        "ubus-racing",
        &format!(
            "if [ \"$2\" = network.interface.wan ] && mkdir '{d}/once' 2>/dev/null; then\n  '{BIN}' --config '{}' update --interface wan >/dev/null 2>&1 </dev/null\n  echo $? > '{d}/second.code'\nfi\nexec '{}' \"$@\"",
            r.config.display(),
            r.ubus.display()
        ),
    );
    let out = r
        .cmd(&["update", "--interface", "wan"])
        .env("ROUTE53_DDNS_UBUS", &racing)
        .output()
        .expect("run");
    let second = std::fs::read_to_string(r.dir.join("second.code")).expect("second ran");
    assert_eq!(second.trim(), "0", "the second event is taken over");
    assert_eq!(server.count(), 1);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_failing_ubus_is_asked_once_per_interface_in_a_run() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    let calls = r.dir.join("calls");
    let broken = script(
        r.dir.path(),
        "ubus-broken",
        &format!("echo \"$2\" >> '{}'\necho 'not json'", calls.display()),
    );
    let out = r
        .cmd(&["update"])
        .env("ROUTE53_DDNS_UBUS", &broken)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let text = std::fs::read_to_string(&calls).expect("calls");
    let mut asked: Vec<&str> = text.lines().collect();
    let n = asked.len();
    asked.sort_unstable();
    asked.dedup();
    assert_eq!(asked.len(), n, "{text}");
    assert!(asked.contains(&"network.interface.wan6"), "{text}");
}

#[test]
fn temporaries_of_killed_writers_are_removed_and_live_ones_kept() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    let s = state(&r);
    // A writer that is gone: a child that ran and was reaped.
    let mut child = Command::new("true").spawn().expect("spawn");
    let dead = child.id();
    child.wait().expect("wait");
    let me = std::process::id();
    let gone = [
        format!(".run.json.{dead}.tmp"),
        format!(".host-home.example.com.json.{dead}.tmp"),
        // pid 1 lives, but no write takes an hour: its pid was reused.
        ".ca-hint.1.tmp".to_string(),
    ];
    let kept = [format!(".run.json.{me}.tmp"), "notes.tmp".to_string()];
    for name in gone.iter().chain(&kept) {
        std::fs::write(s.join(name), "{\"half\":").expect("write");
    }
    let old = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000);
    std::fs::File::options()
        .write(true)
        .open(s.join(".ca-hint.1.tmp"))
        .and_then(|f| f.set_modified(old))
        .expect("age it");
    let out = r.run(&["update"]);
    assert_eq!(out.status.code(), Some(0));
    for name in &gone {
        assert!(!s.join(name).exists(), "{name} left");
    }
    for name in &kept {
        assert!(s.join(name).exists(), "{name} removed");
    }
}
