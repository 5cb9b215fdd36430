//! Logging to syslog through the `syslog` crate (RFC 3164 to logd's `/dev/log` datagram
//! socket, ident `route53-ddns`, facility daemon, pid), and to stderr as well when that is
//! a terminal. Every line carries the run id, and the server's request id once one is
//! known. Key material is never logged: no code path formats a key other than its public id.
//!
//! Logging never blocks a run: the socket is non-blocking, so when logd stops draining it
//! (or is gone) a line is dropped, and the first drop is said once on stderr when that is a
//! terminal.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use syslog::{Facility, LogFormat, Logger as Syslog, LoggerBackend, Severity};

pub const IDENT: &str = "route53-ddns";
/// TEST ONLY: the datagram socket to send syslog lines to (default `/dev/log`).
pub const ENV_SYSLOG_SOCKET: &str = "ROUTE53_DDNS_SYSLOG_SOCKET";

/// RFC 3164 lines as logd reads them: `<pri>Mmm dd hh:mm:ss route53-ddns[pid]: message`.
/// The crate's own `Formatter3164` writes the same line, but formats its timestamp with the
/// `time` crate, parsing a format description on every line: ~NN KB of flash for
/// [`timestamp`], which is already here for `status`.
#[derive(Clone)]
struct Rfc3164 {
    pid: u32,
}

impl<T: std::fmt::Display> LogFormat<T> for Rfc3164 {
    fn format<W: Write>(&self, w: &mut W, severity: Severity, message: T) -> syslog::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        write!(
            w,
            "<{}>{} {IDENT}[{}]: {message}",
            Facility::LOG_DAEMON as u8 | severity as u8,
            timestamp(now),
            self.pid
        )
        .map_err(syslog::Error::Write)
    }
}

struct Logger {
    syslog: Option<Mutex<Syslog<LoggerBackend, Rfc3164>>>,
    stderr: bool,
    /// A line was dropped (and said on stderr).
    dropped: AtomicBool,
    context: Mutex<Context>,
}

struct Context {
    run_id: String,
    request_id: Option<String>,
}

static LOGGER: std::sync::OnceLock<Logger> = std::sync::OnceLock::new();

/// Sets the server's request id shown on the following lines (`None` clears it).
pub fn set_request_id(id: Option<&str>) {
    if let Some(l) = LOGGER.get() {
        if let Ok(mut c) = l.context.lock() {
            c.request_id = id.map(str::to_owned);
        }
    }
}

/// RFC 3164 timestamp (`Mmm dd hh:mm:ss`), UTC, without a date crate.
pub fn timestamp(unix: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[(m - 1) as usize],
        d,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

impl Logger {
    fn dropped(&self, why: &str) {
        if self.stderr && !self.dropped.swap(true, Ordering::Relaxed) {
            let _ = writeln!(
                std::io::stderr(),
                "{IDENT}: warning: syslog lines are being dropped ({why}); they still go to this terminal"
            );
        }
    }
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) || !record.target().starts_with("route53_ddns") {
            return;
        }
        let (run, req) = match self.context.lock() {
            Ok(c) => (c.run_id.clone(), c.request_id.clone()),
            Err(_) => (String::new(), None),
        };
        let mut msg = format!("{} [run {run}", record.args());
        if let Some(r) = req {
            msg.push_str(" request ");
            msg.push_str(&r);
        }
        msg.push(']');
        // logd reads at most 1023 bytes per line.
        if msg.len() > 900 {
            let mut cut = 900;
            while !msg.is_char_boundary(cut) {
                cut -= 1;
            }
            msg.truncate(cut);
        }
        match &self.syslog {
            Some(s) => {
                let sent = match s.lock() {
                    Ok(mut s) => match record.level() {
                        log::Level::Error => s.err(&msg),
                        log::Level::Warn => s.warning(&msg),
                        log::Level::Info => s.info(&msg),
                        log::Level::Debug | log::Level::Trace => s.debug(&msg),
                    }
                    .is_ok(),
                    Err(_) => false,
                };
                if !sent {
                    self.dropped("the log socket is full or logd is gone");
                }
            }
            None => self.dropped("no syslog socket"),
        }
        if self.stderr {
            let _ = writeln!(
                std::io::stderr(),
                "{IDENT}: {}: {msg}",
                record.level().as_str().to_ascii_lowercase()
            );
        }
    }

    fn flush(&self) {}
}

/// Connects to the syslog socket, non-blocking: `None` when there is none.
fn connect(path: &str) -> Option<Syslog<LoggerBackend, Rfc3164>> {
    let formatter = Rfc3164 {
        pid: std::process::id(),
    };
    let logger = syslog::unix_custom(formatter, path).ok()?;
    let nonblocking = match &logger.backend {
        LoggerBackend::Unix(s) => s.set_nonblocking(true),
        LoggerBackend::UnixStream(s) => s.get_ref().set_nonblocking(true),
        _ => return None,
    };
    nonblocking.ok().map(|()| logger)
}

/// Installs the logger. `force_stderr` also writes to stderr when it is not a terminal.
pub fn init(level: log::LevelFilter, force_stderr: bool) {
    let path = std::env::var(ENV_SYSLOG_SOCKET).unwrap_or_else(|_| "/dev/log".to_owned());
    let run_id = {
        let mut b = [0u8; 4];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    };
    let stderr = force_stderr || std::io::stderr().is_terminal();
    let logger = Logger {
        syslog: connect(&path).map(Mutex::new),
        stderr,
        dropped: AtomicBool::new(false),
        context: Mutex::new(Context {
            run_id,
            request_id: None,
        }),
    };
    if LOGGER.set(logger).is_ok() {
        if let Some(l) = LOGGER.get() {
            let _ = log::set_logger(l);
        }
    }
    log::set_max_level(level);
}
