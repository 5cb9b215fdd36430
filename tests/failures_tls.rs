//! TLS failures of one update pass: a certificate from the wrong CA or for the wrong name
//! fails the handshake before the server decrypts a byte (no request, no signature), and a
//! missing CA file is a config error shown in `status`.

mod common;

use common::pass::{plan_v4, run, setup};
use common::*;
use route53_ddns::updater::Exit;
use std::time::Duration;

fn assert_bad_cert(server_pki: &Pki, trusted_ca: &str, reason: &str) {
    let server = serve(Some(server_pki.server.clone()), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
        )
    });
    let s = setup(server.port, trusted_ca, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Transient
    );
    // The handshake was attempted once, never retried in the run...
    assert_eq!(
        server.connections.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert!(clock.sleeps.is_empty());
    // ...and the server never decrypted a byte: no request line, headers, signature or body.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server
            .plaintext_bytes
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert_eq!(server.count(), 0);
    let e = s.store.host("home.example.com").error.expect("error");
    assert_eq!(e.code, "tls");
    assert!(e.advice.contains("nothing was sent"));
    // Worded by the router (src/tls.rs): the rustls name and what it means.
    assert!(
        e.message
            .contains(&format!("invalid peer certificate: {reason}: ")),
        "{}",
        e.message
    );
}

#[test]
fn a_certificate_from_the_wrong_ca_gets_no_signature() {
    let trusted = pki(&["localhost"]);
    let rogue = pki(&["localhost"]);
    // Both CAs have the same name: the chain is found, its signature does not verify.
    assert_bad_cert(&rogue, &trusted.ca_pem, "BadSignature");
}

#[test]
fn a_certificate_for_the_wrong_name_gets_no_signature() {
    let other = pki(&["other.example.net"]);
    assert_bad_cert(&other, &other.ca_pem, "NotValidForName");
}

#[test]
fn a_missing_ca_file_is_a_config_error_shown_in_status() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| json(500, "{}"));
    let s = setup(server.port, &pki.ca_pem, "");
    std::fs::remove_file(s.dir.join("ca.pem")).expect("rm");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Config
    );
    assert_eq!(server.count(), 0);
    let e = s.store.host("home.example.com").error.expect("error");
    assert_eq!(e.code, "config");
    assert!(e.message.contains("ca.pem"), "{}", e.message);
}
