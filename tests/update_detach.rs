//! `update --detach` (how LuCI's "Update now" starts a run): the caller returns at once,
//! and the run goes on in a session of its own, without the caller's descriptors.

mod common;

use common::cli::Router;
use common::*;
use std::time::Duration;

/// The descriptors of process `pid`, as (number, target).
fn fds_of(pid: &str) -> Vec<(i32, String)> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| {
                let e = e.ok()?;
                let n = e.file_name().to_str()?.parse().ok()?;
                let t = std::fs::read_link(e.path()).ok()?;
                Some((n, t.display().to_string()))
            })
            .collect()
        })
        .unwrap_or_default()
}

#[test]
fn detach_returns_at_once_and_the_run_keeps_no_inherited_descriptor() {
    use std::os::fd::AsRawFd;
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| Behaviour::Hang);
    let r = Router::new(server.port, &pki.ca_pem);
    // A descriptor the caller leaks (rpcd's ubus socket, say): dup() clears CLOEXEC.
    let leak_path = r.dir.join("leaked-by-caller");
    let leak = std::fs::File::create(&leak_path).expect("create");
    // SAFETY: dup of a descriptor we own; closed below.
    let leaked = unsafe { libc::dup(leak.as_raw_fd()) };
    assert!(leaked > 2);
    let started = std::time::Instant::now();
    let mut cmd = r.cmd(&["update", "--force", "--detach", "--no-wait"]);
    let out = output_within(&mut cmd, Duration::from_secs(5)).expect("the caller returns at once");
    // SAFETY: closes our dup.
    unsafe { libc::close(leaked) };
    assert_eq!(out.status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(5));
    // The detached run is talking to the hanging server; find it by its config path.
    let config = r.config.display().to_string();
    let mut pid = None;
    for _ in 0..100 {
        pid = std::fs::read_dir("/proc").ok().and_then(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|p| {
                    std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| {
                        let c = String::from_utf8_lossy(&c);
                        c.contains(&config) && c.contains("--detach")
                    })
                })
        });
        if pid.is_some() && server.count() > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = pid.expect("the detached run");
    let fds = fds_of(&pid);
    for fd in 0..=2 {
        assert!(
            fds.iter().any(|(n, t)| *n == fd && t == "/dev/null"),
            "fd {fd}: {fds:?}"
        );
    }
    assert!(
        fds.iter().all(|(_, t)| !t.contains("leaked-by-caller")),
        "{fds:?}"
    );
    // Not in the caller's session (setsid, then a second fork).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let sid: i32 = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().nth(3))
        .and_then(|s| s.parse().ok())
        .expect("sid");
    // SAFETY: getsid(0) only reads this process's session id.
    let ours = unsafe { libc::getsid(0) };
    assert_ne!(sid, ours, "a session of its own");
    // While it runs, status says so.
    let s = r.status_until(Duration::from_secs(5), |s| s["run"]["state"] == "running");
    assert_eq!(s["run"]["state"], "running", "{s}");
    assert_eq!(s["run"]["attempt"], 1);
    assert!(s["run"]["since"].as_u64().is_some());
}
