//! One update pass: addresses → no-change check → retry gate → one signed request →
//! answer → state. A pass never sleeps: a transient failure records when the same request
//! may be tried again ([`crate::retry`]) and returns; the caller waits outside the lock.
//!
//! Failures are staged. Permanent refusals (bad signature, name not allowed, malformed,
//! wrong URL) are recorded with a fingerprint of the config and key and not retried until
//! either changes (or `--force`). Transient failures (network, timeouts, TLS, 5xx, 429)
//! schedule the next try of that very request; a different request (new addresses, a new
//! config or key) or `--force` is sent at once. A clock-skew answer corrects the request
//! time by the server's clock once, in the same pass.

use crate::addresses::{self, HostPlan};
pub use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::Error;
pub use crate::error::Exit;
use crate::netifd::Interfaces;
use crate::record::needs_update;
use crate::retry;
use crate::state::{HostState, RunState, Store, MAX_FAILURES};
use crate::transport::{Answer, Family, Transport};
use route53_ddns_protocol::response::Disposition;
use route53_ddns_protocol::{
    HostUpdate, SigningKey, UpdateRequest, UpdateResponse, UpdateResult, UPDATE_PATH,
};

/// Largest request time signed: the protocol's 16 digits.
const MAX_TIME_MS: u64 = 9_999_999_999_999_999;

/// What a pass did when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint updated or confirmed the records.
    Sent(UpdateResult),
    /// Nothing to send (unchanged, or no address known yet); no request.
    Nothing,
}

impl Outcome {
    pub fn exit(result: &Result<Outcome, Error>) -> Exit {
        match result {
            Ok(Outcome::Sent(_)) => Exit::Ok,
            Ok(Outcome::Nothing) => Exit::Nothing,
            Err(e) => e.exit(),
        }
    }
}

/// Logs a pass's failure (a scheduled retry was logged when it was scheduled) and
/// returns the exit code.
pub fn report(result: &Result<Outcome, Error>) -> Exit {
    match result {
        Err(e @ Error::Waiting { .. }) => log::info!("{e}"),
        Err(e) if e.is_permanent() || e.exit() == Exit::Config => {
            log::error!("{e}; {}", e.advice())
        }
        _ => {}
    }
    Outcome::exit(result)
}

/// Everything one pass needs besides the plans.
pub struct Pass<'a> {
    pub config: &'a Config,
    pub store: &'a Store,
    pub key: &'a SigningKey,
    /// A next key waiting to be accepted ([`crate::rotation`]): tried first.
    pub next: Option<&'a SigningKey>,
    /// `--force`: send even if unchanged, past a scheduled retry or a permanent refusal.
    pub force: bool,
    /// NTP just synchronised: a failure that may have been the clock is retried at once.
    pub clock_synced: bool,
    pub clock: &'a mut dyn Clock,
}

/// Loads the key, reads the interfaces and delivers; keeps the IPv6 interface chosen for
/// `status`. Used by `update`.
pub fn pass(
    config: &Config,
    store: &Store,
    force: bool,
    clock_synced: bool,
    ifaces: &mut Interfaces,
    clock: &mut dyn Clock,
) -> Result<Outcome, Error> {
    let keys = crate::rotation::load(&config.key_file)?;
    let choice = addresses::choose(config, ifaces);
    let result = Pass {
        config,
        store,
        key: &keys.current,
        next: keys.next.as_ref(),
        force,
        clock_synced,
        clock,
    }
    .try_deliver(&choice.hosts);
    if let Some(w) = &choice.ipv6_from {
        addresses::wan6::record(&store.dir, w);
    }
    result
}

/// The hosts with something to publish, and their last states.
struct Batch<'p> {
    plans: Vec<&'p HostPlan>,
    states: Vec<HostState>,
}

impl Pass<'_> {
    fn now_s(&self) -> u64 {
        self.clock.now().as_secs()
    }

    fn fingerprint(&self) -> String {
        crate::rotation::fingerprint(&self.config.fingerprint, self.key, self.next)
    }

    /// [`Pass::try_deliver`], logged, as an exit code.
    pub fn deliver(&mut self, plans: &[HostPlan]) -> Exit {
        report(&self.try_deliver(plans))
    }

    /// Decides whether to send, sends once, records the outcome and the retry schedule.
    pub fn try_deliver(&mut self, plans: &[HostPlan]) -> Result<Outcome, Error> {
        let now = self.now_s();
        let mut run = self.store.run();
        run.last_run = Some(now);
        run.running_since = Some(now);
        self.save_run(&run);
        let result = self.decide_and_send(plans, &mut run);
        run.running_since = None;
        self.save_run(&run);
        crate::log::set_request_id(None);
        result
    }

    fn save_run(&self, run: &RunState) {
        if let Err(e) = self.store.save_run(run) {
            log::warn!("cannot write state in {}: {e}", self.store.dir.display());
        }
    }

    /// A permanent refusal of this config and key on record stops the pass.
    fn check_blocked(&self, run: &mut RunState) -> Result<(), Error> {
        if let Some(blocked) = &run.blocked_fingerprint {
            if *blocked == self.fingerprint() && !self.force {
                return Err(Error::Blocked(
                    run.blocked_error.clone().unwrap_or_default(),
                ));
            }
            run.blocked_fingerprint = None;
            run.blocked_error = None;
        }
        Ok(())
    }

    /// A retry of this very request that is not due yet stops the pass; anything else
    /// (another request, `--force`, NTP after a clock-suspect failure) goes through.
    fn check_schedule(&self, run: &RunState, retry_key: &str) -> Result<(), Error> {
        let now = self.now_s();
        // A schedule further out than the policy can make is garbage (or an old clock).
        let (Some(next), Some(key)) = (run.due(now), run.retry_key.as_deref()) else {
            return Ok(());
        };
        let bypass = self.force || (self.clock_synced && run.clock_suspect) || key != retry_key;
        if bypass || now >= next {
            return Ok(());
        }
        Err(Error::Waiting { until: next })
    }

    fn batch<'p>(&self, plans: &'p [HostPlan]) -> Batch<'p> {
        let plans: Vec<&HostPlan> = plans
            .iter()
            .filter(|p| !p.ipv4.is_keep() || !p.ipv6.is_keep())
            .collect();
        let states = plans.iter().map(|p| self.store.host(&p.name)).collect();
        Batch { plans, states }
    }

    fn decide_and_send(
        &mut self,
        plans: &[HostPlan],
        run: &mut RunState,
    ) -> Result<Outcome, Error> {
        self.check_blocked(run)?;
        let batch = self.batch(plans);
        if batch.plans.is_empty() {
            log::info!("no address to publish yet; nothing sent");
            return Ok(Outcome::Nothing);
        }
        let now = self.now_s();
        let force_s = self.config.force_interval_h.saturating_mul(3600);
        let changed = self.force
            || (self.clock_synced && run.clock_suspect)
            || batch
                .plans
                .iter()
                .zip(&batch.states)
                .any(|(p, s)| needs_update(p, s, now, force_s))
            || crate::rotation::probe_due(&self.store.dir, self.next, now);
        if !changed {
            log::debug!("addresses unchanged; nothing sent");
            return Ok(Outcome::Nothing);
        }
        let request = UpdateRequest {
            hosts: batch
                .plans
                .iter()
                .zip(&batch.states)
                .map(|(p, s)| HostUpdate {
                    name: p.name.clone(),
                    ipv4: p.ipv4,
                    ipv6: p.ipv6,
                    last: s.last.clone(),
                })
                .collect(),
        };
        let body = request.to_body();
        let retry_key = crate::files::digest_hex(
            [self.fingerprint().as_bytes(), b"\n", &body]
                .concat()
                .as_slice(),
        );
        self.check_schedule(run, &retry_key)?;
        // "auto" publishes the source address the server sees: connect over that family.
        let family = if request.wants_auto_ipv4() {
            Family::V4
        } else if request.wants_auto_ipv6() {
            Family::V6
        } else {
            Family::Any
        };
        let result = Transport::new(self.config, family)
            .map_err(Error::Trust)
            .and_then(|t| self.send_with_keys(&t, &body, run.failures.saturating_add(1)));
        self.settle(&batch, run, retry_key, result)
    }

    /// Records what came of the request: success, a permanent refusal, or the next try.
    fn settle(
        &mut self,
        batch: &Batch,
        run: &mut RunState,
        retry_key: String,
        result: Result<UpdateResponse, Error>,
    ) -> Result<Outcome, Error> {
        let now = self.now_s();
        match result {
            Ok(resp) => {
                crate::log::set_request_id(Some(&resp.request_id));
                crate::record::success(self.store, now, &batch.plans, &batch.states, &resp);
                run.clear_retry();
                Ok(Outcome::Sent(resp.result))
            }
            Err(e) if crate::boot_order::ipv4_not_up_yet(self.config, &batch.plans, &e) => {
                crate::boot_order::note(self.config);
                Ok(Outcome::Nothing)
            }
            Err(e) => {
                let info = e.info();
                let request_id = match &e {
                    Error::Refused { request_id, .. } => Some(request_id.as_str()),
                    _ => None,
                };
                crate::record::failure(
                    self.store,
                    now,
                    &batch.plans,
                    &batch.states,
                    &info,
                    request_id,
                );
                if e.is_permanent() {
                    run.blocked_fingerprint = Some(self.fingerprint());
                    run.blocked_error = Some(info);
                    run.clear_retry();
                } else if !matches!(e, Error::Trust(_)) {
                    self.schedule(run, retry_key, &e);
                }
                Err(e)
            }
        }
    }

    /// After a transient failure: when the same request may be tried again. A pacing
    /// endpoint's wait is the schedule itself and no failure ([`retry::paced_wait`]).
    fn schedule(&mut self, run: &mut RunState, retry_key: String, e: &Error) {
        let now = self.now_s();
        if run.failing_since.is_none() {
            run.failing_since = Some(now);
        }
        let wait = if let Some(wait) = retry::paced_wait(run.paced, e.paced_retry_after()) {
            run.paced = run.paced.saturating_add(1);
            log::info!(
                "the endpoint is busy and paces its routers: {e}; next try in {} s ({} of at most {} paced waits)",
                wait.as_secs(),
                run.paced,
                retry::PACED_MAX
            );
            wait
        } else {
            run.failures = run.failures.saturating_add(1).min(MAX_FAILURES);
            let wait = retry::next_wait(run.failures, self.clock.random(), e.retry_after());
            log::warn!(
                "try {} failed: {e}; {}; next try in {} s",
                run.failures,
                e.advice(),
                wait.as_secs()
            );
            wait
        };
        run.next_try = Some(now.saturating_add(wait.as_secs()));
        run.tried_at = Some(now);
        run.retry_key = Some(retry_key);
        run.last_error = Some(e.info());
        run.clock_suspect = e.clock_suspect();
    }

    /// The request time: the local clock, plus the server's correction if there is one.
    fn request_time(&self, offset_ms: i64) -> (i64, u64) {
        let local = i64::try_from(self.clock.now().as_millis()).unwrap_or(i64::MAX);
        let t = u64::try_from(local.saturating_add(offset_ms)).unwrap_or(0);
        (local, t.clamp(1, MAX_TIME_MS))
    }

    /// One request: with the next key first when one is pending, and then, if
    /// [`crate::rotation`] says so, with the current key.
    fn send_with_keys(
        &mut self,
        transport: &Transport,
        body: &[u8],
        attempt: u32,
    ) -> Result<UpdateResponse, Error> {
        let Some(next) = self.next else {
            return self.send(transport, self.key, body, attempt);
        };
        let result = self.send(transport, next, body, attempt);
        let (file, dir, now) = (&self.config.key_file, &self.store.dir, self.now_s());
        match crate::rotation::after_next_key(file, dir, self.key, next, &result, now) {
            crate::rotation::Then::Done => result,
            crate::rotation::Then::FallBack => self.send(transport, self.key, body, attempt),
        }
    }

    /// One request signed with `key`; after clock skew, once more with the server's time.
    fn send(
        &mut self,
        transport: &Transport,
        key: &SigningKey,
        body: &[u8],
        attempt: u32,
    ) -> Result<UpdateResponse, Error> {
        let mut offset_ms: i64 = 0;
        let mut corrected = false;
        loop {
            let (local_ms, time_ms) = self.request_time(offset_ms);
            let host = route53_ddns_protocol::signature::authority(
                &self.config.endpoint.host,
                self.config.endpoint.port,
            );
            let signed = key.sign("POST", UPDATE_PATH, &host, time_ms, body);
            log::debug!("sending the update, try {attempt}");
            let (status, error, retry_after) = match transport.post(body, &signed)? {
                Answer::Updated(resp) => return Ok(resp),
                Answer::Unexpected {
                    status,
                    retry_after,
                    snippet,
                } => {
                    return Err(Error::Unexpected {
                        status,
                        snippet,
                        retry_after,
                    })
                }
                Answer::Refused {
                    status,
                    error,
                    retry_after,
                } => (status, error, retry_after),
            };
            crate::log::set_request_id(Some(&error.request_id));
            if error.error.disposition() == Disposition::CorrectClock && !corrected {
                let server = i64::try_from(error.server_time.min(MAX_TIME_MS)).unwrap_or(0);
                offset_ms = server.saturating_sub(local_ms);
                corrected = true;
                log::warn!(
                    "the router's clock is {} s off the endpoint's; correcting by the server time and sending again",
                    offset_ms / 1000
                );
                continue;
            }
            return Err(Error::Refused {
                status,
                code: error.error,
                message: error.message,
                request_id: error.request_id,
                retry_after,
            });
        }
    }
}
