//! The binary as hotplug runs it (`update --interface wan`), with a stand-in `ubus` and
//! a local HTTPS endpoint: the no-change path, A and AAAA changing together, 50
//! simultaneous events, `status --json`, syslog lines and state files.

mod common;

use common::*;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn wan(addr: &str) -> String {
    format!(
        r#"{{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":10,"l3_device":"eth1","proto":"dhcp","device":"eth1","ipv4-address":[{{"address":"{addr}","mask":24}}],"ipv6-address":[],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[],"inactive":{{}},"data":{{}}}}"#
    )
}

fn wan6(addr: &str) -> String {
    format!(
        r#"{{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":10,"l3_device":"eth1","proto":"dhcpv6","device":"eth1","ipv4-address":[],"ipv6-address":[{{"address":"{addr}","mask":128,"preferred":3600,"valid":7200}},{{"address":"fe80::1","mask":64}}],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[],"inactive":{{}},"data":{{}}}}"#
    )
}

struct Router {
    dir: TempDir,
    config: PathBuf,
    ubus: PathBuf,
}

impl Router {
    fn new(port: u16, ca_pem: &str) -> Router {
        let dir = TempDir::new("router");
        let ca = dir.write("ca.pem", ca_pem);
        let key = dir.join("key");
        route53_ddns::key::generate(&key, false).expect("keygen");
        let config = dir.write(
            "route53-ddns",
            &format!(
                "package route53-ddns\n\nconfig global 'global'\n\toption enabled '1'\n\toption endpoint 'https://localhost:{port}/'\n\toption key_file '{}'\n\toption ca_file '{}'\n\toption timeout '10'\n\nconfig host\n\toption name 'home.example.com'\n",
                key.display(),
                ca.display()
            ),
        );
        let ubus = fake_ubus(dir.path());
        dir.write("wan.json", &wan("198.51.100.7"));
        dir.write("wan6.json", &wan6("2001:db8:5::7"));
        Router { dir, config, ubus }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("ROUTE53_DDNS_STATE_DIR", self.dir.join("state"))
            .env("ROUTE53_DDNS_UBUS", &self.ubus)
            .env("ROUTE53_DDNS_SYSLOG_SOCKET", self.dir.join("log.sock"));
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run")
    }

    fn status(&self) -> serde_json::Value {
        let out = self.run(&["status", "--json"]);
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).expect("status json")
    }
}

fn body(r: &Received) -> serde_json::Value {
    serde_json::from_slice(&r.body).expect("request json")
}

fn echo_server(pki: &Pki, delay: Duration) -> Server {
    serve(Some(pki.server.clone()), move |_, r| {
        std::thread::sleep(delay);
        let req: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let h = &req["hosts"][0];
        let a = h["ipv4"].as_str().unwrap_or("");
        let aaaa = h["ipv6"].as_str().unwrap_or("");
        json(
            200,
            &format!(
                r#"{{"result":"updated","hosts":[{{"name":"home.example.com","a":["{a}"],"aaaa":["{aaaa}"],"ttl":60}}],"observed":"127.0.0.1","request_id":"req-{}","server_time":{}}}"#,
                now_ms() % 100_000,
                now_ms()
            ),
        )
    })
}

#[test]
fn hotplug_run_updates_then_sends_nothing_then_both_families_change_together() {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = Router::new(server.port, &pki.ca_pem);

    let first = r.run(&["update", "--interface", "wan"]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(server.count(), 1);
    let b = body(&server.received()[0]);
    assert_eq!(
        b,
        serde_json::json!({"hosts":[{"name":"home.example.com","ipv4":"198.51.100.7","ipv6":"2001:db8:5::7"}]})
    );

    // Same addresses (e.g. the wan6 event that follows): no request at all.
    let second = r.run(&["update", "--interface", "wan6"]);
    assert_eq!(second.status.code(), Some(3));
    assert_eq!(server.count(), 1);

    // New lease on both: one request carrying A and AAAA together.
    r.dir.write("wan.json", &wan("198.51.100.8"));
    r.dir.write("wan6.json", &wan6("2001:db8:5::8"));
    let third = r.run(&["update", "--interface", "wan"]);
    assert_eq!(third.status.code(), Some(0));
    assert_eq!(server.count(), 2);
    let b = body(&server.received()[1]);
    assert_eq!(b["hosts"][0]["ipv4"], "198.51.100.8");
    assert_eq!(b["hosts"][0]["ipv6"], "2001:db8:5::8");

    let s = r.status();
    assert_eq!(s["enabled"], true);
    assert_eq!(s["config_error"], serde_json::Value::Null);
    assert!(s["key_id"].as_str().is_some_and(|k| k.len() == 43));
    let last_run = s["last_run"].as_u64().expect("last_run");
    assert_eq!(s["next_check"].as_u64(), Some(last_run + 600));
    let h = &s["hosts"][0];
    assert_eq!(h["name"], "home.example.com");
    assert_eq!(h["ipv4"], "198.51.100.8");
    assert_eq!(h["ipv6"], "2001:db8:5::8");
    assert_eq!(h["result"], "updated");
    assert!(h["request_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("req-")));
    assert_eq!(h["observed"], "127.0.0.1");
    assert_eq!(h["wan_ipv4"], "198.51.100.8");
    assert_eq!(h["nat"], "none");
    assert_eq!(h["diagnosis"], serde_json::Value::Null);
    assert_eq!(h["error"], serde_json::Value::Null);
    let keys: Vec<&String> = h
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys.len(), 11, "{keys:?}");

    // No temp files left in the state dir.
    let leftovers: Vec<_> = std::fs::read_dir(r.dir.join("state"))
        .expect("state")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn fifty_simultaneous_events_cause_at_most_two_requests() {
    let pki = pki(&["localhost"]);
    // A slow endpoint, so that the events arrive while the first run is in flight.
    let server = echo_server(&pki, Duration::from_millis(300));
    let r = Router::new(server.port, &pki.ca_pem);
    let children: Vec<_> = (0..50)
        .map(|i| {
            r.cmd(&[
                "update",
                "--interface",
                if i % 2 == 0 { "wan" } else { "wan6" },
            ])
            .spawn()
            .expect("spawn")
        })
        .collect();
    let codes: Vec<Option<i32>> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait").status.code())
        .collect();
    assert!(
        codes.iter().all(|c| matches!(c, Some(0) | Some(3))),
        "{codes:?}"
    );
    let n = server.count();
    assert!((1..=2).contains(&n), "{n} requests for 50 events");
    assert_eq!(r.status()["hosts"][0]["ipv4"], "198.51.100.7");
}

#[test]
fn status_before_any_run_and_with_a_broken_config() {
    let dir = TempDir::new("status");
    let c = dir.write(
        "c",
        "config global 'global'\n\toption enabled '1'\n\toption endpoint 'https://x.on.aws'\n\nconfig host\n\toption name 'home.example.com'\n",
    );
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&c)
        .args(["status", "--json"])
        .env("ROUTE53_DDNS_STATE_DIR", dir.join("state"))
        .output()
        .expect("run");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(s["last_run"], serde_json::Value::Null);
    // Enabled and never run: the first check is due now (procd runs it as the service starts).
    assert!(s["next_check"].as_u64().is_some());
    assert_eq!(s["key_id"], serde_json::Value::Null);
    assert_eq!(s["hosts"][0]["result"], "never");
    assert!(s["version"].is_string());

    std::fs::write(
        &c,
        "config global 'global'\n\toption enabled '1'\n\toption timeout 'x'\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&c)
        .args(["status", "--json"])
        .env("ROUTE53_DDNS_STATE_DIR", dir.join("state"))
        .output()
        .expect("run");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let e = s["config_error"].as_str().expect("config_error");
    assert!(e.contains("line 3"), "{e}");
    assert_eq!(s["enabled"], true);
    assert_eq!(s["hosts"], serde_json::json!([]));
}

#[test]
fn syslog_lines_carry_ident_ids_and_never_the_key() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "203.0.113.50", "203.0.113.50"),
        )
    });
    let r = Router::new(server.port, &pki.ca_pem);
    // Behind CGNAT: the server publishes what it observes.
    r.dir.write("wan.json", &wan("100.64.20.30"));
    let sock_path: &Path = &r.dir.join("log.sock");
    let sock = UnixDatagram::bind(sock_path).expect("bind log socket");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let out = r.run(&["update"]);
    assert_eq!(out.status.code(), Some(0));
    let req = body(&server.received()[0]);
    assert_eq!(req["hosts"][0]["ipv4"], "auto");

    let mut lines = Vec::new();
    sock.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 2048];
    while let Ok(n) = sock.recv(&mut buf) {
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(!lines.is_empty());
    for l in &lines {
        // <facility daemon|severity>Mmm dd hh:mm:ss route53-ddns[pid]: message [run xxxxxxxx ...]
        assert!(l.starts_with('<'), "{l}");
        assert!(l.contains(" route53-ddns["), "{l}");
        assert!(l.contains("[run "), "{l}");
    }
    let diag = lines
        .iter()
        .find(|l| l.contains("carrier-grade NAT"))
        .unwrap_or_else(|| panic!("no diagnosis in {lines:#?}"));
    assert!(diag.starts_with("<28>"), "warning severity: {diag}");
    assert!(
        diag.contains("WAN address 100.64.20.30, public address 203.0.113.50"),
        "{diag}"
    );
    assert!(diag.contains("request req-1]"), "{diag}");
    let der = std::fs::read(r.dir.join("key")).expect("key");
    let secret = route53_ddns_protocol::base64url::encode(&der[16..48]);
    assert!(lines.iter().all(|l| !l.contains(&secret)));

    let s = r.status();
    let h = &s["hosts"][0];
    assert_eq!(h["nat"], "cgnat");
    assert_eq!(h["ipv4"], "203.0.113.50");
    assert_eq!(h["wan_ipv4"], "100.64.20.30");
    assert!(h["diagnosis"]
        .as_str()
        .is_some_and(|d| d.contains("carrier-grade NAT")));
}

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

#[test]
fn check_accepts_a_fresh_disabled_config_but_not_an_enabled_incomplete_one() {
    let dir = TempDir::new("fresh");
    let fresh = "config global 'global'\n\toption enabled '0'\n\toption endpoint ''\n";
    let c = dir.write("c", fresh);
    let run = |c: &Path| -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(c)
            .arg("check")
            .output()
            .expect("run")
    };
    let out = run(&c);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("not set up yet") && text.contains("no endpoint"),
        "{text}"
    );
    assert!(text.contains("no host sections"), "{text}");

    // Enabled, the same gaps are errors; and a real mistake is one even while disabled.
    let c = dir.write("c", &fresh.replace("'0'", "'1'"));
    assert_eq!(run(&c).status.code(), Some(4));
    let c = dir.write("c", &format!("{fresh}\toption timeout 'soon'\n"));
    let out = run(&c);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("line 4"));
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

impl Router {
    /// Adds a global option to the config.
    fn set(&self, option: &str, value: &str) {
        let text = std::fs::read_to_string(&self.config).expect("config");
        let text = text.replacen(
            "\toption timeout '10'\n",
            &format!("\toption timeout '10'\n\toption {option} '{value}'\n"),
            1,
        );
        std::fs::write(&self.config, text).expect("write config");
    }

    /// Polls `status --json` until `pred` holds (at most `limit`).
    fn status_until(
        &self,
        limit: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let start = std::time::Instant::now();
        loop {
            let s = self.status();
            if pred(&s) || start.elapsed() > limit {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

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
    let now = now_ms() / 1000;
    let next = run["next_try"].as_u64().expect("next_try");
    assert!(
        (now + 5..=now + 13).contains(&next),
        "next try in {} s",
        next - now
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

/// The descriptors of process `pid`, as (number, target).
fn fds_of(pid: &str) -> Vec<(i32, String)> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| {
                let e = e.ok()?;
                let n = e.file_name().to_str()?.parse().ok()?;
                let t = std::fs::read_link(e.path()).ok()?;
                Some((n, t.display().to_string()))
            })
            .collect()
        })
        .unwrap_or_default()
}

#[test]
fn detach_returns_at_once_and_the_run_keeps_no_inherited_descriptor() {
    use std::os::fd::AsRawFd;
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| Behaviour::Hang);
    let r = Router::new(server.port, &pki.ca_pem);
    // A descriptor the caller leaks (rpcd's ubus socket, say): dup() clears CLOEXEC.
    let leak_path = r.dir.join("leaked-by-caller");
    let leak = std::fs::File::create(&leak_path).expect("create");
    // SAFETY: dup of a descriptor we own; closed below.
    let leaked = unsafe { libc::dup(leak.as_raw_fd()) };
    assert!(leaked > 2);
    let started = std::time::Instant::now();
    let mut cmd = r.cmd(&["update", "--force", "--detach", "--no-wait"]);
    let out = output_within(&mut cmd, Duration::from_secs(5)).expect("the caller returns at once");
    // SAFETY: closes our dup.
    unsafe { libc::close(leaked) };
    assert_eq!(out.status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(5));
    // The detached run is talking to the hanging server; find it by its config path.
    let config = r.config.display().to_string();
    let mut pid = None;
    for _ in 0..100 {
        pid = std::fs::read_dir("/proc").ok().and_then(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|p| {
                    std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| {
                        let c = String::from_utf8_lossy(&c);
                        c.contains(&config) && c.contains("--detach")
                    })
                })
        });
        if pid.is_some() && server.count() > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = pid.expect("the detached run");
    let fds = fds_of(&pid);
    for fd in 0..=2 {
        assert!(
            fds.iter().any(|(n, t)| *n == fd && t == "/dev/null"),
            "fd {fd}: {fds:?}"
        );
    }
    assert!(
        fds.iter().all(|(_, t)| !t.contains("leaked-by-caller")),
        "{fds:?}"
    );
    // Not in the caller's session (setsid, then a second fork).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let sid: i32 = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().nth(3))
        .and_then(|s| s.parse().ok())
        .expect("sid");
    // SAFETY: getsid(0) only reads this process's session id.
    let ours = unsafe { libc::getsid(0) };
    assert_ne!(sid, ours, "a session of its own");
    // While it runs, status says so.
    let s = r.status_until(Duration::from_secs(5), |s| s["run"]["state"] == "running");
    assert_eq!(s["run"]["state"], "running", "{s}");
    assert_eq!(s["run"]["attempt"], 1);
    assert!(s["run"]["since"].as_u64().is_some());
}

#[test]
fn next_check_is_now_before_the_first_run_of_an_enabled_service() {
    let pki = pki(&["localhost"]);
    let r = Router::new(1, &pki.ca_pem);
    let before = now_ms() / 1000;
    let s = r.status();
    assert_eq!(s["last_run"], serde_json::Value::Null);
    let next = s["next_check"].as_u64().expect("next_check while enabled");
    assert!((before..=before + 2).contains(&next), "{s}");
    assert_eq!(s["run"]["state"], "idle");
}
