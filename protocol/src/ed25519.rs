//! Checks on an Ed25519 public key before it is trusted as a key id.
//!
//! A key is 32 bytes: the little-endian y coordinate of a curve point in the low 255
//! bits, the sign of x in the top bit (RFC 8032, section 5.1.2). Two kinds of keys are
//! refused:
//!
//! - **non-canonical**: y >= p = 2^255 - 19. Such a y names the same point as y - p, so
//!   one key would have two spellings (two key ids).
//! - **small-order**: the 8 points whose order divides 8. A signature by such a "key"
//!   can be valid for many messages at once (see "Taming the many EdDSAs", Brendel et al.
//!   2020, and libsodium's `has_small_order` blocklist). Every encoding of them is
//!   refused: either x sign for y = 0 and the two order-8 y values, and also the sign
//!   bit set on y = 1 and y = p - 1, whose x is 0 (an invalid encoding, RFC 8032 5.1.3).
//!   Their non-canonical spellings y = p (= 0) and y = p + 1 (= 1) are reported as
//!   non-canonical.
//!
//! Whether y is on the curve at all is not checked here; `ring` refuses such a key
//! when it verifies a signature.

use std::fmt;

/// Why a public key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// The y coordinate is not reduced modulo 2^255 - 19.
    NonCanonical,
    /// The point has order 1, 2, 4 or 8.
    SmallOrder,
}

impl KeyProblem {
    /// A short explanation a person can act on.
    pub fn describe(self) -> &'static str {
        match self {
            KeyProblem::NonCanonical => {
                "the public key is not canonically encoded (its y coordinate is not \
                 below 2^255-19); regenerate the key with `route53-ddns keygen --force`"
            }
            KeyProblem::SmallOrder => {
                "the public key is a small-order point, which signs anything; \
                 regenerate the key with `route53-ddns keygen --force`"
            }
        }
    }
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The canonical y coordinates (little-endian, top bit clear) of the 8 small-order
/// points. y = 1 is the identity (order 1), y = p - 1 has order 2, y = 0 two points of
/// order 4, and each of the two order-8 y values two points of order 8.
pub const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    // 0: (±sqrt(-1), 0), order 4.
    [0; 32],
    // 1: (0, 1), the identity.
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    // 2707385501144840649318225287225658788936804267575313519463743609750303402022, order 8.
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    // p minus the previous one, order 8.
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    // p - 1: (0, -1), order 2.
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// `Ok` if `bytes` is a canonically encoded Ed25519 public key that is not a
/// small-order point.
pub fn check_public_key(bytes: &[u8; 32]) -> Result<(), KeyProblem> {
    let mut y = *bytes;
    y[31] &= 0x7f;
    // y >= p = 2^255 - 19 exactly when the top 254 bits are all ones and the low byte
    // is at least 0xed.
    if y[31] == 0x7f && y[1..31].iter().all(|b| *b == 0xff) && y[0] >= 0xed {
        return Err(KeyProblem::NonCanonical);
    }
    if SMALL_ORDER_Y.contains(&y) {
        return Err(KeyProblem::SmallOrder);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The small-order list is derived here from the curve equation with a tiny field
    //! implementation, then compared with [`SMALL_ORDER_Y`] and the literature.
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    /// An element of GF(p), p = 2^255 - 19: four little-endian 64-bit limbs, below p.
    type Fe = [u64; 4];
    const P: Fe = [
        0xffff_ffff_ffff_ffed,
        u64::MAX,
        u64::MAX,
        0x7fff_ffff_ffff_ffff,
    ];
    const ZERO: Fe = [0; 4];
    const ONE: Fe = [1, 0, 0, 0];

    fn small(n: u64) -> Fe {
        [n, 0, 0, 0]
    }

    fn geq(a: Fe, b: Fe) -> bool {
        (0..4)
            .rev()
            .find(|&i| a[i] != b[i])
            .is_none_or(|i| a[i] > b[i])
    }

    /// a - b as 256-bit numbers (a >= b).
    fn sub_raw(a: Fe, b: Fe) -> Fe {
        let mut r = ZERO;
        let mut borrow = false;
        for i in 0..4 {
            let (d, b1) = a[i].overflowing_sub(b[i]);
            let (d, b2) = d.overflowing_sub(u64::from(borrow));
            r[i] = d;
            borrow = b1 || b2;
        }
        r
    }

    /// a + b as 256-bit numbers and the carry out.
    fn add_raw(a: Fe, b: Fe) -> (Fe, bool) {
        let mut r = ZERO;
        let mut carry = false;
        for i in 0..4 {
            let (s, c1) = a[i].overflowing_add(b[i]);
            let (s, c2) = s.overflowing_add(u64::from(carry));
            r[i] = s;
            carry = c1 || c2;
        }
        (r, carry)
    }

    /// Reduces any 256-bit value below p (it is below 2p + 38).
    fn reduce(mut a: Fe) -> Fe {
        while geq(a, P) {
            a = sub_raw(a, P);
        }
        a
    }

    fn add(a: Fe, b: Fe) -> Fe {
        let (s, carry) = add_raw(a, b);
        assert!(!carry, "both below p, so no carry");
        reduce(s)
    }

    fn neg(a: Fe) -> Fe {
        reduce(sub_raw(P, a))
    }

    fn sub(a: Fe, b: Fe) -> Fe {
        add(a, neg(b))
    }

    fn mul(a: Fe, b: Fe) -> Fe {
        let mut t = [0u128; 8];
        for i in 0..4 {
            let mut carry = 0u128;
            for j in 0..4 {
                let v = t[i + j] + u128::from(a[i]) * u128::from(b[j]) + carry;
                t[i + j] = v & u128::from(u64::MAX);
                carry = v >> 64;
            }
            t[i + 4] = carry;
        }
        // 2^256 = 38 (mod p): fold the high half onto the low half.
        let mut r = ZERO;
        let mut carry = 0u128;
        for i in 0..4 {
            let v = t[i] + 38 * t[i + 4] + carry;
            r[i] = u64::try_from(v & u128::from(u64::MAX)).expect("masked");
            carry = v >> 64;
        }
        let mut extra = u64::try_from(carry * 38).expect("small");
        loop {
            let (s, c) = add_raw(r, small(extra));
            r = s;
            if !c {
                break;
            }
            extra = 38;
        }
        reduce(r)
    }

    fn shr(a: Fe, n: u32) -> Fe {
        let mut r = ZERO;
        for i in 0..4 {
            r[i] = a[i] >> n | a.get(i + 1).map_or(0, |h| h << (64 - n));
        }
        r
    }

    fn pow(a: Fe, e: Fe) -> Fe {
        let mut r = ONE;
        for i in (0..256).rev() {
            r = mul(r, r);
            if e[i / 64] >> (i % 64) & 1 == 1 {
                r = mul(r, a);
            }
        }
        r
    }

    fn inv(a: Fe) -> Fe {
        pow(a, sub_raw(P, small(2)))
    }

    /// A square root, if there is one (p = 5 mod 8).
    fn sqrt(a: Fe) -> Option<Fe> {
        let r = pow(a, shr(add_raw(P, small(3)).0, 3));
        let i = pow(small(2), shr(sub_raw(P, ONE), 2));
        [r, mul(r, i)].into_iter().find(|r| mul(*r, *r) == a)
    }

    fn d() -> Fe {
        mul(neg(small(121_665)), inv(small(121_666)))
    }

    /// Point addition on -x^2 + y^2 = 1 + d x^2 y^2 (complete: d is not a square).
    fn add_points((x1, y1): (Fe, Fe), (x2, y2): (Fe, Fe)) -> (Fe, Fe) {
        let k = mul(d(), mul(mul(x1, x2), mul(y1, y2)));
        let x = mul(add(mul(x1, y2), mul(y1, x2)), inv(add(ONE, k)));
        let y = mul(add(mul(y1, y2), mul(x1, x2)), inv(sub(ONE, k)));
        (x, y)
    }

    fn order(p: (Fe, Fe)) -> Option<u32> {
        let mut q = p;
        for n in 1..=8 {
            if q == (ZERO, ONE) {
                return Some(n);
            }
            q = add_points(q, p);
        }
        None
    }

    fn bytes(a: Fe) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in a.iter().enumerate() {
            out[8 * i..8 * i + 8].copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    /// All points of order dividing 8, from first principles: y = 1 and y = -1 with
    /// x = 0; y = 0 (orders 4); and, as doubling (x, y) gives y' = (x^2 + y^2) / (2 -
    /// y^2 + x^2), order 8 exactly when x^2 = -y^2, i.e. d y^4 + 2 y^2 - 1 = 0.
    fn small_order_points() -> Vec<(Fe, Fe)> {
        let mut ys = vec![ONE, neg(ONE), ZERO];
        let s = sqrt(add(ONE, d())).expect("1 + d is a square");
        for u in [sub(s, ONE), sub(neg(s), ONE)] {
            if let Some(y) = sqrt(mul(u, inv(d()))) {
                ys.extend([y, neg(y)]);
            }
        }
        let mut points = Vec::new();
        for y in ys {
            let y2 = mul(y, y);
            let x2 = mul(sub(y2, ONE), inv(add(mul(d(), y2), ONE)));
            let x = sqrt(x2).expect("a point on the curve");
            points.push((x, y));
            if x != ZERO {
                points.push((neg(x), y));
            }
        }
        points
    }

    #[test]
    fn the_eight_small_order_points_are_derived_and_listed() {
        let points = small_order_points();
        let mut orders: Vec<u32> = points
            .iter()
            .map(|p| order(*p).expect("order <= 8"))
            .collect();
        orders.sort();
        assert_eq!(orders, [1, 2, 4, 4, 8, 8, 8, 8]);
        let mut derived: Vec<[u8; 32]> = points.iter().map(|(_, y)| bytes(*y)).collect();
        derived.sort();
        derived.dedup();
        let mut listed = SMALL_ORDER_Y.to_vec();
        listed.sort();
        assert_eq!(derived, listed);
        // libsodium's order-8 y value (decimal in SMALL_ORDER_Y), as limbs.
        let y8: Fe = [
            0xb027b2c28f95e826,
            0xf098eff289f4c345,
            0x3933c6d305acdfd5,
            0x05fc536d880238b1,
        ];
        assert!(derived.contains(&bytes(y8)));
    }

    #[test]
    fn every_encoding_of_a_small_order_point_is_refused() {
        let mut encodings = std::collections::BTreeMap::new();
        for (x, y) in small_order_points() {
            // Both sign bits: the point and its negation, or for x = 0 an invalid "-0".
            // Then y + p where that still fits in 255 bits (y = 0 and y = 1).
            let (high, carry) = add_raw(y, P);
            for top in [0, 0x80] {
                let mut enc = bytes(y);
                enc[31] |= top;
                encodings.insert(enc, KeyProblem::SmallOrder);
                if !carry && high[3] >> 63 == 0 {
                    let mut enc = bytes(high);
                    enc[31] |= top;
                    encodings.insert(enc, KeyProblem::NonCanonical);
                }
            }
            let sign = u8::from(bytes(x)[0] & 1 == 1) << 7;
            let mut own = bytes(y);
            own[31] |= sign;
            assert!(encodings.contains_key(&own));
        }
        // 5 y values and 2 sign bits, plus y = p and y = p + 1 with 2 sign bits.
        assert_eq!(encodings.len(), 14);
        for (enc, problem) in encodings {
            assert_eq!(check_public_key(&enc), Err(problem), "{enc:02x?}");
        }
    }

    #[test]
    fn y_at_or_above_p_is_non_canonical() {
        for k in 0..19 {
            for top in [0, 0x80] {
                let mut enc = bytes(add_raw(P, small(k)).0);
                enc[31] |= top;
                assert_eq!(
                    check_public_key(&enc),
                    Err(KeyProblem::NonCanonical),
                    "p + {k}"
                );
            }
        }
        let mut below = bytes(sub_raw(P, small(2)));
        assert_eq!(check_public_key(&below), Ok(()), "p - 2");
        below[31] |= 0x80;
        assert_eq!(check_public_key(&below), Ok(()), "p - 2, x odd");
    }

    #[test]
    fn fresh_keys_all_pass() {
        let rng = SystemRandom::new();
        for _ in 0..2000 {
            let der = Ed25519KeyPair::generate_pkcs8(&rng).expect("keygen");
            let pair = Ed25519KeyPair::from_pkcs8(der.as_ref()).expect("own key");
            let public: [u8; 32] = pair.public_key().as_ref().try_into().expect("32 bytes");
            assert_eq!(check_public_key(&public), Ok(()), "{public:02x?}");
        }
    }

    #[test]
    fn problems_say_how_to_fix_them() {
        for p in [KeyProblem::NonCanonical, KeyProblem::SmallOrder] {
            assert!(
                p.describe().contains("route53-ddns keygen --force"),
                "{p:?}"
            );
            assert_eq!(p.to_string(), p.describe());
        }
    }
}
