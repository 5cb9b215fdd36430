//! ureq's connector for the endpoint: per-address TCP connect + TLS handshake with fallback,
//! and the connection as a ureq transport. The addresses come from [`super::resolve`].

use super::timed::Timed;
use super::Failure;
use crate::tls;
use rustls::pki_types::ServerName;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};

/// A failure already in the router's words, carried through `ureq::Error::Other`.
#[derive(Debug)]
pub struct Failed(pub Failure);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Failed {}

pub(super) fn fail(f: Failure) -> ureq::Error {
    ureq::Error::Other(Box::new(Failed(f)))
}

#[derive(Debug)]
pub struct Connect {
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub host: String,
    pub deadline: Instant,
}

impl Connector<()> for Connect {
    type Out = Conn;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<Conn>, ureq::Error> {
        let cfg = details.config;
        let buffers = || LazyBuffers::new(cfg.input_buffer_size(), cfg.output_buffer_size());
        let n = details.addrs.len();
        let mut last = Failure::Timeout("connecting (connect_timeout)".into());
        for (i, addr) in details.addrs.iter().enumerate() {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            // Half of what is left, the last address all of it.
            let share = if i + 1 == n { left } else { left / 2 };
            let until = Instant::now() + share.max(Duration::from_millis(10));
            match self.one(*addr, until) {
                Ok(stream) => {
                    return Ok(Some(Conn {
                        buffers: buffers(),
                        stream,
                    }))
                }
                // A certificate or TLS failure is the endpoint's, not the path's: stop.
                Err(f @ Failure::Tls(_)) => return Err(fail(f)),
                Err(f) => {
                    log::debug!("{addr}: {f}; trying the next address");
                    last = f;
                }
            }
        }
        Err(fail(last))
    }
}

/// The connection after the handshake.
pub enum Stream {
    Plain(Timed),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, Timed>>),
}

impl Stream {
    /// From now on, reads and writes end by `after` from now (`None`: no deadline).
    fn deadline(&mut self, after: Option<Duration>) {
        let sock = match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &mut s.sock,
        };
        sock.until = after.and_then(|d| Instant::now().checked_add(d));
        if sock.until.is_none() {
            // No deadline: nor the timeout the handshake left on the socket.
            let _ = sock.tcp.set_read_timeout(None);
            let _ = sock.tcp.set_write_timeout(None);
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

impl Connect {
    /// TCP connect and, for https, the whole TLS handshake, by `until`.
    fn one(&self, addr: SocketAddr, until: Instant) -> Result<Stream, Failure> {
        let left = until.saturating_duration_since(Instant::now());
        let tcp = TcpStream::connect_timeout(&addr, left).map_err(|e| match classify_io(&e) {
            Failure::Network(m) => Failure::Network(format!("{addr}: {m}")),
            Failure::Timeout(_) => Failure::Timeout(format!("connecting to {addr}")),
            other => other,
        })?;
        let _ = tcp.set_nodelay(true);
        let mut tcp = Timed {
            tcp,
            until: Some(until),
        };
        let Some(cfg) = &self.tls else {
            return Ok(Stream::Plain(tcp));
        };
        let name = ServerName::try_from(self.host.as_str())
            .map_err(|_| Failure::Tls(format!("'{}' is not a valid TLS name", self.host)))?
            .to_owned();
        let mut conn = rustls::ClientConnection::new(cfg.clone(), name)
            .map_err(|e| Failure::Tls(tls::describe(&e)))?;
        // Every read and write of the handshake ends by `until` (see [`Timed`]).
        while conn.is_handshaking() {
            match conn.complete_io(&mut tcp) {
                Ok((0, 0)) if conn.is_handshaking() => {
                    return Err(Failure::Network(format!(
                        "{addr} closed the connection during the TLS handshake"
                    )))
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(match classify_io(&e) {
                        Failure::Timeout(_) => {
                            Failure::Timeout(format!("TLS handshake with {addr}"))
                        }
                        other => other,
                    })
                }
            }
        }
        Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
    }
}

pub fn classify_io(e: &io::Error) -> Failure {
    if let Some(reason) = tls::from_io(e) {
        return Failure::Tls(reason);
    }
    use io::ErrorKind as K;
    // In words, not the C library's ("Resource temporarily unavailable (os error 11)").
    match e.kind() {
        K::TimedOut | K::WouldBlock => Failure::Timeout("no data from the endpoint in time".into()),
        K::ConnectionRefused => {
            Failure::Network("connection refused (nothing listens there)".into())
        }
        K::ConnectionReset | K::ConnectionAborted => Failure::Network("connection reset".into()),
        K::UnexpectedEof | K::BrokenPipe => Failure::Network("connection closed early".into()),
        K::NetworkUnreachable | K::HostUnreachable => {
            Failure::Network("no route to the endpoint (network unreachable)".into())
        }
        _ => Failure::Network(e.to_string()),
    }
}

/// The connection as a ureq transport.
pub struct Conn {
    buffers: LazyBuffers,
    stream: Stream,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conn")
    }
}

/// A socket timeout for what is left of `timeout`; an error once nothing is.
fn left(timeout: NextTimeout) -> Result<Option<Duration>, ureq::Error> {
    if timeout.after.is_zero() {
        return Err(ureq::Error::Timeout(timeout.reason));
    }
    Ok(timeout.not_zero().map(|d| *d))
}

fn io_err(e: io::Error, timeout: NextTimeout) -> ureq::Error {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ureq::Error::Timeout(timeout.reason),
        _ => ureq::Error::Io(e),
    }
}

impl Transport for Conn {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        self.stream.deadline(left(timeout)?);
        let output = &self.buffers.output()[..amount];
        self.stream
            .write_all(output)
            .and_then(|()| self.stream.flush())
            .map_err(|e| io_err(e, timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        self.stream.deadline(left(timeout)?);
        let input = self.buffers.input_append_buf();
        let n = loop {
            match self.stream.read(input) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A peer that closes without close_notify ends a close-delimited body;
                // ureq still errors when a length or chunk was promised.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break 0,
                Err(e) => return Err(io_err(e, timeout)),
            }
        };
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        false
    }

    fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `status` and the log say for a socket error: words, not the C library's.
    #[test]
    fn socket_errors_are_told_in_words() {
        use io::ErrorKind as K;
        let said = |k: K| classify_io(&io::Error::from(k));
        let net = |m: &str| Failure::Network(m.into());
        for k in [K::TimedOut, K::WouldBlock] {
            assert_eq!(
                said(k),
                Failure::Timeout("no data from the endpoint in time".into())
            );
        }
        let cases = [
            (
                K::ConnectionRefused,
                "connection refused (nothing listens there)",
            ),
            (K::ConnectionReset, "connection reset"),
            (K::ConnectionAborted, "connection reset"),
            (K::UnexpectedEof, "connection closed early"),
            (K::BrokenPipe, "connection closed early"),
            (
                K::NetworkUnreachable,
                "no route to the endpoint (network unreachable)",
            ),
            (
                K::HostUnreachable,
                "no route to the endpoint (network unreachable)",
            ),
        ];
        for (k, m) in cases {
            assert_eq!(said(k), net(m), "{k:?}");
        }
        assert_eq!(classify_io(&io::Error::other("odd")), net("odd"));
    }

    /// A failure carried through ureq reads as the router words it, wherever it is shown.
    #[test]
    fn a_carried_failure_reads_in_the_routers_words() {
        let f = Failed(Failure::Dns("example.com: no address".into()));
        assert_eq!(f.to_string(), "name lookup failed: example.com: no address");
    }
}
