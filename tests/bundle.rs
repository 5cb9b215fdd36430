//! The CA bundle is read during the handshake and only the roots that can anchor the
//! server's chain are decoded (src/roots.rs). These handshakes, in memory against a real
//! rustls server, show that the trusted root is found wherever it sits in a bundle, with
//! CRLF line ends or damaged neighbours, and that nothing else is trusted.

mod common;

use common::handshake::{self, other_ca, others};
use common::{pki, Pki, TempDir};

/// Handshakes with `pki`'s server, trusting the bundle `pem` (no hint kept).
fn handshake(pki: &Pki, pem: &str) -> Result<(), rustls::Error> {
    let dir = TempDir::new("bundle");
    let path = dir.write("bundle.pem", pem);
    handshake::trusting(pki, &path, None)
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
