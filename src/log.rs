//! Logging to syslog (logd listens on the `/dev/log` datagram socket), ident
//! `route53-ddns`, and to stderr as well when that is a terminal. Every line carries the
//! run id, and the server's request id once one is known. Key material is never logged:
//! no code path formats a key other than its public id.
//!
//! Written here rather than with the `syslog` crate, which brings `time` and `hostname`
//! for an RFC 3164 header that is one `format!` away.

use std::io::{IsTerminal, Write};
use std::os::unix::net::UnixDatagram;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub const IDENT: &str = "route53-ddns";
/// TEST ONLY: the datagram socket to send syslog lines to (default `/dev/log`).
pub const ENV_SYSLOG_SOCKET: &str = "ROUTE53_DDNS_SYSLOG_SOCKET";
/// facility daemon (3) << 3
const FACILITY: u8 = 3 << 3;

struct Logger {
    socket: Option<UnixDatagram>,
    path: String,
    stderr: bool,
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

fn severity(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
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
        if let Some(sock) = &self.socket {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let line = format!(
                "<{}>{} {IDENT}[{}]: {msg}",
                FACILITY | severity(record.level()),
                timestamp(now),
                std::process::id()
            );
            let _ = sock.send_to(line.as_bytes(), &self.path);
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

/// Installs the logger. `force_stderr` also writes to stderr when it is not a terminal.
pub fn init(level: log::LevelFilter, force_stderr: bool) {
    let path = std::env::var(ENV_SYSLOG_SOCKET).unwrap_or_else(|_| "/dev/log".to_owned());
    let socket = UnixDatagram::unbound().ok();
    let run_id = {
        let mut b = [0u8; 4];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    };
    let stderr = force_stderr || std::io::stderr().is_terminal();
    let logger = Logger {
        socket,
        path,
        stderr,
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
