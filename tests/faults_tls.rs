//! TLS faults a router meets: a server that sends its handshake a byte at a time is given
//! up at `connect_timeout`, one that so sends its answer at `timeout`, and a certificate
//! chain too large for TLS is called that, not "not TLS".

mod common;

use common::cli::Router;
use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Bytes the slow server has in store: at one per 50 ms, 12 s of handshake.
const DRIP: usize = 240;

/// A server that reads the ClientHello, then sends a handshake record header announcing
/// 16 KiB and its body one byte per 50 ms. Counts the bytes it could send; `hung_up` once
/// the client closed the connection before the drip ran out.
struct Slow {
    port: u16,
    sent: Arc<AtomicUsize>,
    hung_up: Arc<AtomicBool>,
}

fn slow_tls_server() -> Slow {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let sent = Arc::new(AtomicUsize::new(0));
    let hung_up = Arc::new(AtomicBool::new(false));
    let (s, h) = (sent.clone(), hung_up.clone());
    std::thread::spawn(move || {
        let Ok((mut tcp, _)) = listener.accept() else {
            return;
        };
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = tcp.read(&mut [0u8; 4096]);
        if tcp.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]).is_err() {
            return;
        }
        for _ in 0..DRIP {
            std::thread::sleep(Duration::from_millis(50));
            // A closed peer shows as a failed write (RST) within a byte or two.
            if tcp.write_all(&[0x02]).is_err() {
                h.store(true, Ordering::SeqCst);
                return;
            }
            s.fetch_add(1, Ordering::SeqCst);
        }
    });
    Slow {
        port,
        sent,
        hung_up,
    }
}

#[test]
fn a_handshake_sent_a_byte_at_a_time_ends_at_connect_timeout() {
    let slow = slow_tls_server();
    let pki = pki(&["localhost"]);
    let r = Router::new(slow.port, &pki.ca_pem);
    r.set("connect_timeout", "1");
    let out = output_within(
        r.cmd(&["update", "--no-wait"]).env(
            route53_ddns::transport::ENV_TEST_RESOLVE,
            "localhost=127.0.0.1",
        ),
        Duration::from_secs(60),
    )
    .expect("update ended");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    // The router hung up while the server still had most of its drip to send.
    std::thread::sleep(Duration::from_millis(300));
    assert!(slow.hung_up.load(Ordering::SeqCst), "the client read on");
    let sent = slow.sent.load(Ordering::SeqCst);
    assert!(sent < DRIP / 2, "{sent} of {DRIP} bytes read");
    let e = &r.status()["run"]["last_error"];
    assert_eq!(e["code"], "timeout", "{e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("TLS handshake with 127.0.0.1")),
        "{e}"
    );
}

/// A server that completes the handshake, reads the request, and sends its answer — one
/// TLS record — one byte per 50 ms.
fn slow_answer_server(tls: Arc<rustls::ServerConfig>) -> Slow {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let sent = Arc::new(AtomicUsize::new(0));
    let hung_up = Arc::new(AtomicBool::new(false));
    let (s, h) = (sent.clone(), hung_up.clone());
    std::thread::spawn(move || {
        let Ok((tcp, _)) = listener.accept() else {
            return;
        };
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
        let Ok(conn) = rustls::ServerConnection::new(tls) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.ends_with(b"}") {
            match tls.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let body = ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1");
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut record = Vec::new();
        let written = tls.conn.writer().write_all(answer.as_bytes());
        while written.is_ok() && tls.conn.wants_write() {
            if tls.conn.write_tls(&mut record).is_err() {
                return;
            }
        }
        for b in record.iter().take(DRIP) {
            std::thread::sleep(Duration::from_millis(50));
            if tls.sock.write_all(&[*b]).is_err() {
                h.store(true, Ordering::SeqCst);
                return;
            }
            s.fetch_add(1, Ordering::SeqCst);
        }
    });
    Slow {
        port,
        sent,
        hung_up,
    }
}

#[test]
fn an_answer_sent_a_byte_at_a_time_ends_at_timeout() {
    let pki = pki(&["localhost"]);
    let slow = slow_answer_server(pki.server.clone());
    let r = Router::new(slow.port, &pki.ca_pem);
    let config = std::fs::read_to_string(&r.config).expect("config");
    std::fs::write(&r.config, config.replace("timeout '10'", "timeout '2'")).expect("write");
    let out = output_within(
        r.cmd(&["update", "--no-wait"]).env(
            route53_ddns::transport::ENV_TEST_RESOLVE,
            "localhost=127.0.0.1",
        ),
        Duration::from_secs(60),
    )
    .expect("update ended");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(slow.hung_up.load(Ordering::SeqCst), "the client read on");
    let sent = slow.sent.load(Ordering::SeqCst);
    assert!(sent < DRIP / 2, "{sent} of {DRIP} bytes read");
    let e = &r.status()["run"]["last_error"];
    assert_eq!(e["code"], "timeout", "{e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("waiting for the answer")),
        "{e}"
    );
}

/// A server whose certificate chain is its certificate and `copies` of its CA's (~1 MB).
fn huge_chain_server(copies: usize) -> (Pki, Arc<rustls::ServerConfig>) {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "route53-ddns test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca");
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .expect("params")
        .signed_by(&leaf_key, &ca)
        .expect("leaf");
    let mut chain = vec![leaf.der().clone()];
    chain.extend(std::iter::repeat_n(ca.der().clone(), copies));
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server config");
    let server = Arc::new(server);
    let pki = Pki {
        ca_pem: ca.pem(),
        server: server.clone(),
    };
    (pki, server)
}

#[test]
fn a_megabyte_certificate_chain_is_called_too_large_not_not_tls() {
    let (pki, tls) = huge_chain_server(2500);
    let server = serve(Some(tls), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
        )
    });
    let r = Router::new(server.port, &pki.ca_pem);
    let out = output_within(
        &mut r.cmd(&["update", "--no-wait"]),
        Duration::from_secs(60),
    )
    .expect("update ended");
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(server.count(), 0);
    let e = &r.status()["run"]["last_error"];
    assert_eq!(e["code"], "tls", "{e}");
    let m = e["message"].as_str().unwrap_or_default();
    assert!(m.contains("larger than the 64 KiB"), "{m}");
    assert!(m.contains("certificate chain"), "{m}");
    assert!(!m.contains("not TLS"), "{m}");
}
