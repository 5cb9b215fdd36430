//! What to write, decided without any I/O: the records at a name, the records it should
//! have, the smallest change between them, and Route53's order of names (the ordering
//! stamp that goes with each write: `stamp.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
    /// The AAAA stamp set at `_r53ddns.<name>` (see `stamp.rs`).
    pub stamp: Option<RecordSet>,
    /// An earlier version's TXT stamp at the same name: read, never written, removed.
    pub legacy_stamp: Option<RecordSet>,
    /// A record type or routing policy this function must not fight with (CNAME, alias,
    /// weighted/latency/… sets at the name): described for the error message.
    pub foreign: Option<String>,
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

impl Desired {
    /// The one-value record set this name should hold, for each family given.
    pub fn wanted(&self) -> Vec<RecordSet> {
        let set = |rtype: &str, value: String| RecordSet {
            name: self.name.clone(),
            rtype: rtype.into(),
            ttl: self.ttl,
            values: vec![value],
        };
        let a = self.ipv4.map(|a| set("A", a.to_string()));
        let aaaa = self.ipv6.map(|a| set("AAAA", a.to_string()));
        a.into_iter().chain(aaaa).collect()
    }
}

impl Existing {
    /// The A or AAAA set at the name.
    pub fn family(&self, rtype: &str) -> Option<&RecordSet> {
        match rtype {
            "A" => self.a.as_ref(),
            "AAAA" => self.aaaa.as_ref(),
            _ => None,
        }
    }
}

/// The A/AAAA changes that bring `existing` to `desired`; empty when nothing differs.
pub fn plan(existing: &Existing, desired: &Desired) -> Vec<Change> {
    desired
        .wanted()
        .into_iter()
        .filter(|want| {
            let same = existing.family(&want.rtype).is_some_and(|c| {
                c.ttl == want.ttl
                    && c.values.len() == 1
                    && same_address(&c.values[0], &want.values[0])
            });
            !same
        })
        .map(|set| Change {
            action: Action::Upsert,
            set,
        })
        .collect()
}

/// Compares addresses as addresses, so `2001:DB8::1` equals `2001:db8::1`.
fn same_address(have: &str, want: &str) -> bool {
    match (have.parse::<IpAddr>(), want.parse::<IpAddr>()) {
        (Ok(h), Ok(w)) => h == w,
        _ => false,
    }
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

    /// A at TTL 60 and AAAA at TTL 300.
    fn both() -> Existing {
        Existing {
            a: Some(set("A", 60, "192.0.2.1")),
            aaaa: Some(set("AAAA", 300, "2001:db8::1")),
            ..Default::default()
        }
    }

    #[test]
    fn plan_writes_only_what_differs() {
        let e = both();
        assert!(plan(&e, &desired(Some("192.0.2.1"), None, 60)).is_empty());
        assert!(plan(&e, &desired(None, None, 60)).is_empty());
        assert!(plan(&e, &desired(None, Some("2001:DB8::1"), 300)).is_empty());
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
    fn published_reports_the_families_left_alone_as_they_are() {
        let e = both();
        let v4 = |a: &str| a.parse::<Ipv4Addr>().expect("v4");
        let v6 = |a: &str| a.parse::<Ipv6Addr>().expect("v6");
        assert_eq!(
            published(&e, &desired(Some("192.0.2.2"), None, 90)),
            (vec![v4("192.0.2.2")], vec![v6("2001:db8::1")], 90)
        );
        assert_eq!(
            published(&e, &desired(None, Some("2001:db8::2"), 120)),
            (vec![v4("192.0.2.1")], vec![v6("2001:db8::2")], 120)
        );
        assert_eq!(
            published(&e, &desired(None, None, 99)),
            (vec![v4("192.0.2.1")], vec![v6("2001:db8::1")], 60)
        );
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
