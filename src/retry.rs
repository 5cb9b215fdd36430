//! The retry policy while the endpoint fails (docs/config.md, "Retries").
//!
//! One request per attempt; between attempts the run holds no lock. After the n-th
//! consecutive transient failure the next try is due after
//!
//! | failures | wait              |
//! |----------|-------------------|
//! | 1        | 10–12 s           |
//! | 2        | 60–72 s           |
//! | 3        | 120–144 s         |
//! | n ≥ 2    | 60·2ⁿ⁻² s, +0–20 % jitter, the step capped at 1500 s: at most [`CEILING`] |
//!
//! so after the first retry there is at most one request per minute, and a dead endpoint
//! costs about two requests an hour. A server's `retry_after` (or `Retry-After`) is a
//! floor, clamped to [`RETRY_AFTER_MAX`]; it never outlives a config change, an address
//! change or `--force`, which send at once.
//!
//! Except when the endpoint paces: a 429 `throttled` answer with a `retry_after` (the
//! endpoint is busy, not failing: Route53's account-wide rate is spent while a fleet
//! updates at once) is a schedule, not a failure. The next try is at that time
//! ([`paced_wait`]) and the count of failures does not grow, for at most [`PACED_MAX`] such
//! answers in a row; after that they count as failures like any other.

use std::time::Duration;

/// The wait before the first retry.
pub const FIRST_RETRY: Duration = Duration::from_secs(10);
/// The wait before the second retry; it doubles per failure after that.
pub const STEP: Duration = Duration::from_secs(60);
/// Longest wait between two tries (the jittered ceiling).
pub const CEILING: Duration = Duration::from_secs(1800);
/// Largest `retry_after` obeyed; a larger one is read as this.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

const STEP_CAP_S: u64 = 1500;

/// The wait after `failures` consecutive failures (≥ 1), `random` in [0, 1).
pub fn delay(failures: u32, random: f64) -> Duration {
    let step_s = match failures {
        0 | 1 => FIRST_RETRY.as_secs(),
        n => STEP
            .as_secs()
            .saturating_mul(1u64 << (n - 2).min(16))
            .min(STEP_CAP_S),
    };
    let jitter = 1.0 + 0.2 * random.clamp(0.0, 1.0);
    Duration::from_secs(step_s).mul_f64(jitter).min(CEILING)
}

/// A server-requested wait, clamped to [`RETRY_AFTER_MAX`].
pub fn clamp_retry_after(secs: u64) -> Duration {
    Duration::from_secs(secs.min(RETRY_AFTER_MAX.as_secs()))
}

/// The wait before the next try: the policy's, or the server's if that is longer.
pub fn next_wait(failures: u32, random: f64, retry_after: Option<u64>) -> Duration {
    let own = delay(failures, random);
    retry_after.map_or(own, |s| own.max(clamp_retry_after(s)))
}

/// Consecutive `throttled` answers with a `retry_after` taken as the schedule itself.
pub const PACED_MAX: u32 = 8;
/// Shortest paced wait: a `retry_after` of 0 is not a busy loop.
pub const PACED_MIN: Duration = Duration::from_secs(1);

/// The wait a pacing endpoint asked for (`throttled_retry_after`: the `retry_after` of a
/// 429 `throttled` answer), if it is still honoured as a schedule after `paced` such answers
/// in a row; `None`: the answer counts as a failure ([`next_wait`]).
pub fn paced_wait(paced: u32, throttled_retry_after: Option<u64>) -> Option<Duration> {
    let secs = throttled_retry_after.filter(|_| paced < PACED_MAX)?;
    Some(clamp_retry_after(secs).max(PACED_MIN))
}
