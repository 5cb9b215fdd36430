//! Logging never blocks a run: with a `/dev/log` that nobody drains (a datagram socket
//! whose queue is full) the update still completes, and says once on a terminal that
//! syslog lines are dropped. The socket path is the test-only `ROUTE53_DDNS_SYSLOG_SOCKET`.

mod common;

use common::*;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WAN: &str = r#"{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":10,"l3_device":"eth1","proto":"dhcp","device":"eth1","ipv4-address":[{"address":"198.51.100.7","mask":24}],"ipv6-address":[],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[],"inactive":{},"data":{}}"#;

/// A log socket that is never read, filled until a send would block.
fn full_socket(dir: &TempDir) -> (UnixDatagram, std::path::PathBuf) {
    let path = dir.join("log.sock");
    let sock = UnixDatagram::bind(&path).expect("bind log socket");
    let filler = UnixDatagram::unbound().expect("socket");
    filler.set_nonblocking(true).expect("nonblocking");
    let line = [b'x'; 512];
    let mut sent = 0;
    while filler.send_to(&line, &path).is_ok() {
        sent += 1;
        assert!(sent < 1_000_000, "the socket never filled");
    }
    (sock, path)
}

/// Runs `update --force` against a local endpoint; returns (exit code, stderr, elapsed).
fn update(through_a_terminal: bool) -> (Option<i32>, String, Duration, usize) {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "198.51.100.7", "198.51.100.7"),
        )
    });
    let dir = TempDir::new("logging");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let key = dir.join("key");
    route53_ddns::key::generate(&key, false).expect("keygen");
    let config = dir.write(
        "route53-ddns",
        &format!(
            "package route53-ddns\n\nconfig global 'global'\n\toption enabled '1'\n\toption endpoint 'https://localhost:{}/'\n\toption key_file '{}'\n\toption ca_file '{}'\n\toption log_level 'debug'\n\nconfig host\n\toption name 'home.example.com'\n\toption ipv6 '0'\n",
            server.port,
            key.display(),
            ca.display()
        ),
    );
    let ubus = fake_ubus(dir.path());
    dir.write("wan.json", WAN);
    let (_sock, log) = full_socket(&dir);
    let args = format!("{BIN} --config {} update --force", config.display());
    let mut cmd = if through_a_terminal {
        // script(1) gives the binary a pseudo-terminal as stdin/stdout/stderr.
        let mut c = Command::new("script");
        c.args(["-qec", &args, "/dev/null"]);
        c
    } else {
        let mut c = Command::new(BIN);
        c.arg("--config").arg(&config).args(["update", "--force"]);
        c
    };
    let mut child = cmd
        .env("ROUTE53_DDNS_STATE_DIR", dir.join("state"))
        .env("ROUTE53_DDNS_UBUS", &ubus)
        .env("ROUTE53_DDNS_SYSLOG_SOCKET", &log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the update blocked on a full log socket");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (code, text, start.elapsed(), server.count())
}

#[test]
fn a_full_log_socket_does_not_block_an_update() {
    let (code, output, _, sent) = update(false);
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(sent, 1);
}

#[test]
fn dropped_syslog_lines_are_said_once_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: script(1) is not installed");
        return;
    }
    let (code, output, _, sent) = update(true);
    assert_eq!((code, sent), (Some(0), 1), "{output}");
    assert_eq!(
        output.matches("syslog lines are being dropped").count(),
        1,
        "{output}"
    );
    // The lines themselves still reach the terminal.
    assert!(output.contains("route53-ddns: "), "{output}");
}
