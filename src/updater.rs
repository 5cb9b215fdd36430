//! One update pass: addresses → no-change check → signed request → answer → state.
//!
//! Failures are staged. Permanent refusals (bad signature, name not allowed, malformed,
//! wrong URL) are recorded with a fingerprint of the config and key and not retried until
//! either changes (or `--force`). 429 honours Retry-After. Transient failures (network,
//! timeouts, 5xx) back off exponentially with jitter for at most [`RETRY_BUDGET`] in all,
//! then exit 6 and leave the rest to the safety-net timer. A clock-skew answer corrects
//! the request time by the server's clock once. A TLS failure is not retried in the same
//! run, and never with weaker settings.

use crate::addresses::{self, HostPlan, Nat};
use crate::config::Config;
use crate::netifd::Interfaces;
use crate::state::{ErrorInfo, HostState, RunState, Store};
use crate::transport::{Answer, Failure, Family, Transport};
use route53_ddns_protocol::response::Disposition;
use route53_ddns_protocol::{
    AddrSpec, HostUpdate, SigningKey, UpdateRequest, UpdateResponse, UpdateResult, UPDATE_PATH,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Longest time one run spends retrying (sleeps plus attempts).
pub const RETRY_BUDGET: Duration = Duration::from_secs(600);
/// First backoff step; it doubles per attempt up to [`BACKOFF_MAX`].
pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
pub const BACKOFF_MAX: Duration = Duration::from_secs(160);

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

/// The `attempt`-th backoff (1-based): base·2^(attempt-1), capped, jittered into [½, 1]·step.
pub fn backoff(attempt: u32, random: f64) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_MAX);
    step.mul_f64(0.5 + 0.5 * random.clamp(0.0, 1.0))
}

fn spec_text<T: ToString>(s: &AddrSpec<T>) -> Option<String> {
    match s {
        AddrSpec::Keep => None,
        AddrSpec::Auto => Some("auto".into()),
        AddrSpec::Set(a) => Some(a.to_string()),
    }
}

/// How often an address the router cannot see itself ("auto": behind CGNAT or another
/// NAT) is confirmed with the endpoint at the latest: the carrier can move the public
/// address without the WAN address changing, and only the endpoint sees it.
pub const AUTO_RECHECK_S: u64 = 3600;

/// Whether this host must be sent: something differs from the last success, the last
/// attempt failed, or the force interval (for "auto" addresses, at most an hour) has passed.
pub fn needs_update(plan: &HostPlan, st: &HostState, now: u64, force_interval_s: u64) -> bool {
    let Some(confirmed) = st.confirmed else {
        return true;
    };
    let auto = plan.ipv4 == AddrSpec::Auto || plan.ipv6 == AddrSpec::Auto;
    let force_interval_s = if auto {
        force_interval_s.min(AUTO_RECHECK_S)
    } else {
        force_interval_s
    };
    // A confirmation "in the future" means the clock was wrong then (or is now): resend.
    if st.result.as_deref() == Some("error")
        || confirmed > now
        || now - confirmed >= force_interval_s
    {
        return true;
    }
    let v4 = spec_text(&plan.ipv4);
    let v6 = spec_text(&plan.ipv6);
    (v4.is_some() && v4 != st.sent_ipv4)
        || (v6.is_some() && v6 != st.sent_ipv6)
        || (plan.ipv4 == AddrSpec::Auto && plan.wan_ipv4.map(|a| a.to_string()) != st.wan_ipv4)
}

/// The wire name of an error code (`name_not_allowed`), as the protocol serialises it.
fn code_text(code: route53_ddns_protocol::ErrorCode) -> String {
    serde_json::to_string(&code)
        .map(|s| s.trim_matches('"').to_owned())
        .unwrap_or_default()
}

/// Everything one pass needs besides the plans.
pub struct Pass<'a> {
    pub config: &'a Config,
    pub store: &'a Store,
    pub key: &'a SigningKey,
    pub force: bool,
    pub clock: &'a mut dyn Clock,
}

/// Loads the key, reads the interfaces and delivers. Used by `update`.
pub fn pass(
    config: &Config,
    store: &Store,
    force: bool,
    ifaces: &mut Interfaces,
    clock: &mut dyn Clock,
) -> Exit {
    let key = match crate::key::load(&config.key_file) {
        Ok(k) => k,
        Err(e) => {
            log::error!("{e}");
            return Exit::Config;
        }
    };
    let plans = addresses::plan(config, ifaces);
    Pass {
        config,
        store,
        key: &key,
        force,
        clock,
    }
    .deliver(&plans)
}

impl Pass<'_> {
    fn now_s(&self) -> u64 {
        self.clock.now().as_secs()
    }

    fn fingerprint(&self) -> String {
        format!("{}:{}", self.config.fingerprint, self.key.key_id())
    }

    /// Decides whether to send, sends with staged retries, records the outcome.
    pub fn deliver(&mut self, plans: &[HostPlan]) -> Exit {
        let now = self.now_s();
        let mut run = self.store.run();
        run.last_run = Some(now);
        let exit = self.deliver_inner(plans, &mut run);
        if let Err(e) = self.store.save_run(&run) {
            log::warn!("cannot write state in {}: {e}", self.store.dir.display());
        }
        crate::log::set_request_id(None);
        exit
    }

    fn deliver_inner(&mut self, plans: &[HostPlan], run: &mut RunState) -> Exit {
        let now = self.now_s();
        let fp = self.fingerprint();
        if let Some(blocked) = &run.blocked_fingerprint {
            if *blocked == fp && !self.force {
                let advice = run
                    .blocked_error
                    .as_ref()
                    .map(|e| format!("{} ({})", e.message, e.advice))
                    .unwrap_or_default();
                log::error!(
                    "not sending: the endpoint refused this config and key permanently: {advice}; change the config or key, or run `update --force`"
                );
                return Exit::Permanent;
            }
            run.blocked_fingerprint = None;
            run.blocked_error = None;
        }
        if let Some(t) = run.retry_not_before {
            if now < t {
                log::warn!(
                    "the endpoint asked to wait; not sending for another {} s",
                    t - now
                );
                return Exit::Transient;
            }
            run.retry_not_before = None;
        }
        let sendable: Vec<&HostPlan> = plans
            .iter()
            .filter(|p| !p.ipv4.is_keep() || !p.ipv6.is_keep())
            .collect();
        if sendable.is_empty() {
            log::info!("no address to publish yet; nothing sent");
            return Exit::Nothing;
        }
        let states: Vec<HostState> = sendable.iter().map(|p| self.store.host(&p.name)).collect();
        let force_s = self.config.force_interval_h * 3600;
        let changed = self.force
            || sendable
                .iter()
                .zip(&states)
                .any(|(p, s)| needs_update(p, s, now, force_s));
        if !changed {
            log::debug!("addresses unchanged; nothing sent");
            return Exit::Nothing;
        }
        let request = UpdateRequest {
            hosts: sendable
                .iter()
                .map(|p| HostUpdate {
                    name: p.name.clone(),
                    ipv4: p.ipv4,
                    ipv6: p.ipv6,
                })
                .collect(),
        };
        // "auto" publishes the source address the server sees: connect over that family.
        let family = if request.wants_auto_ipv4() {
            Family::V4
        } else if request.wants_auto_ipv6() {
            Family::V6
        } else {
            Family::Any
        };
        let transport = match Transport::new(self.config, family) {
            Ok(t) => t,
            Err(e) => {
                let info = ErrorInfo {
                    code: "config".into(),
                    message: e,
                    advice: "nothing was sent; install the ca-bundle package or fix ca_file".into(),
                    permanent: false,
                };
                log::error!("{}; {}", info.message, info.advice);
                self.record_error(&sendable, &states, &info, None);
                return Exit::Config;
            }
        };
        let body = request.to_body();
        let started = self.clock.now();
        let mut clock_offset_ms: i64 = 0;
        let mut corrected = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let local_ms = self.clock.now().as_millis() as i64;
            let time_ms = u64::try_from(local_ms + clock_offset_ms).unwrap_or(0);
            let host = route53_ddns_protocol::signature::authority(
                &self.config.endpoint.host,
                self.config.endpoint.port,
            );
            let signed = self.key.sign("POST", UPDATE_PATH, &host, time_ms, &body);
            log::debug!(
                "sending update for {} host(s), attempt {attempt}",
                sendable.len()
            );
            let (error, wait) = match transport.post(&body, &signed) {
                Ok(Answer::Updated(resp)) => {
                    crate::log::set_request_id(Some(&resp.request_id));
                    self.record_success(&sendable, &states, &resp);
                    return Exit::Ok;
                }
                Ok(Answer::Refused {
                    status,
                    error,
                    retry_after,
                }) => {
                    crate::log::set_request_id(Some(&error.request_id));
                    let info = ErrorInfo {
                        code: code_text(error.error),
                        message: error.message.clone(),
                        advice: error.error.advice().to_owned(),
                        permanent: error.error.disposition() == Disposition::Permanent,
                    };
                    match error.error.disposition() {
                        Disposition::Permanent => {
                            log::error!(
                                "the endpoint refused the update (HTTP {status}, {}): {}; {}",
                                info.code,
                                info.message,
                                info.advice
                            );
                            self.record_error(&sendable, &states, &info, Some(&error.request_id));
                            run.blocked_fingerprint = Some(self.fingerprint());
                            run.blocked_error = Some(info);
                            return Exit::Permanent;
                        }
                        Disposition::CorrectClock if !corrected => {
                            clock_offset_ms = error.server_time as i64 - local_ms;
                            corrected = true;
                            log::warn!(
                                "the router's clock is {} s off the endpoint's; correcting by the server time and sending again",
                                clock_offset_ms / 1000
                            );
                            continue;
                        }
                        Disposition::CorrectClock => (info, None),
                        Disposition::Transient => {
                            let wait = retry_after
                                .map(Duration::from_secs)
                                .unwrap_or_else(|| backoff(attempt, self.clock.random()));
                            (info, Some((wait, retry_after.is_some())))
                        }
                    }
                }
                Ok(Answer::Unexpected {
                    status,
                    retry_after,
                    snippet,
                }) => {
                    let transient = status == 429 || status == 408 || status >= 500;
                    let info = ErrorInfo {
                        code: format!("http_{status}"),
                        message: format!("unexpected answer HTTP {status}: {snippet}"),
                        advice: if transient {
                            "the endpoint or a proxy in front of it had a problem; it will be retried".into()
                        } else {
                            "check the endpoint URL: it should be the URL the deployment printed, without a path".into()
                        },
                        permanent: !transient,
                    };
                    if !transient {
                        log::error!("{}; {}", info.message, info.advice);
                        self.record_error(&sendable, &states, &info, None);
                        run.blocked_fingerprint = Some(self.fingerprint());
                        run.blocked_error = Some(info);
                        return Exit::Permanent;
                    }
                    let wait = retry_after
                        .map(Duration::from_secs)
                        .unwrap_or_else(|| backoff(attempt, self.clock.random()));
                    (info, Some((wait, retry_after.is_some())))
                }
                Err(Failure::Tls(m)) => {
                    let info = ErrorInfo {
                        code: "tls".into(),
                        message: format!("the endpoint's certificate or TLS handshake failed: {m}"),
                        advice: "nothing was sent. Check the endpoint URL and ca_file; if the router's clock is wrong (before NTP synchronised), this clears up by itself".into(),
                        permanent: false,
                    };
                    (info, None)
                }
                Err(f) => {
                    let code = match f {
                        Failure::Timeout(_) => "timeout",
                        Failure::Dns(_) => "dns",
                        _ => "network",
                    };
                    let info = ErrorInfo {
                        code: code.into(),
                        message: format!("cannot reach the endpoint: {f}"),
                        advice: "check the WAN connection and the endpoint URL; it will be retried"
                            .into(),
                        permanent: false,
                    };
                    (info, Some((backoff(attempt, self.clock.random()), false)))
                }
            };
            let elapsed = self.clock.now().saturating_sub(started);
            match wait {
                Some((wait, _)) if elapsed + wait <= RETRY_BUDGET => {
                    log::warn!("{}; retrying in {} s", error.message, wait.as_secs());
                    self.clock.sleep(wait);
                }
                other => {
                    if let Some((wait, true)) = other {
                        run.retry_not_before = Some(self.now_s() + wait.as_secs());
                    }
                    log::error!("{}; {}", error.message, error.advice);
                    self.record_error(&sendable, &states, &error, None);
                    return Exit::Transient;
                }
            }
        }
    }

    fn record_success(&self, plans: &[&HostPlan], states: &[HostState], resp: &UpdateResponse) {
        let now = self.now_s();
        let result = match resp.result {
            UpdateResult::Updated => "updated",
            UpdateResult::Unchanged => "unchanged",
        };
        for (plan, old) in plans.iter().zip(states) {
            let published = resp
                .hosts
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(&plan.name));
            let mut st = old.clone();
            if let Some(p) = published {
                st.ipv4 = p.a.first().map(|a| a.to_string()).or(st.ipv4);
                st.ipv6 = p.aaaa.first().map(|a| a.to_string()).or(st.ipv6);
            }
            st.result = Some(result.into());
            st.time = Some(now);
            st.confirmed = Some(now);
            st.request_id = Some(resp.request_id.clone());
            st.observed = Some(resp.observed.to_string());
            st.wan_ipv4 = plan.wan_ipv4.map(|a| a.to_string());
            st.nat = plan.nat.map(|n| n.as_str().to_owned());
            st.diagnosis = match (plan.nat, plan.wan_ipv4, plan.ipv4) {
                (Some(nat), Some(wan), AddrSpec::Auto) if nat != Nat::None => {
                    let public = published
                        .and_then(|p| p.a.first().copied().map(std::net::IpAddr::V4))
                        .or(Some(resp.observed));
                    addresses::diagnosis(nat, wan, public)
                }
                _ => None,
            };
            st.error = None;
            st.sent_ipv4 = spec_text(&plan.ipv4).or(st.sent_ipv4);
            st.sent_ipv6 = spec_text(&plan.ipv6).or(st.sent_ipv6);
            if let Some(d) = &st.diagnosis {
                log::warn!("{}: {d}", plan.name);
            }
            log::info!(
                "{}: {result}: A {} AAAA {}",
                plan.name,
                st.ipv4.as_deref().unwrap_or("-"),
                st.ipv6.as_deref().unwrap_or("-")
            );
            if let Err(e) = self.store.save_host(&st) {
                log::warn!("cannot write state for {}: {e}", plan.name);
            }
        }
    }

    fn record_error(
        &self,
        plans: &[&HostPlan],
        states: &[HostState],
        info: &ErrorInfo,
        request_id: Option<&str>,
    ) {
        let now = self.now_s();
        for (plan, old) in plans.iter().zip(states) {
            let mut st = old.clone();
            st.result = Some("error".into());
            st.time = Some(now);
            st.request_id = request_id.map(str::to_owned);
            st.wan_ipv4 = plan.wan_ipv4.map(|a| a.to_string()).or(st.wan_ipv4);
            st.nat = plan.nat.map(|n| n.as_str().to_owned()).or(st.nat);
            st.error = Some(info.clone());
            if let Err(e) = self.store.save_host(&st) {
                log::warn!("cannot write state for {}: {e}", plan.name);
            }
        }
    }
}
