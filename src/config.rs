//! The configuration schema (one table drives validation, defaults, docs and `schema` JSON)
//! and the validated [`Config`] built from a parsed UCI package.

use crate::uci::{self, Package, Section, Value};
use route53_ddns_protocol::{hostname, MAX_HOSTS};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_CONFIG: &str = "/etc/config/route53-ddns";
pub const DEFAULT_STATE_DIR: &str = "/var/run/route53-ddns";
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// TEST ONLY: permits an `http://` endpoint.
pub const ENV_ALLOW_HTTP: &str = "ROUTE53_DDNS_ALLOW_HTTP";
pub const ENV_STATE_DIR: &str = "ROUTE53_DDNS_STATE_DIR";
pub const ENV_UBUS: &str = "ROUTE53_DDNS_UBUS";

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
        "PEM CA certificates to trust instead of the system bundle (private endpoints).",
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
        m.serialize_entry("description", self.description)?;
        m.end()
    }
}

/// Something wrong with the config, with the line it is on when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
    /// Something not filled in yet (the endpoint, the first host) rather than something
    /// wrong: a disabled, freshly installed config with only these is valid.
    pub unset: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

fn problem(line: Option<usize>, message: impl Into<String>) -> Problem {
    Problem {
        line,
        message: message.into(),
        unset: false,
    }
}

fn unset(line: Option<usize>, message: impl Into<String>) -> Problem {
    Problem {
        unset: true,
        ..problem(line, message)
    }
}

/// Why a config could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.problems.iter().map(Problem::to_string).collect();
        write!(f, "{}: {}", self.path.display(), list.join("; "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://host[:port]`, without a trailing slash.
    pub base: String,
    pub host: String,
    pub port: u16,
    pub https: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Canonical (lower-case, no trailing dot).
    pub name: String,
    pub ipv4: bool,
    pub ipv6: bool,
    /// A LAN host's interface identifier (fixed or from its MAC); `None` = the router's own address.
    pub ipv6_suffix: Option<crate::host_id::HostId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub enabled: bool,
    pub endpoint: Endpoint,
    pub ipv4_interface: String,
    pub ipv6_interface: String,
    pub lan_interface: String,
    pub key_file: PathBuf,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub check_interval_min: u64,
    pub force_interval_h: u64,
    pub log_level: log::LevelFilter,
    pub hosts: Vec<Host>,
    /// Hash of the config file's bytes: permanent refusals are retried once it changes.
    pub fingerprint: String,
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "on" | "true" | "yes" | "enabled" => Some(true),
        "0" | "off" | "false" | "no" | "disabled" => Some(false),
        _ => None,
    }
}

fn valid_interface(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'))
}

/// Parses an endpoint URL: scheme, host, optional port, no path/query/credentials.
pub fn parse_endpoint(s: &str, allow_http: bool) -> Result<Endpoint, String> {
    let (https, rest) = if let Some(r) = s.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = s.strip_prefix("http://") {
        if !allow_http {
            return Err("the endpoint must be an https:// URL".into());
        }
        (false, r)
    } else {
        return Err("the endpoint must be an https:// URL".into());
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err("the endpoint must not have a path; use the base URL the deployment printed (ending in .on.aws/ or your API domain)".into());
    }
    if authority.contains('@') {
        return Err("the endpoint must not contain credentials".into());
    }
    let default_port = if https { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, port)) = v6.split_once(']') else {
            return Err("unbalanced [ in the endpoint".into());
        };
        let port = check_port(port.strip_prefix(':'), port.is_empty())?;
        (addr.to_owned(), port.unwrap_or(default_port))
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let port = check_port(port, port.is_none())?;
        (host.to_owned(), port.unwrap_or(default_port))
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'))
    {
        return Err(format!("'{host}' is not a valid host in the endpoint"));
    }
    Ok(Endpoint {
        base: format!("{}://{authority}", if https { "https" } else { "http" }),
        host: host.to_ascii_lowercase(),
        port,
        https,
    })
}

fn check_port(port: Option<&str>, absent_ok: bool) -> Result<Option<u16>, String> {
    match port.map(|p| p.parse::<u16>()) {
        None if absent_ok => Ok(None),
        Some(Ok(n)) if n > 0 => Ok(Some(n)),
        _ => Err("the endpoint's port is not a number from 1 to 65535".into()),
    }
}

/// Parses an `ipv6_suffix`: a fixed suffix such as `::1234` or a MAC address (host_id.rs).
pub fn parse_suffix(s: &str) -> Result<crate::host_id::HostId, String> {
    crate::host_id::HostId::parse(s)
}

/// Checks one value against its kind; `Err` is a message for the user.
pub fn check_value(spec: &OptSpec, v: &str) -> Result<(), String> {
    let name = spec.name;
    match spec.kind {
        Kind::Bool => parse_bool(v)
            .map(|_| ())
            .ok_or_else(|| format!("{name} must be 0 or 1, not '{v}'")),
        Kind::String => Ok(()),
        Kind::HttpsUrl => parse_endpoint(v, allow_http()).map(|_| ()),
        Kind::Hostname => hostname::canonical(v)
            .map(|_| ())
            .map_err(|e| format!("{name} '{v}': {e}")),
        Kind::Interface => valid_interface(v)
            .then_some(())
            .ok_or_else(|| format!("{name} '{v}' is not an interface name")),
        Kind::Path => (v.is_empty() && spec.default == Some("") || v.starts_with('/'))
            .then_some(())
            .ok_or_else(|| format!("{name} must be an absolute path, not '{v}'")),
        Kind::Uint { min, max } => v
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .map(|_| ())
            .ok_or_else(|| format!("{name} must be a whole number from {min} to {max}, not '{v}'")),
        Kind::Enum(values) => values
            .contains(&v)
            .then_some(())
            .ok_or_else(|| format!("{name} must be one of {}, not '{v}'", values.join(", "))),
        Kind::Ipv6Suffix => {
            if v.is_empty() {
                Ok(())
            } else {
                parse_suffix(v)
                    .map(|_| ())
                    .map_err(|e| format!("{name}: {e}"))
            }
        }
    }
}

pub fn allow_http() -> bool {
    std::env::var_os(ENV_ALLOW_HTTP).is_some_and(|v| v == "1")
}

/// A section's values after checking them against the schema.
struct Checked<'a> {
    section: &'a Section,
    specs: &'static [OptSpec],
}

impl Checked<'_> {
    /// The value to use: the one given if it is valid, else the default.
    fn get(&self, name: &str) -> &str {
        let spec = self.specs.iter().find(|s| s.name == name);
        match self.section.get(name).map(|o| &o.value) {
            Some(Value::Single(v)) => v,
            _ => spec.and_then(|s| s.default).unwrap_or(""),
        }
    }

    fn check(&self, problems: &mut Vec<Problem>, warnings: &mut Vec<Problem>) {
        for o in &self.section.options {
            match self.specs.iter().find(|s| s.name == o.name) {
                None => warnings.push(problem(
                    Some(o.line),
                    format!(
                        "unknown option '{}' in the {} section is ignored",
                        o.name, self.section.kind
                    ),
                )),
                Some(spec) => match &o.value {
                    Value::List(_) => problems.push(problem(
                        Some(o.line),
                        format!(
                            "{} takes one value; write it as `option`, not `list`",
                            o.name
                        ),
                    )),
                    // Empty and required: reported once, as missing, below.
                    Value::Single(v) if v.is_empty() && spec.required => {}
                    Value::Single(v) => {
                        if let Err(e) = check_value(spec, v) {
                            problems.push(problem(Some(o.line), e));
                        }
                    }
                },
            }
        }
        for spec in self.specs.iter().filter(|s| s.required) {
            let missing = match self.section.get(spec.name).map(|o| &o.value) {
                Some(Value::Single(v)) => v.is_empty(),
                _ => true,
            };
            if missing {
                let required = if self.section.kind == "global" {
                    unset
                } else {
                    problem
                };
                problems.push(required(
                    Some(self.section.line),
                    format!(
                        "{} section has no {} (required)",
                        self.section.kind, spec.name
                    ),
                ));
            }
        }
    }
}

/// The loaded config file: its parsed form and a fingerprint of its bytes.
pub struct Loaded {
    pub package: Package,
    pub fingerprint: String,
}

pub fn read(path: &Path) -> Result<Loaded, ConfigError> {
    let fail = |message: String| ConfigError {
        path: path.to_owned(),
        problems: vec![problem(None, message)],
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the config: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| fail("the config is not UTF-8 text".into()))?;
    let package = uci::parse(&text).map_err(|e| ConfigError {
        path: path.to_owned(),
        problems: vec![problem(Some(e.line), e.message)],
    })?;
    Ok(Loaded {
        package,
        fingerprint: crate::state::digest_hex(text.as_bytes()),
    })
}

fn global_section(package: &Package) -> Option<&Section> {
    package
        .sections
        .iter()
        .find(|s| s.kind == "global" && s.name.as_deref() == Some("global"))
        .or_else(|| package.sections.iter().find(|s| s.kind == "global"))
}

/// Just the `enabled` flag: read before anything else is validated, so that a freshly
/// installed (disabled, unconfigured) package stays quiet.
pub fn is_enabled(package: &Package) -> bool {
    global_section(package)
        .and_then(|s| s.get("enabled"))
        .and_then(|o| match &o.value {
            Value::Single(v) => parse_bool(v),
            Value::List(_) => None,
        })
        .unwrap_or(false)
}

impl Config {
    /// Validates a parsed package. `Ok` carries warnings (unknown options and sections).
    pub fn from_package(
        path: &Path,
        loaded: &Loaded,
    ) -> Result<(Config, Vec<Problem>), ConfigError> {
        let package = &loaded.package;
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let globals: Vec<&Section> = package
            .sections
            .iter()
            .filter(|s| s.kind == "global")
            .collect();
        if globals.len() > 1 {
            problems.push(problem(
                Some(globals[1].line),
                format!(
                    "a second global section (the first is on line {})",
                    globals[0].line
                ),
            ));
        }
        let empty = Section {
            kind: "global".into(),
            name: Some("global".into()),
            options: Vec::new(),
            line: 1,
        };
        let global = global_section(package).unwrap_or(&empty);
        if globals.is_empty() {
            problems.push(problem(
                None,
                "no `config global 'global'` section".to_owned(),
            ));
        }
        let g = Checked {
            section: global,
            specs: GLOBAL_OPTIONS,
        };
        g.check(&mut problems, &mut warnings);

        let mut hosts: Vec<Host> = Vec::new();
        for section in &package.sections {
            match section.kind.as_str() {
                "global" => {}
                "host" => {
                    let h = Checked {
                        section,
                        specs: HOST_OPTIONS,
                    };
                    let before = problems.len();
                    h.check(&mut problems, &mut warnings);
                    if problems.len() > before {
                        continue;
                    }
                    let Ok(name) = hostname::canonical(h.get("name")) else {
                        continue;
                    };
                    if let Some(prev) = hosts.iter().find(|x| x.name == name) {
                        problems.push(problem(
                            Some(section.line),
                            format!("the name {} is configured twice", prev.name),
                        ));
                        continue;
                    }
                    let host = Host {
                        name,
                        ipv4: parse_bool(h.get("ipv4")).unwrap_or(true),
                        ipv6: parse_bool(h.get("ipv6")).unwrap_or(true),
                        ipv6_suffix: match h.get("ipv6_suffix") {
                            "" => None,
                            s => parse_suffix(s).ok(),
                        },
                    };
                    if !host.ipv4 && !host.ipv6 {
                        warnings.push(problem(
                            Some(section.line),
                            format!(
                                "{}: both ipv4 and ipv6 are off; it is never updated",
                                host.name
                            ),
                        ));
                    }
                    if host.ipv6_suffix.is_some() && host.ipv4 {
                        warnings.push(problem(
                            Some(section.line),
                            format!(
                                "{}: a LAN host (ipv6_suffix) gets the router's public IPv4; set ipv4 to 0 if that is not wanted",
                                host.name
                            ),
                        ));
                    }
                    hosts.push(host);
                }
                other => warnings.push(problem(
                    Some(section.line),
                    format!("unknown section type '{other}' is ignored"),
                )),
            }
        }
        if hosts.is_empty() && problems.iter().all(|p| p.unset) {
            problems.push(unset(
                None,
                "no host sections: add `config host` with `option name 'home.example.com'`",
            ));
        }
        if hosts.len() > MAX_HOSTS {
            problems.push(problem(
                None,
                format!(
                    "{} host names; at most {MAX_HOSTS} fit in one update",
                    hosts.len()
                ),
            ));
        }
        if !problems.is_empty() {
            return Err(ConfigError {
                path: path.to_owned(),
                problems,
            });
        }
        let num = |n: &str| g.get(n).parse::<u64>().unwrap_or(1);
        let endpoint = match parse_endpoint(g.get("endpoint"), allow_http()) {
            Ok(e) => e,
            Err(e) => {
                return Err(ConfigError {
                    path: path.to_owned(),
                    problems: vec![problem(None, e)],
                })
            }
        };
        let config = Config {
            enabled: parse_bool(g.get("enabled")).unwrap_or(false),
            endpoint,
            ipv4_interface: g.get("ipv4_interface").to_owned(),
            ipv6_interface: g.get("ipv6_interface").to_owned(),
            lan_interface: g.get("lan_interface").to_owned(),
            key_file: PathBuf::from(g.get("key_file")),
            ca_file: match g.get("ca_file") {
                "" => None,
                p => Some(PathBuf::from(p)),
            },
            connect_timeout: Duration::from_secs(num("connect_timeout")),
            timeout: Duration::from_secs(num("timeout")),
            check_interval_min: num("check_interval"),
            force_interval_h: num("force_interval"),
            log_level: match g.get("log_level") {
                "error" => log::LevelFilter::Error,
                "warn" => log::LevelFilter::Warn,
                "debug" => log::LevelFilter::Debug,
                _ => log::LevelFilter::Info,
            },
            hosts,
            fingerprint: loaded.fingerprint.clone(),
        };
        Ok((config, warnings))
    }

    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<(Config, Vec<Problem>), ConfigError> {
        let loaded = read(path)?;
        Self::from_package(path, &loaded)
    }

    /// Whether netifd's `INTERFACE` is one this config reads addresses from.
    pub fn uses_interface(&self, name: &str) -> bool {
        name == self.ipv4_interface
            || name == self.lan_interface
            || crate::wan6::candidates(self).iter().any(|c| c == name)
    }
}
