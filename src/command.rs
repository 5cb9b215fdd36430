//! Child processes (`ubus`, `ip`) with a deadline and an output cap.
//!
//! A child runs in its own process group. Its standard output is read with `poll(2)` until
//! end of file, the [deadline](COMMAND_DEADLINE) or the [cap](MAX_OUTPUT); past either
//! bound the whole group gets SIGKILL (a shell script's own children too) and the child is
//! reaped before this returns, so a hung `ubus` can neither keep a run alive nor hold the
//! update lock.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a `ubus call … status` or `ip -j addr` may take, from spawn to exit.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(5);
/// Largest standard output read: an interface status is a few KB.
pub const MAX_OUTPUT: usize = 1 << 20;

/// Why a command gave no output.
#[derive(Debug)]
pub enum RunError {
    /// It could not be started (`NotFound`: no such program).
    Spawn(io::Error),
    /// It did not finish within the deadline; it was killed.
    Timeout(Duration),
    /// It wrote more than the cap; it was killed.
    TooLarge(usize),
    Io(io::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Spawn(e) => write!(f, "cannot start it: {e}"),
            RunError::Timeout(d) => write!(f, "no answer within {} s; killed it", d.as_secs()),
            RunError::TooLarge(n) => write!(f, "more than {n} bytes of output; killed it"),
            RunError::Io(e) => write!(f, "{e}"),
        }
    }
}

fn kill_group(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: signals the process group this module created for the child.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for readable data or hang-up on `fd` for at most `left`.
fn poll_in(fd: i32, left: Duration) -> io::Result<bool> {
    let ms = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one pollfd on the stack, valid for the call.
        let rc = unsafe { libc::poll(&mut p, 1, ms) };
        if rc >= 0 {
            return Ok(rc > 0);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Runs `cmd` and returns its standard output when it exits 0 (`Ok(None)` when it exits
/// otherwise), within `deadline` and `cap` bytes.
pub fn stdout_of(
    cmd: &mut Command,
    deadline: Duration,
    cap: usize,
) -> Result<Option<Vec<u8>>, RunError> {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(RunError::Spawn)?;
    let result = read_bounded(&mut child, start, deadline, cap);
    match result {
        Ok(out) => {
            // Output ended; the child may still linger: wait for it, within the deadline.
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => return Ok(status.success().then_some(out)),
                    Ok(None) if start.elapsed() < deadline => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Ok(None) => {
                        kill_group(&mut child);
                        return Err(RunError::Timeout(deadline));
                    }
                    Err(e) => {
                        kill_group(&mut child);
                        return Err(RunError::Io(e));
                    }
                }
            }
        }
        Err(e) => {
            kill_group(&mut child);
            Err(e)
        }
    }
}

fn read_bounded(
    child: &mut Child,
    start: Instant,
    deadline: Duration,
    cap: usize,
) -> Result<Vec<u8>, RunError> {
    let Some(mut pipe) = child.stdout.take() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_sub(start.elapsed());
        if left.is_zero() || !poll_in(pipe.as_raw_fd(), left).map_err(RunError::Io)? {
            return Err(RunError::Timeout(deadline));
        }
        match pipe.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                if out.len().saturating_add(n) > cap {
                    return Err(RunError::TooLarge(cap));
                }
                out.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(RunError::Io(e)),
        }
    }
}

/// Whether process `pid` (> 0) exists.
pub fn alive(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let found = pid > 0 && unsafe { libc::kill(pid, 0) } == 0;
    found || (pid > 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}
