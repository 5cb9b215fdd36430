//! The write budget: a request that changes no address does not write its names again
//! within their quiet period, so no client (a dyndns2 client re-sending on a timer, a
//! looping script, a stolen key) can make the endpoint spend Route53's account-wide request
//! rate on names that are already right. Pure: the caller reads, this decides.
//!
//! | door    | quiet period | a request inside it                                        |
//! |---------|--------------|------------------------------------------------------------|
//! | signed  | [`SIGNED`]   | 429 `throttled`, `retry_after` = the rest of the period     |
//! | dyndns2 | [`DYNDNS2`]  | `nochg`, nothing written                                    |
//!
//! Either way the request is not accepted: nothing is written and it takes no place in the
//! order of docs/protocol.md §3; a signed sender is told to come back when the period ends.
//! A signed request with an `"auto"` address is always written: left unwritten, a copy of
//! it sent from another address within the signing window would publish that address.
//! Routers send unchanged requests only at boot and for the daily heartbeat, so the signed
//! period meets them only after two boots within minutes.

use crate::stamp::Stamp;
use crate::verify::Order;
use std::time::Duration;

/// Quiet period of a name for unchanged signed requests.
pub const SIGNED: Duration = Duration::from_secs(10 * 60);
/// Quiet period of a name for unchanged dyndns2 requests: a client polling every 5 minutes
/// writes at most twice a day.
pub const DYNDNS2: Duration = Duration::from_secs(24 * 60 * 60);

/// Whether an unchanged request (`writes_anyway` false: no address changes, no `"auto"`)
/// must be left unwritten: the rest of its names' quiet period
/// (counted from the newest of their stamps), when every name carries a stamp. A name without
/// a stamp is written (it gets one). Stamp times in the future (a signed request's clock may
/// run ahead, within the accepted skew) count as written just now.
pub fn quiet_for(
    order: Order,
    writes_anyway: bool,
    stamps: &[Option<Stamp>],
    now_ms: u64,
) -> Option<Duration> {
    if writes_anyway || stamps.is_empty() {
        return None;
    }
    let period = match order {
        Order::Signed(_) => SIGNED,
        Order::Server(_) => DYNDNS2,
    };
    let mut newest_age = Duration::MAX;
    for stamp in stamps {
        let written = stamp.as_ref()?.time_ms;
        newest_age = newest_age.min(Duration::from_millis(now_ms.saturating_sub(written)));
    }
    let rest = period.checked_sub(newest_age)?;
    (!rest.is_zero()).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: u64) -> Option<Stamp> {
        Some(Stamp {
            time_ms: t,
            by: "k=A".into(),
        })
    }

    const MIN: u64 = 60_000;

    #[test]
    fn an_unchanged_request_inside_the_period_is_not_written() {
        let now = 100_000 * MIN;
        let signed = Order::Signed(now);
        assert_eq!(
            quiet_for(signed, false, &[at(now - 3 * MIN)], now),
            Some(Duration::from_secs(7 * 60))
        );
        assert_eq!(quiet_for(signed, false, &[at(now - 10 * MIN)], now), None);
        assert_eq!(
            quiet_for(signed, false, &[at(now + 5_000)], now),
            Some(SIGNED),
            "a stamp ahead of the server's clock counts as just written"
        );
        let dyn2 = Order::Server(now);
        assert_eq!(
            quiet_for(dyn2, false, &[at(now - 23 * 60 * MIN)], now),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            quiet_for(dyn2, false, &[at(now - 24 * 60 * MIN)], now),
            None
        );
    }

    #[test]
    fn changes_missing_stamps_and_old_names_are_written() {
        let now = 100_000 * MIN;
        let signed = Order::Signed(now);
        assert_eq!(quiet_for(signed, true, &[at(now)], now), None);
        assert_eq!(quiet_for(signed, false, &[at(now), None], now), None);
        assert_eq!(quiet_for(signed, false, &[], now), None);
        assert_eq!(
            quiet_for(signed, false, &[at(now - MIN), at(now - 4 * MIN)], now),
            Some(Duration::from_secs(9 * 60)),
            "the period runs from the newest write of any of the names"
        );
    }
}
