//! In-memory TLS handshakes between the router's client configuration and a real rustls
//! server, and bundles of unrelated roots to hide a test CA among.

use super::Pki;
use rustls::pki_types::ServerName;
use std::path::Path;
use std::sync::Arc;

/// A self-signed CA with a long distinguished name (as real roots have).
pub fn other_ca(n: usize) -> String {
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

pub fn others(n: usize) -> String {
    (0..n).map(other_ca).collect()
}

/// Handshakes with `pki`'s server, trusting the bundle at `bundle` and keeping the CA hint
/// at `hint`: Ok, or the client's error.
pub fn trusting(pki: &Pki, bundle: &Path, hint: Option<&Path>) -> Result<(), rustls::Error> {
    let cfg = route53_ddns::tls::client_config(Some(bundle), hint).expect("config");
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
