//! Where `update` gets the interface addresses when `ubus` is not there (the kernel's), hangs
//! (killed with its children, the lock freed) or floods its output (cut off).

mod common;

use common::cli::{echo_server, Router};
use common::*;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

#[test]
fn without_ubus_the_kernel_addresses_are_read() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    // Not OpenWrt: no ubus. The interface names are then kernel devices; `lo` has no
    // publishable address, so nothing is sent and the run says so.
    let cfg = std::fs::read_to_string(&r.config).expect("config")
        + "\nconfig global 'global'\n\toption ipv4_interface 'lo'\n\toption ipv6_interface 'lo'\n\toption lan_interface 'lo'\n";
    std::fs::write(&r.config, cfg).expect("write");
    let out = r
        .cmd(&["update"])
        .env("ROUTE53_DDNS_UBUS", r.dir.join("no-such-ubus"))
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.count(), 0);
}

/// Runs `cmd` with a syslog socket bound and returns what it logged.
fn logged(r: &Router, mut cmd: Command) -> (Output, Vec<String>) {
    let path = r.dir.join("log.sock");
    let _ = std::fs::remove_file(&path);
    let sock = UnixDatagram::bind(&path).expect("bind log socket");
    let out = cmd.output().expect("run");
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

#[test]
fn a_hanging_ubus_is_killed_and_the_lock_is_free_for_the_next_event() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    // A ubus that never answers, and whose shell has a child holding the pipe open.
    let pidfile = r.dir.join("sleeper.pid");
    let hang = script(
        r.dir.path(),
        "ubus-hang",
        &format!("sleep 3600 & echo $! > {}; wait", pidfile.display()),
    );
    let started = std::time::Instant::now();
    let out = r
        .cmd(&["update"])
        .env("ROUTE53_DDNS_UBUS", &hang)
        .output()
        .expect("run");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(took < Duration::from_secs(30), "ran {took:?}: {stderr}");
    assert_eq!(server.count(), 0, "nothing to send without addresses");
    // The whole process group is gone: the shell's `sleep` too.
    let pid = std::fs::read_to_string(&pidfile).expect("pid");
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        !Path::new(&format!("/proc/{}", pid.trim())).exists()
            || std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .is_ok_and(|s| s.contains(") Z "))
    });
    assert!(gone, "ubus's child {pid} still runs");
    // The lock was released: the next event (with a working ubus) sends at once.
    let next = r.run(&["update", "--interface", "wan"]);
    assert_eq!(
        next.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&next.stderr)
    );
    assert_eq!(server.count(), 1);
}

#[test]
fn a_ubus_that_floods_its_output_is_cut_off() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);
    let flood = script(r.dir.path(), "ubus-flood", "exec cat /dev/zero");
    let mut cmd = r.cmd(&["update"]);
    cmd.env("ROUTE53_DDNS_UBUS", &flood);
    let (out, lines) = logged(&r, cmd);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cannot read interface wan") && l.contains("bytes of output")),
        "{lines:#?}"
    );
    assert_eq!(server.count(), 0);
}
