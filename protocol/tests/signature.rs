//! Signing and verifying protocol v2 requests through the public API: every signed part
//! matters, only canonical header texts pass, the host binds a request to its endpoint.

use route53_ddns_protocol::base64url;
use route53_ddns_protocol::key::{KeyId, KeyIdError, SigningKey};
use route53_ddns_protocol::signature::*;

const HOST: &str = "abc.lambda-url.eu-west-1.on.aws";

fn key() -> SigningKey {
    let der = SigningKey::generate_pkcs8().expect("rng");
    SigningKey::from_pkcs8(&der).expect("fresh key")
}

fn headers_of(h: &SignedHeaders) -> Vec<(&'static str, String)> {
    vec![
        (KEY_HEADER, h.key_id.to_string()),
        (HOST_HEADER, h.host.clone()),
        (TIME_HEADER, h.time_ms.to_string()),
        (SIGNATURE_HEADER, h.signature.clone()),
    ]
}

fn parse_with(list: &[(&'static str, String)]) -> Result<SignedHeaders, VerifyError> {
    SignedHeaders::parse(|name| {
        list.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    })
}

fn with(h: &SignedHeaders, name: &'static str, value: &str) -> Result<SignedHeaders, VerifyError> {
    let mut list = headers_of(h);
    for (k, v) in list.iter_mut() {
        if *k == name {
            *v = value.to_owned();
        }
    }
    parse_with(&list)
}

#[test]
fn a_signed_request_verifies_and_any_change_breaks_it() {
    let k = key();
    let body = br#"{"hosts":[{"name":"home.example.com","ipv4":"auto"}]}"#;
    let h = k.sign("POST", "/v2/update", HOST, 1_700_000_000_000, body);
    assert_eq!(h.verify("POST", "/v2/update", body), Ok(()));
    assert_eq!(
        h.verify("GET", "/v2/update", body),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        h.verify("POST", "/v1/update", body),
        Err(VerifyError::BadSignature)
    );
    let mut tampered = body.to_vec();
    tampered[20] ^= 1;
    assert_eq!(
        h.verify("POST", "/v2/update", &tampered),
        Err(VerifyError::BadSignature)
    );
    let later = SignedHeaders {
        time_ms: h.time_ms + 1,
        ..h.clone()
    };
    assert_eq!(
        later.verify("POST", "/v2/update", body),
        Err(VerifyError::BadSignature)
    );
    let elsewhere = SignedHeaders {
        host: "evil.example.net".into(),
        ..h.clone()
    };
    assert_eq!(
        elsewhere.verify("POST", "/v2/update", body),
        Err(VerifyError::BadSignature)
    );
    let other = SignedHeaders {
        key_id: key().key_id().clone(),
        ..h
    };
    assert_eq!(
        other.verify("POST", "/v2/update", body),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn the_signed_bytes_are_exactly_the_documented_lines() {
    let msg = message("POST", "/v2/update", "h:8443", "12", "KEY", b"{}");
    assert_eq!(
        msg,
        b"route53-ddns-v2\nPOST\n/v2/update\nh:8443\n12\nKEY\n{}"
    );
}

#[test]
fn headers_round_trip_through_text() {
    let h = key().sign("POST", "/v2/update", HOST, 42, b"{}");
    assert_eq!(parse_with(&headers_of(&h)), Ok(h));
}

#[test]
fn only_canonical_time_texts_are_accepted() {
    let h = key().sign("POST", "/v2/update", HOST, 1_764_115_200_000, b"{}");
    let t = h.time_ms.to_string();
    for bad in [
        format!("0{t}"),
        format!("000{t}"),
        format!("+{t}"),
        format!(" {t}"),
        format!("{t} "),
        format!("{t},{t}"),
        format!("{t}.0"),
        "-5".into(),
        String::new(),
        "00".into(),
        "012".into(),
        "12345678901234567".into(),
    ] {
        match with(&h, TIME_HEADER, &bad) {
            Err(VerifyError::Malformed(name, _)) => assert_eq!(name, TIME_HEADER, "{bad:?}"),
            other => panic!("{bad:?} was not refused as a malformed time: {other:?}"),
        }
    }
    assert!(with(&h, TIME_HEADER, &t).is_ok());
}

#[test]
fn time_zero_is_canonical_and_reaches_the_clock_check() {
    // `0u64.to_string()` is "0": a router whose clock reads the epoch signs exactly that, and
    // must be told its clock is wrong (clock_skew), not that its header is malformed.
    let h = key().sign("POST", "/v2/update", HOST, 0, b"{}");
    let parsed = with(&h, TIME_HEADER, "0").expect("0 is canonical");
    assert_eq!(parsed.time_ms, 0);
}

#[test]
fn every_header_is_named_when_missing_duplicated_or_malformed() {
    let h = key().sign("POST", "/v2/update", HOST, 42, b"{}");
    for name in [KEY_HEADER, HOST_HEADER, TIME_HEADER, SIGNATURE_HEADER] {
        let list: Vec<_> = headers_of(&h)
            .into_iter()
            .filter(|(k, _)| *k != name)
            .collect();
        assert_eq!(
            parse_with(&list),
            Err(VerifyError::Malformed(name, "is missing"))
        );
        let value = headers_of(&h)
            .into_iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v);
        let doubled = format!("{0},{0}", value.unwrap_or_default());
        assert!(
            matches!(with(&h, name, &doubled), Err(VerifyError::Malformed(n, _)) if n == name),
            "{name} twice"
        );
    }
    let sig = h.signature.clone();
    for bad in [&sig[1..], "x", &format!("{sig}A")] {
        assert!(matches!(
            with(&h, SIGNATURE_HEADER, bad),
            Err(VerifyError::Malformed(SIGNATURE_HEADER, _))
        ));
    }
    for bad in ["ABC.on.aws", "abc.on.aws:443", "", "a b", "abc.on.aws/x"] {
        assert!(
            matches!(
                with(&h, HOST_HEADER, bad),
                Err(VerifyError::Malformed(HOST_HEADER, _))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        with(&h, KEY_HEADER, &format!("{}=", h.key_id)),
        Err(VerifyError::Malformed(KEY_HEADER, _))
    ));
}

#[test]
fn the_host_must_be_the_one_reached_or_a_listed_front() {
    let h = key().sign("POST", "/v2/update", HOST, 42, b"{}");
    assert_eq!(h.check_host(HOST, &[]), Ok(()));
    assert_eq!(
        h.check_host("ABC.lambda-url.eu-west-1.on.aws:443", &[]),
        Ok(())
    );
    assert_eq!(
        h.check_host("other.on.aws", &[]),
        Err(VerifyError::WrongEndpoint)
    );
    let fronted = key().sign("POST", "/v2/update", "ddns.example.com", 42, b"{}");
    assert_eq!(
        fronted.check_host(HOST, &[]),
        Err(VerifyError::WrongEndpoint)
    );
    assert_eq!(
        fronted.check_host(HOST, &["DDNS.example.com".into()]),
        Ok(())
    );
}

#[test]
fn authority_is_the_host_header_form() {
    assert_eq!(authority("ABC.on.aws", 443), "abc.on.aws");
    assert_eq!(authority("127.0.0.1", 8443), "127.0.0.1:8443");
    assert_eq!(authority("::1", 8443), "[::1]:8443");
    assert_eq!(authority("2001:db8::1", 443), "[2001:db8::1]");
    for h in ["abc.on.aws", "127.0.0.1:8443", "[::1]:8443"] {
        assert!(is_canonical_host(h), "{h}");
    }
}

#[test]
fn small_order_and_non_canonical_keys_are_no_key_ids() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let text = base64url::encode(&identity);
    assert!(matches!(KeyId::parse(&text), Err(KeyIdError::Weak(_))));
    let h = key().sign("POST", "/v2/update", HOST, 42, b"{}");
    assert!(matches!(
        with(&h, KEY_HEADER, &text),
        Err(VerifyError::WeakKey(_))
    ));
    // y = p (2^255 - 19) is a non-canonical encoding of y = 0.
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    assert!(matches!(
        KeyId::parse(&base64url::encode(&p)),
        Err(KeyIdError::Weak(_))
    ));
    assert_eq!(KeyId::parse("short"), Err(KeyIdError::Encoding));
}

#[test]
fn clock_window_is_symmetric() {
    let h = key().sign("POST", "/v2/update", HOST, 1_000_000, b"");
    assert!(h.check_clock(1_000_000 + 300_000, 300_000).is_ok());
    assert!(h.check_clock(1_000_000 - 300_000, 300_000).is_ok());
    assert_eq!(
        h.check_clock(1_000_000 + 300_001, 300_000),
        Err(VerifyError::ClockSkew)
    );
    assert_eq!(
        h.check_clock(1_000_000 - 300_001, 300_000),
        Err(VerifyError::ClockSkew)
    );
}

#[test]
fn debug_never_prints_key_material() {
    let der = SigningKey::generate_pkcs8().expect("rng");
    let k = SigningKey::from_pkcs8(&der).expect("fresh key");
    let dbg = format!("{k:?}");
    assert!(dbg.contains(k.key_id().as_str()));
    assert!(!dbg.contains(&base64url::encode(&der[16..48])));
}
