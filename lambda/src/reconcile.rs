//! Makes Route53 match an [`Authorised`] request, zone by zone (Route53 applies a
//! ChangeBatch to one zone; the zones are written in the order their names first appear),
//! and in each zone in order: read the names' records and stamps (or, on a first attempt,
//! take the sender's `last` as them: `guess.rs`), refuse a request that is not later than every accepted one, write the address
//! changes and the new stamps in one ChangeBatch whose stamp DELETE+CREATE is a
//! compare-and-swap, and on a lost race read again and decide again.

use crate::authorise::Authorised;
use crate::aws::AwsError;
use crate::error::Error;
use crate::invocation::Invocation;
use crate::order::{
    aws_error, busy, next_stamp, overtaken, quiet_refusal, settle, unknown, Settled,
};
use crate::plan::{self, Desired, Existing};
use crate::quiet;
use crate::route53::{is_conflict, ChangeFailure, Route53};
use crate::stamp::{self, Stamp};
use crate::verify::Order;
use route53_ddns_protocol::{ErrorCode, PublishedHost};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// What was done.
#[derive(Debug)]
pub struct Reconciled {
    /// The records now published per target, and whether its A/AAAA changed.
    pub hosts: Vec<(PublishedHost, bool)>,
    /// Whether any A/AAAA record changed (the stamp is written either way).
    pub updated: bool,
    /// Whether a ChangeBatch was applied: false for an unchanged dyndns2 request inside its
    /// names' quiet period (`quiet.rs`), which writes nothing.
    pub written: bool,
    pub change_id: Option<String>,
    /// The stamp time written for every name.
    pub stamp_ms: u64,
    /// Batches refused because another writer got there first.
    pub conflicts: u32,
    /// The A and AAAA addresses each target had before, in the order of `hosts`.
    pub previous: Vec<(Vec<Ipv4Addr>, Vec<Ipv6Addr>)>,
    /// Earlier versions' TXT stamps removed after the write, or why not (for the log).
    pub legacy_stamps: Option<String>,
}

/// Reconciles each zone's part in turn and merges the results; `hosts` come out in the
/// order of the targets across all parts (see [`Authorised::slots`]). A part that fails
/// stops here with its error: the parts before it stay written (a retry rewrites them with
/// the same addresses, which is harmless), and the error says so.
pub fn reconcile_all(inv: &Invocation, parts: &[Authorised]) -> Result<Reconciled, Error> {
    let total = parts.iter().map(|p| p.targets().len()).sum();
    let mut hosts = vec![None; total];
    let mut previous = vec![None; total];
    let mut merged = Reconciled {
        hosts: Vec::new(),
        updated: false,
        written: false,
        change_id: None,
        stamp_ms: 0,
        conflicts: 0,
        previous: Vec::new(),
        legacy_stamps: None,
    };
    let mut ids = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        let done = reconcile(inv, part).map_err(|mut e| {
            if n > 0 {
                let written: Vec<&str> =
                    parts[..n].iter().map(|p| p.zone().name.as_str()).collect();
                e.message = format!(
                    "{} (in the zone {}; the names in {} were written)",
                    e.message,
                    part.zone().name,
                    written.join(", ")
                );
            }
            e
        })?;
        merged.updated |= done.updated;
        merged.written |= done.written;
        merged.stamp_ms = merged.stamp_ms.max(done.stamp_ms);
        merged.conflicts += done.conflicts;
        merged.legacy_stamps = merged.legacy_stamps.or(done.legacy_stamps);
        ids.extend(done.change_id);
        for ((slot, host), before) in part.slots().iter().zip(done.hosts).zip(done.previous) {
            if let (Some(h), Some(p)) = (hosts.get_mut(*slot), previous.get_mut(*slot)) {
                *h = Some(host);
                *p = Some(before);
            }
        }
    }
    merged.hosts = hosts.into_iter().flatten().collect();
    merged.previous = previous.into_iter().flatten().collect();
    merged.change_id = (!ids.is_empty()).then(|| ids.join(","));
    Ok(merged)
}

/// A stop this long before the budget ends leaves time to answer.
const MARGIN: Duration = Duration::from_millis(700);

fn reconcile(inv: &Invocation, auth: &Authorised) -> Result<Reconciled, Error> {
    // The one place a Route53 client is made: it takes the proof that authorisation ran.
    let r53 = Route53::for_authorised(
        auth,
        &inv.cfg.route53_endpoint,
        inv.budget,
        &inv.route53_calls,
    );
    let names: Vec<String> = auth.targets().iter().map(|t| t.name.clone()).collect();
    let by = auth.principal().stamp_by();
    let mut conflicts = 0u32;
    // A batch whose outcome is unknown (an attempt's answer was lost, so a refusal that
    // followed may be its own echo), with the records it was planned against. A batch
    // Route53 refused is known not to be applied: it refuses batches whole.
    let mut unsure: Option<(Stamp, BTreeMap<String, Existing>)> = None;
    // The sender's `last`, when every name has one: the first attempt writes on it without
    // reading (guess.rs). Every decision other than that write is made on a read.
    let mut guess = crate::guess::existing(auth.targets(), &by);
    if guess.is_some() {
        inv.guess.set(Some("unused"));
    }
    loop {
        let guessed = guess.take();
        let on_guess = guessed.is_some();
        let existing = match guessed {
            Some(g) => g,
            None => r53
                .read(&names)
                .map_err(|e| aws_error(e, conflicts, crate::pace::retry_after()))?,
        };
        let current: Vec<Option<Stamp>> = names
            .iter()
            .map(|n| existing.get(n).and_then(Existing::stamp))
            .collect();
        if let Some((mine, before)) = unsure.take() {
            match settle(&mine, &current) {
                Settled::Landed => {
                    // It did land: its success, told against the records before it.
                    return Ok(done(auth, &before, mine.time_ms, None, conflicts));
                }
                Settled::Overtaken(newer_ms) => return Err(overtaken(newer_ms - mine.time_ms)),
                Settled::NotApplied => {}
            }
        }
        let stamp = match next_stamp(auth.order(), &by, &current) {
            Err(_) if on_guess => continue,
            stamp => stamp?,
        };
        let (changes, addresses_change) = changes_for(auth, &existing, &stamp, on_guess)?;
        let auto = auth.targets().iter().any(|t| t.auto);
        let writes_anyway = addresses_change || auto;
        if let Some(rest) = quiet::quiet_for(auth.order(), writes_anyway, &current, inv.now_ms) {
            if on_guess {
                continue;
            }
            return match auth.order() {
                Order::Signed(_) => Err(quiet_refusal(rest)),
                Order::Server(_) => {
                    let newest = current.iter().flatten().map(|s| s.time_ms).max();
                    let mut left = done(auth, &existing, newest.unwrap_or(0), None, conflicts);
                    left.written = false;
                    Ok(left)
                }
            };
        }
        let comment = format!(
            "route53-ddns {} by {}",
            inv.request_id,
            auth.principal().describe()
        );
        let ChangeFailure {
            error,
            maybe_applied,
        } = match r53.change(&changes, &comment) {
            Ok(id) => {
                let mut out = done(auth, &existing, stamp.time_ms, Some(id), conflicts);
                out.legacy_stamps = r53.retire_legacy_stamps(&existing);
                if on_guess {
                    inv.guess.set(Some("written"));
                }
                return Ok(out);
            }
            Err(failure) => failure,
        };
        if on_guess && !maybe_applied && crate::guess::refuted(&error) {
            // Route53 holds something else than the sender last heard: read, decide again.
            inv.guess.set(Some("refuted"));
            continue;
        }
        let conflict =
            matches!(&error, AwsError::Rejected { code, message } if is_conflict(code, message));
        if !conflict && !maybe_applied {
            return Err(aws_error(error, conflicts, crate::pace::retry_after()));
        }
        conflicts += u32::from(conflict);
        let pause =
            Duration::from_millis(crate::aws::jitter(20 * u64::from(conflicts.clamp(1, 10))));
        if inv.budget.remaining() < MARGIN + pause {
            return Err(if maybe_applied {
                unknown(error)
            } else {
                busy(conflicts)
            });
        }
        if maybe_applied {
            unsure = Some((stamp, existing));
        }
        std::thread::sleep(pause);
    }
}

/// The changes that make `auth`'s names right and move their stamps to `stamp`, and whether
/// any of them is an address change. On a guess, the batch that checks it (`guess.rs`).
fn changes_for(
    auth: &Authorised,
    existing: &BTreeMap<String, Existing>,
    stamp: &Stamp,
    on_guess: bool,
) -> Result<(Vec<plan::Change>, bool), Error> {
    if on_guess {
        let differs = |t: &crate::authorise::Target| {
            let e = existing.get(&t.name).cloned().unwrap_or_default();
            !plan::plan(&e, &desired(t)).is_empty()
        };
        let addresses_change = auth.targets().iter().any(differs);
        let wanted: Vec<Desired> = auth.targets().iter().map(desired).collect();
        let changes = crate::guess::changes(&wanted, existing, stamp);
        return Ok((changes, addresses_change));
    }
    let mut changes = Vec::new();
    let mut addresses_change = false;
    for t in auth.targets() {
        let e = existing.get(&t.name).cloned().unwrap_or_default();
        if let Some(what) = &e.foreign {
            return Err(Error::new(
                ErrorCode::NameNotAllowed,
                format!("{} has {what}, which route53-ddns does not manage", t.name),
            ));
        }
        let planned = plan::plan(&e, &desired(t));
        addresses_change |= !planned.is_empty();
        changes.extend(planned);
        changes.extend(stamp::stamp_changes(&e, &t.name, stamp));
    }
    Ok((changes, addresses_change))
}

fn desired(t: &crate::authorise::Target) -> Desired {
    Desired {
        name: t.name.clone(),
        ipv4: t.ipv4,
        ipv6: t.ipv6,
        ttl: t.ttl,
    }
}

fn done(
    auth: &Authorised,
    existing: &BTreeMap<String, Existing>,
    stamp_ms: u64,
    change_id: Option<String>,
    conflicts: u32,
) -> Reconciled {
    let hosts: Vec<(PublishedHost, bool)> = auth
        .targets()
        .iter()
        .map(|t| {
            let e = existing.get(&t.name).cloned().unwrap_or_default();
            let d = desired(t);
            let changed = !plan::plan(&e, &d).is_empty();
            let (a, aaaa, ttl) = plan::published(&e, &d);
            (
                PublishedHost {
                    name: t.name.clone(),
                    a,
                    aaaa,
                    ttl,
                },
                changed,
            )
        })
        .collect();
    let previous = auth
        .targets()
        .iter()
        .map(|t| {
            let e = existing.get(&t.name);
            (
                addresses(e.and_then(|e| e.a.as_ref())),
                addresses(e.and_then(|e| e.aaaa.as_ref())),
            )
        })
        .collect();
    Reconciled {
        previous,
        written: true,
        updated: hosts.iter().any(|(_, c)| *c),
        hosts,
        change_id,
        stamp_ms,
        conflicts,
        legacy_stamps: None,
    }
}

fn addresses<T: std::str::FromStr>(set: Option<&plan::RecordSet>) -> Vec<T> {
    set.iter()
        .flat_map(|s| s.values.iter().filter_map(|v| v.parse().ok()))
        .collect()
}
