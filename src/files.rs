//! File reads with a size cap: the config, the key, the state files and `/proc` are read
//! through [`read_capped`], so a huge or endless file (a FIFO, `/dev/zero`) cannot exhaust
//! the router's memory or hang a run.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Reads at most `cap` bytes of `path`; a file that is larger is an error
/// (`InvalidData`, "larger than N bytes"), not silently cut. Opens non-blocking, so a
/// FIFO without a writer does not block; only regular files are read.
pub fn read_capped(path: &Path, cap: usize) -> io::Result<Vec<u8>> {
    read_file(open_regular(path)?, cap)
}

/// Opens `path` for reading without blocking on it: a FIFO, device or socket in its place
/// is an error (`InvalidData`, "not a regular file"), never a read that waits for a writer.
pub fn open_regular(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    // /proc files report size 0 but are regular; FIFOs, devices and sockets are refused.
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    Ok(f)
}

fn read_file(f: File, cap: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    f.take(limit).read_to_end(&mut out)?;
    if out.len() > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {cap} bytes"),
        ));
    }
    Ok(out)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_text_capped(path: &Path, cap: usize) -> io::Result<String> {
    String::from_utf8(read_capped(path, cap)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// SHA-256 of some bytes, as hex (fingerprints of config, key and requests).
pub fn digest_hex(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
