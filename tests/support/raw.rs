//! A scripted endpoint on real sockets: one port on several loopback addresses (127.0.0.1
//! and ::1), each address with its own behaviour, TLS or not. It records on which address
//! each request arrived and how many request bytes it could read, and then writes exactly
//! the bytes a test gives it (malformed answers included).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does once the request has been read.
#[derive(Clone)]
pub enum Step {
    Send(Vec<u8>),
    Pause(Duration),
    /// Send these bytes again and again, without end (until the client goes away).
    Forever(Vec<u8>),
    /// Keep the connection open, say nothing more.
    Hang,
}

/// How one address behaves.
#[derive(Clone)]
pub enum Mode {
    /// Accept, then never read or write a byte: a black-holed path after the SYN.
    Silent,
    /// Handshake (TLS when configured), read the request, play the steps.
    Script(Vec<Step>),
    /// Like `Script`, after this long without a byte: a slow TLS terminator.
    Late(Duration, Vec<Step>),
    /// No TLS: read what the client sends first (its ClientHello), write these bytes, close.
    BeforeTls(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct Hit {
    /// The address the connection arrived on.
    pub local: IpAddr,
    /// Request bytes read (after TLS decryption).
    pub request: Vec<u8>,
}

pub struct Raw {
    pub port: u16,
    pub hits: Arc<Mutex<Vec<Hit>>>,
    /// Connections accepted, per address, in order.
    pub accepted: Arc<Mutex<Vec<IpAddr>>>,
    stop: Arc<AtomicBool>,
}

impl Raw {
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().map(|h| h.clone()).unwrap_or_default()
    }

    pub fn accepted(&self) -> Vec<IpAddr> {
        self.accepted.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

pub fn v4() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

pub fn v6() -> IpAddr {
    "::1".parse().expect("::1")
}

/// Binds one free port on every address of `modes`.
fn bind_all(addrs: &[IpAddr]) -> (u16, Vec<TcpListener>) {
    for _ in 0..50 {
        let Ok(first) = TcpListener::bind(SocketAddr::new(addrs[0], 0)) else {
            continue;
        };
        let port = first.local_addr().expect("addr").port();
        let mut all = vec![first];
        for a in &addrs[1..] {
            match TcpListener::bind(SocketAddr::new(*a, port)) {
                Ok(l) => all.push(l),
                Err(_) => break,
            }
        }
        if all.len() == addrs.len() {
            return (port, all);
        }
    }
    panic!("no common free port on {addrs:?}");
}

pub fn raw_server(tls: Option<Arc<rustls::ServerConfig>>, modes: &[(IpAddr, Mode)]) -> Raw {
    let addrs: Vec<IpAddr> = modes.iter().map(|(a, _)| *a).collect();
    let (port, listeners) = bind_all(&addrs);
    let hits = Arc::new(Mutex::new(Vec::new()));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    for (listener, (addr, mode)) in listeners.into_iter().zip(modes.iter().cloned()) {
        let (hits, accepted, stop, tls) =
            (hits.clone(), accepted.clone(), stop.clone(), tls.clone());
        listener.set_nonblocking(true).expect("nonblocking");
        std::thread::spawn(move || loop {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let Ok((tcp, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            let _ = tcp.set_nonblocking(false);
            if let Ok(mut a) = accepted.lock() {
                a.push(addr);
            }
            let (hits, stop, tls, mode) = (hits.clone(), stop.clone(), tls.clone(), mode.clone());
            std::thread::spawn(move || serve_one(tcp, addr, tls, mode, &hits, &stop));
        });
    }
    Raw {
        port,
        hits,
        accepted,
        stop,
    }
}

fn hang(stop: &AtomicBool) {
    for _ in 0..300 {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn serve_one(
    tcp: TcpStream,
    addr: IpAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    mode: Mode,
    hits: &Mutex<Vec<Hit>>,
    stop: &AtomicBool,
) {
    let steps = match mode {
        Mode::Silent => return hang(stop),
        Mode::Script(s) => s,
        Mode::Late(d, s) => {
            std::thread::sleep(d);
            s
        }
        Mode::BeforeTls(bytes) => {
            let mut tcp = tcp;
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = tcp.read(&mut [0u8; 4096]);
            let _ = tcp.write_all(&bytes);
            return;
        }
    };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let mut stream: Box<dyn ReadWrite> = match tls {
        Some(cfg) => match rustls::ServerConnection::new(cfg) {
            Ok(conn) => Box::new(rustls::StreamOwned::new(conn, tcp)),
            Err(_) => return,
        },
        None => Box::new(tcp),
    };
    let index = {
        let Ok(mut h) = hits.lock() else { return };
        h.push(Hit {
            local: addr,
            request: Vec::new(),
        });
        h.len() - 1
    };
    // Read the head, then Content-Length bytes of body.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut want: Option<usize> = None;
    while want.is_none_or(|w| got.len() < w) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if let Ok(mut h) = hits.lock() {
            h[index].request = got.clone();
        }
        if want.is_none() {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                want = Some(end + 4 + len);
            }
        }
    }
    if want.is_none_or(|w| got.len() < w) {
        return;
    }
    for step in steps {
        match step {
            Step::Send(bytes) => {
                if stream
                    .write_all(&bytes)
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return;
                }
            }
            Step::Pause(d) => std::thread::sleep(d),
            Step::Forever(bytes) => {
                while !stop.load(Ordering::SeqCst) {
                    if stream
                        .write_all(&bytes)
                        .and_then(|()| stream.flush())
                        .is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            Step::Hang => return hang(stop),
        }
    }
}

trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

/// The head of an HTTP/1.1 answer with these header lines.
pub fn head(status: &str, headers: &[&str]) -> Vec<u8> {
    let mut h = format!("HTTP/1.1 {status}\r\n");
    for l in headers {
        h.push_str(l);
        h.push_str("\r\n");
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// A complete 200 answer with a protocol success body.
pub fn ok_answer() -> Vec<u8> {
    let body = OK.as_bytes();
    let mut a = head(
        "200 OK",
        &[
            "content-type: application/json",
            &format!("content-length: {}", body.len()),
        ],
    );
    a.extend_from_slice(body);
    a
}

pub const OK: &str = r#"{"result":"unchanged","hosts":[{"name":"home.example.com","a":["192.0.2.1"],"aaaa":[],"ttl":60}],"observed":"192.0.2.1","request_id":"r1","server_time":1}"#;
