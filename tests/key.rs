//! `keygen` / `pubkey`: file modes, no overwrite without --force, and what is printed.

mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
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

#[test]
fn a_huge_key_file_or_a_fifo_is_refused_without_reading_it_all() {
    let dir = TempDir::new("key");
    let key = dir.join("key");
    let c = cfg(&dir, &key);
    // 8 MiB of garbage: refused by size, not parsed.
    std::fs::write(&key, vec![0x30u8; 8 << 20]).expect("write");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = run(&c, &["pubkey"]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("larger than 4096 bytes"), "{err}");
    // A FIFO nobody writes to: a read would block forever.
    std::fs::remove_file(&key).expect("rm");
    mkfifo(&key);
    let mut cmd = Command::new(BIN);
    cmd.arg("--config").arg(&c).arg("pubkey");
    let out =
        output_within(&mut cmd, std::time::Duration::from_secs(20)).expect("pubkey hung on a FIFO");
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a regular file"), "{err}");
}

fn ids(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn keygen_next_makes_a_private_next_key_beside_the_key_and_never_replaces_it_unasked() {
    let dir = TempDir::new("next");
    let key = dir.join("key");
    let c = cfg(&dir, &key);
    // No current key: there is nothing to rotate from.
    let none = run(&c, &["keygen", "--next"]);
    assert_eq!(none.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&none.stderr).contains("keygen"));
    assert!(!dir.join("key.next").exists());

    assert!(run(&c, &["keygen"]).status.success());
    let current = std::fs::read(&key).expect("key");
    let cur_id = String::from_utf8_lossy(&run(&c, &["pubkey"]).stdout)
        .lines()
        .next()
        .expect("id")
        .to_owned();
    let out = run(&c, &["keygen", "--next"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let next = dir.join("key.next");
    assert_eq!(mode(&next), 0o600);
    assert_eq!(
        std::fs::read(&key).expect("key"),
        current,
        "the key is untouched"
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let next_id = text.lines().next().expect("id").to_owned();
    assert!(route53_ddns_protocol::KeyId::parse(&next_id).is_ok());
    assert_ne!(next_id, cur_id);
    // The registration command for the next key, with the names of the config, and the
    // one that copies the current key's entry.
    assert!(
        text.contains(&format!(
            "--name '/route53-ddns/keys/{next_id}' --value '{{\"names\":[\"home.example.com\",\"nas.example.com\"]}}'"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "--name '/route53-ddns/keys/{next_id}' --value \"$(aws ssm get-parameter --name '/route53-ddns/keys/{cur_id}' --query Parameter.Value --output text)\""
        )),
        "{text}"
    );
    assert_eq!(
        ids(&dir),
        ["c", "key", "key.next"],
        "no temporary file left"
    );
    // pubkey --next prints the same; pubkey still the current key.
    let p = run(&c, &["pubkey", "--next"]);
    assert!(p.status.success());
    assert_eq!(String::from_utf8_lossy(&p.stdout), text);
    let p = run(&c, &["pubkey"]);
    assert_eq!(
        String::from_utf8_lossy(&p.stdout).lines().next(),
        Some(cur_id.as_str())
    );
    // Never printed: either private key.
    for f in [&key, &next] {
        let der = std::fs::read(f).expect("key");
        let secret = route53_ddns_protocol::base64url::encode(&der[16..48]);
        assert!(!text.contains(&secret));
    }

    // A second keygen --next refuses; --force replaces the next key only.
    let before = std::fs::read(&next).expect("next");
    let again = run(&c, &["keygen", "--next"]);
    assert_eq!(again.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read(&next).expect("next"), before);
    assert!(run(&c, &["keygen", "--next", "--force"]).status.success());
    assert_ne!(std::fs::read(&next).expect("next"), before);
    assert_eq!(mode(&next), 0o600);
    assert_eq!(std::fs::read(&key).expect("key"), current);
}

#[test]
fn pubkey_next_without_a_next_key_says_how_to_make_one() {
    let dir = TempDir::new("next");
    let key = dir.join("key");
    let c = cfg(&dir, &key);
    assert!(run(&c, &["keygen"]).status.success());
    let out = run(&c, &["pubkey", "--next"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keygen --next"));
}

#[test]
fn promotion_renames_the_next_key_over_the_key_and_pubkey_old_prints_its_removal() {
    let dir = TempDir::new("promote");
    let key = dir.join("key");
    let c = cfg(&dir, &key);
    let none = run(&c, &["pubkey", "--old"]);
    assert_eq!(none.status.code(), Some(3), "nothing to remove yet");
    let current = route53_ddns::key::generate(&key, false).expect("keygen");
    let next_file = route53_ddns::rotation::next_path(&key);
    let next = route53_ddns::key::generate(&next_file, false).expect("keygen --next");
    let inode = std::fs::metadata(&next_file).expect("stat").ino();
    route53_ddns::rotation::promote(&key, current.key_id()).expect("promote");
    // The very file of the next key is now the key (a rename: never half written).
    assert_eq!(std::fs::metadata(&key).expect("stat").ino(), inode);
    assert_eq!(mode(&key), 0o600);
    assert!(!next_file.exists());
    let loaded = route53_ddns::key::load(&key).expect("load");
    assert_eq!(loaded.key_id(), next.key_id());
    assert_eq!(
        ids(&dir),
        ["c", "key", "key.old-id"],
        "the old private key is gone"
    );

    let old = run(&c, &["pubkey", "--old"]);
    assert!(old.status.success());
    let text = String::from_utf8_lossy(&old.stdout);
    assert_eq!(text.lines().next(), Some(current.key_id().as_str()));
    assert!(
        text.contains(&format!(
            "aws ssm delete-parameter --name '/route53-ddns/keys/{}'",
            current.key_id()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("rm '{}.old-id'", key.display())),
        "{text}"
    );
}
