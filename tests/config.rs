//! Config validation, defaults, the `schema` JSON and the `check` command.

mod common;

use common::*;
use route53_ddns::config::{parse_endpoint, parse_suffix, Config};
use std::process::Command;
use std::time::Duration;

const GOOD: &str = "
config global 'global'
\toption enabled '1'
\toption endpoint 'https://abc.lambda-url.eu-west-1.on.aws/'

config host
\toption name 'Home.Example.com.'

config host
\toption name 'nas.example.com'
\toption ipv4 '0'
\toption ipv6_suffix '::1234'
";

#[test]
fn defaults_fill_what_is_not_set() {
    let dir = TempDir::new("cfg");
    let path = dir.write("c", GOOD);
    let (c, warnings) = Config::load(&path).expect("valid");
    assert!(c.enabled);
    assert_eq!(c.endpoint.base, "https://abc.lambda-url.eu-west-1.on.aws");
    assert_eq!(c.ipv4_interface, "wan");
    assert_eq!(c.ipv6_interface, "wan6");
    assert_eq!(c.lan_interface, "lan");
    assert_eq!(c.key_file.to_str(), Some("/etc/route53-ddns/key"));
    assert_eq!(c.ca_file, None);
    assert_eq!(c.connect_timeout, Duration::from_secs(10));
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert_eq!(c.check_interval_min, 10);
    assert_eq!(c.force_interval_h, 24);
    assert_eq!(c.log_level, log::LevelFilter::Info);
    assert_eq!(c.hosts[0].name, "home.example.com", "canonical form");
    assert!(c.hosts[0].ipv4 && c.hosts[0].ipv6);
    assert_eq!(c.hosts[1].ipv6_suffix, Some("::1234".parse().expect("v6")));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn unknown_options_and_sections_are_warned_about() {
    let dir = TempDir::new("cfg");
    let path = dir.write(
        "c",
        &format!("{GOOD}\toption colour 'blue'\n\nconfig frobnicator\n\toption x 'y'\n"),
    );
    let (_, warnings) = Config::load(&path).expect("still valid");
    let text: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        text.iter()
            .any(|w| w.starts_with("line 13:") && w.contains("'colour'")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|w| w.starts_with("line 15:") && w.contains("frobnicator")),
        "{text:?}"
    );
}

#[test]
fn every_bad_value_is_reported_with_its_line() {
    let dir = TempDir::new("cfg");
    let path = dir.write(
        "c",
        "config global 'global'
\toption enabled 'maybe'
\toption endpoint 'http://plain.example.com'
\toption timeout '0'
\toption connect_timeout 'ten'
\toption log_level 'loud'
\toption key_file 'relative/key'
\toption ipv4_interface 'w an'
\tlist check_interval '5'

config host
\toption name 'router'

config host
\toption name 'sfx.example.com'
\toption ipv6_suffix '2001:db8::1'

config host
\toption name 'ok.example.com'

config host
\toption name 'ok.example.com'

config host
\toption ipv4 '1'
",
    );
    let e = Config::load(&path).expect_err("invalid");
    let text: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
    let expect = [
        ("line 2:", "enabled"),
        ("line 3:", "https://"),
        ("line 4:", "timeout must be a whole number from 1 to 300"),
        ("line 5:", "connect_timeout"),
        (
            "line 6:",
            "log_level must be one of error, warn, info, debug",
        ),
        ("line 7:", "absolute path"),
        ("line 8:", "ipv4_interface"),
        ("line 9:", "`option`, not `list`"),
        ("line 12:", "not fully qualified"),
        ("line 16:", "sets bits of the prefix"),
        ("line 21:", "configured twice"),
        ("line 24:", "no name"),
    ];
    for (line, needle) in expect {
        assert!(
            text.iter()
                .any(|t| t.starts_with(line) && t.contains(needle)),
            "missing {line} {needle} in {text:#?}"
        );
    }
}

#[test]
fn endpoint_rules() {
    assert!(parse_endpoint("https://x.on.aws", false).is_ok());
    assert!(parse_endpoint("https://x.on.aws/", false).is_ok());
    assert_eq!(
        parse_endpoint("https://[::1]:8443/", false).map(|e| e.host),
        Ok("::1".into())
    );
    assert!(parse_endpoint("http://x.on.aws", false).is_err());
    assert!(parse_endpoint("http://127.0.0.1:9000", true).is_ok());
    assert!(parse_endpoint("https://x.on.aws/v1/update", false).is_err());
    assert!(parse_endpoint("https://user:pw@x.on.aws", false).is_err());
    assert!(parse_endpoint("https://x.on.aws:0", false).is_err());
    assert!(parse_endpoint("https://x.on.aws:99999", false).is_err());
    assert!(parse_endpoint("ftp://x", true).is_err());
    assert!(parse_endpoint("https://", false).is_err());
}

#[test]
fn suffix_rules() {
    assert!(parse_suffix("::1234").is_ok());
    assert!(parse_suffix("::a:b:c:d").is_ok());
    assert!(parse_suffix("::").is_err());
    assert!(parse_suffix("2001:db8::1").is_err());
    assert!(parse_suffix("1234").is_err());
}

#[test]
fn schema_lists_every_option_with_kind_and_default() {
    let out = Command::new(BIN).arg("schema").output().expect("run");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let sections = v["sections"].as_array().expect("sections");
    assert_eq!(sections[0]["type"], "global");
    assert_eq!(sections[0]["name"], "global");
    assert_eq!(sections[1]["type"], "host");
    assert_eq!(sections[1]["anonymous"], true);
    let find = |s: usize, n: &str| {
        sections[s]["options"]
            .as_array()
            .and_then(|o| o.iter().find(|x| x["name"] == n).cloned())
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    assert_eq!(find(0, "enabled")["kind"], "bool");
    assert_eq!(find(0, "enabled")["default"], "0");
    assert_eq!(find(0, "endpoint")["kind"], "https_url");
    assert_eq!(find(0, "endpoint")["required"], true);
    let ci = find(0, "check_interval");
    assert_eq!(
        (ci["kind"].as_str(), ci["min"].as_u64(), ci["max"].as_u64()),
        (Some("uint"), Some(1), Some(1440))
    );
    assert_eq!(ci["default"], "10");
    assert_eq!(
        find(0, "log_level")["values"],
        serde_json::json!(["error", "warn", "info", "debug"])
    );
    assert_eq!(find(0, "ipv4_interface")["kind"], "interface");
    assert_eq!(find(0, "key_file")["kind"], "path");
    assert_eq!(find(1, "name")["kind"], "hostname");
    assert_eq!(find(1, "ipv6_suffix")["kind"], "ipv6_suffix");
    let names: Vec<&str> = sections[0]["options"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["name"].as_str()).collect())
        .unwrap_or_default();
    for n in [
        "enabled",
        "endpoint",
        "ipv4_interface",
        "ipv6_interface",
        "lan_interface",
        "key_file",
        "ca_file",
        "connect_timeout",
        "timeout",
        "check_interval",
        "force_interval",
        "log_level",
    ] {
        assert!(names.contains(&n), "{n}");
    }
}

#[test]
fn check_says_what_is_wrong_and_exits_4() {
    let dir = TempDir::new("cfg");
    let path = dir.write(
        "c",
        "config global 'global'\n\toption endpoint 'https://x.on.aws'\n\toption timeout '9999'\n\nconfig host\n\toption name 'a.*.example.com'\n",
    );
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&path)
        .arg("check")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(4));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("line 3: timeout must be a whole number from 1 to 300"),
        "{text}"
    );
    assert!(
        text.contains("line 6:") && text.contains("only be the whole first label"),
        "{text}"
    );
}

#[test]
fn a_wildcard_host_is_accepted_only_as_its_whole_first_label() {
    let dir = TempDir::new("cfg");
    let path = dir.write(
        "c",
        "config global 'global'\n\toption endpoint 'https://x.on.aws'\n\nconfig host\n\toption name '*.Home.Example.com.'\n",
    );
    let (c, _) = Config::load(&path).expect("a wildcard host is valid");
    assert_eq!(c.hosts[0].name, "*.home.example.com", "canonical form");
    for bad in [
        "home.*.example.com",
        "*home.example.com",
        "*",
        "*.*.example.com",
    ] {
        let path = dir.write(
            "c",
            &format!("config global 'global'\n\toption endpoint 'https://x.on.aws'\n\nconfig host\n\toption name '{bad}'\n"),
        );
        match Config::load(&path) {
            Err(e) => assert!(
                e.to_string().contains("only be the whole first label"),
                "{bad}: {e}"
            ),
            Ok((c, _)) => panic!("{bad} was accepted as {:?}", c.hosts),
        }
    }
}

#[test]
fn check_passes_a_complete_setup() {
    let dir = TempDir::new("cfg");
    let key = dir.join("key");
    let ca = dir.write("ca.pem", &pki(&["localhost"]).ca_pem);
    let path = dir.write(
        "c",
        &format!(
            "config global 'global'\n\toption enabled '1'\n\toption endpoint 'https://x.on.aws'\n\toption key_file '{}'\n\toption ca_file '{}'\n\nconfig host\n\toption name 'home.example.com'\n",
            key.display(),
            ca.display()
        ),
    );
    let run = |cmd: &str| {
        Command::new(BIN)
            .arg("--config")
            .arg(&path)
            .arg(cmd)
            .output()
            .expect("run")
    };
    let before = run("check");
    assert_eq!(before.status.code(), Some(4), "no key yet");
    assert!(String::from_utf8_lossy(&before.stdout).contains("keygen"));
    assert!(run("keygen").status.success());
    let after = run("check");
    let text = String::from_utf8_lossy(&after.stdout);
    assert_eq!(after.status.code(), Some(0), "{text}");
    assert!(text.contains("config ok: 1 host(s)"), "{text}");
}

#[test]
fn update_exit_codes_before_any_request() {
    let dir = TempDir::new("cfg");
    let state = dir.join("state");
    let run = |cfg: &std::path::Path, args: &[&str]| {
        Command::new(BIN)
            .arg("--config")
            .arg(cfg)
            .arg("update")
            .args(args)
            .env("ROUTE53_DDNS_STATE_DIR", &state)
            .env("ROUTE53_DDNS_SYSLOG_SOCKET", dir.join("nolog"))
            .output()
            .expect("run")
            .status
            .code()
    };
    // Freshly installed: disabled and unconfigured → quietly nothing to do.
    let fresh = dir.write("fresh", "config global 'global'\n\toption enabled '0'\n");
    assert_eq!(run(&fresh, &[]), Some(3));
    // Enabled but broken → config error.
    let broken = dir.write("broken", "config global 'global'\n\toption enabled '1'\n");
    assert_eq!(run(&broken, &[]), Some(4));
    let unparsable = dir.write("unparsable", "config global 'global\n");
    assert_eq!(run(&unparsable, &[]), Some(4));
    assert_eq!(run(&dir.join("missing"), &[]), Some(4));
    // An interface this config does not read → 3 at once.
    let good = dir.write(
        "good",
        &format!(
            "{GOOD}\nconfig global 'global'\n\toption key_file '{}'\n",
            dir.join("nokey").display()
        ),
    );
    assert_eq!(run(&good, &["--interface", "guest"]), Some(3));
    // A relevant one, but no key → config/key error.
    assert_eq!(run(&good, &["--interface", "wan"]), Some(4));
    // Bad usage.
    assert_eq!(run(&good, &["--bogus"]), Some(1));
}

#[test]
fn a_huge_config_or_a_fifo_is_a_config_error_not_a_hang() {
    let dir = TempDir::new("cfg");
    let c = dir.join("c");
    // 300 KiB of comments: larger than any real config, refused by size.
    std::fs::write(&c, "# x\n".repeat(75_000)).expect("write");
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&c)
        .arg("check")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(4));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("larger than 262144 bytes"), "{text}");
    std::fs::remove_file(&c).expect("rm");
    mkfifo(&c);
    for args in [&["update"][..], &["status", "--json"], &["check"]] {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&c)
            .args(args)
            .env("ROUTE53_DDNS_STATE_DIR", dir.join("state"));
        let out = output_within(&mut cmd, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{args:?} hung on a FIFO config"));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            args[0] == "update" && out.status.code() == Some(4)
                || text.contains("not a regular file"),
            "{args:?}: {text}"
        );
    }
}
