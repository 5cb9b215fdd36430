//! Edges of the public API that the router and the Lambda rely on: the per-family address
//! checks, which families a request asks the server to observe, the longest time text, a
//! signature header of the right length that is not base64url, and the words of key errors.

use route53_ddns_protocol::address::{classify_v4, classify_v6, NotGlobal};
use route53_ddns_protocol::key::{KeyId, SigningKey};
use route53_ddns_protocol::signature::*;
use route53_ddns_protocol::{AddrSpec, HostUpdate, UpdateRequest};

#[test]
fn each_family_check_refuses_its_own_special_addresses() {
    assert_eq!(
        classify_v4("10.1.2.3".parse().expect("v4")),
        Err(NotGlobal::Private)
    );
    assert_eq!(classify_v4("8.8.8.8".parse().expect("v4")), Ok(()));
    assert_eq!(
        classify_v6("fe80::1".parse().expect("v6")),
        Err(NotGlobal::LinkLocal)
    );
    assert_eq!(classify_v6("2a00:1450::1".parse().expect("v6")), Ok(()));
}

fn host(ipv4: AddrSpec<std::net::Ipv4Addr>, ipv6: AddrSpec<std::net::Ipv6Addr>) -> HostUpdate {
    HostUpdate {
        name: "home.example.com".into(),
        ipv4,
        ipv6,
        last: None,
    }
}

#[test]
fn a_request_wants_the_observed_address_only_of_the_families_it_marks_auto() {
    let v4 = UpdateRequest {
        hosts: vec![
            host(AddrSpec::Keep, AddrSpec::Keep),
            host(AddrSpec::Auto, AddrSpec::Keep),
        ],
    };
    assert!(v4.wants_auto_ipv4());
    assert!(!v4.wants_auto_ipv6());
    let v6 = UpdateRequest {
        hosts: vec![host(AddrSpec::Keep, AddrSpec::Auto)],
    };
    assert!(!v6.wants_auto_ipv4());
    assert!(v6.wants_auto_ipv6());
}

fn parse_with(time: &str, signature: &str) -> Result<SignedHeaders, VerifyError> {
    let key = SigningKey::from_pkcs8(&SigningKey::generate_pkcs8().expect("rng")).expect("key");
    let key_id = key.key_id().to_string();
    let (time, signature) = (time.to_owned(), signature.to_owned());
    SignedHeaders::parse(|name| match name {
        KEY_HEADER => Some(Box::leak(key_id.clone().into_boxed_str())),
        HOST_HEADER => Some("example.com"),
        TIME_HEADER => Some(Box::leak(time.clone().into_boxed_str())),
        SIGNATURE_HEADER => Some(Box::leak(signature.clone().into_boxed_str())),
        _ => None,
    })
}

#[test]
fn a_time_of_16_digits_is_read_and_17_is_refused() {
    let sig = "A".repeat(86);
    let sixteen = "1".repeat(16);
    assert!(parse_with(&sixteen, &sig).is_ok());
    assert_eq!(
        parse_with(&"1".repeat(17), &sig).err(),
        Some(VerifyError::Malformed(
            TIME_HEADER,
            "has more than 16 digits"
        ))
    );
}

#[test]
fn a_signature_of_86_characters_that_is_not_base64url_is_malformed() {
    let mut sig = "A".repeat(85);
    sig.push('!');
    assert!(matches!(
        parse_with("1700000000000", &sig),
        Err(VerifyError::Malformed(SIGNATURE_HEADER, _))
    ));
}

#[test]
fn key_errors_say_what_is_wrong_in_words() {
    let e = KeyId::parse("short").expect_err("not a key");
    assert!(e.describe().contains("43 characters"), "{}", e.describe());
    let Err(e) = SigningKey::from_pkcs8(b"not a key") else {
        panic!("a non-key was accepted")
    };
    assert!(e.to_string().contains("Ed25519 PKCS#8"), "{e}");
}

#[test]
fn base64url_refuses_lengths_no_encoder_makes() {
    use route53_ddns_protocol::base64url::{decode, encode};
    assert_eq!(decode("AAAAA"), None);
    assert_eq!(decode("AAAAB"), None);
    assert_eq!(decode("AAAAAA").as_deref(), Some(&[0u8; 4][..]));
    assert_eq!(decode(&encode(b"hello")).as_deref(), Some(&b"hello"[..]));
}

#[test]
fn a_name_of_253_characters_is_a_name_and_254_is_not() {
    use route53_ddns_protocol::hostname::{canonical, NameError};
    let label = "a".repeat(63);
    let n253 = format!("{label}.{label}.{label}.{}.example.com", "b".repeat(49));
    assert_eq!(n253.len(), 253);
    assert_eq!(canonical(&n253).as_deref(), Ok(n253.as_str()));
    let n254 = format!("c{n253}");
    assert_eq!(canonical(&n254), Err(NameError::TooLong));
    assert_eq!(
        canonical("").map_err(|e| e.to_string()),
        Err("the name is empty".to_owned())
    );
}

#[test]
fn a_wildcard_of_253_characters_is_a_record_name_and_254_is_not() {
    use route53_ddns_protocol::hostname::{canonical_record, NameError};
    let label = "a".repeat(63);
    let base = format!("{label}.{label}.{label}.{}.example.com", "b".repeat(47));
    let w253 = format!("*.{base}");
    assert_eq!(w253.len(), 253);
    assert_eq!(canonical_record(&w253).as_deref(), Ok(w253.as_str()));
    let w254 = format!("*.c{base}");
    assert_eq!(canonical_record(&w254), Err(NameError::TooLong));
}

#[test]
fn a_name_is_within_its_zone_only_at_a_label_boundary() {
    use route53_ddns_protocol::hostname::is_within;
    assert!(is_within("home.example.com", "example.com"));
    assert!(is_within("example.com", "example.com."));
    assert!(!is_within("example.net", "example.com"));
    assert!(!is_within("homeexample.com", "example.com"));
    assert!(!is_within("com", "example.com"));
}

#[test]
fn json_values_are_read_only_as_their_own_type() {
    use route53_ddns_protocol::json::Json;
    let doc = Json::parse(br#"{"up": false, "n": 42, "neg": -1, "f": 1.5, "o": {"k": "v"}}"#)
        .expect("valid JSON");
    assert_eq!(doc.get("up").and_then(Json::as_bool), Some(false));
    assert_eq!(doc.get("n").and_then(Json::as_bool), None);
    assert_eq!(doc.get("n").and_then(Json::as_u64), Some(42));
    assert_eq!(doc.get("neg").and_then(Json::as_u64), None);
    assert_eq!(doc.get("f").and_then(Json::as_u64), None);
    let members = doc
        .get("o")
        .cloned()
        .and_then(Json::into_object)
        .expect("object");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].0, "k");
    assert_eq!(Json::parse(b"[1]").expect("array").into_object(), None);
}

#[test]
fn objects_nest_no_deeper_than_the_limit() {
    use route53_ddns_protocol::json::{Json, MAX_DEPTH};
    let nested = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    assert!(Json::parse(nested(MAX_DEPTH - 1).as_bytes()).is_ok());
    assert!(Json::parse(nested(MAX_DEPTH + 1).as_bytes()).is_err());
}

#[test]
fn only_races_and_server_trouble_are_retried_and_every_code_says_what_to_do() {
    use route53_ddns_protocol::response::Disposition;
    use route53_ddns_protocol::ErrorCode as C;
    for c in [
        C::Replayed,
        C::Superseded,
        C::Throttled,
        C::Unavailable,
        C::Internal,
    ] {
        assert!(matches!(c.disposition(), Disposition::Transient), "{c:?}");
    }
    for c in [
        C::Malformed,
        C::BadSignature,
        C::NameNotAllowed,
        C::WrongEndpoint,
        C::NotPermitted,
    ] {
        assert!(matches!(c.disposition(), Disposition::Permanent), "{c:?}");
    }
    assert!(matches!(
        C::ClockSkew.disposition(),
        Disposition::CorrectClock
    ));
    assert!(C::ClockSkew.advice().contains("NTP"));
    assert!(C::BadSignature.advice().contains("route53-ddns pubkey"));
}

#[test]
fn json_with_spaces_numbers_and_escapes_reads_as_written() {
    use route53_ddns_protocol::json::Json;
    let doc =
        Json::parse(" { \"n\" : [ 7 , 1234 ] ,\n\t\"s\" : \"a\\u00e9\\n\\\"b\\\\\" } ".as_bytes())
            .expect("valid JSON");
    let n = doc.get("n").and_then(Json::as_array).expect("array");
    assert_eq!(
        n.iter().filter_map(Json::as_u64).collect::<Vec<_>>(),
        [7, 1234]
    );
    assert_eq!(doc.get("s").and_then(Json::as_str), Some("a\u{e9}\n\"b\\"));
}
