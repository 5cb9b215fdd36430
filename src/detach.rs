//! `update --detach`: the run goes on in the background, in its own session, with
//! /dev/null as its standard streams and no other inherited file descriptor (rpcd's ubus
//! socket, a LuCI request's pipes), so the caller returns at once and holds nothing open.

use std::os::fd::AsRawFd;

/// Every open descriptor number of this process above stderr.
fn inherited_fds() -> Vec<i32> {
    let mut fds: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
        // No /proc: the conventional range.
        Err(_) => (0..1024).collect(),
    };
    fds.retain(|&fd| fd > 2);
    fds
}

/// Forks twice. Returns `false` in the caller (after the middle process has exited), `true`
/// in the detached grandchild. If a fork fails, the run stays in the foreground (`true`).
pub fn detach() -> bool {
    // SAFETY: called at the start of `update`, before any thread or lock exists; the
    // children only call async-signal-safe functions until they go on as this program.
    unsafe {
        match libc::fork() {
            -1 => return true,
            0 => {}
            pid => {
                let mut status = 0;
                while libc::waitpid(pid, &mut status, 0) == -1
                    && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
                {
                }
                return false;
            }
        }
        libc::setsid();
        match libc::fork() {
            -1 | 0 => {}
            _ => libc::_exit(0),
        }
    }
    for fd in inherited_fds() {
        // SAFETY: closes descriptors this process inherited and does not use.
        unsafe { libc::close(fd) };
    }
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..=2 {
            // SAFETY: dup2 onto the standard descriptors.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
    true
}
