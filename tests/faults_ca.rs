//! What `update` and `check` make of a hostile `ca_file`: a FIFO and a device are refused at
//! once (never read, never waited on), and a file over the size cap is refused by both
//! alike, saying so, instead of `update` reading its first part only.

mod common;

use common::cli::{echo_server, Router};
use common::handshake::other_ca;
use common::*;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// `ca_file` set to `ca`.
fn router_trusting(ca: &Path, port: u16) -> Router {
    let r = Router::new(port, "");
    let text = std::fs::read_to_string(&r.config).expect("config");
    let old = r.dir.join("ca.pem");
    let text = text.replace(&old.display().to_string(), &ca.display().to_string());
    std::fs::write(&r.config, text).expect("write config");
    r
}

/// Runs `cmd` with at most 512 MiB of address space and 30 s: a read without a cap or
/// a blocking open fails the test instead of eating the machine or hanging it.
fn bounded(cmd: &Command) -> Output {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("ulimit -v 524288; exec \"$@\"")
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    output_within(&mut sh, Duration::from_secs(30)).expect("it ended")
}

/// Both commands refuse the file with exit 4 and say `why`; nothing is sent.
fn refused_by_update_and_check(ca: &Path, why: &str) {
    let pki = pki(&["localhost"]);
    let server = echo_server(&pki, Duration::ZERO);
    let r = router_trusting(ca, server.port);
    let check = bounded(&r.cmd(&["check"]));
    let said = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(4), "{said}");
    assert!(said.contains(why), "{said}");
    let update = bounded(&r.cmd(&["update", "--no-wait"]));
    assert_eq!(
        update.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&update.stderr)
    );
    assert_eq!(server.count(), 0);
    let e = &r.status()["hosts"][0]["error"];
    assert_eq!(e["code"], "config", "{e}");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains(why)),
        "{e}"
    );
}

#[test]
fn a_fifo_as_ca_file_is_refused_not_waited_on() {
    let dir = TempDir::new("ca-fifo");
    let fifo = dir.join("ca.pem");
    mkfifo(&fifo);
    refused_by_update_and_check(&fifo, "not a regular file");
}

#[test]
fn dev_zero_as_ca_file_is_refused_not_read() {
    refused_by_update_and_check(Path::new("/dev/zero"), "not a regular file");
}

/// 20 MB of PEM with the endpoint's root in the middle, at 10 MB.
#[test]
fn a_bundle_over_the_cap_is_refused_by_update_and_check_alike() {
    let pki = pki(&["localhost"]);
    let filler = other_ca(1);
    let half = filler.repeat(10_000_000usize.div_ceil(filler.len()));
    let dir = TempDir::new("ca-big");
    let ca = dir.write("bundle.pem", &format!("{half}{}{half}", pki.ca_pem));
    assert!(std::fs::metadata(&ca).expect("bundle").len() > 20_000_000);
    refused_by_update_and_check(&ca, "larger than 4 MiB");
}

/// Just under the cap, with the root last: trusted by both.
#[test]
fn a_bundle_under_the_cap_is_read_to_its_end() {
    let pki = pki(&["localhost"]);
    let filler = other_ca(1);
    let room = (4 << 20) - pki.ca_pem.len() - 1;
    let dir = TempDir::new("ca-cap");
    let ca = dir.write(
        "bundle.pem",
        &format!("{}{}", filler.repeat(room / filler.len()), pki.ca_pem),
    );
    let server = echo_server(&pki, Duration::ZERO);
    let r = router_trusting(&ca, server.port);
    let check = bounded(&r.cmd(&["check"]));
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let update = bounded(&r.cmd(&["update", "--no-wait"]));
    assert_eq!(
        update.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&update.stderr)
    );
    assert_eq!(server.count(), 1);
}
