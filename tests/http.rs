//! The HTTP/1.1 response reader of the transport: Content-Length, chunked and
//! close-delimited bodies, limits, and broken answers.

use route53_ddns::transport::{interpret, read_response, Answer};
use std::io::{Cursor, Read};

/// Hands out data a few bytes at a time, like a slow network.
struct Trickle(Cursor<Vec<u8>>);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(3);
        self.0.read(&mut buf[..n])
    }
}

fn read(text: &[u8]) -> std::io::Result<route53_ddns::transport::Response> {
    read_response(&mut Trickle(Cursor::new(text.to_vec())))
}

const OK: &str = r#"{"result":"unchanged","hosts":[{"name":"home.example.com","a":["192.0.2.1"],"aaaa":[],"ttl":60}],"observed":"192.0.2.1","request_id":"r1","server_time":1}"#;

#[test]
fn content_length_body() {
    let raw = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{OK}trailing-garbage", OK.len());
    let r = read(raw.as_bytes()).expect("parses");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, OK.as_bytes());
    assert!(matches!(interpret(r), Answer::Updated(u) if u.request_id == "r1"));
}

#[test]
fn chunked_body_with_extensions() {
    let (a, b) = OK.split_at(40);
    let raw = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let r = read(raw.as_bytes()).expect("parses");
    assert_eq!(r.body, OK.as_bytes());
}

#[test]
fn close_delimited_body() {
    let raw =
        "HTTP/1.0 503 Service Unavailable\r\nRetry-After: 30\r\n\r\n<html>busy</html>".to_string();
    let r = read(raw.as_bytes()).expect("parses");
    match interpret(r) {
        Answer::Unexpected {
            status,
            retry_after,
            snippet,
        } => {
            assert_eq!((status, retry_after), (503, Some(30)));
            assert_eq!(snippet, "<html>busy</html>");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn protocol_errors_keep_their_code_and_retry_after() {
    let body = r#"{"error":"throttled","message":"slow down","request_id":"r2","server_time":5,"retry_after":12}"#;
    let raw = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    match interpret(read(raw.as_bytes()).expect("parses")) {
        Answer::Refused {
            status,
            error,
            retry_after,
        } => {
            assert_eq!(status, 429);
            assert_eq!(retry_after, Some(12));
            assert_eq!(error.request_id, "r2");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn broken_answers_are_errors_not_panics() {
    for raw in [
        &b""[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n",
    ] {
        assert!(read(raw).is_err(), "{:?}", String::from_utf8_lossy(raw));
    }
    let endless = [
        b"HTTP/1.1 200 OK\r\n".to_vec(),
        b"X-Pad: aaaaaaaaaaaaaaaa\r\n".repeat(2000),
    ]
    .concat();
    assert!(read(&endless).is_err(), "header size is bounded");
}
