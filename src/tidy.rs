//! The state directory kept usable: whatever sits where a state file or lock file belongs
//! and is not a regular file is removed (said in the log) or, if it cannot be, an error;
//! the temporaries of writers killed mid-write are removed once their writer is gone.

use std::fs;
use std::io;
use std::path::Path;

/// Removes whatever is at `path` when it is not a regular file (said in the log); an
/// error when it cannot be removed (a directory with files in it).
pub fn repair(path: &Path) -> io::Result<()> {
    let kind = match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => return Ok(()),
        Ok(m) => m.file_type(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symlink"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a device"
    };
    let removed = if kind.is_dir() {
        fs::remove_dir(path)
    } else {
        fs::remove_file(path)
    };
    match removed {
        Ok(()) => {
            log::warn!(
                "{} was {what}, not a file of the state: removed",
                path.display()
            );
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!(
                "{} is {what}, not a file of the state, and cannot be removed ({e}): remove it",
                path.display()
            ),
        )),
    }
}

/// Most directory entries looked at for stale temporaries (the directory holds a dozen).
const MAX_ENTRIES: usize = 4096;
/// A temporary this old is stale whatever its pid says (a write takes milliseconds; the
/// pid may have been reused).
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// The writer's pid in a temporary's name (`.<file>.<pid>.tmp`, see [`crate::state::write_atomic`]).
fn temporary_pid(name: &str) -> Option<libc::pid_t> {
    let stem = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (_, pid) = stem.rsplit_once('.')?;
    pid.parse().ok().filter(|p| *p > 0)
}

/// Removes the temporaries a writer killed mid-write left in `dir`: those whose pid is not
/// a live process, or older than [`STALE_AFTER`]. Only regular files named as
/// [`crate::state::write_atomic`] names them; the count removed.
pub fn remove_stale_temporaries(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.take(MAX_ENTRIES).flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temporary_pid) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta
            .modified()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        let stale = pid as u32 != std::process::id() && (old || !crate::command::alive(pid));
        if meta.is_file() && stale && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        log::info!("removed {removed} temporary file(s) of interrupted writes");
    }
    removed
}
