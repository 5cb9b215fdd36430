//! The endpoint's socket under a deadline: every read and write ends by it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// The TCP socket under a deadline that every read and write honours. A socket timeout
/// alone bounds one `read`, but rustls calls `read` again for as long as bytes trickle in
/// (`complete_io` until the handshake is done, a record until it is whole): a server
/// sending one byte a second would hold the run for as long as it likes.
pub struct Timed {
    pub tcp: TcpStream,
    /// `None`: no deadline.
    pub until: Option<Instant>,
}

impl Timed {
    /// Sets the socket's timeout to what is left; `TimedOut` once nothing is.
    fn arm(&self, write: bool) -> io::Result<()> {
        let Some(until) = self.until else {
            return Ok(());
        };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        if write {
            self.tcp.set_write_timeout(Some(left))
        } else {
            self.tcp.set_read_timeout(Some(left))
        }
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm(false)?;
        self.tcp.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm(true)?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}
