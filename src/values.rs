//! Checks of single option values: booleans, the endpoint URL, interface names, IPv6
//! suffixes, numbers in range, against their [`Kind`].

use crate::schema::{Kind, OptSpec, KEY_DIR};
use route53_ddns_protocol::hostname;
use std::path::Path;

/// The system's config file: the one LuCI writes.
pub const DEFAULT_CONFIG: &str = "/etc/config/route53-ddns";

/// In the system's config (`config`, as [`DEFAULT_CONFIG`]: the file that
/// LuCI, and any LuCI user allowed to change this app, writes), `key_file` and `ca_file`
/// must name a file inside [`KEY_DIR`]: a path elsewhere (an uploaded file, the config file
/// itself) would let that user choose the key or the CA. No `.`/`..` segments, no `//`.
/// A config given elsewhere with `--config` is root's own choice and is not confined.
pub fn check_confined(config: &Path, name: &str, value: &str) -> Result<(), String> {
    if config != Path::new(DEFAULT_CONFIG) || value.is_empty() {
        return Ok(());
    }
    let inside = value
        .strip_prefix(KEY_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| {
            !rest.is_empty() && rest.split('/').all(|seg| !matches!(seg, "" | "." | ".."))
        });
    inside.then_some(()).ok_or_else(|| {
        format!("{name} must name a file inside {KEY_DIR}/ (it decides what the router signs with or trusts), not '{value}'")
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://host[:port]`, without a trailing slash.
    pub base: String,
    pub host: String,
    pub port: u16,
    pub https: bool,
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
        Kind::Hostname => hostname::canonical_record(v)
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

/// TEST ONLY: permits an `http://` endpoint.
pub const ENV_ALLOW_HTTP: &str = "ROUTE53_DDNS_ALLOW_HTTP";

/// Whether [`ENV_ALLOW_HTTP`] is set to `1`.
pub fn allow_http() -> bool {
    std::env::var_os(ENV_ALLOW_HTTP).is_some_and(|v| v == "1")
}
