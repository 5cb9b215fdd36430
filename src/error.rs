//! The router's one error type: every way a run can fail, matched on by the updater (what to
//! record, whether to retry), by `status` (what to show) and by `main` (the exit code).

use crate::config::ConfigError;
use crate::key::KeyFileError;
use crate::state::ErrorInfo;
use crate::transport::Failure;
use route53_ddns_protocol::ErrorCode;
use std::fmt;
use std::path::PathBuf;

/// Process exit codes (docs/config.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Usage = 1,
    Nothing = 3,
    Config = 4,
    Permanent = 5,
    Transient = 6,
}

/// Longest message kept from an answer (state files, status, log lines).
pub const MAX_MESSAGE: usize = 300;

#[derive(Debug)]
pub enum Error {
    /// The config file cannot be read, or is not valid.
    Config(ConfigError),
    /// The key file is missing, unreadable or not a key.
    Key(KeyFileError),
    /// The CA bundle or `ca_file` cannot be used; nothing was sent.
    Trust(String),
    /// The endpoint answered in the protocol's error format.
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
        request_id: String,
        retry_after: Option<u64>,
    },
    /// Any other answer (a proxy, a wrong URL, a gateway error page).
    Unexpected {
        status: u16,
        snippet: String,
        retry_after: Option<u64>,
    },
    /// No answer: network, DNS, timeout, TLS.
    Transport(Failure),
    /// A permanent refusal of this very config and key is on record.
    Blocked(ErrorInfo),
    /// A retry is scheduled for this request; nothing is sent before `until` (Unix s).
    Waiting { until: u64 },
    /// The state directory or the lock.
    State(PathBuf, std::io::Error),
}

/// Cuts `s` to [`MAX_MESSAGE`] bytes (at a character boundary), control characters blanked.
pub fn bounded(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// The wire name of an error code (`name_not_allowed`), as the protocol serialises it.
pub fn code_text(code: ErrorCode) -> String {
    serde_json::to_string(&code)
        .map(|s| s.trim_matches('"').to_owned())
        .unwrap_or_default()
}

fn transient_status(status: u16) -> bool {
    status == 429 || status == 408 || status >= 500
}

impl Error {
    /// The process exit code for this error.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Config(_) | Error::Key(_) | Error::Trust(_) => Exit::Config,
            Error::State(..) => Exit::Transient,
            _ if self.is_permanent() => Exit::Permanent,
            _ => Exit::Transient,
        }
    }

    /// Retrying the same request cannot help; recorded until the config or key changes.
    pub fn is_permanent(&self) -> bool {
        match self {
            Error::Refused { code, .. } => code.is_permanent(),
            Error::Unexpected { status, .. } => !transient_status(*status),
            Error::Blocked(_) => true,
            _ => false,
        }
    }

    /// The router's clock may be the cause (a TLS failure, a clock-skew answer): an NTP
    /// synchronisation is a reason to send again at once.
    pub fn clock_suspect(&self) -> bool {
        matches!(
            self,
            Error::Transport(Failure::Tls(_))
                | Error::Refused {
                    code: ErrorCode::ClockSkew,
                    ..
                }
        )
    }

    /// What the endpoint (or a proxy) asked to wait, in seconds, unclamped.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::Refused { retry_after, .. } | Error::Unexpected { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The `retry_after` of a 429 `throttled` answer: a pacing endpoint's schedule.
    pub fn paced_retry_after(&self) -> Option<u64> {
        match self {
            Error::Refused {
                status: 429,
                code: ErrorCode::Throttled,
                retry_after,
                ..
            } => *retry_after,
            _ => None,
        }
    }

    /// The short machine code shown in `status` (`timeout`, `http_502`, `name_not_allowed`).
    pub fn code(&self) -> String {
        match self {
            Error::Config(_) | Error::Trust(_) => "config".into(),
            Error::Key(_) => "key".into(),
            Error::Refused { code, .. } => code_text(*code),
            Error::Unexpected { status, .. } => format!("http_{status}"),
            Error::Transport(f) => match f {
                Failure::Tls(_) => "tls",
                Failure::Timeout(_) => "timeout",
                Failure::Dns(_) => "dns",
                Failure::Network(_) => "network",
            }
            .into(),
            Error::Blocked(info) => info.code.clone(),
            Error::Waiting { .. } => "waiting".into(),
            Error::State(..) => "state".into(),
        }
    }

    /// What the owner should do about it.
    pub fn advice(&self) -> String {
        match self {
            Error::Config(_) => "fix the config; `route53-ddns check` says what is wrong".into(),
            Error::Key(_) => "create or register the key: `route53-ddns keygen`, then `route53-ddns pubkey`".into(),
            Error::Trust(_) => "nothing was sent; install the ca-bundle package or fix ca_file".into(),
            Error::Refused { code, .. } => code.advice().into(),
            Error::Unexpected { status, .. } if transient_status(*status) => {
                "the endpoint or a proxy in front of it had a problem; it will be retried".into()
            }
            Error::Unexpected { .. } => "check the endpoint URL: it should be the URL the deployment printed, without a path".into(),
            Error::Transport(Failure::Tls(_)) => "nothing was sent. Check the endpoint URL and ca_file; if the router's clock is wrong (before NTP synchronised), this clears up by itself".into(),
            Error::Transport(_) => "check the WAN connection and the endpoint URL; it will be retried".into(),
            Error::Blocked(info) => format!(
                "{}; change the config or key, or run `update --force`",
                info.advice
            ),
            Error::Waiting { .. } => "a retry is scheduled; an address change, a config change or `update --force` sends at once".into(),
            Error::State(..) => "check that the state directory is writable".into(),
        }
    }

    /// As recorded in the state files and shown by `status`.
    pub fn info(&self) -> ErrorInfo {
        ErrorInfo {
            code: self.code(),
            message: bounded(&self.to_string()),
            advice: self.advice(),
            permanent: self.is_permanent(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "{e}"),
            Error::Key(e) => write!(f, "{e}"),
            Error::Trust(m) => f.write_str(m),
            Error::Refused {
                status,
                code,
                message,
                ..
            } => write!(
                f,
                "the endpoint refused the update (HTTP {status}, {}): {}",
                code_text(*code),
                bounded(message)
            ),
            Error::Unexpected {
                status, snippet, ..
            } => write!(f, "unexpected answer HTTP {status}: {}", bounded(snippet)),
            Error::Transport(Failure::Tls(m)) => {
                write!(f, "the endpoint's certificate or TLS handshake failed: {m}")
            }
            Error::Transport(e) => write!(f, "cannot reach the endpoint: {e}"),
            Error::Blocked(info) => write!(
                f,
                "not sending: the endpoint refused this config and key permanently: {}",
                info.message
            ),
            Error::Waiting { until } => write!(
                f,
                "not sending: the next try of this request is due at {} UTC",
                crate::log::timestamp(*until)
            ),
            Error::State(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Error {
        Error::Config(e)
    }
}

impl From<KeyFileError> for Error {
    fn from(e: KeyFileError) -> Error {
        Error::Key(e)
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        Error::Transport(f)
    }
}
