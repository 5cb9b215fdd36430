//! `ipv6_suffix` as a fixed suffix or a MAC address (modified EUI-64, RFC 4291 appendix A),
//! and how it combines with a delegated prefix (docs/config.md, "ipv6_suffix"). Property
//! tests draw from a seeded generator (splitmix64), so a failure repeats; the expected
//! addresses are built bit by bit, independently of the code's masks.

mod common;

use common::*;
use route53_ddns::addresses;
use route53_ddns::config::Config;
use route53_ddns::host_id::{eui64, mac_of, HostId};
use route53_ddns::netifd::{self, Interfaces};
use route53_ddns_protocol::AddrSpec;
use std::net::Ipv6Addr;

/// splitmix64: small, seeded, good enough to spread test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn addr(&mut self) -> Ipv6Addr {
        Ipv6Addr::from((u128::from(self.next()) << 64) | u128::from(self.next()))
    }

    /// A unicast MAC (group bit clear), never all-zero.
    fn mac(&mut self) -> [u8; 6] {
        loop {
            let b = self.next().to_be_bytes();
            let m = [b[0] & !1, b[1], b[2], b[3], b[4], b[5]];
            if m != [0; 6] {
                return m;
            }
        }
    }
}

const CASES: usize = 4000;

/// Bit `i` (0 = most significant) of an address.
fn bit(a: &[u8; 16], i: usize) -> bool {
    a[i / 8] & (0x80 >> (i % 8)) != 0
}

/// The documented combination, bit by bit: the prefix's first `len` bits, then the
/// interface identifier's bits.
fn expected(prefix: Ipv6Addr, len: usize, id: &[u8; 16]) -> Ipv6Addr {
    let p = prefix.octets();
    let mut out = [0u8; 16];
    for i in 0..128 {
        let b = if i < len { bit(&p, i) } else { bit(id, i) };
        if b {
            out[i / 8] |= 0x80 >> (i % 8);
        }
    }
    Ipv6Addr::from(out)
}

fn mac_text(m: &[u8; 6], sep: &str) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

fn cisco_text(m: &[u8; 6]) -> String {
    format!(
        "{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

#[test]
fn a_mac_under_any_prefix_up_to_64_is_its_eui64_after_the_prefix_bits() {
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..CASES {
        let len = rng.below(65) as usize;
        let prefix = rng.addr();
        let mac = rng.mac();
        let got = HostId::Mac(mac)
            .under(prefix, len as u8)
            .unwrap_or_else(|e| panic!("{prefix}/{len} {mac:02x?}: {e}"));
        let o = got.octets();
        let p = prefix.octets();
        // The prefix bits are kept …
        for i in 0..len {
            assert_eq!(
                bit(&o, i),
                bit(&p, i),
                "bit {i} of {got} under {prefix}/{len}"
            );
        }
        // … the rest of the upper 64 bits is zero (the first /64 of the prefix) …
        for i in len..64 {
            assert!(!bit(&o, i), "bit {i} of {got} under {prefix}/{len}");
        }
        // … and the low 64 bits are the modified EUI-64: u/l bit flipped, ff:fe in the middle.
        assert_eq!(o[8], mac[0] ^ 0x02);
        assert_ne!(o[8] & 0x02, mac[0] & 0x02, "the u/l bit is inverted");
        assert_eq!(&o[9..11], &mac[1..3]);
        assert_eq!(&o[11..13], &[0xff, 0xfe]);
        assert_eq!(&o[13..16], &mac[3..6]);
        // It round-trips to the MAC.
        let iid = u64::from_be_bytes(o[8..16].try_into().expect("8 bytes"));
        assert_eq!(mac_of(iid), Some(mac));
        assert_eq!(eui64(mac), iid);
    }
}

#[test]
fn every_written_form_of_a_mac_parses_to_the_same_host_id() {
    let mut rng = Rng(0x5eed_0002);
    for _ in 0..CASES {
        let mac = rng.mac();
        let forms = [
            mac_text(&mac, ":"),
            mac_text(&mac, "-"),
            cisco_text(&mac),
            mac_text(&mac, ":").to_uppercase(),
            mac_text(&mac, "-").to_uppercase(),
        ];
        for f in &forms {
            assert_eq!(f.parse::<HostId>(), Ok(HostId::Mac(mac)), "{f}");
        }
        // Display writes the canonical form, which parses back.
        let shown = HostId::Mac(mac).to_string();
        assert_eq!(shown, forms[0]);
        assert_eq!(shown.parse::<HostId>(), Ok(HostId::Mac(mac)));
    }
}

#[test]
fn a_mac_under_a_prefix_longer_than_64_is_refused_in_words() {
    let mut rng = Rng(0x5eed_0003);
    for _ in 0..CASES {
        let len = 65 + rng.below(64) as u8;
        let prefix = rng.addr();
        let e = HostId::Mac(rng.mac())
            .under(prefix, len)
            .expect_err("no room for 64 bits");
        assert!(e.contains(&format!("/{len} is longer than /64")), "{e}");
        assert!(
            e.contains("no room for the 64-bit interface identifier"),
            "{e}"
        );
    }
}

#[test]
fn a_fixed_suffix_fills_the_bits_after_the_prefix_or_is_refused_if_it_reaches_into_it() {
    let mut rng = Rng(0x5eed_0004);
    let (mut fitted, mut refused) = (0, 0);
    for _ in 0..CASES {
        let len = rng.below(129) as usize;
        let prefix = rng.addr();
        // Suffixes of every width, so that some reach into long prefixes and some do not.
        let width = 1 + rng.below(64) as u32;
        let low = (rng.next() >> (64 - width)).max(1);
        let text = format!("{}", Ipv6Addr::from(u128::from(low)));
        let id: HostId = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        let id_octets = Ipv6Addr::from(u128::from(low)).octets();
        let reaches_in = (0..len).any(|i| bit(&id_octets, i));
        match id.under(prefix, len as u8) {
            Ok(got) => {
                assert!(!reaches_in, "{text} under {prefix}/{len} should be refused");
                assert_eq!(
                    got,
                    expected(prefix, len, &id_octets),
                    "{text} under {prefix}/{len}"
                );
                fitted += 1;
            }
            Err(e) => {
                assert!(reaches_in, "{text} under {prefix}/{len}: {e}");
                assert!(e.contains("has bits inside the delegated prefix"), "{e}");
                refused += 1;
            }
        }
    }
    assert!(
        fitted > 100 && refused > 100,
        "{fitted} fitted, {refused} refused"
    );
}

#[test]
fn rfc_2464_example_and_eui64_written_out_as_a_suffix_agree() {
    // RFC 2464 section 4: 34-56-78-9A-BC-DE → interface identifier 3656:78FF:FE9A:BCDE.
    let mac: HostId = "34-56-78-9A-BC-DE".parse().expect("mac");
    let prefix: Ipv6Addr = "2001:db8:1:2::".parse().expect("v6");
    let want: Ipv6Addr = "2001:db8:1:2:3656:78ff:fe9a:bcde".parse().expect("v6");
    assert_eq!(mac.under(prefix, 64), Ok(want));
    let written: HostId = "::3656:78ff:fe9a:bcde".parse().expect("suffix");
    assert_eq!(written.under(prefix, 64), Ok(want));
    // A locally administered MAC (u/l bit set) gets it cleared.
    let local: HostId = "02:00:5e:10:00:01".parse().expect("mac");
    assert_eq!(
        local.under(prefix, 64),
        Ok("2001:db8:1:2:0:5eff:fe10:1".parse().expect("v6"))
    );
}

#[test]
fn what_is_not_a_host_id() {
    for (bad, why) in [
        ("01:00:5e:00:00:fb", "multicast"),
        ("ff:ff:ff:ff:ff:ff", "multicast or broadcast"),
        ("00:00:00:00:00:00", "all-zero"),
        ("00-00-00-00-00-00", "all-zero"),
        ("aa:bb-cc:dd:ee:ff", "neither"),
        ("a:bb:cc:dd:ee:ff0", "neither"),
        ("aa:bb:cc:dd:ee", "neither"),
        ("aa:bb:cc:dd:ee:ff:00", "neither"),
        ("gg:bb:cc:dd:ee:ff", "neither"),
        ("aabb.ccdd.eef", "neither"),
        ("aabbcc.ddeeff", "neither"),
        ("aabbccddeeff", "neither"),
        (" 02:11:22:33:44:55", "neither"),
        ("2001:db8::1", "sets bits of the prefix"),
        ("::", "anycast"),
        ("::0", "anycast"),
    ] {
        let e = bad.parse::<HostId>().expect_err(bad);
        assert!(e.contains(why), "{bad}: {e}");
    }
}

fn load(hosts: &str) -> Result<Config, String> {
    let dir = TempDir::new("hostid");
    let p = dir.write(
        "c",
        &format!("config global 'global'\n\toption enabled '1'\n\toption endpoint 'https://x.on.aws'\n\nconfig host\n\toption name 'nas.example.com'\n\toption ipv4 '0'\n{hosts}"),
    );
    Config::load(&p).map(|c| c.0).map_err(|e| e.to_string())
}

#[test]
fn the_config_takes_a_mac_and_names_the_line_of_a_bad_one() {
    let c = load("\toption ipv6_suffix '02-11-22-33-44-55'\n").expect("valid");
    assert_eq!(
        c.hosts[0].ipv6_suffix,
        Some(HostId::Mac([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]))
    );
    let e = load("\toption ipv6_suffix '01:00:5e:00:00:fb'\n").expect_err("multicast");
    assert!(e.contains("line 8") && e.contains("multicast"), "{e}");
}

const LAN_80: &str = r#"{"up":true,"l3_device":"br-lan","proto":"static","ipv6-prefix-assignment":[{"address":"2001:db8:7:1:2::","mask":80,"preferred":3000,"local-address":{"address":"2001:db8:7:1:2::1","mask":80}}]}"#;

fn plan_under_lan(lan: &str, suffix: &str) -> AddrSpec<Ipv6Addr> {
    let c = load(&format!("\toption ipv6_suffix '{suffix}'\n")).expect("valid");
    let mut i = Interfaces::default();
    i.insert("wan", Default::default());
    i.insert("wan6", Default::default());
    i.insert("wan_6", Default::default());
    i.insert("lan", netifd::parse_status(lan.as_bytes()).expect("lan"));
    addresses::plan(&c, &mut i)[0].ipv6
}

#[test]
fn a_lan_prefix_longer_than_64_takes_a_fitting_suffix_but_no_mac() {
    assert_eq!(
        plan_under_lan(LAN_80, "::1234"),
        AddrSpec::Set("2001:db8:7:1:2::1234".parse().expect("v6"))
    );
    // Bits inside the /80, or a MAC's 64 bits: the record is left as it is.
    assert_eq!(plan_under_lan(LAN_80, "::1:0:0:1234"), AddrSpec::Keep);
    assert_eq!(plan_under_lan(LAN_80, "02:11:22:33:44:55"), AddrSpec::Keep);
    // Next to a /64 the /64 is chosen, and the MAC fits there.
    let both = LAN_80.replace(
        "]}",
        r#",{"address":"2001:db8:7:9::","mask":64,"preferred":3000}]}"#,
    );
    assert_eq!(
        plan_under_lan(&both, "02:11:22:33:44:55"),
        AddrSpec::Set("2001:db8:7:9:11:22ff:fe33:4455".parse().expect("v6"))
    );
}
