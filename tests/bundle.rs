//! The CA bundle is read during the handshake and only the roots that can anchor the
//! server's chain are decoded (src/roots.rs). These handshakes, in memory against a real
//! rustls server, show that the trusted root is found wherever it sits in a bundle, with
//! CRLF line ends or damaged neighbours, and that nothing else is trusted.

mod common;

use common::{pki, Pki, TempDir};
use rustls::pki_types::ServerName;
use std::sync::Arc;

/// A self-signed CA with a long distinguished name (as real roots have).
fn other_ca(n: usize) -> String {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(rcgen::DnType::CommonName, format!("Unrelated Root CA {n}"));
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, "Some Trust Services Ltd");
    p.distinguished_name.push(rcgen::DnType::CountryName, "GB");
    p.self_signed(&key).expect("cert").pem()
}

fn others(n: usize) -> String {
    (0..n).map(other_ca).collect()
}

/// Handshakes with `pki`'s server, trusting the bundle `pem`: Ok, or the client's error.
fn handshake(pki: &Pki, pem: &str) -> Result<(), rustls::Error> {
    let dir = TempDir::new("bundle");
    let path = dir.write("bundle.pem", pem);
    let cfg = route53_ddns::tls::client_config(Some(&path)).expect("config");
    let name = ServerName::try_from("localhost").expect("name");
    let mut client = rustls::ClientConnection::new(cfg, name).expect("client");
    let mut server = rustls::ServerConnection::new(Arc::clone(&pki.server)).expect("server");
    for _ in 0..20 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).expect("client write");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).expect("server read");
        }
        if server.process_new_packets().is_err() {
            // The server saw the client's alert: the client's own error follows.
        }
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).expect("server write");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            client.read_tls(&mut rd).expect("client read");
        }
        client.process_new_packets()?;
        if !client.is_handshaking() {
            return Ok(());
        }
    }
    panic!("the handshake did not finish");
}

#[test]
fn the_trusted_root_is_found_first_in_the_middle_and_last() {
    let pki = pki(&["localhost"]);
    let crowd = others(40);
    assert_eq!(handshake(&pki, &pki.ca_pem), Ok(()));
    for bundle in [
        format!("{}{crowd}", pki.ca_pem),
        format!("{}{}{}", others(20), pki.ca_pem, others(20)),
        format!("{crowd}{}", pki.ca_pem),
    ] {
        assert_eq!(handshake(&pki, &bundle), Ok(()));
    }
}

#[test]
fn a_bundle_without_the_root_trusts_nothing() {
    let pki = pki(&["localhost"]);
    let err = handshake(&pki, &others(30)).expect_err("untrusted");
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
    );
}

/// A CA with exactly the test CA's name but another key: found by name, refused by signature.
fn pki_for_other() -> String {
    pki(&["localhost"]).ca_pem
}

#[test]
fn a_root_with_the_same_name_but_another_key_does_not_verify() {
    let pki = pki(&["localhost"]);
    let err = handshake(&pki, &pki_for_other()).expect_err("wrong key");
    assert!(
        matches!(err, rustls::Error::InvalidCertificate(_)),
        "{err:?}"
    );
}

#[test]
fn crlf_comments_and_damaged_neighbours_do_not_hide_the_root() {
    let pki = pki(&["localhost"]);
    let crlf = format!("# system roots\r\n{}{}", others(5), pki.ca_pem).replace('\n', "\r\n");
    assert_eq!(handshake(&pki, &crlf), Ok(()));
    // A block cut off before its END line, right before the root.
    let cut: String = other_ca(1)
        .lines()
        .take(4)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(handshake(&pki, &format!("{cut}{}", pki.ca_pem)), Ok(()));
    // A block with bad base64, and one far too long, before the root.
    let bad = "-----BEGIN CERTIFICATE-----\nMII*not*base64*\n-----END CERTIFICATE-----\n";
    let long = format!(
        "-----BEGIN CERTIFICATE-----\n{}-----END CERTIFICATE-----\n",
        "QUFB"
            .repeat(16)
            .repeat(400)
            .chars()
            .collect::<Vec<_>>()
            .chunks(64)
            .map(|c| c.iter().collect::<String>() + "\n")
            .collect::<String>()
    );
    assert_eq!(
        handshake(&pki, &format!("{bad}{long}{}", pki.ca_pem)),
        Ok(())
    );
}

#[test]
fn the_machines_system_bundle_with_the_root_appended_works() {
    let system = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt")
        .expect("the system CA bundle (Debian package ca-certificates, installed by setup)");
    let pki = pki(&["localhost"]);
    assert_eq!(handshake(&pki, &format!("{system}{}", pki.ca_pem)), Ok(()));
    let err = handshake(&pki, &system).expect_err("not in the system bundle");
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
    );
}
