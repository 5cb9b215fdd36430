use super::*;
use crate::stamp::STAMP_TTL;
use std::net::{Ipv4Addr, Ipv6Addr};

fn target(ipv4: Option<&str>, ipv6: Option<&str>) -> Desired {
    Desired {
        name: "home.example.com".into(),
        ttl: 60,
        ipv4: ipv4.map(|a| a.parse().expect("v4")),
        ipv6: ipv6.map(|a| a.parse().expect("v6")),
    }
}

fn last(a: &[&str], aaaa: &[&str]) -> Last {
    Last {
        stamp: 1_764_115_200_123,
        a: a.iter()
            .map(|v| v.parse::<Ipv4Addr>().expect("v4"))
            .collect(),
        aaaa: aaaa
            .iter()
            .map(|v| v.parse::<Ipv6Addr>().expect("v6"))
            .collect(),
        ttl: 60,
    }
}

fn actions(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c.action.as_str(),
                c.set.rtype,
                c.set.name,
                c.set.values.join(",")
            )
        })
        .collect()
}

#[test]
fn a_guess_is_the_records_and_the_stamp_the_sender_was_told() {
    let e = guessed("home.example.com", &last(&["192.0.2.1"], &[]), "h=AAAAAAAA");
    let a = e.a.clone().expect("A");
    assert_eq!(
        (a.rtype.as_str(), a.ttl, a.values),
        ("A", 60, vec!["192.0.2.1".to_string()])
    );
    assert_eq!(e.aaaa, None, "no AAAA was told: none is guessed");
    let stamp = e.stamp().expect("the stamp reads back");
    assert_eq!(stamp.time_ms, 1_764_115_200_123);
    assert_eq!(stamp.by, "h=AAAAAAAA");
    let s = e.stamp.expect("stamp set");
    assert_eq!(
        (s.name.as_str(), s.ttl),
        ("_r53ddns.home.example.com", STAMP_TTL)
    );
}

#[test]
fn the_batch_deletes_every_guessed_set_it_touches_even_when_unchanged() {
    let t = target(Some("192.0.2.1"), Some("2001:db8::2"));
    let e = BTreeMap::from([(
        t.name.clone(),
        guessed(&t.name, &last(&["192.0.2.1"], &[]), "h=AAAAAAAA"),
    )]);
    let next = Stamp {
        time_ms: 1_764_115_300_000,
        by: "h=AAAAAAAA".into(),
    };
    let got = actions(&changes(std::slice::from_ref(&t), &e, &next));
    let old = stamp::stamp_value(&Stamp {
        time_ms: 1_764_115_200_123,
        by: "h=AAAAAAAA".into(),
    });
    assert_eq!(
        got,
        vec![
            "DELETE A home.example.com 192.0.2.1".to_string(),
            "CREATE A home.example.com 192.0.2.1".into(),
            "CREATE AAAA home.example.com 2001:db8::2".into(),
            format!("DELETE AAAA _r53ddns.home.example.com {old}"),
            format!(
                "CREATE AAAA _r53ddns.home.example.com {}",
                stamp::stamp_value(&next)
            ),
        ]
    );
    // A family the request leaves alone is not touched, whatever the guess says.
    let v4_only = target(Some("192.0.2.9"), None);
    let e = BTreeMap::from([(
        t.name.clone(),
        guessed(
            &t.name,
            &last(&["192.0.2.1"], &["2001:db8::1"]),
            "h=AAAAAAAA",
        ),
    )]);
    let got = actions(&changes(&[v4_only], &e, &next));
    assert!(
        got.iter()
            .all(|c| !c.starts_with("DELETE AAAA home") && !c.starts_with("CREATE AAAA home")),
        "{got:?}"
    );
}

#[test]
fn only_a_usable_last_on_every_name_is_a_guess_and_only_a_batch_refusal_refutes_it() {
    let mut bad = last(&["192.0.2.1"], &[]);
    bad.ttl = 0;
    assert!(bad.usable().is_none());
    assert!(refuted(&AwsError::Rejected {
        code: "InvalidChangeBatch".into(),
        message: "[Tried to delete resource record set [name='home.example.com.', type='A'] but it was not found]".into(),
    }));
    assert!(!refuted(&AwsError::Rejected {
        code: "AccessDenied".into(),
        message: "no".into()
    }));
    assert!(!refuted(&AwsError::Throttled));
}

#[test]
fn only_every_name_with_a_usable_last_makes_a_guess() {
    let named = |name: &str, last: Option<Last>| Target {
        name: name.into(),
        ttl: 60,
        ipv4: Some(Ipv4Addr::new(192, 0, 2, 9)),
        ipv6: None,
        auto: false,
        last,
    };
    let told = last(&["192.0.2.1"], &["2001:db8::1"]);
    let both = [
        named("a.example.com", Some(told.clone())),
        named("b.example.com", Some(told.clone())),
    ];
    let g = existing(&both, "h=AAAAAAAA").expect("a guess");
    assert_eq!(g.len(), 2);
    assert_eq!(
        g["b.example.com"],
        guessed("b.example.com", &told, "h=AAAAAAAA")
    );
    let one_without = [
        named("a.example.com", Some(told.clone())),
        named("b.example.com", None),
    ];
    assert_eq!(existing(&one_without, "h=AAAAAAAA"), None);
    let mut unusable = told;
    unusable.stamp = 0;
    assert_eq!(
        existing(&[named("a.example.com", Some(unusable))], "h=AAAAAAAA"),
        None
    );
}
