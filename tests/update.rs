//! The binary as hotplug runs it (`update --interface wan`), with a stand-in `ubus` and
//! a local HTTPS endpoint: the no-change path, A and AAAA changing together, 50
//! simultaneous events, `status --json` after a run, syslog lines and state files.

mod common;

use common::cli::{body, echo_server, wan, wan6, Router};
use common::*;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

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
