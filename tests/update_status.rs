//! `status --json` before any run and with a broken config, the first check due at once
//! for an enabled service, and `check` on a fresh (disabled) config versus an enabled one.

mod common;

use common::cli::Router;
use common::*;
use std::path::Path;
use std::process::{Command, Output};

#[test]
fn status_before_any_run_and_with_a_broken_config() {
    let dir = TempDir::new("status");
    let c = dir.write(
        "c",
        "config global 'global'\n\toption enabled '1'\n\toption endpoint 'https://x.on.aws'\n\nconfig host\n\toption name 'home.example.com'\n",
    );
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&c)
        .args(["status", "--json"])
        .env("ROUTE53_DDNS_STATE_DIR", dir.join("state"))
        .output()
        .expect("run");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(s["last_run"], serde_json::Value::Null);
    // Enabled and never run: the first check is due now (procd runs it as the service starts).
    assert!(s["next_check"].as_u64().is_some());
    assert_eq!(s["key_id"], serde_json::Value::Null);
    assert_eq!(s["hosts"][0]["result"], "never");
    assert!(s["version"].is_string());

    std::fs::write(
        &c,
        "config global 'global'\n\toption enabled '1'\n\toption timeout 'x'\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&c)
        .args(["status", "--json"])
        .env("ROUTE53_DDNS_STATE_DIR", dir.join("state"))
        .output()
        .expect("run");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let e = s["config_error"].as_str().expect("config_error");
    assert!(e.contains("line 3"), "{e}");
    assert_eq!(s["enabled"], true);
    assert_eq!(s["hosts"], serde_json::json!([]));
}

#[test]
fn check_accepts_a_fresh_disabled_config_but_not_an_enabled_incomplete_one() {
    let dir = TempDir::new("fresh");
    let fresh = "config global 'global'\n\toption enabled '0'\n\toption endpoint ''\n";
    let c = dir.write("c", fresh);
    let run = |c: &Path| -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(c)
            .arg("check")
            .output()
            .expect("run")
    };
    let out = run(&c);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("not set up yet") && text.contains("no endpoint"),
        "{text}"
    );
    assert!(text.contains("no host sections"), "{text}");

    // Enabled, the same gaps are errors; and a real mistake is one even while disabled.
    let c = dir.write("c", &fresh.replace("'0'", "'1'"));
    assert_eq!(run(&c).status.code(), Some(4));
    let c = dir.write("c", &format!("{fresh}\toption timeout 'soon'\n"));
    let out = run(&c);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("line 4"));
}

#[test]
fn next_check_is_now_before_the_first_run_of_an_enabled_service() {
    let pki = pki(&["localhost"]);
    let r = Router::new(1, &pki.ca_pem);
    let before = now_ms() / 1000;
    let s = r.status();
    let after = now_ms() / 1000;
    assert_eq!(s["last_run"], serde_json::Value::Null);
    let next = s["next_check"].as_u64().expect("next_check while enabled");
    assert!((before..=after).contains(&next), "{s}");
    assert_eq!(s["run"]["state"], "idle");
}
