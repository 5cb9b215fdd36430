//! Per-invocation facts: the configuration, the request id, the clock, the time budget,
//! and the AWS clients built from them.

use crate::aws::Budget;
use crate::config::Config;
use crate::registry::Registry;
use crate::route53::Route53;
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
}

impl<'a> Invocation<'a> {
    pub fn new(cfg: &'a Config, request_id: String, now_ms: u64, deadline_ms: u64) -> Self {
        Invocation {
            cfg,
            request_id,
            now_ms,
            budget: budget(deadline_ms, now_ms),
            route53_calls: Cell::new(0),
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

    /// The Route53 client for `zone` (one of `cfg.zones`).
    pub fn route53<'z>(&'z self, zone: &'z crate::zones::Zone) -> Route53<'z> {
        Route53 {
            endpoint: &self.cfg.route53_endpoint,
            zone_id: &zone.id,
            budget: self.budget,
            calls: &self.route53_calls,
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
