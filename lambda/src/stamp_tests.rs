use super::*;
use crate::plan::order_key;

fn aaaa(value: &str) -> RecordSet {
    RecordSet {
        name: "_r53ddns.home.example.com".into(),
        rtype: "AAAA".into(),
        ttl: STAMP_TTL,
        values: vec![value.into()],
    }
}

fn txt(value: &str) -> RecordSet {
    RecordSet {
        rtype: "TXT".into(),
        ..aaaa(value)
    }
}

fn at(time_ms: u64, who: &str) -> Stamp {
    Stamp {
        time_ms,
        by: stamp_id(who),
    }
}

#[test]
fn a_stamp_is_one_reserved_address_that_reads_back_as_itself() {
    let s = at(
        1_764_115_200_123,
        "k=11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    );
    let value = stamp_value(&s);
    // Marker 0100, version 1, 48-bit time (0x019a_bd75_b87b), 48-bit sender.
    assert!(value.starts_with("100:1:19a:bd75:b87b:"), "{value}");
    assert_eq!(
        value,
        value.parse::<Ipv6Addr>().expect("v6").to_string(),
        "RFC 5952"
    );
    assert_eq!(decode(&value), Some(s.clone()));
    // Route53 may list another spelling of the same address: read as the same stamp.
    let long = "0100:0001:019A:BD75:B87B:".to_owned() + &value[20..].to_uppercase();
    assert_eq!(decode(&long), Some(s));
    for t in [0, 1, MAX_TIME_MS] {
        assert_eq!(
            decode(&stamp_value(&at(t, "u=alice"))),
            Some(at(t, "u=alice"))
        );
    }
    // Zero runs are compressed as RFC 5952 says (time 0, sender kept).
    assert!(stamp_value(&at(0, "u=alice")).starts_with("100:1::"));
    for other in [
        "2001:db8::1",
        "2001:1::5",
        "100::1",
        "100:2:0:0:0:0:0:1",
        "::",
        "garbage",
        "",
    ] {
        assert_eq!(decode(other), None, "{other}");
    }
}

#[test]
fn a_stamp_names_no_sender_and_tells_senders_apart() {
    let key = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    let by = stamp_id(&format!("k={key}"));
    assert_eq!(by.len(), 10);
    assert_ne!(by, stamp_id("u=alice"));
    assert_ne!(stamp_id("k=alice"), stamp_id("u=alice"));
    let value = stamp_value(&at(1, &format!("k={key}")));
    assert!(!value.contains("11qY"), "{value}");
    assert_ne!(value, stamp_value(&at(1, "u=alice")));
}

#[test]
fn every_earlier_txt_form_is_read_as_the_same_sender() {
    let key = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    let want = Some(at(1_764_115_200_000, &format!("k={key}")));
    // The previous version's 96-bit id: its first 48 bits are today's id.
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("route53-ddns stamp v1\nk={key}").as_bytes(),
    );
    let h16 = &route53_ddns_protocol::base64url::encode(digest.as_ref())[..16];
    for old in [
        format!("\"t=1764115200000 h={h16}\""),
        format!("\"t=1764115200000 k={key}\""),
        format!("\"k={key} t=1764115200000\""),
    ] {
        assert_eq!(parse_legacy(&old), want, "{old}");
    }
    assert_eq!(
        parse_legacy("\"t=3 u=alice\"").map(|s| s.by),
        Some(stamp_id("u=alice"))
    );
    assert_eq!(parse_legacy("\"garbage\""), None);
    assert_eq!(
        parse_legacy("\"t=281474976710656 u=a\""),
        None,
        "past 48 bits"
    );
}

#[test]
fn the_newest_of_the_aaaa_and_an_earlier_txt_stamp_counts() {
    let new = at(10, "k=A");
    let e = |s: Option<&str>, l: Option<&str>| Existing {
        stamp: s.map(aaaa),
        legacy_stamp: l.map(txt),
        ..Default::default()
    };
    let v = stamp_value(&new);
    assert_eq!(e(Some(&v), None).stamp(), Some(new.clone()));
    assert_eq!(e(None, Some("\"t=7 u=bob\"")).stamp(), Some(at(7, "u=bob")));
    assert_eq!(e(Some(&v), Some("\"t=7 u=bob\"")).stamp(), Some(new));
    assert_eq!(
        e(Some(&v), Some("\"t=11 u=bob\"")).stamp(),
        Some(at(11, "u=bob"))
    );
    assert_eq!(
        e(Some("garbage"), Some("\"t=7 u=bob\"")).stamp(),
        Some(at(7, "u=bob"))
    );
    assert_eq!(e(None, None).stamp(), None);
}

#[test]
fn the_stamp_moves_by_compare_and_swap_and_never_writes_txt() {
    let mut e = Existing {
        legacy_stamp: Some(txt("\"t=3 u=bob\"")),
        ..Default::default()
    };
    let s5 = at(5, "k=K");
    let first = stamp_changes(&e, "home.example.com", &s5);
    assert_eq!(first.len(), 1, "a CREATE: a compare-and-swap on absence");
    assert_eq!(first[0].action, Action::Create);
    assert_eq!(first[0].set, aaaa(&stamp_value(&s5)));
    e.stamp = Some(first[0].set.clone());
    assert_eq!(e.stamp(), Some(s5.clone()));
    let s9 = at(9, "u=alice");
    let next = stamp_changes(&e, "home.example.com", &s9);
    assert_eq!(next.len(), 2);
    assert_eq!(
        (next[0].action, &next[0].set),
        (Action::Delete, &aaaa(&stamp_value(&s5)))
    );
    assert_eq!(
        (next[1].action, &next[1].set),
        (Action::Create, &aaaa(&stamp_value(&s9)))
    );
    assert!(first.iter().chain(&next).all(|c| c.set.rtype == "AAAA"));
}

#[test]
fn earlier_txt_stamps_are_removed_exactly_as_read_and_only_deleted() {
    let mut names = BTreeMap::new();
    names.insert("a".to_string(), Existing::default());
    let old = txt("\"t=3 k=K\"");
    names.insert(
        "home.example.com".to_string(),
        Existing {
            stamp: Some(aaaa(&stamp_value(&at(1, "k=K")))),
            legacy_stamp: Some(old.clone()),
            ..Default::default()
        },
    );
    let changes = legacy_removal(&names);
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].action, &changes[0].set), (Action::Delete, &old));
    names.remove("home.example.com");
    assert!(legacy_removal(&names).is_empty());
}

#[test]
fn a_wildcard_is_stamped_at_a_fixed_label_that_sorts_after_it() {
    assert_eq!(stamp_name("home.example.com"), "_r53ddns.home.example.com");
    assert_eq!(
        stamp_name("*.home.example.com"),
        "_r53ddns._wildcard.home.example.com"
    );
    // Legal, not a wildcard, never a host name's stamp, and after the name in Route53's
    // order (so one read from the name reaches it).
    let s = stamp_name("*.home.example.com");
    assert!(!s.contains('*'));
    assert_ne!(s, stamp_name("home.example.com"));
    assert!(order_key("*.home.example.com") < order_key(&s));
    let changes = stamp_changes(&Existing::default(), "*.home.example.com", &at(1, "k=K"));
    assert_eq!(changes[0].set.name, "_r53ddns._wildcard.home.example.com");
}
