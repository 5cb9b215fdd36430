//! `keygen` / `pubkey`: file modes, no overwrite without --force, and what is printed.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

fn cfg(dir: &TempDir, key: &std::path::Path) -> std::path::PathBuf {
    dir.write(
        "c",
        &format!(
            "config global 'global'\n\toption endpoint 'https://x.on.aws'\n\toption key_file '{}'\n\nconfig host\n\toption name 'home.example.com'\n\nconfig host\n\toption name 'nas.example.com'\n",
            key.display()
        ),
    )
}

fn run(cfg: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(cfg)
        .args(args)
        .output()
        .expect("run")
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
}

#[test]
fn keygen_creates_a_private_file_in_a_private_dir() {
    let dir = TempDir::new("key");
    let key = dir.join("etc/route53-ddns/key");
    let c = cfg(&dir, &key);
    let out = run(&c, &["keygen"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&dir.join("etc/route53-ddns")), 0o700);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout.lines().next().expect("key id line").to_owned();
    assert_eq!(id.len(), 43, "base64url Ed25519 public key");
    assert!(route53_ddns_protocol::KeyId::parse(&id).is_ok());
    assert!(
        stdout.contains(&format!(
            "--name '/route53-ddns/keys/{id}' --value '{{\"names\":[\"home.example.com\",\"nas.example.com\"]}}'"
        )),
        "{stdout}"
    );
    // No temporary files left behind.
    let entries: Vec<_> = std::fs::read_dir(dir.join("etc/route53-ddns"))
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");

    // pubkey prints the same id, and never the private key.
    let p = run(&c, &["pubkey"]);
    assert!(p.status.success());
    let ptext = String::from_utf8_lossy(&p.stdout);
    assert_eq!(ptext.lines().next(), Some(id.as_str()));
    let der = std::fs::read(&key).expect("key");
    let secret = route53_ddns_protocol::base64url::encode(&der[16..48]);
    assert!(!ptext.contains(&secret));
    assert!(!stdout.contains(&secret));
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = TempDir::new("key");
    let key = dir.join("key");
    let c = cfg(&dir, &key);
    assert!(run(&c, &["keygen"]).status.success());
    let before = std::fs::read(&key).expect("key");
    let again = run(&c, &["keygen"]);
    assert_eq!(again.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read(&key).expect("key"), before, "untouched");
    let forced = run(&c, &["keygen", "--force"]);
    assert!(forced.status.success());
    assert_ne!(std::fs::read(&key).expect("key"), before, "replaced");
    assert_eq!(mode(&key), 0o600);
}

#[test]
fn a_broken_or_missing_key_is_a_key_error() {
    let dir = TempDir::new("key");
    let key = dir.join("key");
    let c = cfg(&dir, &key);
    let missing = run(&c, &["pubkey"]);
    assert_eq!(missing.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("keygen"));
    std::fs::write(&key, b"not a key").expect("write");
    let broken = run(&c, &["pubkey"]);
    assert_eq!(broken.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("PKCS#8"));
}

#[test]
fn a_readable_key_still_works_but_is_warned_about() {
    let dir = TempDir::new("key");
    let key = dir.join("key");
    route53_ddns::key::generate(&key, false).expect("keygen");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let c = cfg(&dir, &key);
    let out = run(&c, &["check"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("chmod 600"), "{text}");
}
