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

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
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
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
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

/// Whether the process whose pid the lock file names is alive (read-only: never locks).
fn held(path: &Path) -> bool {
    let pid = crate::files::read_capped(path, 32)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.trim().parse::<libc::pid_t>().ok())
        .filter(|p| *p > 0);
    // SAFETY: signal 0 only checks that the process exists.
    pid.is_some_and(|p| {
        let alive = unsafe { libc::kill(p, 0) } == 0;
        alive || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    })
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

    /// Marks that a pass is wanted (`force` sticks until a pass consumes it).
    pub fn mark(&self, force: bool) -> io::Result<()> {
        if force {
            fs::write(&self.pending_path, b"force")
        } else {
            // Never downgrade a waiting force request.
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&self.pending_path)
            {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(e),
            }
        }
    }

    /// Consumes the mark; `None` if there was none.
    pub fn take(&self) -> Option<Pending> {
        let content = crate::files::read_capped(&self.pending_path, 64).unwrap_or_default();
        fs::remove_file(&self.pending_path).ok()?;
        Some(Pending {
            force: content == b"force",
        })
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
            let Some(p) = self.take() else {
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
