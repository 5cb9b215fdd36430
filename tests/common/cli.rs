//! The router binary in a fresh directory, run as hotplug runs it: a config for one host
//! (`home.example.com`) against a local HTTPS endpoint, a stand-in `ubus` answering for
//! `wan` and `wan6`, and a state dir and syslog socket of its own.

use super::{fake_ubus, json, now_ms, serve, Pki, Received, Server, TempDir, BIN};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

pub fn wan(addr: &str) -> String {
    format!(
        r#"{{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":10,"l3_device":"eth1","proto":"dhcp","device":"eth1","ipv4-address":[{{"address":"{addr}","mask":24}}],"ipv6-address":[],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[],"inactive":{{}},"data":{{}}}}"#
    )
}

pub fn wan6(addr: &str) -> String {
    format!(
        r#"{{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":10,"l3_device":"eth1","proto":"dhcpv6","device":"eth1","ipv4-address":[],"ipv6-address":[{{"address":"{addr}","mask":128,"preferred":3600,"valid":7200}},{{"address":"fe80::1","mask":64}}],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[],"inactive":{{}},"data":{{}}}}"#
    )
}

pub struct Router {
    pub dir: TempDir,
    pub config: PathBuf,
    pub ubus: PathBuf,
}

impl Router {
    pub fn new(port: u16, ca_pem: &str) -> Router {
        let dir = TempDir::new("router");
        let ca = dir.write("ca.pem", ca_pem);
        let key = dir.join("key");
        route53_ddns::key::generate(&key, false).expect("keygen");
        let config = dir.write(
            "route53-ddns",
            &format!(
                "package route53-ddns\n\nconfig global 'global'\n\toption enabled '1'\n\toption endpoint 'https://localhost:{port}/'\n\toption key_file '{}'\n\toption ca_file '{}'\n\toption timeout '10'\n\nconfig host\n\toption name 'home.example.com'\n",
                key.display(),
                ca.display()
            ),
        );
        let ubus = fake_ubus(dir.path());
        dir.write("wan.json", &wan("198.51.100.7"));
        dir.write("wan6.json", &wan6("2001:db8:5::7"));
        Router { dir, config, ubus }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("ROUTE53_DDNS_STATE_DIR", self.dir.join("state"))
            .env("ROUTE53_DDNS_UBUS", &self.ubus)
            .env("ROUTE53_DDNS_SYSLOG_SOCKET", self.dir.join("log.sock"));
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run")
    }

    pub fn status(&self) -> serde_json::Value {
        let out = self.run(&["status", "--json"]);
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).expect("status json")
    }

    /// Adds a global option to the config.
    pub fn set(&self, option: &str, value: &str) {
        let text = std::fs::read_to_string(&self.config).expect("config");
        let text = text.replacen(
            "\toption timeout '10'\n",
            &format!("\toption timeout '10'\n\toption {option} '{value}'\n"),
            1,
        );
        std::fs::write(&self.config, text).expect("write config");
    }

    /// Polls `status --json` until `pred` holds (at most `limit`).
    pub fn status_until(
        &self,
        limit: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let start = std::time::Instant::now();
        loop {
            let s = self.status();
            if pred(&s) || start.elapsed() > limit {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub fn body(r: &Received) -> serde_json::Value {
    serde_json::from_slice(&r.body).expect("request json")
}

pub fn echo_server(pki: &Pki, delay: Duration) -> Server {
    serve(Some(pki.server.clone()), move |_, r| {
        std::thread::sleep(delay);
        let req: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let h = &req["hosts"][0];
        let a = h["ipv4"].as_str().unwrap_or("");
        let aaaa = h["ipv6"].as_str().unwrap_or("");
        json(
            200,
            &format!(
                r#"{{"result":"updated","hosts":[{{"name":"home.example.com","a":["{a}"],"aaaa":["{aaaa}"],"ttl":60}}],"observed":"127.0.0.1","request_id":"req-{}","server_time":{}}}"#,
                now_ms() % 100_000,
                now_ms()
            ),
        )
    })
}
