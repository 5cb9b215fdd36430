//! Per-invocation facts: the configuration, the request id, the clock, the time budget,
//! and the AWS clients built from them.

use crate::aws::Budget;
use crate::config::Config;
use crate::registry::Registry;
use route53_ddns_protocol::address::Policy;
use std::cell::Cell;
use std::time::Duration;

pub struct Invocation<'a> {
    pub cfg: &'a Config,
    pub request_id: String,
    pub now_ms: u64,
    pub budget: Budget,
    /// Route53 calls made so far (for the log line and `lambda/bench`).
    pub route53_calls: Cell<u32>,
    /// What came of the request's `last` (`guess.rs`), for the log line: "written",
    /// "refuted" (Route53 refused the batch made on it; the names were read) or "unused"
    /// (carried, but decided on a read or stopped before a write).
    pub guess: Cell<Option<&'static str>>,
}

impl<'a> Invocation<'a> {
    pub fn new(cfg: &'a Config, request_id: String, now_ms: u64, deadline_ms: u64) -> Self {
        Invocation {
            cfg,
            request_id,
            now_ms,
            budget: budget(deadline_ms, now_ms),
            route53_calls: Cell::new(0),
            guess: Cell::new(None),
        }
    }

    pub fn registry(&self) -> Registry<'_> {
        Registry {
            endpoint: &self.cfg.ssm_endpoint,
            region: &self.cfg.region,
            prefix: &self.cfg.registry_prefix,
            budget: self.budget,
        }
    }

    pub fn policy(&self) -> Policy {
        Policy {
            allow_documentation: self.cfg.allow_documentation,
        }
    }
}

/// The budget for one invocation: at most 20 s, and within the Lambda deadline.
pub fn budget(deadline_ms: u64, now_ms: u64) -> Budget {
    Budget::new(deadline_ms, now_ms, Duration::from_secs(20))
}
