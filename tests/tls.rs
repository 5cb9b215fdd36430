//! How TLS failures read in the log and in `status`: worded by the router, because the size
//! build (-Zfmt-debug=none) blanks the Debug text rustls' own messages are made of.

use route53_ddns::tls::describe;
use rustls::{AlertDescription, CertificateError, Error, PeerIncompatible};

#[test]
fn an_alert_names_itself_and_what_it_usually_means() {
    let m = describe(&Error::AlertReceived(AlertDescription::ProtocolVersion));
    assert_eq!(
        m,
        "the server sent TLS alert 70 (ProtocolVersion): the server accepts neither TLS 1.3 nor TLS 1.2"
    );
    let m = describe(&Error::AlertReceived(AlertDescription::AccessDenied));
    assert_eq!(m, "the server sent TLS alert 49 (AccessDenied)");
}

#[test]
fn certificate_problems_say_what_to_check() {
    let expired = describe(&Error::InvalidCertificate(CertificateError::Expired));
    assert!(
        expired.starts_with("invalid peer certificate: Expired: "),
        "{expired}"
    );
    assert!(expired.contains("clock"), "{expired}");
    let unknown = describe(&Error::InvalidCertificate(CertificateError::UnknownIssuer));
    assert!(unknown.contains("ca_file"), "{unknown}");
}

#[test]
fn incompatibility_and_garbage_are_told_apart() {
    let m = describe(&Error::PeerIncompatible(
        PeerIncompatible::NoCipherSuitesInCommon,
    ));
    assert!(m.contains("NoCipherSuitesInCommon"), "{m}");
    let m = describe(&Error::InvalidMessage(
        rustls::InvalidMessage::InvalidContentType,
    ));
    assert!(m.contains("https://"), "{m}");
    // A TLS message over the client's size limit is TLS: it is not called garbage.
    let m = describe(&Error::InvalidMessage(
        rustls::InvalidMessage::HandshakePayloadTooLarge,
    ));
    assert!(!m.contains("https://") && m.contains("64 KiB"), "{m}");
}
