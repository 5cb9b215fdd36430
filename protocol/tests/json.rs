//! The router's JSON reader against serde_json (what the Lambda writes with): the same texts
//! are accepted and rejected, and accepted ones read the same.

use route53_ddns_protocol::json::{Json, MAX_DEPTH};
use serde_json::Value;

/// Same tree, numbers compared by value, objects with the last of repeated keys.
fn same(ours: &Json, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Json::Null, Value::Null) => true,
        (Json::Bool(a), Value::Bool(b)) => a == b,
        (Json::Number(text), Value::Number(n)) => match n.as_u64() {
            Some(u) => ours.as_u64() == Some(u) || text.parse::<f64>().ok() == n.as_f64(),
            None => text.parse::<f64>().ok() == n.as_f64(),
        },
        (Json::String(a), Value::String(b)) => a == b,
        (Json::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Json::Object(members), Value::Object(map)) => {
            let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.len() == map.len()
                && map
                    .iter()
                    .all(|(k, v)| ours.get(k).is_some_and(|mine| same(mine, v)))
        }
        _ => false,
    }
}

/// Both accept and read the same, or both refuse; true when accepted.
fn agree(text: &[u8]) -> bool {
    let theirs = serde_json::from_slice::<Value>(text);
    let ours = Json::parse(text);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert!(
            same(a, b),
            "{:?}: {a:?} vs {b:?}",
            String::from_utf8_lossy(text)
        ),
        (Err(_), Err(_)) => return false,
        // serde_json refuses numbers beyond f64; this reader keeps the text and never
        // needs such a number as one.
        (Ok(_), Err(e)) if e.to_string().contains("out of range") => {}
        _ => panic!(
            "{:?}: ours {:?}, serde_json {:?}",
            String::from_utf8_lossy(text),
            ours.map(|_| ()),
            theirs.map(|_| ())
        ),
    }
    true
}

const VALID: &[&str] = &[
    "null",
    "true",
    " false ",
    "0",
    "-0",
    "12",
    "-12.5e+3",
    "1E-2",
    "0.000",
    "18446744073709551615",
    "18446744073709551616",
    r#""""#,
    r#""plain""#,
    r#""esc \" \\ \/ \b \f \n \r \t""#,
    r#""\u00e9\u20AC\ud83d\ude00""#,
    "\"caf\u{e9} \u{1F600}\"",
    "[]",
    "[ 1 , [2, [3]] ]",
    "{}",
    r#"{"a":1,"b":[true,null],"c":{"d":"e"}}"#,
    r#"{"k":1,"k":2}"#,
    "\n\t{\r\n \"x\" : [ ] }\n",
];

const INVALID: &[&str] = &[
    "",
    " ",
    "nul",
    "True",
    "01",
    "-",
    "1.",
    ".5",
    "1e",
    "1e+",
    "+1",
    "0x10",
    "NaN",
    "Infinity",
    "[1,]",
    "[1 2]",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{a:1}",
    "{'a':1}",
    "{\"a\":1",
    "[",
    "\"open",
    "\"bad \\x escape\"",
    "\"\\u12\"",
    "\"\\ud800\"",
    "\"\\ud800\\u0041\"",
    "\"\\udc00\"",
    "\"tab\there\"",
    "1 2",
    "{} x",
    "[1]]",
];

#[test]
fn accepts_what_serde_json_accepts() {
    for text in VALID {
        assert!(Json::parse(text.as_bytes()).is_ok(), "{text:?}");
        agree(text.as_bytes());
    }
}

#[test]
fn refuses_what_serde_json_refuses() {
    for text in INVALID {
        assert!(Json::parse(text.as_bytes()).is_err(), "{text:?}");
        agree(text.as_bytes());
    }
    assert!(Json::parse(b"\"\xff\"").is_err(), "invalid UTF-8");
    agree(b"\"\xff\"");
    agree(b"\"\xc3\"");
}

#[test]
fn errors_say_what_and_where() {
    let e = Json::parse(br#"{"a": tru}"#).expect_err("invalid");
    assert_eq!(e.to_string(), "expected a value at byte 6");
    let e = Json::parse(b"[1] x").expect_err("invalid");
    assert_eq!(e.to_string(), "trailing characters at byte 4");
}

#[test]
fn nesting_is_bounded_without_exhausting_the_stack() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(Json::parse(ok.as_bytes()).is_ok());
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    assert_eq!(
        Json::parse(deep.as_bytes()).map_err(|e| e.reason),
        Err("nested too deeply")
    );
    // Far deeper than any stack could recurse: refused at the limit, not a crash.
    let hostile = "[".repeat(1_000_000);
    assert!(Json::parse(hostile.as_bytes()).is_err());
}

#[test]
fn accessors_read_only_their_own_type() {
    let doc =
        Json::parse(br#"{"n":42,"f":4.2,"neg":-1,"e":1e2,"s":"x","b":true,"a":[1],"k":1,"k":2}"#)
            .expect("valid");
    assert_eq!(doc.get("n").and_then(Json::as_u64), Some(42));
    assert_eq!(doc.get("f").and_then(Json::as_u64), None);
    assert_eq!(doc.get("neg").and_then(Json::as_u64), None);
    assert_eq!(doc.get("e").and_then(Json::as_u64), None);
    assert_eq!(doc.get("s").and_then(Json::as_str), Some("x"));
    assert_eq!(doc.get("n").and_then(Json::as_str), None);
    assert_eq!(doc.get("b").and_then(Json::as_bool), Some(true));
    assert_eq!(
        doc.get("a").and_then(Json::as_array).map(<[Json]>::len),
        Some(1)
    );
    assert_eq!(
        doc.get("k").and_then(Json::as_u64),
        Some(2),
        "last repeated key counts"
    );
    assert_eq!(doc.get("missing"), None);
    let addr = Json::parse(br#"["192.0.2.1","192.0.2.999",7]"#).expect("valid");
    let read: Vec<Option<std::net::Ipv4Addr>> = addr
        .as_array()
        .unwrap_or_default()
        .iter()
        .map(Json::as_parsed)
        .collect();
    assert_eq!(
        read,
        [Some(std::net::Ipv4Addr::new(192, 0, 2, 1)), None, None]
    );
    assert_eq!(Json::parse(b"[1]").expect("valid").get("x"), None);
    assert_eq!(
        Json::parse(b"18446744073709551616")
            .expect("valid")
            .as_u64(),
        None,
        "beyond u64"
    );
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let pick = if depth > 3 {
        rng.below(5)
    } else {
        rng.below(7)
    };
    match pick {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => serde_json::json!(rng.next() >> rng.below(64)),
        3 => serde_json::json!((rng.next() % 2_000_000) as f64 / 1000.0 - 1000.0),
        4 => {
            const CHARS: &[char] = &[
                'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u{1}', '\u{7f}', 'é', '€', '😀',
            ];
            Value::String(
                (0..rng.below(8))
                    .map(|_| CHARS[rng.below(CHARS.len())])
                    .collect(),
            )
        }
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|i| {
                    (
                        format!("k{i}{}", rng.below(3)),
                        random_value(rng, depth + 1),
                    )
                })
                .collect(),
        ),
    }
}

#[test]
fn reads_whatever_serde_json_writes() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..3000 {
        let v = random_value(&mut rng, 0);
        let compact = serde_json::to_vec(&v).expect("serialise");
        let pretty = serde_json::to_vec_pretty(&v).expect("serialise");
        for text in [compact, pretty] {
            let ours = Json::parse(&text).expect("serde_json's output is JSON");
            assert!(same(&ours, &v), "{}", String::from_utf8_lossy(&text));
        }
    }
}

#[test]
fn damaged_documents_are_judged_like_serde_json() {
    let seed = br#"{"up":true,"ipv4-address":[{"address":"192.0.2.1","mask":24}],"s":"a\"b\u00e9","n":-1.5e3,"z":null,"f":false}"#;
    const BYTES: &[u8] = b"{}[]\",:\\ 0-+.eEtfnu\x01\xc3";
    let mut rng = Rng(42);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut text = seed.to_vec();
        for _ in 0..=rng.below(3) {
            let at = rng.below(text.len());
            match rng.below(3) {
                0 => text[at] = BYTES[rng.below(BYTES.len())],
                1 => {
                    text.remove(at);
                }
                _ => text.insert(at, BYTES[rng.below(BYTES.len())]),
            }
        }
        accepted += usize::from(agree(&text));
    }
    // The damage must exercise both sides of the judgement.
    assert!(
        (1000..19_000).contains(&accepted),
        "{accepted} of 20000 accepted"
    );
}
