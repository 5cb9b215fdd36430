//! The validated [`Config`] built from a parsed UCI package: reading the file (size-capped),
//! checking every section against the schema ([`crate::schema`], [`crate::values`]) and
//! the problems found, with their lines.

use crate::uci::{self, Package, Section, Value};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod hosts;

use hosts::check_hosts;

pub use crate::schema::{
    schema, Kind, OptSpec, Schema, GLOBAL_OPTIONS, HOST_OPTIONS, KEY_DIR, LOG_LEVELS,
};
pub use crate::values::{
    allow_http, check_confined, check_value, parse_bool, parse_endpoint, parse_suffix, Endpoint,
    DEFAULT_CONFIG,
};

pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

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

/// Largest config file read (a config with the most hosts is a few KB).
pub const MAX_CONFIG_FILE: usize = 256 * 1024;

pub fn read(path: &Path) -> Result<Loaded, ConfigError> {
    let fail = |message: String| ConfigError {
        path: path.to_owned(),
        problems: vec![problem(None, message)],
    };
    let text = crate::files::read_text_capped(path, MAX_CONFIG_FILE)
        .map_err(|e| fail(format!("cannot read the config: {e}")))?;
    let package = uci::parse(&text).map_err(|e| ConfigError {
        path: path.to_owned(),
        problems: vec![problem(Some(e.line), e.message)],
    })?;
    Ok(Loaded {
        package,
        fingerprint: crate::files::digest_hex(text.as_bytes()),
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

/// Problems and warnings found while validating.
#[derive(Default)]
struct Findings {
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
}

/// The global section to use (an empty one if there is none), with duplicates reported.
fn check_globals<'a>(package: &'a Package, empty: &'a Section, f: &mut Findings) -> Checked<'a> {
    let globals: Vec<&Section> = package
        .sections
        .iter()
        .filter(|s| s.kind == "global")
        .collect();
    if let [first, second, ..] = globals[..] {
        f.problems.push(problem(
            Some(second.line),
            format!(
                "a second global section (the first is on line {})",
                first.line
            ),
        ));
    }
    if globals.is_empty() {
        f.problems
            .push(problem(None, "no `config global 'global'` section"));
    }
    let g = Checked {
        section: global_section(package).unwrap_or(empty),
        specs: GLOBAL_OPTIONS,
    };
    g.check(&mut f.problems, &mut f.warnings);
    g
}

fn log_level(s: &str) -> log::LevelFilter {
    match s {
        "error" => log::LevelFilter::Error,
        "warn" => log::LevelFilter::Warn,
        "debug" => log::LevelFilter::Debug,
        _ => log::LevelFilter::Info,
    }
}

/// The validated global values (`g` has passed [`Checked::check`]).
fn build(g: &Checked, endpoint: Endpoint, hosts: Vec<Host>, fingerprint: &str) -> Config {
    // Checked against the schema's range already; 1 is the smallest value of every one.
    let num = |n: &str| g.get(n).parse::<u64>().unwrap_or(1);
    Config {
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
        log_level: log_level(g.get("log_level")),
        hosts,
        fingerprint: fingerprint.to_owned(),
    }
}

impl Config {
    /// Validates a parsed package. `Ok` carries warnings (unknown options and sections).
    pub fn from_package(
        path: &Path,
        loaded: &Loaded,
    ) -> Result<(Config, Vec<Problem>), ConfigError> {
        let fail = |problems| ConfigError {
            path: path.to_owned(),
            problems,
        };
        let mut f = Findings::default();
        let empty = Section {
            kind: "global".into(),
            name: Some("global".into()),
            options: Vec::new(),
            line: 1,
        };
        let g = check_globals(&loaded.package, &empty, &mut f);
        let hosts = check_hosts(&loaded.package, &mut f);
        for name in crate::schema::CONFINED_OPTIONS {
            if let Err(e) = crate::values::check_confined(path, name, g.get(name)) {
                let line = g.section.get(name).map(|o| o.line);
                f.problems.push(problem(line, e));
            }
        }
        if !f.problems.is_empty() {
            return Err(fail(f.problems));
        }
        let endpoint = parse_endpoint(g.get("endpoint"), allow_http())
            .map_err(|e| fail(vec![problem(None, e)]))?;
        Ok((build(&g, endpoint, hosts, &loaded.fingerprint), f.warnings))
    }

    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<(Config, Vec<Problem>), ConfigError> {
        let loaded = read(path)?;
        Self::from_package(path, &loaded)
    }

    /// Seconds between two safety-net runs.
    pub fn check_interval_s(&self) -> u64 {
        self.check_interval_min.saturating_mul(60)
    }
}
