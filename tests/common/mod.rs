//! Shared helpers of the router's integration tests: temp dirs, a stand-in `ubus`, test
//! PKIs made at run time, a fake clock, deadlines for child processes; the local HTTP(S)
//! server is in [`server`].
#![allow(dead_code)]

pub mod cli;
pub mod handshake;
pub mod ifstatus;
pub mod pass;
pub mod router;
pub mod server;

pub use server::*;

use route53_ddns::updater::Clock;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_route53-ddns");

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "r53ddns-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.join(name);
        std::fs::write(&p, text).expect("write test file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a stand-in `ubus` that prints `<dir>/<interface>.json` for
/// `ubus call network.interface.<interface> status`, and fails like ubus ("Not found",
/// exit 4) for unknown interfaces. Returns its path.
pub fn fake_ubus(dir: &Path) -> PathBuf {
    let script = dir.join("ubus");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nf=\"{}/${{2#network.interface.}}.json\"\nif [ \"$1\" = call ] && [ \"$3\" = status ] && [ -f \"$f\" ]; then exec cat \"$f\"; fi\necho 'Command failed: Not found' >&2\nexit 4\n",
            dir.display()
        ),
    )
    .expect("write ubus");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

/// A CA and a server certificate for `names`, made now.
pub struct Pki {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

pub fn pki(names: &[&str]) -> Pki {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "route53-ddns test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca cert");
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let leaf_params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("leaf params");
    let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf cert");
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key_der)
    .expect("server config");
    Pki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

/// The time every [`FakeClock`] starts at: 2026-01-01T00:00:00Z, in ms since the epoch.
pub const FAKE_START_MS: u64 = 1_767_225_600_000;

/// A clock that never reads the wall clock: it starts at `start` ([`FAKE_START_MS`] unless
/// the test moves it) and moves only when the code under test sleeps (recorded in `sleeps`)
/// or the test adds to `slept`.
pub struct FakeClock {
    pub start: Duration,
    pub slept: Duration,
    pub sleeps: Vec<Duration>,
}

impl FakeClock {
    pub fn new() -> FakeClock {
        FakeClock {
            start: Duration::from_millis(FAKE_START_MS),
            slept: Duration::ZERO,
            sleeps: Vec::new(),
        }
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        self.start + self.slept
    }

    fn sleep(&mut self, d: Duration) {
        self.sleeps.push(d);
        self.slept += d;
    }

    fn random(&mut self) -> f64 {
        0.5
    }
}

/// Runs `cmd` with its output captured, killing it after `limit`: `None` if it had to be
/// killed (it hung), so a test of a former hang fails instead of hanging itself.
pub fn output_within(
    cmd: &mut std::process::Command,
    limit: Duration,
) -> Option<std::process::Output> {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().ok(),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Makes a FIFO (a "file" whose read blocks until someone writes).
pub fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path");
    // SAFETY: mkfifo with a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}
