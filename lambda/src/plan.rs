//! What to write, decided without any I/O: the records at a name, the records it should
//! have, the smallest change between them, and the ordering stamp that goes with it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Prefix of the ordering stamp's name: TXT `_r53ddns.<name>`.
pub const STAMP_LABEL: &str = "_r53ddns";
/// TTL of the stamp record (nobody resolves it; small keeps it cheap to change).
pub const STAMP_TTL: u32 = 60;

/// One record set as Route53 holds it (simple routing only; see `Existing::foreign`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSet {
    pub name: String,
    pub rtype: String,
    pub ttl: u32,
    pub values: Vec<String>,
}

/// Everything at one name that matters here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Existing {
    pub a: Option<RecordSet>,
    pub aaaa: Option<RecordSet>,
    pub stamp: Option<RecordSet>,
    /// A record type or routing policy this function must not fight with (CNAME, alias,
    /// weighted/latency/… sets at the name): described for the error message.
    pub foreign: Option<String>,
}

/// The last accepted request for a name, from its stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub time_ms: u64,
    /// Who sent it, as `h=<stamp_id>` (see [`stamp_id`]); equal for equal senders.
    pub by: String,
}

/// The public stand-in for a sender in its stamps: `h=` and 16 base64url characters (96
/// bits) of SHA-256 over a fixed label and `k=<key id>` or `u=<dyndns2 user>`. Ordering
/// only needs to tell senders apart, so the stamp, which anyone can read in DNS, carries
/// this instead of the key id or user name.
pub fn stamp_id(who: &str) -> String {
    let mut input = b"route53-ddns stamp v1\n".to_vec();
    input.extend_from_slice(who.as_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA256, &input);
    let text = route53_ddns_protocol::base64url::encode(digest.as_ref());
    format!("h={}", &text[..16])
}

impl Existing {
    /// The stamp of the last accepted request, when there is a readable one.
    pub fn stamp(&self) -> Option<Stamp> {
        parse_stamp(self.stamp.as_ref()?.values.first()?)
    }
}

/// What stands for the `*` of a wildcard in its stamp's name: `*.x` is stamped at
/// `_r53ddns._wildcard.x`. Not `_r53ddns.*.x` (a `*` inside a name is a literal asterisk
/// that DNS tools and IAM patterns trip over) and not `_r53ddns.x` (the stamp of `x`).
/// No host name has a `_` label, so no other name's stamp can be this one.
pub const WILDCARD_STAMP_LABEL: &str = "_wildcard";

/// The stamp's name: `_r53ddns.<name>`, with a wildcard's `*` as `_wildcard`.
pub fn stamp_name(name: &str) -> String {
    match name.strip_prefix("*.") {
        Some(base) => format!("{STAMP_LABEL}.{WILDCARD_STAMP_LABEL}.{base}"),
        None => format!("{STAMP_LABEL}.{name}"),
    }
}

/// The stamp's TXT value, quoted as Route53 wants it.
pub fn stamp_value(stamp: &Stamp) -> String {
    format!("\"t={} {}\"", stamp.time_ms, stamp.by)
}

pub fn parse_stamp(value: &str) -> Option<Stamp> {
    let inner = value.trim_matches('"');
    let time_ms = inner
        .split(' ')
        .find_map(|f| f.strip_prefix("t="))
        .and_then(|t| t.parse().ok())?;
    // `h=` is written now; `k=`/`u=` (the sender in clear) by earlier versions, read as
    // the same sender's `h=` so that ordering and replay detection carry over.
    let by = inner
        .split(' ')
        .find_map(|f| match f.get(..2) {
            Some("h=") => Some(f.to_owned()),
            Some("k=" | "u=") => Some(stamp_id(f)),
            _ => None,
        })
        .unwrap_or_default();
    Some(Stamp { time_ms, by })
}

/// What one name should hold after the request. `None` = leave that family alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    pub ttl: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Delete,
    Upsert,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "CREATE",
            Action::Delete => "DELETE",
            Action::Upsert => "UPSERT",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    pub set: RecordSet,
}

/// The A/AAAA changes that bring `existing` to `desired`; empty when nothing differs.
pub fn plan(existing: &Existing, desired: &Desired) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut family = |current: &Option<RecordSet>, rtype: &str, want: Option<String>| {
        let Some(want) = want else { return };
        let same = current.as_ref().is_some_and(|c| {
            c.ttl == desired.ttl && c.values.len() == 1 && same_address(&c.values[0], &want)
        });
        if !same {
            changes.push(Change {
                action: Action::Upsert,
                set: RecordSet {
                    name: desired.name.clone(),
                    rtype: rtype.into(),
                    ttl: desired.ttl,
                    values: vec![want],
                },
            });
        }
    };
    family(&existing.a, "A", desired.ipv4.map(|a| a.to_string()));
    family(&existing.aaaa, "AAAA", desired.ipv6.map(|a| a.to_string()));
    changes
}

/// Compares addresses as addresses, so `2001:DB8::1` equals `2001:db8::1`.
fn same_address(have: &str, want: &str) -> bool {
    match (have.parse::<IpAddr>(), want.parse::<IpAddr>()) {
        (Ok(h), Ok(w)) => h == w,
        _ => false,
    }
}

/// Replaces the stamp: DELETE of the exact old set plus CREATE of the new one. Route53
/// refuses the whole batch when the old set is no longer exactly so, or when a stamp
/// appeared meanwhile: a compare-and-swap on the name's order.
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
        set: RecordSet {
            name: stamp_name(name),
            rtype: "TXT".into(),
            ttl: STAMP_TTL,
            values: vec![stamp_value(stamp)],
        },
    });
    changes
}

/// Route53's listing order for a name: labels reversed, with the trailing dot, compared
/// as bytes ("com.example.home." < "com.example.home._r53ddns.").
pub fn order_key(name: &str) -> String {
    let mut key: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    key.reverse();
    let mut out = key.join(".");
    out.push('.');
    out
}

/// The records of a name once `desired` is applied (what the answer reports).
pub fn published(existing: &Existing, desired: &Desired) -> (Vec<Ipv4Addr>, Vec<Ipv6Addr>, u32) {
    let values = |set: &Option<RecordSet>| -> Vec<String> {
        set.iter().flat_map(|s| s.values.iter().cloned()).collect()
    };
    let a = match desired.ipv4 {
        Some(a) => vec![a],
        None => values(&existing.a)
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect(),
    };
    let aaaa = match desired.ipv6 {
        Some(a) => vec![a],
        None => values(&existing.aaaa)
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect(),
    };
    let ttl = if desired.ipv4.is_some() || desired.ipv6.is_some() {
        desired.ttl
    } else {
        existing
            .a
            .as_ref()
            .or(existing.aaaa.as_ref())
            .map_or(desired.ttl, |s| s.ttl)
    };
    (a, aaaa, ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(rtype: &str, ttl: u32, value: &str) -> RecordSet {
        RecordSet {
            name: "home.example.com".into(),
            rtype: rtype.into(),
            ttl,
            values: vec![value.into()],
        }
    }

    fn desired(v4: Option<&str>, v6: Option<&str>, ttl: u32) -> Desired {
        Desired {
            name: "home.example.com".into(),
            ipv4: v4.map(|a| a.parse().expect("v4")),
            ipv6: v6.map(|a| a.parse().expect("v6")),
            ttl,
        }
    }

    #[test]
    fn plan_writes_only_what_differs() {
        let e = Existing {
            a: Some(set("A", 60, "192.0.2.1")),
            aaaa: Some(set("AAAA", 300, "2001:db8::1")),
            ..Default::default()
        };
        assert!(plan(&e, &desired(Some("192.0.2.1"), None, 60)).is_empty());
        assert!(plan(&e, &desired(None, None, 60)).is_empty());
        let p = plan(&e, &desired(Some("192.0.2.2"), None, 60));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].action, Action::Upsert);
        assert_eq!(p[0].set.values, vec!["192.0.2.2".to_string()]);
        // Same address, different TTL: rewrite. AAAA at TTL 300 vs wanted 60.
        let p = plan(&e, &desired(Some("192.0.2.1"), Some("2001:DB8::1"), 60));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].set.rtype, "AAAA");
        let p = plan(
            &Existing::default(),
            &desired(Some("192.0.2.1"), Some("2001:db8::1"), 60),
        );
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn stamps_replace_the_exact_old_value() {
        let mut e = Existing::default();
        let s5 = Stamp {
            time_ms: 5,
            by: stamp_id("k=K"),
        };
        let first = stamp_changes(&e, "home.example.com", &s5);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].action, Action::Create);
        assert_eq!(first[0].set.name, "_r53ddns.home.example.com");
        let v5 = format!("\"t=5 {}\"", stamp_id("k=K"));
        assert_eq!(first[0].set.values, vec![v5.clone()]);
        e.stamp = Some(first[0].set.clone());
        assert_eq!(e.stamp(), Some(s5));
        let alice = Stamp {
            time_ms: 9,
            by: stamp_id("u=alice"),
        };
        let next = stamp_changes(&e, "home.example.com", &alice);
        assert_eq!(next[0].action, Action::Delete);
        assert_eq!(next[0].set.values, vec![v5]);
        assert_eq!(next[1].action, Action::Create);
        assert_eq!(parse_stamp(&next[1].set.values[0]), Some(alice));
        assert_eq!(parse_stamp("\"garbage\""), None);
    }

    #[test]
    fn a_stamp_names_no_sender_and_reads_the_earlier_format_as_the_same_sender() {
        let key = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let by = stamp_id(&format!("k={key}"));
        let value = stamp_value(&Stamp {
            time_ms: 1764115200000,
            by: by.clone(),
        });
        assert!(!value.contains(key) && !value.contains("11qY"), "{value}");
        assert_eq!(value.len(), "\"t=1764115200000 h=\"".len() + 16);
        assert!(!stamp_value(&Stamp {
            time_ms: 1,
            by: stamp_id("u=alice")
        })
        .contains("alice"));
        // Different senders, different ids; the earlier clear-text format (either field
        // order) is read as the sender's id, so its replay is still `replayed`.
        assert_ne!(by, stamp_id("u=alice"));
        assert_ne!(stamp_id("k=alice"), stamp_id("u=alice"));
        for old in [
            format!("\"t=1764115200000 k={key}\""),
            format!("\"k={key} t=1764115200000\""),
        ] {
            assert_eq!(
                parse_stamp(&old),
                Some(Stamp {
                    time_ms: 1764115200000,
                    by: by.clone()
                }),
                "{old}"
            );
        }
        assert_eq!(
            parse_stamp("\"t=3 u=alice\"").map(|s| s.by),
            Some(stamp_id("u=alice"))
        );
    }

    #[test]
    fn a_wildcard_is_stamped_at_a_fixed_label_that_sorts_after_it() {
        assert_eq!(stamp_name("home.example.com"), "_r53ddns.home.example.com");
        assert_eq!(
            stamp_name("*.home.example.com"),
            "_r53ddns._wildcard.home.example.com"
        );
        // Legal, not a wildcard, never a host name's stamp, and after the name in Route53's
        // order (so one read from the name reaches it).
        let s = stamp_name("*.home.example.com");
        assert!(!s.contains('*'));
        assert_ne!(s, stamp_name("home.example.com"));
        assert!(order_key("*.home.example.com") < order_key(&s));
        let changes = stamp_changes(
            &Existing::default(),
            "*.home.example.com",
            &Stamp {
                time_ms: 1,
                by: "k=K".into(),
            },
        );
        assert_eq!(changes[0].set.name, "_r53ddns._wildcard.home.example.com");
    }

    #[test]
    fn order_keys_sort_as_route53_lists() {
        assert_eq!(order_key("home.example.com"), "com.example.home.");
        let mut names = vec![
            "_r53ddns.home.example.com",
            "nas.example.com",
            "home.example.com",
            "a.home.example.com",
            "1.home.example.com",
            "example.com",
        ];
        names.sort_by_key(|n| order_key(n));
        assert_eq!(
            names,
            vec![
                "example.com",
                "home.example.com",
                "1.home.example.com",
                "_r53ddns.home.example.com",
                "a.home.example.com",
                "nas.example.com"
            ]
        );
    }
}
