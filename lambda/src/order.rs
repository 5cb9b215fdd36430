//! Pure: where a request stands in its names' order, and the refusals that follow from it:
//! the stamp a request writes (or why it may not), how the stamps settle a batch whose answer
//! was lost, and the waits a throttled caller is told (the spread itself: `pace.rs`). No
//! calls (see `reconcile.rs`).

use crate::aws::AwsError;
use crate::error::Error;
use crate::quiet;
use crate::stamp::Stamp;
use crate::verify::Order;
use route53_ddns_protocol::ErrorCode;
use std::time::Duration;

pub fn quiet_refusal(rest: Duration) -> Error {
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
pub enum Settled {
    /// A name carries its stamp: it was applied.
    Landed,
    /// A name carries a later stamp (its time): a newer request was accepted since, so
    /// whether this one was applied first cannot be known, and the newer one stands.
    Overtaken(u64),
    /// No name carries it nor anything later: it was not applied.
    NotApplied,
}

pub fn settle(mine: &Stamp, current: &[Option<Stamp>]) -> Settled {
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

pub fn overtaken(later_ms: u64) -> Error {
    Error::new(
        ErrorCode::Superseded,
        format!(
            "Route53's answer to this request was lost, and a request {later_ms} ms newer has since been accepted for these names; whether this one was applied before it cannot be known, and the newer one's records stand"
        ),
    )
}

pub fn unknown(error: AwsError) -> Error {
    Error::new(
        ErrorCode::Unavailable,
        "Route53's answer to this request was lost and the time to check whether it was applied ran out; a retry settles it",
    )
    .with_detail(format!("{error:?}"))
}

/// The stamp this request writes, or why it may not be written at all.
pub fn next_stamp(order: Order, by: &str, current: &[Option<Stamp>]) -> Result<Stamp, Error> {
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

/// The wait a throttled caller is told: grows with how contended the names were.
pub fn retry_after(conflicts: u32) -> u64 {
    (2u64 << conflicts.min(5)).min(60)
}

pub fn busy(conflicts: u32) -> Error {
    Error::new(
        ErrorCode::Throttled,
        "too many concurrent updates of these names; retry later",
    )
    .with_detail(format!("{conflicts} conflicting batches"))
    .with_retry_after(retry_after(conflicts))
}

/// A Route53 call failed for good. Throttled: the caller is told `paced` (this instance's
/// spread, `pace.rs`), or the contention wait if that is longer.
pub fn aws_error(e: AwsError, conflicts: u32, paced: u64) -> Error {
    let err = Error::aws("Route53", e);
    if err.code == ErrorCode::Throttled {
        let contended = if conflicts > 0 {
            retry_after(conflicts)
        } else {
            0
        };
        return err.with_retry_after(paced.max(contended).max(1));
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

    #[test]
    fn a_throttled_caller_is_told_the_paced_wait() {
        let told = |paced, conflicts| aws_error(AwsError::Throttled, conflicts, paced).retry_after;
        assert_eq!(
            told(17, 0),
            Some(17),
            "the instance's spread, not a fixed wait"
        );
        assert_eq!(told(0, 0), Some(1), "never 0");
        assert_eq!(told(3, 4), Some(retry_after(4)), "contention waits longer");
        let other = aws_error(AwsError::Busy("x".into()), 0, 17);
        assert_eq!(other.code, ErrorCode::Unavailable);
    }
}
