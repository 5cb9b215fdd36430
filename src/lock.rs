//! One update at a time. An invocation first leaves a "pending" mark, then tries the lock:
//! the holder, after each pass, releases the lock and runs once more if a mark appeared
//! meanwhile. A burst of events during a run thus costs at most one more pass.
//!
//! Why no event is lost: an invocation that fails to take the lock wrote its mark before
//! trying, hence before the holder released the lock; the holder looks for marks only
//! after releasing it, so it sees the mark (or a newer holder will).
//!
//! A run that waits for a scheduled retry does so outside this lock, holding only the
//! `wait` lock (one waiter per router): an event during the wait takes the lock at once,
//! re-reads the addresses and sends the current ones.
//!
//! `lock`, `pending` and `wait` are regular files. Anything else in their place (a
//! directory, a FIFO, a symlink, a device) is removed with a warning before they are
//! used, and opened without following links or blocking; what cannot be removed is an
//! error, never read as "another update is running".

use crate::tidy::repair;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub struct Lock {
    file: File,
}

fn flock(file: &File, op: libc::c_int) -> io::Result<bool> {
    loop {
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(e),
        }
    }
}

impl Lock {
    /// Takes the lock if it is free; `Ok(None)` if another process holds it. The holder's
    /// pid is written into the file (and cleared on release), so `status` can tell a held
    /// lock without trying it, which would make a concurrent event think a pass is coming.
    pub fn try_acquire(path: &Path) -> io::Result<Option<Lock>> {
        repair(path)?;
        let mut file = open_mark(path, false)?;
        if !flock(&file, libc::LOCK_EX | libc::LOCK_NB)? {
            return Ok(None);
        }
        let _ = file.set_len(0);
        let _ = write!(file, "{}", std::process::id());
        Ok(Some(Lock { file }))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = flock(&self.file, libc::LOCK_UN);
    }
}

/// Opens (creating) one of the mechanism's files for writing: never through a symlink,
/// never blocking (a FIFO), and only a regular file.
fn open_mark(path: &Path, truncate: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(truncate)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not a regular file", path.display()),
        ));
    }
    Ok(file)
}

/// Whether the process whose pid the lock file names is alive (read-only: never locks).
fn held(path: &Path) -> bool {
    let pid = crate::files::read_capped(path, 32)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.trim().parse::<libc::pid_t>().ok())
        .filter(|p| *p > 0);
    pid.is_some_and(crate::command::alive)
}

/// The lock and pending mark in a state directory.
pub struct Coalescer {
    lock_path: PathBuf,
    pending_path: PathBuf,
    wait_path: PathBuf,
}

/// What a waiting invocation asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub force: bool,
}

impl Coalescer {
    pub fn new(dir: &Path) -> Coalescer {
        Coalescer {
            lock_path: dir.join("lock"),
            pending_path: dir.join("pending"),
            wait_path: dir.join("wait"),
        }
    }

    /// Whether a pass holds the lock right now (for `status`; never takes it).
    pub fn is_running(&self) -> bool {
        held(&self.lock_path)
    }

    /// The right to wait for a scheduled retry outside the lock: one waiter per router.
    pub fn try_wait_lock(&self) -> io::Result<Option<Lock>> {
        Lock::try_acquire(&self.wait_path)
    }

    /// Whether a process is waiting for a scheduled retry (never takes the lock).
    pub fn is_waiting(&self) -> bool {
        held(&self.wait_path)
    }

    /// Marks that a pass is wanted (`force` sticks until a pass consumes it; a mark is
    /// never downgraded).
    pub fn mark(&self, force: bool) -> io::Result<()> {
        repair(&self.pending_path)?;
        let mut file = open_mark(&self.pending_path, force)?;
        if force {
            file.write_all(b"force")?;
        }
        Ok(())
    }

    /// Consumes the mark; `None` if there was none. What is in it besides `force` does not
    /// matter; a mark that cannot be removed is an error.
    pub fn take(&self) -> io::Result<Option<Pending>> {
        let content = crate::files::read_capped(&self.pending_path, 64).unwrap_or_default();
        match fs::remove_file(&self.pending_path) {
            Ok(()) => Ok(Some(Pending {
                force: content == b"force",
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("{}: {e}", self.pending_path.display()),
            )),
        }
    }

    pub fn is_marked(&self) -> bool {
        self.pending_path.exists()
    }

    pub fn try_lock(&self) -> io::Result<Option<Lock>> {
        Lock::try_acquire(&self.lock_path)
    }

    /// Runs `pass` under the lock until no marks are left. Returns `None` when another
    /// process holds the lock (it will run the pass for us), else the last pass's result.
    pub fn run<T>(&self, force: bool, mut pass: impl FnMut(bool) -> T) -> io::Result<Option<T>> {
        self.mark(force)?;
        let mut last = None;
        let mut guard = match self.try_lock()? {
            Some(g) => g,
            None => return Ok(None),
        };
        loop {
            let Some(p) = self.take()? else {
                // Someone consumed the mark between our lock and now; nothing to do.
                drop(guard);
                return Ok(last);
            };
            last = Some(pass(p.force));
            drop(guard);
            if !self.is_marked() {
                return Ok(last);
            }
            guard = match self.try_lock()? {
                Some(g) => g,
                None => return Ok(last),
            };
        }
    }
}
