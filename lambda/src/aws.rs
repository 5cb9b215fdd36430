//! Signed AWS calls without the SDK: SigV4 (aws-sigv4) over ureq + rustls, and retry with
//! backoff and jitter for throttling, inside the invocation's time budget.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use ring::rand::{SecureRandom, SystemRandom};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// What went wrong with an AWS call, sorted by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsError {
    /// `Throttling` / `ThrottlingException` / `TooManyRequestsException`: slow down.
    Throttled,
    /// `PriorRequestNotComplete`, 5xx, or the service could not be reached: retry later.
    Busy(String),
    /// A reply in no shape the service documents (e.g. a proxy's HTML page): the outcome is
    /// unknown, so retry later. Holds the reply's status and first bytes, for the log.
    Unrecognised(String),
    /// A 4xx the caller may handle (e.g. `InvalidChangeBatch`, `ParameterNotFound`).
    Rejected { code: String, message: String },
    /// No usable credentials or a request we could not build: a deployment fault.
    Fault(String),
}

impl AwsError {
    fn retryable(&self) -> bool {
        matches!(
            self,
            AwsError::Throttled | AwsError::Busy(_) | AwsError::Unrecognised(_)
        )
    }
}

/// SSM requests sent by this process so far (the log line records each request's share).
static SSM_CALLS: AtomicU32 = AtomicU32::new(0);

/// SSM requests sent by this process so far.
pub fn ssm_calls() -> u32 {
    SSM_CALLS.load(Ordering::Relaxed)
}

/// One HTTP exchange's outcome: status and body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(3)))
            .timeout_global(Some(Duration::from_secs(8)))
            .user_agent(concat!("route53-ddns-lambda/", env!("CARGO_PKG_VERSION")))
            .build()
            .into()
    })
}

fn credentials() -> Result<Credentials, AwsError> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(id), Some(secret)) = (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) else {
        return Err(AwsError::Fault(
            "no AWS credentials in the environment".into(),
        ));
    };
    Ok(Credentials::new(
        id,
        secret,
        get("AWS_SESSION_TOKEN"),
        None,
        "environment",
    ))
}

/// Sends one SigV4-signed request. `headers` are signed too.
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    region: &str,
    service: &str,
) -> Result<Reply, AwsError> {
    send_within(method, url, headers, body, region, service, None)
}

/// [`send`], with the whole exchange (connect included) bounded by `limit` when given.
pub fn send_within(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    region: &str,
    service: &str,
    limit: Option<Duration>,
) -> Result<Reply, AwsError> {
    let creds = credentials()?;
    if service == "ssm" {
        SSM_CALLS.fetch_add(1, Ordering::Relaxed);
    }
    let identity = creds.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| AwsError::Fault(format!("signing parameters: {e}")))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| AwsError::Fault(format!("request to sign: {e}")))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| AwsError::Fault(format!("signing: {e}")))?
        .into_parts();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    for (k, v) in instructions.headers() {
        builder = builder.header(k, v);
    }
    let mut request = builder
        .body(body.to_vec())
        .map_err(|e| AwsError::Fault(format!("building the request: {e}")))?;
    if let Some(limit) = limit {
        request = agent()
            .configure_request(request)
            .timeout_connect(Some(limit))
            .timeout_global(Some(limit))
            .build();
    }
    let mut response = agent()
        .run(request)
        .map_err(|e| AwsError::Busy(format!("{service} unreachable: {e}")))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(4 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| AwsError::Busy(format!("{service} reply unreadable: {e}")))?;
    Ok(Reply { status, body })
}

/// A JSON-protocol reply (SSM): its body on 2xx, else the AWS error its `__type` and
/// `message` name.
pub fn json_answer(reply: &Reply) -> Result<serde_json::Value, AwsError> {
    let json: serde_json::Value =
        serde_json::from_slice(&reply.body).unwrap_or(serde_json::Value::Null);
    if (200..300).contains(&reply.status) {
        return Ok(json);
    }
    let code = json["__type"]
        .as_str()
        .unwrap_or_default()
        .rsplit('#')
        .next()
        .unwrap_or_default();
    if code.is_empty() && reply.status != 429 && reply.status < 500 {
        return Err(AwsError::Unrecognised(format!(
            "HTTP {}: {}",
            reply.status,
            first_bytes(&reply.body)
        )));
    }
    let message = json["message"]
        .as_str()
        .or(json["Message"].as_str())
        .unwrap_or_default();
    Err(classify(reply.status, code, message))
}

/// How much of an unrecognised reply the log keeps.
pub const UNRECOGNISED_PREFIX: usize = 200;

/// The first bytes of a reply as one printable line: control characters and non-ASCII
/// bytes as `\xNN`, cut at [`UNRECOGNISED_PREFIX`] bytes.
pub fn first_bytes(body: &[u8]) -> String {
    let mut out = String::new();
    for &b in body.iter().take(UNRECOGNISED_PREFIX) {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if body.len() > UNRECOGNISED_PREFIX {
        out.push_str(&format!("… ({} bytes)", body.len()));
    }
    out
}

/// Classifies a non-2xx reply given the service's error code and message.
pub fn classify(status: u16, code: &str, message: &str) -> AwsError {
    match code {
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => AwsError::Throttled,
        "PriorRequestNotComplete" | "ServiceUnavailable" | "InternalFailure" | "InternalError" => {
            AwsError::Busy(format!("{code}: {message}"))
        }
        _ if status == 429 => AwsError::Throttled,
        _ if status >= 500 => AwsError::Busy(format!("HTTP {status} {code}: {message}")),
        _ => AwsError::Rejected {
            code: code.to_owned(),
            message: message.to_owned(),
        },
    }
}

/// The deadline by which this invocation must have answered, minus a safety margin.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub until: Instant,
}

impl Budget {
    /// At most `cap` from now, and never past the Lambda deadline (Unix ms) less 500 ms.
    /// A deadline that is not in the future is no deadline (`cargo lambda watch` sends the
    /// timeout itself, e.g. 600000), so only the cap applies.
    pub fn new(deadline_unix_ms: u64, now_unix_ms: u64, cap: Duration) -> Self {
        let left = if deadline_unix_ms <= now_unix_ms {
            cap
        } else {
            Duration::from_millis(deadline_unix_ms - now_unix_ms)
                .saturating_sub(Duration::from_millis(500))
        };
        Budget {
            until: Instant::now() + left.min(cap),
        }
    }

    pub fn remaining(&self) -> Duration {
        self.until.saturating_duration_since(Instant::now())
    }
}

/// Attempts at most this many times in all.
const MAX_ATTEMPTS: u32 = 6;

/// Calls `f` until it succeeds, fails for good, or the budget would be overrun, sleeping
/// a full-jitter exponential backoff (base 100 ms, cap 2 s) between throttled attempts.
pub fn with_retry<T>(
    budget: Budget,
    f: impl FnMut() -> Result<T, AwsError>,
) -> Result<T, AwsError> {
    with_retry_throttled(budget, MAX_ATTEMPTS, f)
}

/// [`with_retry`], but a throttled attempt is tried again at most `throttled_retries`
/// times (Route53: a throttle is answered to the caller with a wait, see `pace.rs`, rather
/// than spending the invocation on retries that the shared account rate cannot serve).
pub fn with_retry_throttled<T>(
    budget: Budget,
    throttled_retries: u32,
    mut f: impl FnMut() -> Result<T, AwsError>,
) -> Result<T, AwsError> {
    let mut attempt = 0;
    let mut throttled = 0;
    loop {
        let err = match f() {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        attempt += 1;
        if err == AwsError::Throttled {
            throttled += 1;
            if throttled > throttled_retries {
                return Err(err);
            }
        }
        if !err.retryable() || attempt >= MAX_ATTEMPTS {
            return Err(err);
        }
        let ceiling = (100u64 << attempt.min(5)).min(2000);
        let pause = Duration::from_millis(jitter(ceiling));
        if pause + Duration::from_millis(200) >= budget.remaining() {
            return Err(err);
        }
        std::thread::sleep(pause);
    }
}

/// A uniformly random number in `ceiling/4 ..= ceiling` milliseconds.
pub fn jitter(ceiling: u64) -> u64 {
    let mut b = [0u8; 8];
    let r = if SystemRandom::new().fill(&mut b).is_ok() {
        u64::from_le_bytes(b)
    } else {
        0
    };
    let floor = ceiling / 4;
    floor + r % (ceiling - floor + 1)
}

#[cfg(test)]
mod tests;
