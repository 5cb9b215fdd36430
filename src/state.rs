//! What the last runs did, on tmpfs (`/var/run/route53-ddns`, or `ROUTE53_DDNS_STATE_DIR`):
//! one JSON file per host plus `run.json`, each replaced atomically (temp file + rename).

use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An error as recorded for `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
    pub advice: String,
    pub permanent: bool,
}

/// Per host: the last published addresses and the last result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
}

/// Shared between hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunState {
    pub last_run: Option<u64>,
    /// Set after a permanent refusal: config fingerprint + key id it happened with.
    pub blocked_fingerprint: Option<String>,
    pub blocked_error: Option<ErrorInfo>,
    /// Unix seconds before which the endpoint asked not to be called (429).
    pub retry_not_before: Option<u64>,
}

pub fn state_dir() -> PathBuf {
    std::env::var_os(crate::config::ENV_STATE_DIR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_STATE_DIR))
}

/// SHA-256 of some bytes, as hex (fingerprints of config and key).
pub fn digest_hex(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
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
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
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

    fn read<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> T {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                log::warn!("ignoring unreadable state {}: {e}", path.display());
                T::default()
            }),
            Err(_) => T::default(),
        }
    }

    fn write<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
        write_atomic(path, &bytes)
    }

    pub fn host(&self, name: &str) -> HostState {
        let mut h: HostState = Self::read(&host_file(&self.dir, name));
        h.name = name.to_owned();
        h
    }

    pub fn save_host(&self, h: &HostState) -> io::Result<()> {
        Self::write(&host_file(&self.dir, &h.name), h)
    }

    pub fn run(&self) -> RunState {
        Self::read(&self.dir.join("run.json"))
    }

    pub fn save_run(&self, r: &RunState) -> io::Result<()> {
        Self::write(&self.dir.join("run.json"), r)
    }
}
