//! The CA hint (src/roots/hint.rs): where in the bundle the root that verified was found,
//! kept on tmpfs so the next run reads that block instead of scanning the bundle. These
//! handshakes show that a hint is used while the bundle is the same file, and that no
//! hint, however wrong or hostile, makes the handshake's outcome differ from a full scan.

mod common;

use common::handshake::{others, trusting};
use common::{pki, Pki, TempDir};
use rustls::{CertificateError, Error};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

const UNKNOWN_ISSUER: Error = Error::InvalidCertificate(CertificateError::UnknownIssuer);

/// A hint in the file's own format naming `bundle` as it is now, with `offsets`.
fn hint_for(bundle: &Path, offsets: &str) -> String {
    let m = std::fs::metadata(bundle).expect("bundle");
    format!(
        "route53-ddns-ca-hint/1 {} {} {} {} {} {offsets}\n",
        m.dev(),
        m.ino(),
        m.len(),
        m.mtime(),
        m.mtime_nsec()
    )
}

struct Case {
    _dir: TempDir,
    pki: Pki,
    bundle: std::path::PathBuf,
    hint: std::path::PathBuf,
    /// Where the test CA's BEGIN line starts.
    at: usize,
    text: String,
}

/// A bundle of unrelated roots with the test CA after the first three.
fn case() -> Case {
    let dir = TempDir::new("ca-hint");
    let pki = pki(&["localhost"]);
    // 512 KiB of comment lines first: a full scan reads them, a hinted read does not.
    let pad = format!("# {}\n", "x".repeat(1021)).repeat(512);
    let before = format!("{pad}{}", others(3));
    let text = format!("{before}{}{}", pki.ca_pem, others(3));
    let bundle = dir.write("bundle.pem", &text);
    let hint = dir.join("ca-hint");
    Case {
        at: before.len(),
        _dir: dir,
        pki,
        bundle,
        hint,
        text,
    }
}

fn hinted(c: &Case) -> Result<(), Error> {
    trusting(&c.pki, &c.bundle, Some(&c.hint))
}

#[test]
fn the_roots_place_is_recorded_after_a_verified_handshake() {
    let c = case();
    assert_eq!(hinted(&c), Ok(()));
    let kept = std::fs::read_to_string(&c.hint).expect("hint written");
    assert_eq!(kept, hint_for(&c.bundle, &c.at.to_string()));
    // A handshake that does not verify records nothing.
    std::fs::remove_file(&c.hint).expect("rm");
    std::fs::write(&c.bundle, others(4)).expect("bundle");
    assert_eq!(hinted(&c), Err(UNKNOWN_ISSUER));
    assert!(!c.hint.exists());
}

/// Bytes this thread has read from files so far (the handshake runs on the test's thread).
fn read_so_far() -> u64 {
    let io = std::fs::read_to_string("/proc/thread-self/io").expect("/proc/thread-self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|n| n.parse().ok())
        .expect("rchar")
}

/// Bytes read from files by one handshake, and its outcome.
fn reading(f: impl FnOnce() -> Result<(), Error>) -> (u64, Result<(), Error>) {
    let before = read_so_far();
    let outcome = f();
    (read_so_far() - before, outcome)
}

#[test]
fn a_hint_for_the_same_bundle_file_is_read_instead_of_the_bundle() {
    let c = case();
    let size = c.text.len() as u64;
    let (scanned, outcome) = reading(|| hinted(&c));
    assert_eq!(outcome, Ok(()));
    assert!(
        scanned >= size,
        "the first handshake scans the bundle: {scanned} bytes"
    );
    // The hint's block only: the CA's PEM, far less than the padding before it.
    let (read, outcome) = reading(|| hinted(&c));
    assert_eq!(outcome, Ok(()));
    assert!(read < size / 8, "{read} bytes read of a {size}-byte bundle");
}

#[test]
fn a_hint_from_before_the_bundle_changed_is_not_used() {
    let c = case();
    assert_eq!(hinted(&c), Ok(()));
    // Touched: the same bytes, another modification time (a `ca-bundle` update).
    let f = std::fs::File::options()
        .write(true)
        .open(&c.bundle)
        .expect("open");
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .expect("touch");
    let (read, outcome) = reading(|| hinted(&c));
    assert_eq!(outcome, Ok(()));
    assert!(read >= c.text.len() as u64, "scanned again: {read} bytes");
    let kept = std::fs::read_to_string(&c.hint).expect("hint");
    assert_eq!(kept, hint_for(&c.bundle, &c.at.to_string()), "renewed");
}

/// The bundle with the test CA's PEM written on, not after, the line before: the full
/// scan does not take a BEGIN marker inside a line, and a hint pointing at it does not
/// either.
#[test]
fn a_begin_marker_inside_a_line_counts_neither_way() {
    let c = case();
    let text = format!("{}# x{}", &c.text[..c.at], &c.text[c.at..]);
    std::fs::write(&c.bundle, &text).expect("bundle");
    assert_eq!(trusting(&c.pki, &c.bundle, None), Err(UNKNOWN_ISSUER));
    std::fs::write(&c.hint, hint_for(&c.bundle, &(c.at + 3).to_string())).expect("hint");
    assert_eq!(hinted(&c), Err(UNKNOWN_ISSUER));
}

/// A damaged block (no END line) ending where the test CA's BEGIN line starts: the full
/// scan finds the CA there, as a hint pointing at it does.
#[test]
fn a_root_right_after_a_damaged_block_is_found_with_and_without_the_hint() {
    let c = case();
    let damaged = format!("-----BEGIN CERTIFICATE-----\n{}\n", "MIIB".repeat(16));
    let text = format!("{}{damaged}{}", &c.text[..c.at], &c.text[c.at..]);
    std::fs::write(&c.bundle, &text).expect("bundle");
    assert_eq!(trusting(&c.pki, &c.bundle, None), Ok(()));
    let at = c.at + damaged.len();
    std::fs::write(&c.hint, hint_for(&c.bundle, &at.to_string())).expect("hint");
    assert_eq!(hinted(&c), Ok(()));
}

#[test]
fn a_wrong_hint_gives_the_full_scans_outcome_and_is_corrected() {
    let c = case();
    let other = c.text.find("-----BEGIN").expect("a root");
    for wrong in [
        other.to_string(),
        format!("{}", c.at + 1),
        format!("{}", c.text.len() - 1),
        format!("{other},{}", c.text.len() - 30),
    ] {
        std::fs::write(&c.hint, hint_for(&c.bundle, &wrong)).expect("hint");
        assert_eq!(hinted(&c), Ok(()), "hint {wrong}");
        let kept = std::fs::read_to_string(&c.hint).expect("hint");
        assert_eq!(kept, hint_for(&c.bundle, &c.at.to_string()), "hint {wrong}");
    }
}

#[test]
fn no_hint_makes_an_untrusted_server_trusted() {
    let c = case();
    // The bundle without the test CA, the hint pointing at each root in it.
    let text = others(4);
    std::fs::write(&c.bundle, &text).expect("bundle");
    let starts: Vec<String> = text
        .match_indices("-----BEGIN")
        .map(|(i, _)| i.to_string())
        .collect();
    std::fs::write(&c.hint, hint_for(&c.bundle, &starts.join(","))).expect("hint");
    assert_eq!(hinted(&c), Err(UNKNOWN_ISSUER));
}

#[test]
fn damaged_or_hostile_hint_files_are_ignored() {
    let c = case();
    let huge = "route53-ddns-ca-hint/1 ".repeat(100);
    for text in ["", "garbage\n", "route53-ddns-ca-hint/1 1 2 3\n", &huge] {
        std::fs::write(&c.hint, text).expect("hint");
        assert_eq!(hinted(&c), Ok(()));
        assert_eq!(
            std::fs::read_to_string(&c.hint).expect("hint"),
            hint_for(&c.bundle, &c.at.to_string())
        );
    }
    // A FIFO where the hint should be does not block the handshake.
    std::fs::remove_file(&c.hint).expect("rm");
    common::mkfifo(&c.hint);
    assert_eq!(hinted(&c), Ok(()));
}
