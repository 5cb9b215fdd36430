//! A small local HTTP(S) server whose behaviour each test scripts (answer, hang, reset),
//! recording what reached it, and the endpoint's answer bodies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server decoded it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with the n-th request (0-based).
pub enum Behaviour {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Keep the connection open without answering.
    Hang,
    /// Close with a TCP reset.
    Reset,
}

pub fn json(status: u16, body: &str) -> Behaviour {
    Behaviour::Respond {
        status,
        headers: vec![],
        body: body.to_owned(),
    }
}

/// A success body for `names` published with `a`.
pub fn ok_body(names: &[&str], a: &str, observed: &str) -> String {
    let hosts: Vec<String> = names
        .iter()
        .map(|n| format!(r#"{{"name":"{n}","a":["{a}"],"aaaa":[],"ttl":60}}"#))
        .collect();
    format!(
        r#"{{"result":"updated","hosts":[{}],"observed":"{observed}","request_id":"req-1","server_time":{}}}"#,
        hosts.join(","),
        now_ms()
    )
}

pub fn error_body(code: &str, retry_after: Option<u64>) -> String {
    let ra = retry_after
        .map(|r| format!(r#","retry_after":{r}"#))
        .unwrap_or_default();
    format!(
        r#"{{"error":"{code}","message":"test says {code}","request_id":"req-err","server_time":{}{ra}}}"#,
        now_ms()
    )
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

type Handler = dyn Fn(usize, &Received) -> Behaviour + Send + Sync;

pub struct Server {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Received>>>,
    /// Connections accepted (TCP).
    pub connections: Arc<AtomicUsize>,
    /// Bytes of request data the server could read (after TLS decryption).
    pub plaintext_bytes: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn count(&self) -> usize {
        self.requests.lock().map(|r| r.len()).unwrap_or(0)
    }

    pub fn received(&self) -> Vec<Received> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Starts a server on 127.0.0.1 (TLS when `tls` is given).
pub fn serve(
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: impl Fn(usize, &Received) -> Behaviour + Send + Sync + 'static,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let plaintext = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let handler: Arc<Handler> = Arc::new(handler);
    {
        let (requests, connections, plaintext, stop) = (
            requests.clone(),
            connections.clone(),
            plaintext.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                connections.fetch_add(1, Ordering::SeqCst);
                let (requests, plaintext, stop, handler, tls) = (
                    requests.clone(),
                    plaintext.clone(),
                    stop.clone(),
                    handler.clone(),
                    tls.clone(),
                );
                std::thread::spawn(move || {
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(20)));
                    match tls {
                        Some(cfg) => {
                            let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                                return;
                            };
                            let raw = tcp.try_clone().ok();
                            let stream = rustls::StreamOwned::new(conn, tcp);
                            handle(stream, raw, &requests, &plaintext, &stop, &*handler);
                        }
                        None => {
                            let raw = tcp.try_clone().ok();
                            handle(tcp, raw, &requests, &plaintext, &stop, &*handler)
                        }
                    }
                });
            }
        });
    }
    Server {
        port,
        requests,
        connections,
        plaintext_bytes: plaintext,
        stop,
    }
}

fn handle<S: Read + Write>(
    stream: S,
    raw: Option<TcpStream>,
    requests: &Mutex<Vec<Received>>,
    plaintext: &AtomicUsize,
    stop: &AtomicBool,
    handler: &Handler,
) {
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                plaintext.fetch_add(n, Ordering::SeqCst);
                if line == "\r\n" {
                    break;
                }
                head.push(line.trim_end().to_owned());
            }
        }
    }
    let mut first = head.first().map(|l| l.split(' ')).into_iter().flatten();
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = head
        .iter()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    plaintext.fetch_add(len, Ordering::SeqCst);
    let rec = Received {
        method,
        path,
        headers,
        body,
    };
    let n = {
        let Ok(mut r) = requests.lock() else { return };
        r.push(rec.clone());
        r.len() - 1
    };
    match handler(n, &rec) {
        Behaviour::Respond {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let s = reader.get_mut();
            let _ = s.write_all(out.as_bytes());
            let _ = s.flush();
        }
        Behaviour::Hang => {
            for _ in 0..300 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Behaviour::Reset => {
            if let Some(raw) = raw {
                reset(&raw);
            }
        }
    }
}

/// Closes with RST: SO_LINGER on, timeout 0.
fn reset(tcp: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own with a correctly sized struct.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    // Dropping the last descriptor now sends RST instead of FIN.
}
