//! HTTPS to the endpoint: one HTTP/1.1 POST over rustls (ring provider), TLS 1.2/1.3 with
//! certificate verification always on, no redirects (a signed body is never re-sent
//! elsewhere), connect and total timeouts, and the IP family pinned when the server is to
//! publish the address it observes.
//!
//! The HTTP side is written here (one request, `Connection: close`, Content-Length or
//! chunked answers) instead of using ureq: for a single POST, ureq and the `http` crate
//! cost ~130 KB of flash and as much RAM, on a binary whose budget is 800 KB.
//!
//! What TLS offers and trusts, and how its failures read, is in [`crate::tls`].
//!
//! The TLS handshake, including certificate verification, is completed explicitly before
//! a single byte of the request is written; a failed verification ends the call there, so
//! the signed headers and body never leave the router.

use crate::config::Config;
use crate::tls;
use route53_ddns_protocol::signature::{HOST_HEADER, KEY_HEADER, SIGNATURE_HEADER, TIME_HEADER};
use route53_ddns_protocol::{ErrorResponse, SignedHeaders, UpdateResponse, UPDATE_PATH};
use rustls::pki_types::ServerName;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest response body read.
const MAX_RESPONSE: usize = 64 * 1024;
/// Largest response head (status line and headers) read.
const MAX_HEAD: usize = 16 * 1024;

/// Which address family to connect over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

/// What the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Updated(UpdateResponse),
    /// A non-2xx answer in the protocol's error format.
    Refused {
        status: u16,
        error: ErrorResponse,
        retry_after: Option<u64>,
    },
    /// Any other answer (a proxy, a wrong URL, a gateway error page).
    Unexpected {
        status: u16,
        retry_after: Option<u64>,
        snippet: String,
    },
}

/// Why no answer arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The certificate did not verify, or the TLS handshake failed.
    Tls(String),
    Timeout(String),
    Dns(String),
    /// Refused, reset, unreachable, closed early.
    Network(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Tls(m) => write!(f, "TLS: {m}"),
            Failure::Timeout(m) => write!(f, "timed out: {m}"),
            Failure::Dns(m) => write!(f, "name lookup failed: {m}"),
            Failure::Network(m) => write!(f, "network: {m}"),
        }
    }
}

pub struct Transport {
    tls: Option<Arc<rustls::ClientConfig>>,
    host: String,
    port: u16,
    /// `Host` header value.
    authority: String,
    family: Family,
    connect_timeout: Duration,
    timeout: Duration,
}

impl Transport {
    pub fn new(config: &Config, family: Family) -> Result<Transport, String> {
        let ep = &config.endpoint;
        let tls = if ep.https {
            Some(tls::client_config(config.ca_file.as_deref())?)
        } else {
            None
        };
        let authority = route53_ddns_protocol::signature::authority(&ep.host, ep.port);
        Ok(Transport {
            tls,
            host: ep.host.clone(),
            port: ep.port,
            authority,
            family,
            connect_timeout: config.connect_timeout,
            timeout: config.timeout,
        })
    }

    /// Sends one signed update.
    pub fn post(&self, body: &[u8], signed: &SignedHeaders) -> Result<Answer, Failure> {
        let deadline = Instant::now() + self.timeout;
        let connect_deadline = Instant::now() + self.connect_timeout.min(self.timeout);
        let tcp = self.connect(connect_deadline)?;
        let mut request = format!(
            "POST {UPDATE_PATH} HTTP/1.1\r\nhost: {}\r\nuser-agent: route53-ddns/{}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{KEY_HEADER}: {}\r\n{HOST_HEADER}: {}\r\n{TIME_HEADER}: {}\r\n{SIGNATURE_HEADER}: {}\r\nconnection: close\r\n\r\n",
            self.authority,
            env!("CARGO_PKG_VERSION"),
            body.len(),
            signed.key_id,
            signed.host,
            signed.time_ms,
            signed.signature,
        )
        .into_bytes();
        request.extend_from_slice(body);
        match &self.tls {
            Some(cfg) => {
                let name = ServerName::try_from(self.host.as_str())
                    .map_err(|_| Failure::Tls(format!("'{}' is not a valid TLS name", self.host)))?
                    .to_owned();
                let conn = rustls::ClientConnection::new(cfg.clone(), name)
                    .map_err(|e| Failure::Tls(tls::describe(&e)))?;
                let mut stream = Timed {
                    inner: rustls::StreamOwned::new(conn, tcp),
                    deadline: connect_deadline,
                };
                // Handshake first, certificate verified, and only then the request.
                while stream.inner.conn.is_handshaking() {
                    stream.set_timeouts().map_err(classify_io)?;
                    let (conn, sock) = (&mut stream.inner.conn, &mut stream.inner.sock);
                    conn.complete_io(sock).map_err(classify_io)?;
                }
                stream.deadline = deadline;
                exchange(&mut stream, &request)
            }
            None => {
                let mut stream = Timed {
                    inner: tcp,
                    deadline,
                };
                exchange(&mut stream, &request)
            }
        }
    }

    /// Connects to the first address that answers, of the pinned family.
    fn connect(&self, deadline: Instant) -> Result<TcpStream, Failure> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| Failure::Dns(format!("{}: {e}", self.host)))?
            .filter(|a| match self.family {
                Family::Any => true,
                Family::V4 => a.is_ipv4(),
                Family::V6 => a.is_ipv6(),
            })
            .collect();
        if addrs.is_empty() {
            return Err(Failure::Dns(format!(
                "{} has no {} address",
                self.host,
                match self.family {
                    Family::V4 => "IPv4",
                    Family::V6 => "IPv6",
                    Family::Any => "IP",
                }
            )));
        }
        let mut last = None;
        for addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => classify_io(e),
            None => Failure::Timeout("connecting".into()),
        })
    }
}

/// A stream whose every read and write is bounded by one deadline.
struct Timed<S> {
    inner: S,
    deadline: Instant,
}

trait Socket {
    fn tcp(&self) -> &TcpStream;
}

impl Socket for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Socket for rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    fn tcp(&self) -> &TcpStream {
        &self.sock
    }
}

impl<S: Socket> Timed<S> {
    fn set_timeouts(&self) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request took too long",
            ));
        }
        self.inner.tcp().set_read_timeout(Some(left))?;
        self.inner.tcp().set_write_timeout(Some(left))
    }
}

impl<S: Socket + Read> Read for Timed<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.set_timeouts()?;
        self.inner.read(buf)
    }
}

impl<S: Socket + Write> Write for Timed<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.set_timeouts()?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.set_timeouts()?;
        self.inner.flush()
    }
}

/// Writes the request, reads and interprets the answer.
fn exchange<S: Read + Write>(stream: &mut S, request: &[u8]) -> Result<Answer, Failure> {
    stream.write_all(request).map_err(classify_io)?;
    stream.flush().map_err(classify_io)?;
    let response = read_response(stream).map_err(classify_io)?;
    Ok(interpret(response))
}

/// A parsed HTTP response.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

/// Reads one HTTP/1.x response (Content-Length, chunked, or until close).
pub fn read_response<R: Read>(r: &mut R) -> io::Result<Response> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(bad("the response headers are too long"));
        }
        let n = read_some(r, &mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed before a response",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head =
        std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("response head is not text"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| bad("not an HTTP/1.x response"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut resp = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let mut rest = buf[head_end + 4..].to_vec();
    if resp
        .header("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        resp.body = read_chunked(r, rest)?;
    } else if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        if len > MAX_RESPONSE {
            return Err(bad("the response is too large"));
        }
        while rest.len() < len {
            let n = read_some(r, &mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "response cut short",
                ));
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        rest.truncate(len);
        resp.body = rest;
    } else {
        loop {
            if rest.len() > MAX_RESPONSE {
                return Err(bad("the response is too large"));
            }
            match read_some(r, &mut chunk) {
                Ok(0) => break,
                Ok(n) => rest.extend_from_slice(&chunk[..n]),
                // A peer that closes without TLS close_notify ends a close-delimited body.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
        }
        resp.body = rest;
    }
    Ok(resp)
}

fn read_some<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn read_chunked<R: Read>(r: &mut R, mut data: Vec<u8>) -> io::Result<Vec<u8>> {
    let mut chunk = [0u8; 4096];
    let mut body = Vec::new();
    let mut pos = 0;
    // Ensures data[pos..] holds at least `n` bytes.
    let mut fill = |data: &mut Vec<u8>, pos: usize, n: usize| -> io::Result<()> {
        while data.len() < pos + n {
            if data.len() > MAX_RESPONSE + MAX_HEAD {
                return Err(bad("the response is too large"));
            }
            let got = read_some(r, &mut chunk)?;
            if got == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "response cut short",
                ));
            }
            data.extend_from_slice(&chunk[..got]);
        }
        Ok(())
    };
    loop {
        let line_end = loop {
            if let Some(i) = data[pos..].windows(2).position(|w| w == b"\r\n") {
                break pos + i;
            }
            let have = data.len() - pos;
            fill(&mut data, pos, have + 1)?;
        };
        let size_text = std::str::from_utf8(&data[pos..line_end]).map_err(|_| bad("bad chunk"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad("bad chunk size"))?;
        pos = line_end + 2;
        if size == 0 {
            return Ok(body);
        }
        if body.len() + size > MAX_RESPONSE {
            return Err(bad("the response is too large"));
        }
        fill(&mut data, pos, size + 2)?;
        body.extend_from_slice(&data[pos..pos + size]);
        pos += size + 2;
    }
}

/// Turns an HTTP response into what the updater acts on.
pub fn interpret(resp: Response) -> Answer {
    let status = resp.status;
    let retry_after = resp
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if (200..300).contains(&status) {
        if let Some(ok) = UpdateResponse::from_body(&resp.body) {
            return Answer::Updated(ok);
        }
    } else if let Some(error) = ErrorResponse::from_body(&resp.body) {
        return Answer::Refused {
            status,
            retry_after: error.retry_after.or(retry_after),
            error,
        };
    }
    let text = String::from_utf8_lossy(&resp.body);
    let snippet: String = text
        .chars()
        .take(120)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Answer::Unexpected {
        status,
        retry_after,
        snippet,
    }
}

fn classify_io(e: io::Error) -> Failure {
    if let Some(reason) = tls::from_io(&e) {
        return Failure::Tls(reason);
    }
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Failure::Timeout(e.to_string()),
        _ => Failure::Network(e.to_string()),
    }
}
