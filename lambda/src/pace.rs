//! Endpoint pacing while Route53 throttles: this instance's memory of recent throttles and
//! the wait a throttled caller is told.
//!
//! Route53's request rate is shared by the whole account (docs/operations.md), so when a
//! fleet arrives at once most requests must wait. Retrying them inside the invocation spends
//! the budget (and reads whose write then gets throttled); answering 429 with a
//! `retry_after` spread over the next seconds lets the routers come back at the rate Route53
//! takes. Per instance, no coordination: each instance's `pressure` grows by one with every
//! throttle it sees and halves every [`HALF_LIFE`], and the spread grows with it.
//!
//! | pressure p | retry_after (s)                        |
//! |------------|----------------------------------------|
//! | any        | uniform in `1 ..= 2 + 2·p`, at most 60 |

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How fast the memory of throttles fades.
pub const HALF_LIFE: Duration = Duration::from_secs(10);
/// Longest `retry_after` told for Route53 throttling.
pub const SPREAD_MAX: u64 = 60;

#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pressure: f64,
    at: Option<Instant>,
}

impl Pace {
    pub const fn new() -> Self {
        Pace {
            pressure: 0.0,
            at: None,
        }
    }

    /// The pressure at `now` (decayed since the last throttle).
    pub fn pressure(&self, now: Instant) -> f64 {
        let Some(at) = self.at else { return 0.0 };
        let age = now.saturating_duration_since(at).as_secs_f64();
        self.pressure * 0.5f64.powf(age / HALF_LIFE.as_secs_f64())
    }

    /// Route53 throttled a call of this instance at `now`.
    pub fn throttled(&mut self, now: Instant) {
        self.pressure = (self.pressure(now) + 1.0).min(1000.0);
        self.at = Some(now);
    }

    /// The wait to tell a caller throttled at `now`; `random` in [0, 1).
    pub fn retry_after(&self, now: Instant, random: f64) -> u64 {
        let spread = (2.0 + 2.0 * self.pressure(now)).min(SPREAD_MAX as f64);
        let r = random.clamp(0.0, 1.0 - f64::EPSILON);
        (1.0 + r * spread).floor().clamp(1.0, SPREAD_MAX as f64) as u64
    }
}

impl Default for Pace {
    fn default() -> Self {
        Pace::new()
    }
}

static PACE: Mutex<Pace> = Mutex::new(Pace::new());

fn with<T>(f: impl FnOnce(&mut Pace) -> T) -> T {
    let mut p = PACE.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut p)
}

/// Records a Route53 throttle seen by this instance.
pub fn throttled() {
    with(|p| p.throttled(Instant::now()));
}

/// The wait for a caller throttled now.
pub fn retry_after() -> u64 {
    let random = crate::aws::jitter(1_000_000) as f64 / 1_000_001.0;
    with(|p| p.retry_after(Instant::now(), random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spread_grows_with_recent_throttles_and_fades() {
        let t0 = Instant::now();
        let mut p = Pace::new();
        assert_eq!(p.retry_after(t0, 0.999), 2, "calm: 1..=2 s");
        for _ in 0..10 {
            p.throttled(t0);
        }
        assert_eq!(p.retry_after(t0, 0.0), 1, "never 0: no busy loop");
        assert_eq!(p.retry_after(t0, 0.999), 22, "10 throttles: up to 22 s");
        let later = t0 + HALF_LIFE;
        assert_eq!(
            p.retry_after(later, 0.999),
            12,
            "half the pressure after a half-life"
        );
        for _ in 0..1000 {
            p.throttled(t0);
        }
        assert_eq!(p.retry_after(t0, 0.999), SPREAD_MAX, "capped");
    }

    #[test]
    fn the_wait_is_spread_not_one_value() {
        let t0 = Instant::now();
        let mut p = Pace::new();
        for _ in 0..20 {
            p.throttled(t0);
        }
        let waits: std::collections::BTreeSet<u64> = (0..100)
            .map(|i| p.retry_after(t0, f64::from(i) / 100.0))
            .collect();
        assert!(waits.len() > 30, "{waits:?}");
    }
}
