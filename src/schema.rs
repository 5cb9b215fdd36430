//! The configuration schema: one table drives validation, defaults, docs and the `schema`
//! JSON that LuCI builds its form from.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// The package's own directory: the key and a private CA file live here.
pub const KEY_DIR: &str = "/etc/route53-ddns";

/// The options that decide what the router signs with and whom it trusts: in the system
/// config they must name a file inside [`KEY_DIR`] (`values::check_confined`).
pub const CONFINED_OPTIONS: [&str; 2] = ["key_file", "ca_file"];

/// What values an option accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    String,
    HttpsUrl,
    Hostname,
    Interface,
    Path,
    Uint { min: u64, max: u64 },
    Enum(&'static [&'static str]),
    Ipv6Suffix,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::String => "string",
            Kind::HttpsUrl => "https_url",
            Kind::Hostname => "hostname",
            Kind::Interface => "interface",
            Kind::Path => "path",
            Kind::Uint { .. } => "uint",
            Kind::Enum(_) => "enum",
            Kind::Ipv6Suffix => "ipv6_suffix",
        }
    }
}

/// One option of the schema.
#[derive(Debug, Clone, Copy)]
pub struct OptSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Option<&'static str>,
    pub required: bool,
    pub description: &'static str,
}

const fn opt(
    name: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    description: &'static str,
) -> OptSpec {
    OptSpec {
        name,
        kind,
        default,
        required: false,
        description,
    }
}

pub const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug"];

pub const GLOBAL_OPTIONS: &[OptSpec] = &[
    opt("enabled", Kind::Bool, Some("0"), "Run updates at all."),
    OptSpec {
        name: "endpoint",
        kind: Kind::HttpsUrl,
        default: None,
        required: true,
        description:
            "Base URL of the update endpoint (https, no path), as the deployment printed it.",
    },
    opt(
        "ipv4_interface",
        Kind::Interface,
        Some("wan"),
        "netifd interface whose IPv4 address is published.",
    ),
    opt(
        "ipv6_interface",
        Kind::Interface,
        Some("wan6"),
        "netifd interface whose global IPv6 address is published.",
    ),
    opt(
        "lan_interface",
        Kind::Interface,
        Some("lan"),
        "netifd interface whose delegated prefix feeds hosts with an ipv6_suffix.",
    ),
    opt(
        "key_file",
        Kind::Path,
        Some("/etc/route53-ddns/key"),
        "The router's Ed25519 key (PKCS#8 DER, mode 0600).",
    ),
    opt(
        "ca_file",
        Kind::Path,
        Some(""),
        "PEM CA certificates to trust instead of the system bundle (private endpoints); in /etc/config/route53-ddns, a file inside /etc/route53-ddns/.",
    ),
    opt(
        "connect_timeout",
        Kind::Uint { min: 1, max: 120 },
        Some("10"),
        "Seconds allowed for DNS, TCP connect and the TLS handshake.",
    ),
    opt(
        "timeout",
        Kind::Uint { min: 1, max: 300 },
        Some("30"),
        "Seconds allowed for one whole request.",
    ),
    opt(
        "check_interval",
        Kind::Uint { min: 1, max: 1440 },
        Some("10"),
        "Minutes between safety-net runs (procd timer).",
    ),
    opt(
        "force_interval",
        Kind::Uint { min: 1, max: 720 },
        Some("24"),
        "Hours after which unchanged addresses are sent again.",
    ),
    opt(
        "log_level",
        Kind::Enum(LOG_LEVELS),
        Some("info"),
        "Least severe messages that are logged.",
    ),
];

pub const HOST_OPTIONS: &[OptSpec] = &[
    OptSpec {
        name: "name",
        kind: Kind::Hostname,
        default: None,
        required: true,
        description: "Fully qualified name to publish.",
    },
    opt("ipv4", Kind::Bool, Some("1"), "Publish an A record."),
    opt("ipv6", Kind::Bool, Some("1"), "Publish an AAAA record."),
    opt("ipv6_suffix", Kind::Ipv6Suffix, Some(""), "A LAN host under the delegated prefix: its interface identifier (e.g. ::1234) or its MAC address (EUI-64, e.g. 02:11:22:33:44:55); empty = the router's own address."),
];

/// The `schema` command's JSON: what LuCI builds its form from.
#[derive(Serialize)]
pub struct Schema {
    sections: [SchemaSection; 2],
}

#[derive(Serialize)]
struct SchemaSection {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    anonymous: Option<bool>,
    options: &'static [OptSpec],
}

pub fn schema() -> Schema {
    Schema {
        sections: [
            SchemaSection {
                kind: "global",
                name: Some("global"),
                anonymous: None,
                options: GLOBAL_OPTIONS,
            },
            SchemaSection {
                kind: "host",
                name: None,
                anonymous: Some(true),
                options: HOST_OPTIONS,
            },
        ],
    }
}

/// Only the keys that apply to the option's kind, so LuCI can test for their presence.
impl Serialize for OptSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", self.name)?;
        m.serialize_entry("kind", self.kind.name())?;
        if self.required {
            m.serialize_entry("required", &true)?;
        }
        if let Some(d) = self.default {
            m.serialize_entry("default", d)?;
        }
        match self.kind {
            Kind::Uint { min, max } => {
                m.serialize_entry("min", &min)?;
                m.serialize_entry("max", &max)?;
            }
            Kind::Enum(values) => m.serialize_entry("values", values)?,
            _ => {}
        }
        // In the system config the file must lie in this directory (values::check_confined).
        if CONFINED_OPTIONS.contains(&self.name) {
            m.serialize_entry("inside", &format!("{}/", KEY_DIR))?;
        }
        m.serialize_entry("description", self.description)?;
        m.end()
    }
}
