//! Address rules: every special-purpose block at its first and last address and just
//! outside, checked twice: against a hand-written list of the registries (written as
//! first/last addresses, not prefixes, so a typo in the table cannot hide in both), and
//! generated from the table itself.

use route53_ddns_protocol::address::{
    classify, special, Block, NotGlobal, NotGlobal::*, Policy, SPECIAL_PURPOSE,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

type R = Result<(), NotGlobal>;
const OK: R = Ok(());

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// The number of an address and the width of its family.
fn num(a: IpAddr) -> (u128, u32) {
    match a {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    }
}

fn from_num(n: u128, bits: u32) -> IpAddr {
    if bits == 32 {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(n).expect("fits in 32 bits")))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

/// First and last address of a block, by this file's own arithmetic.
fn range(b: Block) -> (IpAddr, IpAddr) {
    let (net, len) = match b {
        Block::V4(a, l) => (IpAddr::V4(a), l),
        Block::V6(a, l) => (IpAddr::V6(a), l),
    };
    let (n, bits) = num(net);
    let host = bits - u32::from(len);
    let span = if host == 128 {
        u128::MAX
    } else {
        (1u128 << host) - 1
    };
    (net, from_num(n | span, bits))
}

fn neighbour(a: IpAddr, up: bool) -> Option<IpAddr> {
    let (n, bits) = num(a);
    let max = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    match up {
        true if n < max => Some(from_num(n + 1, bits)),
        false if n > 0 => Some(from_num(n - 1, bits)),
        _ => None,
    }
}

/// The registries by hand: first, last, verdict at first, at last, just before, just
/// after (the last two ignored where the address space ends).
#[rustfmt::skip]
fn hand_list() -> Vec<(&'static str, &'static str, R, R, R, R)> {
    vec![
        // IPv4 Special-Purpose Address Registry, then multicast.
        ("0.0.0.0", "0.255.255.255", Err(Unspecified), Err(Reserved), OK, OK),
        ("0.0.0.0", "0.0.0.0", Err(Unspecified), Err(Unspecified), OK, Err(Reserved)),
        ("10.0.0.0", "10.255.255.255", Err(Private), Err(Private), OK, OK),
        ("100.64.0.0", "100.127.255.255", Err(CarrierGradeNat), Err(CarrierGradeNat), OK, OK),
        ("127.0.0.0", "127.255.255.255", Err(Loopback), Err(Loopback), OK, OK),
        ("169.254.0.0", "169.254.255.255", Err(LinkLocal), Err(LinkLocal), OK, OK),
        ("172.16.0.0", "172.31.255.255", Err(Private), Err(Private), OK, OK),
        ("192.0.0.0", "192.0.0.255", Err(Reserved), Err(Reserved), OK, OK),
        ("192.0.0.0", "192.0.0.7", Err(Reserved), Err(Reserved), OK, Err(Reserved)),
        ("192.0.0.8", "192.0.0.8", Err(Reserved), Err(Reserved), Err(Reserved), OK),
        ("192.0.0.9", "192.0.0.9", OK, OK, Err(Reserved), OK),
        ("192.0.0.10", "192.0.0.10", OK, OK, OK, Err(Reserved)),
        ("192.0.0.170", "192.0.0.170", Err(Reserved), Err(Reserved), Err(Reserved), Err(Reserved)),
        ("192.0.0.171", "192.0.0.171", Err(Reserved), Err(Reserved), Err(Reserved), Err(Reserved)),
        ("192.0.2.0", "192.0.2.255", Err(Documentation), Err(Documentation), OK, OK),
        ("192.31.196.0", "192.31.196.255", OK, OK, OK, OK),
        ("192.52.193.0", "192.52.193.255", OK, OK, OK, OK),
        ("192.88.99.0", "192.88.99.255", Err(Relay6to4), Err(Relay6to4), OK, OK),
        ("192.88.99.2", "192.88.99.2", Err(Relay6to4), Err(Relay6to4), Err(Relay6to4), Err(Relay6to4)),
        ("192.168.0.0", "192.168.255.255", Err(Private), Err(Private), OK, OK),
        ("192.175.48.0", "192.175.48.255", OK, OK, OK, OK),
        ("198.18.0.0", "198.19.255.255", Err(Benchmarking), Err(Benchmarking), OK, OK),
        ("198.51.100.0", "198.51.100.255", Err(Documentation), Err(Documentation), OK, OK),
        ("203.0.113.0", "203.0.113.255", Err(Documentation), Err(Documentation), OK, OK),
        ("240.0.0.0", "255.255.255.255", Err(Reserved), Err(Broadcast), Err(Multicast), OK),
        ("255.255.255.255", "255.255.255.255", Err(Broadcast), Err(Broadcast), Err(Reserved), OK),
        ("224.0.0.0", "239.255.255.255", Err(Multicast), Err(Multicast), OK, Err(Reserved)),
        // IPv6 Special-Purpose Address Registry, then ::/96 and multicast.
        ("::1", "::1", Err(Loopback), Err(Loopback), Err(Unspecified), Err(Ipv4Mapped)),
        ("::", "::", Err(Unspecified), Err(Unspecified), OK, Err(Loopback)),
        ("::ffff:0.0.0.0", "::ffff:255.255.255.255", Err(Ipv4Mapped), Err(Ipv4Mapped), Err(Reserved), Err(Reserved)),
        ("64:ff9b::", "64:ff9b::ffff:ffff", Err(Translation), Err(Translation), Err(Reserved), Err(Reserved)),
        ("64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", Err(Translation), Err(Translation), Err(Reserved), Err(Reserved)),
        ("100::", "100::ffff:ffff:ffff:ffff", Err(Reserved), Err(Reserved), Err(Reserved), Err(Reserved)),
        ("100:0:0:1::", "100::1:ffff:ffff:ffff:ffff", Err(Reserved), Err(Reserved), Err(Reserved), Err(Reserved)),
        ("2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", Err(Teredo), Err(Reserved), OK, OK),
        ("2001::", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", Err(Teredo), Err(Teredo), OK, Err(Reserved)),
        ("2001:1::1", "2001:1::1", OK, OK, Err(Reserved), OK),
        ("2001:1::2", "2001:1::2", OK, OK, OK, OK),
        ("2001:1::3", "2001:1::3", OK, OK, OK, Err(Reserved)),
        ("2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff", Err(Benchmarking), Err(Benchmarking), Err(Reserved), Err(Reserved)),
        ("2001:3::", "2001:3:ffff:ffff:ffff:ffff:ffff:ffff", OK, OK, Err(Reserved), Err(Reserved)),
        ("2001:4:112::", "2001:4:112:ffff:ffff:ffff:ffff:ffff", OK, OK, Err(Reserved), Err(Reserved)),
        ("2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", Err(Orchid), Err(Orchid), Err(Reserved), Err(Orchid)),
        ("2001:20::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", Err(Orchid), Err(Orchid), Err(Orchid), Err(Orchid)),
        ("2001:30::", "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", Err(Orchid), Err(Orchid), Err(Orchid), Err(Reserved)),
        ("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", Err(Documentation), Err(Documentation), OK, OK),
        ("2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Err(Ipv4Mapped), Err(Ipv4Mapped), OK, OK),
        ("2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff", OK, OK, OK, OK),
        ("3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", Err(Documentation), Err(Documentation), OK, OK),
        ("5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Err(Reserved), Err(Reserved), Err(Reserved), Err(Reserved)),
        ("fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Err(Private), Err(Private), Err(Reserved), Err(Reserved)),
        ("fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Err(LinkLocal), Err(LinkLocal), Err(Reserved), Err(Reserved)),
        ("::", "::ffff:ffff", Err(Unspecified), Err(Ipv4Mapped), OK, Err(Reserved)),
        ("ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Err(Multicast), Err(Multicast), Err(Reserved), OK),
    ]
}

#[test]
fn the_table_has_exactly_the_hand_listed_blocks() {
    let mut table: Vec<(IpAddr, IpAddr)> = SPECIAL_PURPOSE.iter().map(|s| range(s.block)).collect();
    let mut hand: Vec<(IpAddr, IpAddr)> = hand_list().iter().map(|r| (ip(r.0), ip(r.1))).collect();
    table.sort();
    hand.sort();
    assert_eq!(table, hand);
    let v4 = SPECIAL_PURPOSE
        .iter()
        .filter(|s| matches!(s.block, Block::V4(..)))
        .count();
    assert_eq!((v4, SPECIAL_PURPOSE.len() - v4), (27, 27));
}

#[test]
fn every_block_at_its_edges_and_just_outside_as_listed_by_hand() {
    for (first, last, at_first, at_last, before, after) in hand_list() {
        let (first, last) = (ip(first), ip(last));
        assert_eq!(classify(first), at_first, "first address {first}");
        assert_eq!(classify(last), at_last, "last address {last}");
        if let Some(b) = neighbour(first, false) {
            assert_eq!(classify(b), before, "{b}, just before {first}");
        }
        if let Some(a) = neighbour(last, true) {
            assert_eq!(classify(a), after, "{a}, just after {last}");
        }
    }
}

/// What the table says about `a`, worked out here: the longest entry containing it;
/// else IPv6 outside 2000::/3 is reserved.
fn expected(a: IpAddr) -> R {
    let mut best: Option<(u8, R)> = None;
    for s in SPECIAL_PURPOSE {
        let (first, last) = range(s.block);
        let inside =
            num(first).1 == num(a).1 && num(first).0 <= num(a).0 && num(a).0 <= num(last).0;
        if inside && best.is_none_or(|(len, _)| s.block.prefix_len() > len) {
            best = Some((s.block.prefix_len(), s.refused.map_or(OK, Err)));
        }
    }
    match (best, a) {
        (Some((_, r)), _) => r,
        (None, IpAddr::V6(v)) if v.segments()[0] >> 13 != 1 => Err(Reserved),
        (None, _) => OK,
    }
}

#[test]
fn every_block_at_its_edges_and_just_outside_as_the_table_says() {
    for s in SPECIAL_PURPOSE {
        let (first, last) = range(s.block);
        let own = s.refused.map_or(OK, Err);
        // Each entry decides at least one of its edges itself, so each entry matters.
        let mine = |a: IpAddr| special(a).is_some_and(|m| m == s);
        assert!(mine(first) || mine(last), "{s:?} is shadowed at both ends");
        for a in [first, last] {
            assert_eq!(classify(a), expected(a), "{a} in {s:?}");
            if mine(a) {
                assert_eq!(classify(a), own, "{a} in {s:?}");
            }
        }
        for a in [neighbour(first, false), neighbour(last, true)]
            .into_iter()
            .flatten()
        {
            assert!(!s.block.contains(a), "{a} is outside {s:?}");
            assert_eq!(classify(a), expected(a), "{a} next to {s:?}");
        }
    }
}

#[test]
fn table_entries_are_aligned_and_distinct() {
    for (i, s) in SPECIAL_PURPOSE.iter().enumerate() {
        let (first, _) = range(s.block);
        assert!(
            s.block.contains(first),
            "{s:?}: host bits set in the network address"
        );
        assert!(!s.name.is_empty() && s.rfc.starts_with("RFC "), "{s:?}");
        for t in &SPECIAL_PURPOSE[i + 1..] {
            assert_ne!(s.block, t.block, "{} listed twice", s.name);
        }
    }
}

#[test]
fn globally_reachable_exceptions_inside_refused_blocks_are_published() {
    for (inside, refused_parent) in [
        ("192.0.0.9", "192.0.0.0/24"),
        ("192.0.0.10", "192.0.0.0/24"),
        ("2001:1::1", "2001::/23"),
        ("2001:1::2", "2001::/23"),
        ("2001:1::3", "2001::/23"),
        ("2001:3::1", "2001::/23"),
        ("2001:4:112::53", "2001::/23"),
    ] {
        assert_eq!(classify(ip(inside)), OK, "{inside} in {refused_parent}");
    }
    for s in [
        "192.0.0.11",
        "2001:1::",
        "2001:1::4",
        "2001:4:111::1",
        "2001:5::1",
    ] {
        assert_eq!(classify(ip(s)), Err(Reserved), "{s}");
    }
}

#[test]
fn public_addresses_pass() {
    for s in [
        "1.1.1.1",
        "8.8.8.8",
        "100.63.255.255",
        "100.128.0.1",
        "192.88.98.1",
        "2a00:1450:4001::1",
        "2606:4700::1111",
        "2001:200::1",
        "2001:470:1f0b:aa::1",
        "2c0f:ffff::1",
    ] {
        assert_eq!(classify(ip(s)), OK, "{s}");
    }
}

#[test]
fn ipv6_outside_2000_slash_3_is_reserved() {
    for s in ["4000::1", "1fff:ffff::1", "fec0::1", "::1:0:0:1", "8000::"] {
        assert_eq!(classify(ip(s)), Err(Reserved), "{s}");
    }
}

#[test]
fn documentation_ranges_only_when_allowed() {
    let allow = Policy {
        allow_documentation: true,
    };
    for s in [
        "2001:db8::5",
        "3fff::1",
        "192.0.2.7",
        "198.51.100.1",
        "203.0.113.9",
    ] {
        assert_eq!(Policy::default().check(ip(s)), Err(Documentation), "{s}");
        assert_eq!(allow.check(ip(s)), OK, "{s}");
    }
    assert_eq!(allow.check(ip("10.0.0.1")), Err(Private));
    assert_eq!(allow.check(ip("2001:2::1")), Err(Benchmarking));
}

#[test]
fn every_reason_has_its_own_text() {
    let all = [
        Unspecified,
        Loopback,
        Private,
        CarrierGradeNat,
        LinkLocal,
        Multicast,
        Broadcast,
        Documentation,
        Ipv4Mapped,
        Translation,
        Benchmarking,
        Teredo,
        Orchid,
        Relay6to4,
        Reserved,
    ];
    let texts: std::collections::BTreeSet<&str> = all.iter().map(|r| r.describe()).collect();
    assert_eq!(texts.len(), all.len());
    assert_eq!(Teredo.to_string(), Teredo.describe());
}
