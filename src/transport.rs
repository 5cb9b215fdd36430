//! HTTPS to the endpoint: one signed POST through ureq 3 (HTTP/1.1: status line, headers,
//! 1xx answers, Content-Length / chunked / close-delimited bodies), over rustls with the
//! router's own TLS settings ([`crate::tls`]). No redirects (a signed body is never sent
//! elsewhere), no proxies, small buffers, a 64 KiB answer limit.
//!
//! Deadlines, as docs/config.md documents them: name lookup, TCP connect and the TLS
//! handshake together within `connect_timeout`; the whole request within `timeout`. They
//! bound every read and write of the socket, however the bytes trickle in ([`timed`]).
//!
//! Addresses: when an `"auto"` needs the server to see one family, only that family is
//! resolved and connected ([`Family`]). Otherwise every resolved address is tried, IPv4
//! and IPv6 alternating, each with a share of what is left of `connect_timeout` (half, the
//! last one all): an address that does not connect or whose TLS handshake does not finish
//! in its share gives way to the next, so a broken path of one family does not use up the
//! budget. The name lookup runs on a thread and is abandoned at the deadline (getaddrinfo
//! cannot be interrupted).
//!
//! The TLS handshake, certificate verification included, completes inside the connector,
//! before ureq writes a byte of the request: a certificate that does not verify ends the
//! call there and nothing signed leaves the router.

use crate::config::Config;
use crate::tls;
use route53_ddns_protocol::signature::{HOST_HEADER, KEY_HEADER, SIGNATURE_HEADER, TIME_HEADER};
use route53_ddns_protocol::{ErrorResponse, SignedHeaders, UpdateResponse, UPDATE_PATH};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod connect;
mod resolve;
mod timed;

/// Largest response body read.
pub const MAX_RESPONSE: u64 = 64 * 1024;
/// Largest response head (status line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// The largest wait a `Retry-After` header or `retry_after` field is handed over as (a
/// day); the updater applies its own, lower, policy on top.
pub const MAX_RETRY_AFTER: u64 = 86_400;
/// TEST ONLY: `name=ip,ip;name=ip` answers the name lookup for these names (so tests can
/// resolve one name to both 127.0.0.1 and ::1).
pub const ENV_TEST_RESOLVE: &str = "ROUTE53_DDNS_TEST_RESOLVE";

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
    /// Refused, reset, unreachable, closed early, or an answer that is not HTTP.
    Network(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Tls(m) => write!(f, "TLS: {m}"),
            Failure::Timeout(m) => write!(f, "timed out: {m}"),
            Failure::Dns(m) => write!(f, "name lookup failed: {m}"),
            // Already worded ("connection refused by 192.0.2.1:443"): the error around it
            // says "cannot reach the endpoint", and `status` shows the code `network`.
            Failure::Network(m) => f.write_str(m),
        }
    }
}

pub struct Transport {
    tls: Option<Arc<rustls::ClientConfig>>,
    host: String,
    port: u16,
    /// `Host` header value, and the host line of the signed bytes.
    authority: String,
    url: String,
    family: Family,
    connect_timeout: Duration,
    timeout: Duration,
}

impl Transport {
    pub fn new(config: &Config, family: Family) -> Result<Transport, String> {
        let ep = &config.endpoint;
        let tls = if ep.https {
            let hint = crate::state::state_dir().join(crate::roots::HINT_FILE);
            Some(tls::client_config(config.ca_file.as_deref(), Some(&hint))?)
        } else {
            None
        };
        let authority = route53_ddns_protocol::signature::authority(&ep.host, ep.port);
        let scheme = if ep.https { "https" } else { "http" };
        Ok(Transport {
            tls,
            host: ep.host.clone(),
            port: ep.port,
            url: format!("{scheme}://{authority}{UPDATE_PATH}"),
            authority,
            family,
            connect_timeout: config.connect_timeout,
            timeout: config.timeout,
        })
    }

    /// The `Host` the request is sent with: what the updater signs.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// Sends one signed update.
    pub fn post(&self, body: &[u8], signed: &SignedHeaders) -> Result<Answer, Failure> {
        let start = Instant::now();
        let connect_deadline = start + self.connect_timeout.min(self.timeout);
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .https_only(self.tls.is_some())
            .timeout_global(Some(self.timeout))
            .timeout_connect(Some(self.connect_timeout))
            .timeout_resolve(Some(self.connect_timeout))
            .max_response_header_size(MAX_HEAD)
            .input_buffer_size(MAX_HEAD)
            .output_buffer_size(8 * 1024)
            .max_idle_connections(0)
            .user_agent(concat!("route53-ddns/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            connect::Connect {
                tls: self.tls.clone(),
                host: self.host.clone(),
                deadline: connect_deadline,
            },
            resolve::Resolve {
                host: self.host.clone(),
                port: self.port,
                family: self.family,
                deadline: connect_deadline,
            },
        );
        let mut resp = agent
            .post(&self.url)
            .header("host", &self.authority)
            .header("content-type", "application/json")
            .header(KEY_HEADER, signed.key_id.as_str())
            .header(HOST_HEADER, signed.host.as_str())
            .header(TIME_HEADER, signed.time_ms.to_string())
            .header(SIGNATURE_HEADER, signed.signature.as_str())
            .send(body)
            .map_err(classify)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(classify)?;
        Ok(interpret(status, retry_after, &body))
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the endpoint and is
/// ignored), clamped to [`MAX_RETRY_AFTER`]; any number of digits, never an overflow.
pub fn parse_retry_after(text: &str) -> Option<u64> {
    let digits = text.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: u64 = 0;
    for b in digits.bytes() {
        n = n.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    Some(n.min(MAX_RETRY_AFTER))
}

/// Turns an HTTP answer into what the updater acts on.
pub fn interpret(status: u16, retry_after: Option<u64>, body: &[u8]) -> Answer {
    if (200..300).contains(&status) {
        if let Some(ok) = UpdateResponse::from_body(body) {
            return Answer::Updated(ok);
        }
    } else if let Some(error) = ErrorResponse::from_body(body) {
        return Answer::Refused {
            status,
            retry_after: error
                .retry_after
                .map(|s| s.min(MAX_RETRY_AFTER))
                .or(retry_after),
            error,
        };
    }
    let text = String::from_utf8_lossy(body);
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

/// ureq's error, in the router's words (its `Display` is partly `Debug`, blank in the
/// size build).
fn classify(e: ureq::Error) -> Failure {
    use ureq::Error as E;
    match e {
        // The connector words its own deadlines (name lookup, connect, TLS handshake) and
        // only ureq's global timeout is set: what runs out there is the wait for the answer.
        E::Timeout(_) => Failure::Timeout("waiting for the answer".into()),
        E::HostNotFound => Failure::Dns("no address for the endpoint's name".into()),
        E::BodyExceedsLimit(_) => Failure::Network(format!(
            "the answer is larger than {} KiB",
            MAX_RESPONSE / 1024
        )),
        E::LargeResponseHeader(..) => Failure::Network("the answer's headers are too long".into()),
        E::Protocol(p) => Failure::Network(format!("the answer is not valid HTTP/1.1 ({p})")),
        E::Io(io) => connect::classify_io(&io),
        E::Other(o) => match o.downcast::<connect::Failed>() {
            Ok(f) => f.0,
            Err(o) => Failure::Network(o.to_string()),
        },
        other => Failure::Network(other.to_string()),
    }
}
