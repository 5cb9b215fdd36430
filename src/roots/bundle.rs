//! The CA file as `update` and `check` both judge it before reading it: a regular file
//! within the size cap, and what it is called when it cannot be read.

use crate::config::SYSTEM_CA_BUNDLE;
use std::io;
use std::path::Path;

/// Largest CA file used, `update` and `check` alike (OpenWrt's bundle is ~220 KB).
pub const MAX_BUNDLE: u64 = 4 << 20;

/// Opens the CA file, as `update` and `check` both judge it: a regular file (a FIFO or
/// device is refused, never waited on) of at most [`MAX_BUNDLE`] bytes (a larger one is
/// refused whole rather than read in part).
pub fn open_bundle(path: &Path) -> Result<std::fs::File, String> {
    let file = crate::files::open_regular(path).map_err(|e| read_error(path, &e))?;
    let len = file.metadata().map_err(|e| read_error(path, &e))?.len();
    if len > MAX_BUNDLE {
        return Err(format!(
            "{} is larger than {} MiB ({len} bytes), the most read of a CA file: trust a smaller file (ca_file)",
            path.display(),
            MAX_BUNDLE >> 20
        ));
    }
    Ok(file)
}

/// A CA file that cannot be read, in words (the system bundle's absence with its remedy).
pub fn read_error(path: &Path, e: &io::Error) -> String {
    if path == Path::new(SYSTEM_CA_BUNDLE) && e.kind() == io::ErrorKind::NotFound {
        format!("{SYSTEM_CA_BUNDLE} is missing: install the ca-bundle package or set ca_file")
    } else {
        format!("cannot read {}: {e}", path.display())
    }
}
