//! The transport against hostile or broken endpoints, on real sockets (TLS on 127.0.0.1):
//! whatever the network sends, `post` returns an answer or a failure within its deadline,
//! and never panics (the release build aborts on a panic: no log line, no state).

mod common;
#[path = "support/raw.rs"]
mod raw;

use common::{pki, Pki, TempDir};
use raw::*;
use route53_ddns::transport::{parse_retry_after, Answer, Failure, Family, Transport};
use std::time::{Duration, Instant};

struct Client {
    _dir: TempDir,
    transport: Transport,
    key: route53_ddns_protocol::SigningKey,
}

fn client(port: u16, pki: &Pki) -> Client {
    let options = "\toption connect_timeout '2'\n\toption timeout '3'";
    let r = common::router::router("http", &format!("localhost:{port}"), &pki.ca_pem, options);
    let transport = Transport::new(&r.config, Family::Any).expect("transport");
    Client {
        _dir: r.dir,
        transport,
        key: r.key,
    }
}

const BODY: &[u8] = br#"{"hosts":[{"name":"home.example.com","ipv4":"192.0.2.1"}]}"#;

/// Serves `steps` on 127.0.0.1 and posts one update to it.
fn exchange(steps: Vec<Step>) -> (Result<Answer, Failure>, Duration, Raw) {
    exchange_with(Mode::Script(steps))
}

fn exchange_with(mode: Mode) -> (Result<Answer, Failure>, Duration, Raw) {
    let pki = pki(&["localhost"]);
    let server = raw_server(Some(pki.server.clone()), &[(v4(), mode)]);
    let c = client(server.port, &pki);
    let signed = c.key.sign(
        "POST",
        route53_ddns_protocol::UPDATE_PATH,
        c.transport.authority(),
        1_700_000_000_000,
        BODY,
    );
    let start = Instant::now();
    let r = c.transport.post(BODY, &signed);
    (r, start.elapsed(), server)
}

#[test]
fn a_normal_answer_and_the_host_header_the_signature_covers() {
    let (r, _, server) = exchange(vec![Step::Send(ok_answer())]);
    assert!(
        matches!(r, Ok(Answer::Updated(ref u)) if u.request_id == "r1"),
        "{r:?}"
    );
    let req = String::from_utf8_lossy(&server.hits()[0].request).into_owned();
    let host = format!("\r\nhost: localhost:{}\r\n", server.port);
    assert!(req.to_ascii_lowercase().contains(&host), "{req}");
    // The signed host travels in X-R53DDNS-Host, the same text.
    let signed = format!("\r\nx-r53ddns-host: localhost:{}\r\n", server.port);
    assert!(req.to_ascii_lowercase().contains(&signed), "{req}");
}

#[test]
fn a_chunk_size_of_2_to_the_64_minus_1_is_an_error_not_an_abort() {
    let mut a = head("200 OK", &["transfer-encoding: chunked"]);
    // A first chunk, then one whose size added to it overflows.
    a.extend_from_slice(b"3\r\n{\"a\r\nffffffffffffffff\r\nabc");
    let (r, _, _) = exchange(vec![Step::Send(a), Step::Hang]);
    assert!(
        matches!(r, Err(Failure::Network(_) | Failure::Timeout(_))),
        "{r:?}"
    );
}

#[test]
fn chunk_data_must_end_in_crlf() {
    let mut a = head("200 OK", &["transfer-encoding: chunked"]);
    a.extend_from_slice(format!("{:x}\r\n{OK}XX0\r\n\r\n", OK.len()).as_bytes());
    let (r, _, _) = exchange(vec![Step::Send(a)]);
    assert!(matches!(r, Err(Failure::Network(_))), "{r:?}");
}

#[test]
fn early_hints_are_not_the_answer() {
    let mut a = head("103 Early Hints", &["link: </style.css>; rel=preload"]);
    a.extend_from_slice(&ok_answer());
    let (r, _, _) = exchange(vec![Step::Send(a)]);
    assert!(matches!(r, Ok(Answer::Updated(_))), "{r:?}");
}

#[test]
fn an_answer_that_never_ends_is_cut_at_the_limit_or_the_deadline() {
    // Close-delimited, a little at a time: the deadline ends it.
    let (r, took, _) = exchange(vec![
        Step::Send(head("200 OK", &[])),
        Step::Forever(b"{".to_vec()),
    ]);
    assert!(
        matches!(r, Err(Failure::Timeout(_) | Failure::Network(_))),
        "{r:?}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Chunked, endless chunks as fast as the socket takes them: the size limit ends it.
    let (r, took, _) = exchange(vec![
        Step::Send(head("200 OK", &["transfer-encoding: chunked"])),
        Step::Forever(
            b"400\r\n"
                .iter()
                .chain([b'a'; 1024].iter())
                .chain(b"\r\n")
                .copied()
                .collect(),
        ),
    ]);
    assert!(r.is_err(), "{r:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Headers without end.
    let mut a = b"HTTP/1.1 200 OK\r\n".to_vec();
    a.extend(b"x-pad: aaaaaaaaaaaaaaaaaaaa\r\n".repeat(2000));
    let (r, _, _) = exchange(vec![Step::Send(a), Step::Hang]);
    assert!(matches!(r, Err(Failure::Network(_))), "{r:?}");
}

#[test]
fn a_server_that_closes_during_the_tls_handshake_is_a_network_error_at_once() {
    // TCP closed after the ClientHello.
    let (r, took, _) = exchange_with(Mode::BeforeTls(Vec::new()));
    assert!(
        matches!(r, Err(Failure::Network(ref m)) if m == "connection closed early"),
        "{r:?}"
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
    // A TLS close_notify alert instead of a ServerHello (unauthenticated, so not an end of
    // the stream to rustls), then TCP closed: the same, and no spinning until the deadline.
    let close_notify = vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00];
    let (r, took, _) = exchange_with(Mode::BeforeTls(close_notify));
    assert!(
        matches!(r, Err(Failure::Network(ref m)) if m == "connection closed early"),
        "{r:?}"
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn a_close_ends_an_answer_without_a_length_and_cuts_a_head_short_at_once() {
    // No Content-Length, no chunks: the body is what comes before the close (here without
    // a TLS close_notify, as many servers do).
    let mut a = head("200 OK", &["content-type: application/json"]);
    a.extend_from_slice(OK.as_bytes());
    let (r, took, _) = exchange(vec![Step::Send(a)]);
    assert!(matches!(r, Ok(Answer::Updated(_))), "{r:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Closed in the middle of the head: an error at once, not a wait for the deadline.
    let (r, took, _) = exchange(vec![Step::Send(b"HTTP/1.1 200 OK\r\ncontent-ty".to_vec())]);
    assert!(matches!(r, Err(Failure::Network(_))), "{r:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn an_answer_with_kilobytes_of_headers_is_read() {
    // A CDN or gateway in front of the endpoint adds its own headers: 8 KiB of them is
    // an answer, not "headers too long" (the limit is 16 KiB).
    let pad: Vec<String> = (0..80)
        .map(|i| format!("x-cdn-{i:02}: {}", "c".repeat(90)))
        .collect();
    let body = OK.as_bytes();
    let mut lines: Vec<&str> = pad.iter().map(String::as_str).collect();
    let len = format!("content-length: {}", body.len());
    lines.push(&len);
    let mut a = head("200 OK", &lines);
    assert!(a.len() > 8 * 1024 && a.len() < 12 * 1024, "{}", a.len());
    a.extend_from_slice(body);
    let (r, _, _) = exchange(vec![Step::Send(a)]);
    assert!(matches!(r, Ok(Answer::Updated(_))), "{r:?}");
}

#[test]
fn an_answer_larger_than_64_kib_is_refused() {
    let big = vec![b' '; 70 * 1024];
    let mut a = head("200 OK", &[&format!("content-length: {}", big.len())]);
    a.extend_from_slice(&big);
    let (r, _, _) = exchange(vec![Step::Send(a)]);
    assert!(
        matches!(r, Err(Failure::Network(ref m)) if m.contains("64 KiB")),
        "{r:?}"
    );
}

#[test]
fn a_server_that_reads_the_request_and_never_answers_times_out() {
    let (r, took, server) = exchange(vec![Step::Hang]);
    // `status` says "timed out: waiting for the answer" (the request was sent).
    assert!(
        matches!(r, Err(Failure::Timeout(ref m)) if m == "waiting for the answer"),
        "{r:?}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(server.hits().len(), 1);
}

#[test]
fn retry_after_of_any_size_is_clamped_not_overflowed() {
    assert_eq!(parse_retry_after("7"), Some(7));
    assert_eq!(parse_retry_after(" 30 "), Some(30));
    assert_eq!(parse_retry_after("99999999999"), Some(86_400));
    assert_eq!(parse_retry_after("18446744073709551615"), Some(86_400));
    assert_eq!(parse_retry_after("184467440737095516150000"), Some(86_400));
    assert_eq!(parse_retry_after("-1"), None);
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    for value in ["18446744073709551615", "99999999999"] {
        let mut a = head(
            "503 Service Unavailable",
            &[&format!("retry-after: {value}"), "content-length: 4"],
        );
        a.extend_from_slice(b"busy");
        let (r, _, _) = exchange(vec![Step::Send(a)]);
        assert!(
            matches!(
                r,
                Ok(Answer::Unexpected {
                    status: 503,
                    retry_after: Some(86_400),
                    ..
                })
            ),
            "{r:?}"
        );
        let body = format!(
            r#"{{"error":"throttled","message":"m","request_id":"r","server_time":1,"retry_after":{value}}}"#
        );
        let mut a = head(
            "429 Too Many Requests",
            &[&format!("content-length: {}", body.len())],
        );
        a.extend_from_slice(body.as_bytes());
        let (r, _, _) = exchange(vec![Step::Send(a)]);
        assert!(
            matches!(r, Ok(Answer::Refused { status: 429, retry_after: Some(s), .. }) if s <= 86_400),
            "{r:?}"
        );
    }
}

#[test]
fn an_untrusted_certificate_never_receives_the_request() {
    let trusted = pki(&["localhost"]);
    let rogue = pki(&["localhost"]);
    let server = raw_server(
        Some(rogue.server.clone()),
        &[(v4(), Mode::Script(vec![Step::Send(ok_answer())]))],
    );
    let c = client(server.port, &trusted);
    let signed = c.key.sign(
        "POST",
        route53_ddns_protocol::UPDATE_PATH,
        c.transport.authority(),
        1,
        BODY,
    );
    let r = c.transport.post(BODY, &signed);
    assert!(
        matches!(r, Err(Failure::Tls(ref m)) if m.contains("BadSignature")),
        "{r:?}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        server.hits().iter().all(|h| h.request.is_empty()),
        "{:?}",
        server.hits()
    );
}
