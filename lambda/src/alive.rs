//! The silence check's second source of "last seen": an accepted request writes the stamp
//! `_r53ddns.<name>` (an AAAA of the time and the sender id, `stamp.rs`) in the same ChangeBatch as
//! its records (unless it is an unchanged one inside its quiet period, `quiet.rs`), so a router whose last-seen record is too old (its PutParameter failed, e.g.
//! throttled in a burst) is still alive when a stamp of one of its names names it and is
//! recent. Only the principals the records call silent are checked, at most
//! [`MAX_CHECKED`] of them and [`MAX_READS`] stamp reads per run; a read that fails leaves
//! the principal silent (the alarm errs towards telling).
//!
//! The stamps are read here, not through `route53::Route53` (which only an `Authorised` can
//! make, for reconciling): one `ListResourceRecordSets` of one item starting at
//! `_r53ddns.<name>`, read-only, of a record that is public in DNS anyway. That item is the
//! AAAA stamp (Route53 lists AAAA before TXT), or, at a name no request has written since an
//! earlier version, that version's TXT stamp.

use crate::aws;
use crate::invocation::Invocation;
use crate::listing::Entry;
use crate::registry::{parse_key_entry, parse_token_entry};
use crate::route53_xml::{existing_of, parse_page};
use crate::stamp::{stamp_name, Stamp};
use std::cell::Cell;
use std::collections::HashMap;

/// Silent principals whose stamps are read; beyond, they stay silent.
pub const MAX_CHECKED: usize = 50;
/// Stamp reads per run, over all principals.
pub const MAX_READS: usize = 100;

/// The names each principal (as the silence check names it) may update, from the listed
/// registry entries. Entries that do not parse grant nothing.
pub fn names_of(
    prefix: &str,
    keys: &[Entry],
    tokens: &[Entry],
    default_ttl: u32,
) -> HashMap<String, Vec<String>> {
    let mut out = HashMap::new();
    let child = |name: &str, kind: &str| {
        let id = name.strip_prefix(prefix)?.strip_prefix('/')?;
        let id = id.strip_prefix(kind)?.strip_prefix('/')?;
        (!id.is_empty() && !id.contains('/')).then(|| id.to_owned())
    };
    for e in keys {
        if let (Some(id), Ok(g)) = (
            child(&e.name, "keys"),
            parse_key_entry(&e.value, default_ttl),
        ) {
            out.insert(id, g.into_iter().map(|g| g.name).collect());
        }
    }
    for e in tokens {
        let parsed = parse_token_entry(&e.value, default_ttl);
        if let (Some(id), Ok(t)) = (child(&e.name, "tokens"), parsed) {
            let names = t.names.into_iter().map(|g| g.name).collect();
            out.insert(format!("dyndns2:{id}"), names);
        }
    }
    out
}

/// Whether `stamp` is of an accepted request of `principal` within `limit_ms` of `now_ms`.
pub fn vouches(stamp: &Stamp, principal: &str, now_ms: u64, limit_ms: u64) -> bool {
    let by = crate::stamp::stamp_id(&match principal.strip_prefix("dyndns2:") {
        Some(user) => format!("u={user}"),
        None => format!("k={principal}"),
    });
    stamp.by == by && now_ms.saturating_sub(stamp.time_ms) <= limit_ms
}

/// Of `silent`, those no recent stamp of their names vouches for.
pub fn still_silent(
    inv: &Invocation,
    silent: Vec<String>,
    names: &HashMap<String, Vec<String>>,
    limit_ms: u64,
) -> Vec<String> {
    let reads = Cell::new(0usize);
    silent
        .into_iter()
        .enumerate()
        .filter(|(i, who)| *i >= MAX_CHECKED || !alive(inv, who, names, limit_ms, &reads))
        .map(|(_, who)| who)
        .collect()
}

fn alive(
    inv: &Invocation,
    who: &str,
    names: &HashMap<String, Vec<String>>,
    limit_ms: u64,
    reads: &Cell<usize>,
) -> bool {
    names.get(who).into_iter().flatten().any(|name| {
        if reads.get() >= MAX_READS {
            return false;
        }
        reads.set(reads.get() + 1);
        read_stamp(inv, name).is_some_and(|s| vouches(&s, who, inv.now_ms, limit_ms))
    })
}

/// The stamp of `name` (in its longest-suffix zone), `None` when there is none or the read
/// failed.
fn read_stamp(inv: &Invocation, name: &str) -> Option<Stamp> {
    let zone = crate::zones::zone_of(&inv.cfg.zones, name)?;
    let url = crate::route53::list_url(&inv.cfg.route53_endpoint, &zone.id, &stamp_name(name), 1);
    let reply = aws::with_retry(inv.budget, || {
        inv.route53_calls.set(inv.route53_calls.get() + 1);
        aws::send("GET", &url, &[], b"", "us-east-1", "route53")
    })
    .ok()
    .filter(|r| r.status == 200)?;
    let page = parse_page(std::str::from_utf8(&reply.body).ok()?).ok()?;
    existing_of(&page.sets, name).stamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_vouches_only_for_its_own_principal_and_only_when_recent() {
        let s = |by: &str, t| Stamp {
            time_ms: t,
            by: crate::stamp::stamp_id(by),
        };
        let (now, limit) = (100_000, 10_000);
        assert!(vouches(&s("k=KEY", 95_000), "KEY", now, limit));
        assert!(vouches(&s("u=alice", 90_000), "dyndns2:alice", now, limit));
        assert!(!vouches(&s("k=KEY", 89_999), "KEY", now, limit), "too old");
        assert!(
            !vouches(&s("k=OTHER", 99_000), "KEY", now, limit),
            "another key wrote last"
        );
        assert!(
            !vouches(&s("u=KEY", 99_000), "KEY", now, limit),
            "a user named like the key"
        );
        assert!(
            vouches(&s("k=KEY", 101_000), "KEY", now, limit),
            "a router clock ahead"
        );
    }

    #[test]
    fn names_come_from_the_listed_entries() {
        let e = |name: &str, value: &str| Entry {
            name: name.into(),
            value: value.into(),
            modified_ms: None,
        };
        let keys = [
            e("/p/keys/K1", r#"{"names":["A.example.com"]}"#),
            e("/p/keys/K2", "not json"),
            e("/p/keys/a/b", r#"{"names":["b.example.com"]}"#),
        ];
        let tokens = [e(
            "/p/tokens/alice",
            &format!(
                r#"{{"sha256":"{}","names":["n.example.com"]}}"#,
                "ab".repeat(32)
            ),
        )];
        let got = names_of("/p", &keys, &tokens, 60);
        assert_eq!(got.len(), 2);
        assert_eq!(got["K1"], ["a.example.com"]);
        assert_eq!(got["dyndns2:alice"], ["n.example.com"]);
    }
}
