//! What the last runs did, on tmpfs (`/var/run/route53-ddns`, or `ROUTE53_DDNS_STATE_DIR`):
//! one JSON file per host plus `run.json`, each replaced atomically (temp file + rename).
//! What is not a regular file where one is written is removed first ([`crate::tidy`]).
//!
//! Each file is one flat JSON object of strings (`{"ipv4":"192.0.2.1","time":"1764…"}`):
//! read and written through one string map instead of a derived deserializer per struct,
//! which keeps ~20 KB out of the binary.

use route53_ddns_protocol::json::Json;
use route53_ddns_protocol::Last;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An error as recorded for `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
    pub advice: String,
    pub permanent: bool,
}

/// Per host: the last published addresses and the last result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostState {
    pub name: String,
    /// Last published A / AAAA (what the server reported after the last success).
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    /// updated | unchanged | error
    pub result: Option<String>,
    /// Unix seconds of the last result.
    pub time: Option<u64>,
    pub request_id: Option<String>,
    pub observed: Option<String>,
    pub wan_ipv4: Option<String>,
    pub nat: Option<String>,
    pub diagnosis: Option<String>,
    pub error: Option<ErrorInfo>,
    /// Unix seconds of the last success (for force_interval).
    pub confirmed: Option<u64>,
    /// What was asked for at the last success: "auto" or the address (no-change check).
    pub sent_ipv4: Option<String>,
    pub sent_ipv6: Option<String>,
    /// What the last success answered for this name, sent back as the host's `last` so the
    /// endpoint can write without reading first.
    pub last: Option<Last>,
}

/// Shared between hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunState {
    pub last_run: Option<u64>,
    /// Set after a permanent refusal: config fingerprint + key id it happened with.
    pub blocked_fingerprint: Option<String>,
    pub blocked_error: Option<ErrorInfo>,
    /// Consecutive transient failures of the request in [`RunState::retry_key`].
    pub failures: u32,
    /// Consecutive paced answers (429 `throttled` with `retry_after`, see
    /// [`crate::retry::paced_wait`]) of that request: waits, not failures.
    pub paced: u32,
    /// Unix seconds of the first of those failures (or paced answers).
    pub failing_since: Option<u64>,
    /// Unix seconds before which that same request is not sent again.
    pub next_try: Option<u64>,
    /// Unix seconds of the failed try that set `next_try` (bounds a garbage schedule).
    pub tried_at: Option<u64>,
    /// Digest of what failed (config, key, body): another request is not held back.
    pub retry_key: Option<String>,
    /// The last failure (kept while retrying, for `status`).
    pub last_error: Option<ErrorInfo>,
    /// The last failure may be the router's clock (TLS, clock skew): NTP sends at once.
    pub clock_suspect: bool,
    /// Unix seconds the pass now holding the lock started (`status`: "running").
    pub running_since: Option<u64>,
}

/// Largest state file read; they are a few hundred bytes.
pub const MAX_STATE_FILE: usize = 64 * 1024;
/// Most consecutive failures counted (the wait stops growing long before).
pub const MAX_FAILURES: u32 = 1000;

type Map = BTreeMap<String, String>;

/// Longest value kept from a state file (messages are cut to 300 bytes when written).
const MAX_VALUE: usize = 1024;

fn put(m: &mut Map, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v.clone());
    }
}

fn put_n(m: &mut Map, k: &str, v: Option<u64>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v.to_string());
    }
}

fn put_err(m: &mut Map, prefix: &str, e: &Option<ErrorInfo>) {
    if let Some(e) = e {
        m.insert(format!("{prefix}code"), e.code.clone());
        m.insert(format!("{prefix}message"), e.message.clone());
        m.insert(format!("{prefix}advice"), e.advice.clone());
        m.insert(
            format!("{prefix}permanent"),
            if e.permanent { "1" } else { "0" }.into(),
        );
    }
}

fn get_n(m: &Map, k: &str) -> Option<u64> {
    m.get(k).and_then(|v| v.parse().ok())
}

fn get_err(m: &mut Map, prefix: &str) -> Option<ErrorInfo> {
    let code = m.remove(&format!("{prefix}code"))?;
    Some(ErrorInfo {
        code,
        message: m.remove(&format!("{prefix}message")).unwrap_or_default(),
        advice: m.remove(&format!("{prefix}advice")).unwrap_or_default(),
        permanent: m.get(&format!("{prefix}permanent")).map(String::as_str) == Some("1"),
    })
}

impl HostState {
    fn to_map(&self) -> Map {
        let mut m = Map::new();
        m.insert("name".into(), self.name.clone());
        put(&mut m, "ipv4", &self.ipv4);
        put(&mut m, "ipv6", &self.ipv6);
        put(&mut m, "result", &self.result);
        put_n(&mut m, "time", self.time);
        put(&mut m, "request_id", &self.request_id);
        put(&mut m, "observed", &self.observed);
        put(&mut m, "wan_ipv4", &self.wan_ipv4);
        put(&mut m, "nat", &self.nat);
        put(&mut m, "diagnosis", &self.diagnosis);
        put_err(&mut m, "error_", &self.error);
        put_n(&mut m, "confirmed", self.confirmed);
        put(&mut m, "sent_ipv4", &self.sent_ipv4);
        put(&mut m, "sent_ipv6", &self.sent_ipv6);
        put(&mut m, "last", &self.last.as_ref().map(Last::to_text));
        m
    }

    fn from_map(mut m: Map) -> HostState {
        HostState {
            error: get_err(&mut m, "error_"),
            time: get_n(&m, "time"),
            confirmed: get_n(&m, "confirmed"),
            name: m.remove("name").unwrap_or_default(),
            ipv4: m.remove("ipv4"),
            ipv6: m.remove("ipv6"),
            result: m.remove("result"),
            request_id: m.remove("request_id"),
            observed: m.remove("observed"),
            wan_ipv4: m.remove("wan_ipv4"),
            nat: m.remove("nat"),
            diagnosis: m.remove("diagnosis"),
            sent_ipv4: m.remove("sent_ipv4"),
            sent_ipv6: m.remove("sent_ipv6"),
            last: m.remove("last").as_deref().and_then(Last::from_text),
        }
    }
}

impl RunState {
    fn to_map(&self) -> Map {
        let mut m = Map::new();
        put_n(&mut m, "last_run", self.last_run);
        put(&mut m, "blocked_fingerprint", &self.blocked_fingerprint);
        put_err(&mut m, "blocked_", &self.blocked_error);
        if self.failures > 0 {
            put_n(&mut m, "failures", Some(u64::from(self.failures)));
        }
        if self.paced > 0 {
            put_n(&mut m, "paced", Some(u64::from(self.paced)));
        }
        put_n(&mut m, "failing_since", self.failing_since);
        put_n(&mut m, "next_try", self.next_try);
        put_n(&mut m, "tried_at", self.tried_at);
        put(&mut m, "retry_key", &self.retry_key);
        put_err(&mut m, "last_", &self.last_error);
        if self.clock_suspect {
            m.insert("clock_suspect".into(), "1".into());
        }
        put_n(&mut m, "running_since", self.running_since);
        m
    }

    fn from_map(mut m: Map) -> RunState {
        RunState {
            last_run: get_n(&m, "last_run"),
            failures: get_n(&m, "failures")
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0)
                .min(MAX_FAILURES),
            paced: get_n(&m, "paced")
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0)
                .min(crate::retry::PACED_MAX),
            failing_since: get_n(&m, "failing_since"),
            next_try: get_n(&m, "next_try"),
            tried_at: get_n(&m, "tried_at"),
            clock_suspect: m.get("clock_suspect").map(String::as_str) == Some("1"),
            running_since: get_n(&m, "running_since"),
            blocked_error: get_err(&mut m, "blocked_"),
            last_error: get_err(&mut m, "last_"),
            blocked_fingerprint: m.remove("blocked_fingerprint"),
            retry_key: m.remove("retry_key"),
        }
    }

    /// When the failed request is due again: `next_try`, but never later than an hour
    /// ([`crate::retry::RETRY_AFTER_MAX`]) after the try that failed (or after `now`).
    pub fn due(&self, now: u64) -> Option<u64> {
        let next = self.next_try?;
        let tried = self.tried_at.unwrap_or(0).min(now);
        Some(next.min(tried.saturating_add(crate::retry::RETRY_AFTER_MAX.as_secs())))
    }

    /// A try of the same request is scheduled after failures or paced answers.
    pub fn retrying(&self) -> bool {
        (self.failures > 0 || self.paced > 0) && self.next_try.is_some()
    }

    /// Forgets the retry schedule (after a success, or a permanent refusal).
    pub fn clear_retry(&mut self) {
        self.failures = 0;
        self.paced = 0;
        self.failing_since = None;
        self.next_try = None;
        self.tried_at = None;
        self.retry_key = None;
        self.last_error = None;
        self.clock_suspect = false;
    }
}

pub const DEFAULT_STATE_DIR: &str = "/var/run/route53-ddns";
pub const ENV_STATE_DIR: &str = "ROUTE53_DDNS_STATE_DIR";

pub fn state_dir() -> PathBuf {
    std::env::var_os(ENV_STATE_DIR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
}

fn host_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("host-{name}.json"))
}

/// Writes a file atomically: temp file in the same directory, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        // A directory (or anything but a file) in the way would refuse every write.
        crate::tidy::repair(path)?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

pub struct Store {
    pub dir: PathBuf,
}

impl Store {
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    pub fn ensure_dir(&self) -> io::Result<()> {
        fs::create_dir_all(&self.dir)
    }

    /// Parses one state file's bytes as a host state and as a run state (the fuzz
    /// target's entry: whatever the bytes, this returns).
    pub fn parse(bytes: &[u8]) -> (HostState, RunState) {
        let m = Self::parse_map(bytes).unwrap_or_default();
        (HostState::from_map(m.clone()), RunState::from_map(m))
    }

    fn parse_map(bytes: &[u8]) -> Result<Map, String> {
        let members = match Json::parse(bytes).map(Json::into_object) {
            Ok(Some(members)) => members,
            Ok(None) => return Err("not an object".into()),
            Err(e) => return Err(e.to_string()),
        };
        // Flat objects of strings are all this module writes.
        Ok(members
            .into_iter()
            .filter_map(|(k, v)| match v {
                Json::String(s) if s.len() <= MAX_VALUE => Some((k, s)),
                _ => None,
            })
            .collect())
    }

    fn read(path: &Path) -> Map {
        let unreadable = |why: &dyn std::fmt::Display| {
            log::warn!("ignoring unreadable state {}: {why}", path.display());
            Map::new()
        };
        match crate::files::read_capped(path, MAX_STATE_FILE) {
            Ok(bytes) => Self::parse_map(&bytes).unwrap_or_else(|e| unreadable(&e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Map::new(),
            Err(e) => unreadable(&e),
        }
    }

    fn write(path: &Path, m: &Map) -> io::Result<()> {
        let bytes = serde_json::to_vec(m).map_err(io::Error::other)?;
        write_atomic(path, &bytes)
    }

    pub fn host(&self, name: &str) -> HostState {
        let mut h = HostState::from_map(Self::read(&host_file(&self.dir, name)));
        h.name = name.to_owned();
        h
    }

    pub fn save_host(&self, h: &HostState) -> io::Result<()> {
        Self::write(&host_file(&self.dir, &h.name), &h.to_map())
    }

    pub fn run(&self) -> RunState {
        RunState::from_map(Self::read(&self.dir.join("run.json")))
    }

    pub fn save_run(&self, r: &RunState) -> io::Result<()> {
        Self::write(&self.dir.join("run.json"), &r.to_map())
    }
}
