//! Makes Route53 match an [`Authorised`] request, in order: read the names' records and
//! stamps, refuse a request that is not later than every accepted one, write the address
//! changes and the new stamps in one ChangeBatch whose stamp DELETE+CREATE is a
//! compare-and-swap, and on a lost race read again and decide again.

use crate::authorise::Authorised;
use crate::aws::AwsError;
use crate::error::Error;
use crate::invocation::Invocation;
use crate::plan::{self, Desired, Existing, Stamp};
use crate::quiet;
use crate::route53::{is_conflict, ChangeFailure};
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
}

/// A stop this long before the budget ends leaves time to answer.
const MARGIN: Duration = Duration::from_millis(700);

pub fn reconcile(inv: &Invocation, auth: &Authorised) -> Result<Reconciled, Error> {
    let r53 = inv.route53(auth.zone());
    let names: Vec<String> = auth.targets().iter().map(|t| t.name.clone()).collect();
    let by = auth.principal().stamp_by();
    let mut conflicts = 0u32;
    // A batch whose outcome is unknown (an attempt's answer was lost, so a refusal that
    // followed may be its own echo), with the records it was planned against. A batch
    // Route53 refused is known not to be applied: it refuses batches whole.
    let mut unsure: Option<(Stamp, BTreeMap<String, Existing>)> = None;
    loop {
        let existing = r53.read(&names).map_err(|e| aws_error(e, conflicts))?;
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
        let stamp = next_stamp(auth.order(), &by, &current)?;
        let (changes, addresses_change) = changes_for(auth, &existing, &stamp)?;
        let auto = auth.targets().iter().any(|t| t.auto);
        let writes_anyway = addresses_change || auto;
        if let Some(rest) = quiet::quiet_for(auth.order(), writes_anyway, &current, inv.now_ms) {
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
            Ok(id) => return Ok(done(auth, &existing, stamp.time_ms, Some(id), conflicts)),
            Err(failure) => failure,
        };
        let conflict =
            matches!(&error, AwsError::Rejected { code, message } if is_conflict(code, message));
        if !conflict && !maybe_applied {
            return Err(aws_error(error, conflicts));
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
/// any of them is an address change.
fn changes_for(
    auth: &Authorised,
    existing: &BTreeMap<String, Existing>,
    stamp: &Stamp,
) -> Result<(Vec<plan::Change>, bool), Error> {
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
        changes.extend(plan::stamp_changes(&e, &t.name, stamp));
    }
    Ok((changes, addresses_change))
}

fn quiet_refusal(rest: Duration) -> Error {
    let secs = rest.as_secs().max(1);
    Error::new(
        ErrorCode::Throttled,
        format!(
            "this request changes no address and these names were written less than {} minutes ago; an unchanged request is written again after {secs} s",
            quiet::SIGNED.as_secs() / 60
        ),
    )
    .with_retry_after(secs)
}

/// What the names' stamps say about a batch whose outcome was unknown.
#[derive(Debug, PartialEq, Eq)]
enum Settled {
    /// A name carries its stamp: it was applied.
    Landed,
    /// A name carries a later stamp (its time): a newer request was accepted since, so
    /// whether this one was applied first cannot be known, and the newer one stands.
    Overtaken(u64),
    /// No name carries it nor anything later: it was not applied.
    NotApplied,
}

fn settle(mine: &Stamp, current: &[Option<Stamp>]) -> Settled {
    // A batch is applied whole, so one name carrying the stamp proves all of it landed
    // (a newer request may since have moved some of the names on).
    if current.iter().any(|s| s.as_ref() == Some(mine)) {
        return Settled::Landed;
    }
    let newer = current
        .iter()
        .flatten()
        .filter(|s| s.time_ms > mine.time_ms || (s.time_ms == mine.time_ms && s.by != mine.by))
        .map(|s| s.time_ms)
        .max();
    match newer {
        Some(t) => Settled::Overtaken(t),
        None => Settled::NotApplied,
    }
}

fn overtaken(later_ms: u64) -> Error {
    Error::new(
        ErrorCode::Superseded,
        format!(
            "Route53's answer to this request was lost, and a request {later_ms} ms newer has since been accepted for these names; whether this one was applied before it cannot be known, and the newer one's records stand"
        ),
    )
}

fn unknown(error: AwsError) -> Error {
    Error::new(
        ErrorCode::Unavailable,
        "Route53's answer to this request was lost and the time to check whether it was applied ran out; a retry settles it",
    )
    .with_detail(format!("{error:?}"))
}

/// The stamp this request writes, or why it may not be written at all.
fn next_stamp(order: Order, by: &str, current: &[Option<Stamp>]) -> Result<Stamp, Error> {
    let newest = current.iter().flatten().max_by_key(|s| s.time_ms);
    match order {
        Order::Signed(t) => {
            if let Some(s) = newest.filter(|s| s.time_ms >= t) {
                let same = current
                    .iter()
                    .flatten()
                    .any(|c| c.time_ms == t && c.by == by);
                return Err(if same {
                    Error::new(
                        ErrorCode::Replayed,
                        "this request was already accepted; it is not applied twice",
                    )
                } else {
                    Error::new(
                        ErrorCode::Superseded,
                        format!(
                            "a request {} ms newer than this one was already accepted for these names; this one would undo it",
                            s.time_ms - t
                        ),
                    )
                });
            }
            Ok(Stamp {
                time_ms: t,
                by: by.to_owned(),
            })
        }
        Order::Server(now) => {
            let after = newest.map_or(0, |s| s.time_ms.saturating_add(1));
            Ok(Stamp {
                time_ms: now.max(after),
                by: by.to_owned(),
            })
        }
    }
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
    }
}

fn addresses<T: std::str::FromStr>(set: Option<&plan::RecordSet>) -> Vec<T> {
    set.iter()
        .flat_map(|s| s.values.iter().filter_map(|v| v.parse().ok()))
        .collect()
}

/// The wait a throttled caller is told: grows with how contended the names were.
pub fn retry_after(conflicts: u32) -> u64 {
    (2u64 << conflicts.min(5)).min(60)
}

fn busy(conflicts: u32) -> Error {
    Error::new(
        ErrorCode::Throttled,
        "too many concurrent updates of these names; retry later",
    )
    .with_detail(format!("{conflicts} conflicting batches"))
    .with_retry_after(retry_after(conflicts))
}

fn aws_error(e: AwsError, conflicts: u32) -> Error {
    let err = Error::aws("Route53", e);
    if err.code == ErrorCode::Throttled {
        return err.with_retry_after(retry_after(conflicts + 1));
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: u64, by: &str) -> Option<Stamp> {
        Some(Stamp {
            time_ms: t,
            by: by.into(),
        })
    }

    #[test]
    fn a_signed_request_must_be_later_than_every_stamp() {
        let by = "k=A";
        assert_eq!(
            next_stamp(Order::Signed(10), by, &[None]).map(|s| s.time_ms),
            Ok(10)
        );
        assert_eq!(
            next_stamp(Order::Signed(10), by, &[s(9, "k=B")]).map(|s| s.time_ms),
            Ok(10)
        );
        let e = next_stamp(Order::Signed(10), by, &[s(9, by), s(11, "k=B")]).map(|_| ());
        assert_eq!(e.map_err(|e| e.code), Err(ErrorCode::Superseded));
        let e = next_stamp(Order::Signed(10), by, &[s(10, "k=B")]).map(|_| ());
        assert_eq!(
            e.map_err(|e| e.code),
            Err(ErrorCode::Superseded),
            "a tie is not later"
        );
        let e = next_stamp(Order::Signed(10), by, &[s(10, by)]).map(|_| ());
        assert_eq!(e.map_err(|e| e.code), Err(ErrorCode::Replayed));
    }

    #[test]
    fn server_order_moves_past_every_stamp() {
        let by = "u=alice";
        assert_eq!(
            next_stamp(Order::Server(100), by, &[None]).map(|s| s.time_ms),
            Ok(100)
        );
        assert_eq!(
            next_stamp(Order::Server(100), by, &[s(50, "k=A")]).map(|s| s.time_ms),
            Ok(100)
        );
        assert_eq!(
            next_stamp(Order::Server(100), by, &[s(150, "k=A"), s(120, "k=B")]).map(|s| s.time_ms),
            Ok(151)
        );
    }

    #[test]
    fn an_unknown_outcome_is_settled_by_the_stamps() {
        let mine = Stamp {
            time_ms: 10,
            by: "k=A".into(),
        };
        assert_eq!(
            settle(&mine, &[s(10, "k=A"), s(10, "k=A")]),
            Settled::Landed
        );
        assert_eq!(
            settle(&mine, &[s(10, "k=A"), s(12, "k=B")]),
            Settled::Landed,
            "applied whole, then one name moved on"
        );
        assert_eq!(settle(&mine, &[s(9, "k=B"), None]), Settled::NotApplied);
        assert_eq!(settle(&mine, &[]), Settled::NotApplied);
        assert_eq!(
            settle(&mine, &[s(9, "k=A"), s(12, "k=B")]),
            Settled::Overtaken(12)
        );
        assert_eq!(
            settle(&mine, &[s(10, "k=B")]),
            Settled::Overtaken(10),
            "the same time from another sender is not this request"
        );
        assert!(overtaken(2).message.contains("2 ms newer"));
    }

    #[test]
    fn the_throttled_wait_grows_with_contention() {
        assert_eq!(retry_after(0), 2);
        assert!(retry_after(3) > retry_after(1));
        assert_eq!(retry_after(50), 60);
    }
}
