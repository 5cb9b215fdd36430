//! Time, sleep and randomness for the updater, replaceable in tests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time and sleep, replaceable in tests.
pub trait Clock {
    fn now(&self) -> Duration;
    fn sleep(&mut self, d: Duration);
    /// A uniformly random number in [0, 1).
    fn random(&mut self) -> f64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }

    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }

    fn random(&mut self) -> f64 {
        let mut b = [0u8; 4];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
        f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0)
    }
}
