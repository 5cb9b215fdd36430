//! The ordering stamp of a name: where it lives (`_r53ddns.<name>`), the one AAAA value it
//! is written as, the sender id it carries, the earlier TXT forms still read, and the
//! changes that move it (a compare-and-swap) or retire an earlier TXT stamp.
//!
//! AAAA, not TXT, so that the function's role needs no right to create TXT records at all
//! (a TXT at `_acme-challenge.<name>` would obtain certificates): docs/security.md.

use crate::plan::{Action, Change, Existing, RecordSet};
use std::collections::BTreeMap;
use std::net::Ipv6Addr;

/// Prefix of the ordering stamp's name: `_r53ddns.<name>`.
pub const STAMP_LABEL: &str = "_r53ddns";
/// TTL of the stamp record (nobody resolves it; small keeps it cheap to change).
pub const STAMP_TTL: u32 = 60;
/// What stands for the `*` of a wildcard in its stamp's name: `*.x` is stamped at
/// `_r53ddns._wildcard.x`. Not `_r53ddns.*.x` (a `*` inside a name is a literal asterisk
/// that DNS tools and IAM patterns trip over) and not `_r53ddns.x` (the stamp of `x`).
/// No host name has a `_` label, so no other name's stamp can be this one.
pub const WILDCARD_STAMP_LABEL: &str = "_wildcard";

/// First 16 bits of a stamp: inside 0100::/8, which IANA's IPv6 address space registry
/// keeps reserved by the IETF (never assigned to anyone; its 100::/64 is RFC 6666's
/// discard-only prefix), so a stamp is no one's address and nothing routes to it.
const MARKER: u16 = 0x0100;
/// Next 16 bits: the layout's version.
const VERSION: u16 = 1;
/// Then 48 bits of time (Unix ms: until the year 10889) and 48 bits of the sender id.
pub const MAX_TIME_MS: u64 = route53_ddns_protocol::MAX_STAMP_MS;
const MASK48: u64 = MAX_TIME_MS;

/// The last accepted request for a name, from its stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub time_ms: u64,
    /// Who sent it, as `h=<stamp_id>` (see [`stamp_id`]); equal for equal senders.
    pub by: String,
}

/// The public stand-in for a sender in its stamps: `h=` and 8 base64url characters (48
/// bits) of SHA-256 over a fixed label and `k=<key id>` or `u=<dyndns2 user>`. Ordering
/// only needs to tell senders apart (and one sender's replay from another's request at the
/// same millisecond), so the stamp, which anyone can read in DNS, carries this instead of
/// the key id or user name.
pub fn stamp_id(who: &str) -> String {
    let mut input = b"route53-ddns stamp v1\n".to_vec();
    input.extend_from_slice(who.as_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA256, &input);
    id_of(&digest.as_ref()[..6])
}

fn id_of(six: &[u8]) -> String {
    format!("h={}", route53_ddns_protocol::base64url::encode(six))
}

/// The 48 bits of a `by`. Every `by` this function makes is a [`stamp_id`]; anything else
/// stands for the id of itself.
fn sender_bits(by: &str) -> u64 {
    let bytes = by
        .strip_prefix("h=")
        .and_then(route53_ddns_protocol::base64url::decode)
        .filter(|b| b.len() == 6);
    match bytes {
        Some(b) => b.iter().fold(0, |acc, x| acc << 8 | u64::from(*x)),
        None => sender_bits(&stamp_id(by)),
    }
}

/// The stamp's name: `_r53ddns.<name>`, with a wildcard's `*` as `_wildcard`.
pub fn stamp_name(name: &str) -> String {
    match name.strip_prefix("*.") {
        Some(base) => format!("{STAMP_LABEL}.{WILDCARD_STAMP_LABEL}.{base}"),
        None => format!("{STAMP_LABEL}.{name}"),
    }
}

/// The stamp as an address: marker, version, time, sender. Times are within the clock
/// window of now (signed) or now (dyndns2), far below [`MAX_TIME_MS`]; a larger one is
/// written as the largest.
pub fn encode(stamp: &Stamp) -> Ipv6Addr {
    let bits = u128::from(MARKER) << 112
        | u128::from(VERSION) << 96
        | u128::from(stamp.time_ms.min(MAX_TIME_MS)) << 48
        | u128::from(sender_bits(&stamp.by));
    Ipv6Addr::from(bits)
}

/// The stamp's AAAA value: RFC 5952 text (Rust's `Ipv6Addr` display), e.g.
/// `100:1:19a:bd75:b87b:de99:c13:16fa`.
pub fn stamp_value(stamp: &Stamp) -> String {
    encode(stamp).to_string()
}

/// A stamp from an AAAA value in any text form Route53 may list; `None` if it is not one.
pub fn decode(value: &str) -> Option<Stamp> {
    let bits = u128::from(value.trim().parse::<Ipv6Addr>().ok()?);
    if (bits >> 112) as u16 != MARKER || (bits >> 96) as u16 != VERSION {
        return None;
    }
    let sender = (bits as u64) & MASK48;
    Some(Stamp {
        time_ms: ((bits >> 48) as u64) & MASK48,
        by: id_of(&sender.to_be_bytes()[2..]),
    })
}

/// An earlier version's TXT stamp: `"t=<ms> h=<16 chars>"`, `"t=<ms> k=<key id>"` or
/// `"t=<ms> u=<user>"` (fields in either order), read as the same sender's id so that
/// ordering and replay detection carry over. A time no stamp can hold is not a stamp.
pub fn parse_legacy(value: &str) -> Option<Stamp> {
    let inner = value.trim_matches('"');
    let time_ms = inner
        .split(' ')
        .find_map(|f| f.strip_prefix("t="))
        .and_then(|t| t.parse().ok())
        .filter(|t| *t <= MAX_TIME_MS)?;
    let by = inner
        .split(' ')
        .find_map(|f| match f.get(..2) {
            Some("h=") => f.get(..10).map(str::to_owned),
            Some("k=" | "u=") => Some(stamp_id(f)),
            _ => None,
        })
        .unwrap_or_default();
    Some(Stamp { time_ms, by })
}

impl Existing {
    /// The stamp of the last accepted request: the newest of the AAAA stamp and an earlier
    /// version's TXT stamp, when either is readable.
    pub fn stamp(&self) -> Option<Stamp> {
        let one = |set: &Option<RecordSet>| -> Option<String> {
            set.as_ref()
                .filter(|s| s.values.len() == 1)?
                .values
                .first()
                .cloned()
        };
        let current = one(&self.stamp).and_then(|v| decode(&v));
        let legacy = one(&self.legacy_stamp).and_then(|v| parse_legacy(&v));
        match (current, legacy) {
            (Some(c), Some(l)) if l.time_ms > c.time_ms => Some(l),
            (c, l) => c.or(l),
        }
    }
}

/// Replaces the AAAA stamp: DELETE of the exact old set plus CREATE of the new one, or a
/// CREATE alone when there is none. Route53 refuses the whole batch when the old set is no
/// longer exactly so, or when a stamp appeared meanwhile: a compare-and-swap on the name's
/// order. An earlier TXT stamp is not touched here (see [`legacy_removal`]).
pub fn stamp_changes(existing: &Existing, name: &str, stamp: &Stamp) -> Vec<Change> {
    let mut changes = Vec::new();
    if let Some(old) = &existing.stamp {
        changes.push(Change {
            action: Action::Delete,
            set: old.clone(),
        });
    }
    changes.push(Change {
        action: Action::Create,
        set: stamp_set(name, stamp),
    });
    changes
}

/// The stamp record of `name` carrying `stamp`: one AAAA value at [`stamp_name`].
pub fn stamp_set(name: &str, stamp: &Stamp) -> RecordSet {
    RecordSet {
        name: stamp_name(name),
        rtype: "AAAA".into(),
        ttl: STAMP_TTL,
        values: vec![stamp_value(stamp)],
    }
}

/// DELETEs of the earlier versions' TXT stamps of these names, exactly as read: sent on
/// their own after a successful write (the role may not create or upsert TXT, so a batch
/// mixing them with the new stamp's CREATE would be denied).
pub fn legacy_removal(existing: &BTreeMap<String, Existing>) -> Vec<Change> {
    existing
        .values()
        .filter_map(|e| e.legacy_stamp.clone())
        .map(|set| Change {
            action: Action::Delete,
            set,
        })
        .collect()
}

#[cfg(test)]
#[path = "stamp_tests.rs"]
mod tests;
