//! The router's Ed25519 key file: created atomically with mode 0600, never overwritten
//! without `--force`, never printed.

use route53_ddns_protocol::SigningKey;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum KeyFileError {
    Missing(PathBuf),
    Exists(PathBuf),
    Io(PathBuf, io::Error),
    Invalid(PathBuf, String),
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::Missing(p) => write!(
                f,
                "no key at {}: create one with `route53-ddns keygen`",
                p.display()
            ),
            KeyFileError::Exists(p) => write!(
                f,
                "{} already exists; refusing to replace it (the endpoint knows this key). Use `keygen --force` to replace it anyway",
                p.display()
            ),
            KeyFileError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            KeyFileError::Invalid(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// Largest key file read: a PKCS#8 Ed25519 key is 48 to 85 bytes.
pub const MAX_KEY_FILE: usize = 4096;

/// Loads the key. A key readable by group or others is used, with a warning.
pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
    let der = crate::files::read_capped(path, MAX_KEY_FILE).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => KeyFileError::Missing(path.to_owned()),
        _ => KeyFileError::Io(path.to_owned(), e),
    })?;
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            log::warn!(
                "{} is readable by other users; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
    SigningKey::from_pkcs8(&der).map_err(|e| KeyFileError::Invalid(path.to_owned(), e.to_string()))
}

/// Creates a new key file. The key is written to a temporary file (0600) in the same
/// directory and then linked (no overwrite) or renamed (`force`) into place, so the
/// file is either absent, the old key or the complete new key — never half written.
pub fn generate(path: &Path, force: bool) -> Result<SigningKey, KeyFileError> {
    let io_err = |e| KeyFileError::Io(path.to_owned(), e);
    if !force && fs::symlink_metadata(path).is_ok() {
        return Err(KeyFileError::Exists(path.to_owned()));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err)?;
    }
    let der = SigningKey::generate_pkcs8()
        .map_err(|e| KeyFileError::Invalid(path.to_owned(), e.to_string()))?;
    let key = SigningKey::from_pkcs8(&der)
        .map_err(|e| KeyFileError::Invalid(path.to_owned(), e.to_string()))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&der)?;
        f.sync_all()?;
        if force {
            fs::rename(&tmp, path)
        } else {
            fs::hard_link(&tmp, path)
        }
    })();
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => {
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(key)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(KeyFileError::Exists(path.to_owned()))
        }
        Err(e) => Err(io_err(e)),
    }
}
