//! The ASCII form of a configured name, as the endpoint answers with it: a label with
//! letters beyond ASCII becomes `xn--` + its Punycode (RFC 3492), so that the published
//! records of `bücher.example.com` are found under `xn--bcher-kva.example.com`.
//! Lower-casing is per character ([`char::to_lowercase`]); names already in NFC, as typed,
//! map as the endpoint's IDNA mapping maps them (`hostname::to_ascii` with the
//! `idna` feature; the tests there hold the two to the same answers).

const BASE: u32 = 36;
const T_MIN: u32 = 1;
const T_MAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;

fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    let mut delta = if first { delta / DAMP } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - T_MIN) * T_MAX) / 2 {
        delta /= BASE - T_MIN;
        k += BASE;
    }
    k + (BASE - T_MIN + 1) * delta / (delta + SKEW)
}

fn digit(d: u32) -> char {
    // d < 36: a..z then 0..9.
    char::from_u32(if d < 26 {
        u32::from(b'a') + d
    } else {
        u32::from(b'0') + d - 26
    })
    .unwrap_or('?')
}

/// RFC 3492 section 6.3 for one label; `None` on overflow (no label of a valid name
/// comes near it: a label is at most 63 bytes).
fn punycode(label: &str) -> Option<String> {
    let input: Vec<u32> = label.chars().map(u32::from).collect();
    let mut out: String = label.chars().filter(char::is_ascii).collect();
    let basic = u32::try_from(out.len()).ok()?;
    let total = u32::try_from(input.len()).ok()?;
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias, mut h) = (128u32, 0u32, 72u32, basic);
    while h < total {
        let m = input.iter().copied().filter(|&c| c >= n).min()?;
        delta = delta.checked_add((m - n).checked_mul(h + 1)?)?;
        n = m;
        for &c in &input {
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        T_MIN
                    } else {
                        (k - bias).min(T_MAX)
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, h + 1, h == basic);
                delta = 0;
                h += 1;
            }
        }
        delta = delta.checked_add(1)?;
        n = n.checked_add(1)?;
    }
    Some(out)
}

/// `name` with every non-ASCII label in its `xn--` form (ASCII labels as they are).
pub fn to_ascii(name: &str) -> String {
    name.split('.')
        .map(|label| {
            if label.is_ascii() {
                return label.to_ascii_lowercase();
            }
            let lower: String = label.chars().flat_map(char::to_lowercase).collect();
            punycode(&lower).map_or(lower, |p| format!("xn--{p}"))
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether the endpoint's `answered` name is the configured `name`.
pub fn same_name(answered: &str, name: &str) -> bool {
    answered.eq_ignore_ascii_case(name) || answered.eq_ignore_ascii_case(&to_ascii(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3492_and_idna_examples() {
        // RFC 3492 section 7.1 (B) Chinese (simplified), (L) 3<nen>B<gumi><kinpachi><sensei>.
        assert_eq!(
            punycode("他们为什么不说中文").as_deref(),
            Some("ihqwcrb4cv8a8dqg056pqjye")
        );
        assert_eq!(
            punycode("3年b組金八先生").as_deref(),
            Some("3b-ww4c5e180e575a65lsy2b")
        );
        assert_eq!(to_ascii("Bücher.example.com"), "xn--bcher-kva.example.com");
        assert_eq!(to_ascii("*.münchen.de"), "*.xn--mnchen-3ya.de");
        assert!(same_name("XN--BCHER-KVA.example.com", "bücher.example.com"));
        assert!(!same_name(
            "xn--bcher-kva.example.com",
            "bucher.example.com"
        ));
    }
}
