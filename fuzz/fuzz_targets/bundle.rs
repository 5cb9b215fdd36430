//! A CA bundle's bytes, and a CA hint pointing into it, → the lazy bundle reader
//! (src/roots.rs): the full scan, and the hinted blocks at offsets taken from the input;
//! every root the hint gives must be one the full scan gives.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::os::unix::fs::MetadataExt;

/// A Name that a root in the input may carry (CN=Fuzz Root), and one made of the input.
const NAME: &[u8] = &[
    0x30, 0x14, 0x31, 0x12, 0x30, 0x10, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x09, b'F', b'u', b'z',
    b'z', b' ', b'R', b'o', b'o', b't',
];

fuzz_target!(|data: &[u8]| {
    // First 8 bytes: four offsets for the hint; the rest: the bundle.
    let (head, bundle) = data.split_at(data.len().min(8));
    let dir = std::env::temp_dir().join(format!("r53fuzz-bundle-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("bundle.pem");
    let hint = dir.join("ca-hint");
    if std::fs::write(&path, bundle).is_err() {
        return;
    }
    let Ok(m) = std::fs::metadata(&path) else {
        return;
    };
    let offsets: Vec<String> = head
        .chunks(2)
        .map(|c| (c.iter().fold(0u64, |a, &b| a << 8 | u64::from(b)) % (m.len() + 1)).to_string())
        .collect();
    let line = format!(
        "route53-ddns-ca-hint/1 {} {} {} {} {} {}\n",
        m.dev(),
        m.ino(),
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        offsets.join(",")
    );
    let _ = std::fs::write(&hint, line);
    let roots = route53_ddns::roots::LazyRoots {
        path: path.clone(),
        algorithms: route53_ddns::tls::crypto_provider().signature_verification_algorithms,
        hint: Some(hint),
    };
    let own = &bundle[..bundle.len().min(40)];
    if let Ok((hinted, scanned)) = roots.scan(&[NAME, own]) {
        // The hint never changes the outcome: every root the hinted blocks give is one the
        // full scan of the same bundle gives (a hinted success is a full-scan success).
        for root in &hinted.roots {
            assert!(scanned.roots.contains(root), "a root only the hint finds");
        }
        assert!(hinted.roots.len() <= offsets.len());
    }
});
