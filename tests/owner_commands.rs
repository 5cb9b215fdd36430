//! What the router prints for its owner: `status` shows the key of a router that is not
//! set up yet, every path in a printed command is one quoted shell word (a hostile path is
//! removed as named, never run), and the system config's key and CA paths are confined to
//! the package's directory.

mod common;

use common::*;
use route53_ddns::config::check_confined;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(cfg: &Path, args: &[&str], state: &Path) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(cfg)
        .args(args)
        .env("ROUTE53_DDNS_STATE_DIR", state)
        .output()
        .expect("run")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// UCI's own quoting of a value (`'\''` for an apostrophe), as `uci commit` writes it.
fn uci_quoted(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// The shell words `text` stands for, as `/bin/sh` splits them, run in `cwd` with nothing
/// executed but `printf` (a `$(…)` that escaped its quotes would create `cwd/PWNED`).
fn words(text: &str, cwd: &Path) -> Vec<String> {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("printf '%s\\0' {text}"))
        .current_dir(cwd)
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!cwd.join("PWNED").exists(), "the shell ran part of: {text}");
    let s = String::from_utf8(out.stdout).expect("utf-8");
    s.split_terminator('\0').map(str::to_owned).collect()
}

const HOSTILE: &str = "a dir $(touch PWNED) `touch PWNED` 'q' \"d\" *";

/// A config in a hostile directory (with a newline in its name) naming a key in another.
fn hostile_router(dir: &TempDir) -> (PathBuf, PathBuf) {
    let cdir = dir.join(&format!("conf\n{HOSTILE}"));
    let kdir = dir.join(HOSTILE);
    std::fs::create_dir_all(&cdir).expect("mkdir");
    std::fs::create_dir_all(&kdir).expect("mkdir");
    let key = kdir.join("key; touch PWNED");
    let cfg = cdir.join("route53-ddns");
    let text = format!(
        "config global 'global'\n\toption key_file {}\n\nconfig host\n\toption name 'home.example.com'\n",
        uci_quoted(key.to_str().expect("utf-8"))
    );
    std::fs::write(&cfg, text).expect("write config");
    (cfg, key)
}

#[test]
fn leftovers_rm_line_names_hostile_paths_as_single_words() {
    let dir = TempDir::new("owner-rm");
    let (cfg, key) = hostile_router(&dir);
    let out = run(&cfg, &["leftovers"], &dir.join("state"));
    let text = stdout(&out);
    // The config path holds a newline: the command goes on after the first line.
    let cmd = text
        .split("remove them with: rm -rf ")
        .nth(1)
        .expect("rm command");
    let cmd = &cmd[..cmd.find("\nto ").unwrap_or(cmd.len())].trim_end();
    let with = |p: &Path, s: &str| format!("{}{s}", p.display());
    let expected = vec![
        "/etc/route53-ddns".to_owned(),
        with(&cfg, ""),
        with(&cfg, "-opkg"),
        with(&cfg, ".apk-new"),
        with(&key, ""),
        with(&key, ".next"),
        with(&key, ".old-id"),
        "/var/run/route53-ddns".to_owned(),
    ];
    assert_eq!(words(cmd, dir.path()), expected);
}

#[test]
fn pubkey_old_rm_line_names_a_hostile_path_as_one_word() {
    let dir = TempDir::new("owner-old");
    let (cfg, key) = hostile_router(&dir);
    let made = run(&cfg, &["keygen"], &dir.join("state"));
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let id = stdout(&made).lines().next().expect("id").to_owned();
    let old = PathBuf::from(format!("{}.old-id", key.display()));
    std::fs::write(&old, format!("{id}\n")).expect("old-id");
    let out = stdout(&run(&cfg, &["pubkey", "--old"], &dir.join("state")));
    let cmd = out
        .split("on the router: rm ")
        .nth(1)
        .expect("rm")
        .trim_end();
    assert_eq!(words(cmd, dir.path()), vec![old.display().to_string()]);
    let del = out
        .lines()
        .find(|l| l.contains("delete-parameter"))
        .expect("delete");
    let del = del.split("--name ").nth(1).expect("name");
    assert_eq!(
        words(del, dir.path()),
        vec![format!("/route53-ddns/keys/{id}")]
    );
}

#[test]
fn status_of_an_unconfigured_router_shows_its_key() {
    let dir = TempDir::new("owner-status");
    let key = dir.join("etc/route53-ddns/key");
    // As installed: disabled, no endpoint, no host; only the key exists.
    let cfg = dir.write(
        "c",
        &format!(
            "config global 'global'\n\toption enabled '0'\n\toption key_file '{}'\n",
            key.display()
        ),
    );
    let made = run(&cfg, &["keygen"], &dir.join("state"));
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let id = stdout(&made).lines().next().expect("id").to_owned();
    let text = stdout(&run(&cfg, &["status"], &dir.join("state")));
    assert!(text.contains(&format!("key: {id}")), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&run(&cfg, &["status", "--json"], &dir.join("state")).stdout)
            .expect("json");
    assert!(json["config_error"].is_string(), "{json}");
    assert_eq!(json["key_id"], id.as_str());
    assert_eq!(json["key"]["id"], id.as_str());
}

#[test]
fn the_system_config_keeps_key_and_ca_inside_the_package_directory() {
    let system = Path::new("/etc/config/route53-ddns");
    for name in ["key_file", "ca_file"] {
        for ok in [
            "/etc/route53-ddns/key",
            "/etc/route53-ddns/ca.pem",
            "/etc/route53-ddns/sub/k",
        ] {
            assert_eq!(check_confined(system, name, ok), Ok(()), "{ok}");
        }
        for bad in [
            "/tmp/upload.bin",
            "/etc/config/route53-ddns",
            "/etc/route53-ddns/../../tmp/upload.bin",
            "/etc/route53-ddns/./key",
            "/etc/route53-ddns//key",
            "/etc/route53-ddns/",
            "/etc/route53-ddns",
            "/etc/route53-ddnsx/key",
        ] {
            let e = check_confined(system, name, bad).expect_err(bad);
            assert!(e.contains(name) && e.contains("/etc/route53-ddns/"), "{e}");
        }
    }
    // A config root names with --config elsewhere is not LuCI's: its paths are its own.
    assert_eq!(
        check_confined(Path::new("/root/test.conf"), "key_file", "/tmp/k"),
        Ok(())
    );
}
