//! The worked example of docs/protocol.md §1, read from the document itself: the values it
//! prints must be what the protocol crate signs and verifies, so the page cannot drift.

use ring::signature::{Ed25519KeyPair, KeyPair};
use route53_ddns_protocol::base64url;
use route53_ddns_protocol::signature::{
    message, HOST_HEADER, KEY_HEADER, SIGNATURE_HEADER, TIME_HEADER,
};
use route53_ddns_protocol::SignedHeaders;

fn section() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .expect("docs/protocol.md");
    let start = doc
        .find("### Worked example")
        .expect("worked example section");
    let end = doc[start..].find("\n## ").map_or(doc.len(), |e| start + e);
    doc[start..end].to_owned()
}

/// The value after `name: ` in the example's header block.
fn header(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} line"))
        .trim()
        .to_owned()
}

/// The first back-quoted value after `label`.
fn quoted_after(text: &str, label: &str) -> String {
    let at = text.find(label).unwrap_or_else(|| panic!("no {label:?}")) + label.len();
    let rest = &text[at..];
    let open = rest.find('`').expect("opening backquote") + 1;
    let close = rest[open..].find('`').expect("closing backquote") + open;
    rest[open..close].to_owned()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn the_documented_example_is_what_the_crate_signs() {
    let text = section();
    let seed = hex(&quoted_after(&text, "secret seed"));
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed).expect("seed");
    let key = header(&text, "X-R53DDNS-Key");
    assert_eq!(key, base64url::encode(pair.public_key().as_ref()));
    let host = header(&text, "X-R53DDNS-Host");
    assert_eq!(host, quoted_after(&text, "The host is"));
    let time = header(&text, "X-R53DDNS-Time");
    let body_block = text
        .split("```")
        .nth(1)
        .expect("body block")
        .trim()
        .to_owned();
    let body = body_block.as_bytes();
    assert!(
        text.contains(&format!("The body ({} bytes)", body.len())),
        "the stated body length"
    );

    let msg = message("POST", "/v2/update", &host, &time, &key, body);
    // The hex breakdown, with its labels stripped, is exactly the signed bytes.
    let dump = text.split("```").nth(3).expect("hex block");
    let hex_text: String = dump
        .lines()
        // The hex comes first on a line; its label follows after a run of spaces.
        .map(|l| l.split("  ").next().unwrap_or_default().replace(' ', ""))
        .collect();
    assert_eq!(hex(&hex_text), msg, "the hex breakdown");

    let sig = base64url::encode(pair.sign(&msg).as_ref());
    assert_eq!(header(&text, "X-R53DDNS-Signature"), sig);
    let lookup = [
        (KEY_HEADER, key),
        (HOST_HEADER, host),
        (TIME_HEADER, time),
        (SIGNATURE_HEADER, sig),
    ];
    let h = SignedHeaders::parse(|n| {
        lookup
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
    })
    .expect("canonical headers");
    assert_eq!(h.verify("POST", "/v2/update", body), Ok(()));
    assert!(h.verify("POST", "/v2/update", &body[1..]).is_err());
}
