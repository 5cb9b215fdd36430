//! A LAN host's interface identifier (`ipv6_suffix`): a fixed suffix such as `::1234`, or
//! a MAC address turned into a modified EUI-64 (RFC 4291 appendix A), and how it is put
//! under a delegated prefix. The contract is written in docs/config.md ("ipv6_suffix").

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

/// What `ipv6_suffix` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostId {
    /// A fixed interface identifier: the low 64 bits (the upper 64 are zero).
    Suffix(Ipv6Addr),
    /// A MAC address; the interface identifier is its modified EUI-64.
    Mac([u8; 6]),
}

/// The universal/local bit of a MAC's first octet (RFC 4291 appendix A calls it "u").
const UL_BIT: u8 = 0x02;
/// The individual/group bit: set on multicast and broadcast MACs.
const GROUP_BIT: u8 = 0x01;

/// The modified EUI-64 of a MAC: ff:fe inserted in the middle, the u/l bit inverted.
pub fn eui64(mac: [u8; 6]) -> u64 {
    u64::from_be_bytes([
        mac[0] ^ UL_BIT,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ])
}

/// The MAC an interface identifier was made from, if it is a modified EUI-64 of one.
pub fn mac_of(iid: u64) -> Option<[u8; 6]> {
    let b = iid.to_be_bytes();
    (b[3] == 0xff && b[4] == 0xfe).then_some([b[0] ^ UL_BIT, b[1], b[2], b[5], b[6], b[7]])
}

/// The forms a MAC may be written in: `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff` (two hex
/// digits per group, one kind of separator) and `aabb.ccdd.eeff`, in either case.
fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let b = s.as_bytes();
    // Hex digits per group and the one separator allowed between groups.
    let (group, sep) = match b.len() {
        17 if b[2] == b':' || b[2] == b'-' => (2, b[2]),
        14 => (4, b'.'),
        _ => return None,
    };
    let mut mac = [0u8; 6];
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        if (i + 1) % (group + 1) == 0 {
            if c != sep {
                return None;
            }
            continue;
        }
        let v = u8::try_from(char::from(c).to_digit(16)?).ok()?;
        let byte = mac.get_mut(n / 2)?;
        *byte = (*byte << 4) | v;
        n += 1;
    }
    (n == 12).then_some(mac)
}

/// The first `len` bits set (`len` ≥ 128: all of them).
fn prefix_mask(len: u8) -> u128 {
    match len {
        0 => 0,
        l if l >= 128 => u128::MAX,
        l => u128::MAX << (128 - u32::from(l)),
    }
}

impl HostId {
    /// Parses an `ipv6_suffix` value (not empty: empty means the router itself).
    pub fn parse(s: &str) -> Result<HostId, String> {
        if let Some(mac) = parse_mac(s) {
            if mac[0] & GROUP_BIT != 0 {
                return Err(format!(
                    "'{s}' is a multicast or broadcast MAC address, not the address of a host's interface"
                ));
            }
            if mac == [0; 6] {
                return Err(format!(
                    "'{s}' is the all-zero MAC address, which names no host"
                ));
            }
            return Ok(HostId::Mac(mac));
        }
        let addr: Ipv6Addr = s.parse().map_err(|_| {
            format!("'{s}' is neither an IPv6 suffix such as ::1234 nor a MAC address such as 02:11:22:33:44:55")
        })?;
        if addr.segments()[..4] != [0, 0, 0, 0] {
            return Err(format!(
                "'{s}' sets bits of the prefix; write only the interface part, such as ::1234 or ::a:b:c:d"
            ));
        }
        if addr.is_unspecified() {
            return Err("the suffix :: is the subnet-router anycast address, not a host".into());
        }
        Ok(HostId::Suffix(addr))
    }

    /// The interface identifier as the low bits of an address (upper 64 bits zero).
    pub fn interface_id(&self) -> u128 {
        match self {
            HostId::Suffix(a) => u128::from(*a),
            HostId::Mac(m) => u128::from(eui64(*m)),
        }
    }

    /// The host's address under `prefix/len`: the prefix's first `len` bits, then the
    /// interface identifier in the bits after them. A MAC needs all 64 low bits, so a prefix
    /// longer than /64 is refused; a fixed suffix must not reach into the prefix.
    pub fn under(&self, prefix: Ipv6Addr, len: u8) -> Result<Ipv6Addr, String> {
        let mask = prefix_mask(len);
        if let HostId::Mac(_) = self {
            if len > 64 {
                return Err(format!(
                    "the delegated prefix {prefix}/{len} is longer than /64: it leaves no room for the 64-bit interface identifier made from MAC {self}; use a fixed ipv6_suffix that fits, or delegate a /64 to the LAN"
                ));
            }
        }
        let id = self.interface_id();
        if id & mask != 0 {
            return Err(format!(
                "the suffix {self} has bits inside the delegated prefix {prefix}/{len}; only the last {} bits are the host's",
                128 - u32::from(len.min(128))
            ));
        }
        Ok(Ipv6Addr::from((u128::from(prefix) & mask) | id))
    }
}

impl FromStr for HostId {
    type Err = String;

    fn from_str(s: &str) -> Result<HostId, String> {
        HostId::parse(s)
    }
}

/// A fixed suffix as an IPv6 address (`::1234`); a MAC as `aa:bb:cc:dd:ee:ff`.
impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostId::Suffix(a) => write!(f, "{a}"),
            HostId::Mac(m) => {
                for (i, b) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(":")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}
