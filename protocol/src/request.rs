//! The body of `POST /v1/update`: which names to point at which addresses.
//!
//! ```json
//! {"hosts":[{"name":"home.example.com","ipv4":"auto","ipv6":"2001:db8:1::1"}]}
//! ```
//! A family left out is left alone on the server: sending only IPv4 never deletes AAAA.

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
    fn refuses_wrong_family_and_unknown_fields() {
        let wrong = br#"{"hosts":[{"name":"a.example.com","ipv4":"2001:db8::1"}]}"#;
        assert!(UpdateRequest::from_body(wrong).is_err());
        let extra = br#"{"hosts":[{"name":"a.example.com","zone":"Z123"}]}"#;
        assert!(UpdateRequest::from_body(extra).is_err());
        let txt = br#"{"hosts":[{"name":"a.example.com","ipv4":"1.2.3.4","type":"TXT"}]}"#;
        assert!(UpdateRequest::from_body(txt).is_err());
    }
}
