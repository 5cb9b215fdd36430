//! The body of `POST /v1/update`: which names to point at which addresses.
//!
//! ```json
//! {"hosts":[{"name":"home.example.com","ipv4":"auto","ipv6":"2001:db8:1::1"}]}
//! ```
//! A family left out is left alone on the server: sending only IPv4 never deletes AAAA.
//! A host may carry `last`, what the router was told after its last accepted request for
//! the name ([`Last`]): the server then writes without reading first.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    pub hosts: Vec<HostUpdate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostUpdate {
    /// The name as the router's owner wrote it; the server canonicalises it.
    pub name: String,
    #[serde(default, skip_serializing_if = "AddrSpec::is_keep")]
    pub ipv4: AddrSpec<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "AddrSpec::is_keep")]
    pub ipv6: AddrSpec<Ipv6Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Last>,
}

/// What the router was told after its last accepted request for a name: the time that
/// request's ordering stamp carries (the answer's `stamp`) and the records the answer
/// reported. The server takes it as its guess of what Route53 holds and makes its write
/// conditional on it (Route53 refuses the whole batch when any part of the guess is wrong);
/// a wrong or stale guess costs one read, never a wrong write (docs/protocol.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Last {
    pub stamp: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub a: Vec<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aaaa: Vec<Ipv6Addr>,
    pub ttl: u32,
}

/// The most addresses of one family a [`Last`] may list; a longer one is no guess.
pub const MAX_LAST_ADDRESSES: usize = 8;

impl Last {
    /// The guess, when every number in it is one the server could have answered.
    pub fn usable(&self) -> Option<&Last> {
        let fits = (1..=crate::MAX_STAMP_MS).contains(&self.stamp)
            && crate::TTL_RANGE.contains(&self.ttl)
            && self.a.len() <= MAX_LAST_ADDRESSES
            && self.aaaa.len() <= MAX_LAST_ADDRESSES;
        fits.then_some(self)
    }

    /// The router's state file form: `<stamp> <ttl> <a,...> <aaaa,...>` (`-` for none).
    pub fn to_text(&self) -> String {
        fn list<T: fmt::Display>(v: &[T]) -> String {
            if v.is_empty() {
                return "-".into();
            }
            v.iter().map(T::to_string).collect::<Vec<_>>().join(",")
        }
        format!(
            "{} {} {} {}",
            self.stamp,
            self.ttl,
            list(&self.a),
            list(&self.aaaa)
        )
    }

    /// Reads [`Last::to_text`]; `None` for anything else.
    pub fn from_text(text: &str) -> Option<Last> {
        fn list<T: FromStr>(field: &str) -> Option<Vec<T>> {
            if field == "-" {
                return Some(Vec::new());
            }
            field.split(',').map(|a| a.parse().ok()).collect()
        }
        let mut fields = text.split(' ');
        let last = Last {
            stamp: fields.next()?.parse().ok()?,
            ttl: fields.next()?.parse().ok()?,
            a: list(fields.next()?)?,
            aaaa: list(fields.next()?)?,
        };
        (fields.next().is_none() && last.usable().is_some()).then_some(last)
    }
}

/// What to publish for one address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddrSpec<T> {
    /// Absent from the request: the record of this family is not touched.
    #[default]
    Keep,
    /// `"auto"`: publish the source address the server sees this request come from.
    /// The client must then connect over this family.
    Auto,
    /// Publish exactly this address.
    Set(T),
}

impl<T> AddrSpec<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, AddrSpec::Keep)
    }
}

impl UpdateRequest {
    /// Serialises the body exactly as it will be signed and sent.
    pub fn to_body(&self) -> Vec<u8> {
        // Serialising plain strings and vectors cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a body the server received. The error text is safe to show the caller.
    pub fn from_body(body: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|e| format!("request body is not a valid update: {e}"))
    }

    /// Whether any host asks for the observed address of this family.
    pub fn wants_auto_ipv4(&self) -> bool {
        self.hosts.iter().any(|h| h.ipv4 == AddrSpec::Auto)
    }

    pub fn wants_auto_ipv6(&self) -> bool {
        self.hosts.iter().any(|h| h.ipv6 == AddrSpec::Auto)
    }
}

impl<T: fmt::Display> Serialize for AddrSpec<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AddrSpec::Keep => s.serialize_none(),
            AddrSpec::Auto => s.serialize_str("auto"),
            AddrSpec::Set(addr) => s.collect_str(addr),
        }
    }
}

impl<'de, T: FromStr> Deserialize<'de> for AddrSpec<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == "auto" {
            return Ok(AddrSpec::Auto);
        }
        text.parse().map(AddrSpec::Set).map_err(|_| {
            de::Error::invalid_value(de::Unexpected::Str(&text), &"an IP address or \"auto\"")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_and_omits_untouched_families() {
        let req = UpdateRequest {
            hosts: vec![HostUpdate {
                name: "home.example.com".into(),
                ipv4: AddrSpec::Auto,
                ipv6: AddrSpec::Keep,
                last: None,
            }],
        };
        let body = req.to_body();
        assert_eq!(
            body,
            br#"{"hosts":[{"name":"home.example.com","ipv4":"auto"}]}"#
        );
        assert_eq!(UpdateRequest::from_body(&body), Ok(req));
    }

    #[test]
    fn last_rides_in_the_body_and_round_trips_through_the_state_text() {
        let last = Last {
            stamp: 1_764_115_200_123,
            a: vec![Ipv4Addr::new(192, 0, 2, 1)],
            aaaa: vec![],
            ttl: 60,
        };
        let req = UpdateRequest {
            hosts: vec![HostUpdate {
                name: "home.example.com".into(),
                ipv4: AddrSpec::Auto,
                ipv6: AddrSpec::Keep,
                last: Some(last.clone()),
            }],
        };
        let body = req.to_body();
        assert_eq!(
            String::from_utf8_lossy(&body),
            r#"{"hosts":[{"name":"home.example.com","ipv4":"auto","last":{"stamp":1764115200123,"a":["192.0.2.1"],"ttl":60}}]}"#
        );
        assert_eq!(UpdateRequest::from_body(&body), Ok(req));
        assert_eq!(last.to_text(), "1764115200123 60 192.0.2.1 -");
        assert_eq!(Last::from_text(&last.to_text()), Some(last.clone()));
        let both = Last {
            aaaa: vec!["2001:db8::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED)],
            a: vec![Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)],
            ..last.clone()
        };
        assert_eq!(
            both.to_text(),
            "1764115200123 60 192.0.2.1,192.0.2.2 2001:db8::1"
        );
        assert_eq!(Last::from_text(&both.to_text()), Some(both));
        for bad in [
            "",
            "1 60 - - x",
            "0 60 - -",
            "1 0 - -",
            "1 86401 - -",
            "1 60 1.2.3 -",
            "281474976710656 60 - -",
            "1 60 -",
        ] {
            assert_eq!(Last::from_text(bad), None, "{bad}");
        }
        let many = Last {
            a: vec![Ipv4Addr::new(192, 0, 2, 1); MAX_LAST_ADDRESSES + 1],
            ..last
        };
        assert!(many.usable().is_none());
        let extra = br#"{"hosts":[{"name":"a.example.com","last":{"stamp":1,"ttl":60,"x":1}}]}"#;
        assert!(UpdateRequest::from_body(extra).is_err());
    }

    #[test]
    fn refuses_wrong_family_and_unknown_fields() {
        let wrong = br#"{"hosts":[{"name":"a.example.com","ipv4":"2001:db8::1"}]}"#;
        assert!(UpdateRequest::from_body(wrong).is_err());
        let extra = br#"{"hosts":[{"name":"a.example.com","zone":"Z123"}]}"#;
        assert!(UpdateRequest::from_body(extra).is_err());
        let txt = br#"{"hosts":[{"name":"a.example.com","ipv4":"1.2.3.4","type":"TXT"}]}"#;
        assert!(UpdateRequest::from_body(txt).is_err());
    }
}
