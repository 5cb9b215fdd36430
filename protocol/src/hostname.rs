//! Host name syntax: what the router's `check` accepts and what the server insists on.
//!
//! The server's canonical form ([`to_ascii`], [`to_ascii_record`], with the `idna` feature)
//! also maps internationalised names to punycode (UTS 46); the router checks the syntax
//! only ([`canonical`], [`canonical_record`]) and passes such names through as UTF-8.
//!
//! A record name may also be a wildcard, `*.` followed by a host name ([`canonical_record`]):
//! the `*` is the whole first label, never anywhere else. Route53 lists it as `\052`.

use std::fmt;

/// Why a name cannot be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
    /// A single label, e.g. `router`: DNS names here must be fully qualified.
    NotQualified,
    Wildcard,
    EmptyLabel,
    LabelTooLong(String),
    BadCharacter(char),
    HyphenAtEdge(String),
    /// Not a valid internationalised domain name (UTS 46).
    #[cfg(feature = "idna")]
    NotIdn,
    /// A label starting with `xn--` that is not valid punycode.
    #[cfg(feature = "idna")]
    BadPunycode,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("the name is empty"),
            NameError::TooLong => f.write_str("the name is longer than 253 characters"),
            NameError::NotQualified => {
                f.write_str("the name is not fully qualified (write it as host.example.com)")
            }
            NameError::Wildcard => f.write_str(
                "a * may only be the whole first label of a name (*.example.com), nowhere else",
            ),
            NameError::EmptyLabel => f.write_str("the name has an empty label (two dots in a row)"),
            NameError::LabelTooLong(l) => write!(f, "the label '{l}' is longer than 63 characters"),
            NameError::BadCharacter(c) => write!(
                f,
                "the character '{}' is not allowed (letters, digits and '-' only)",
                c.escape_default()
            ),
            NameError::HyphenAtEdge(l) => {
                write!(f, "the label '{l}' starts or ends with '-'")
            }
            #[cfg(feature = "idna")]
            NameError::NotIdn => {
                f.write_str("the name is not a valid internationalised domain name")
            }
            #[cfg(feature = "idna")]
            NameError::BadPunycode => f.write_str("the name has an invalid punycode (xn--) label"),
        }
    }
}

/// Lower-cases ASCII letters and drops one trailing dot, after checking the syntax.
///
/// Non-ASCII letters are accepted here (an IDN the server will encode); the server
/// calls this on the punycode form, so what it stores is always ASCII.
pub fn canonical(name: &str) -> Result<String, NameError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > 253 {
        return Err(NameError::TooLong);
    }
    let mut labels = 0;
    for label in name.split('.') {
        check_label(label)?;
        labels += 1;
    }
    if labels < 2 {
        return Err(NameError::NotQualified);
    }
    Ok(name.to_ascii_lowercase())
}

fn check_label(label: &str) -> Result<(), NameError> {
    if label.is_empty() {
        return Err(NameError::EmptyLabel);
    }
    if label.len() > 63 {
        return Err(NameError::LabelTooLong(label.to_owned()));
    }
    if let Some(c) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-')) {
        return Err(if c == '*' {
            NameError::Wildcard
        } else {
            NameError::BadCharacter(c)
        });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(NameError::HyphenAtEdge(label.to_owned()));
    }
    Ok(())
}

/// [`canonical`], or a wildcard: `*.` and a host name (`*.home.example.com`). A `*` anywhere
/// else (`a.*.example.com`, `*x.example.com`, `*`) is [`NameError::Wildcard`].
pub fn canonical_record(name: &str) -> Result<String, NameError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    match trimmed.strip_prefix("*.") {
        None => canonical(name),
        Some(base) => {
            if trimmed.len() > 253 {
                return Err(NameError::TooLong);
            }
            // The base must be a plain host name: one trailing dot was already dropped.
            if base.ends_with('.') {
                return Err(NameError::EmptyLabel);
            }
            Ok(format!("*.{}", canonical(base)?))
        }
    }
}

/// The canonical ASCII form of a host name: punycode, lower case, no trailing dot.
#[cfg(feature = "idna")]
pub fn to_ascii(name: &str) -> Result<String, NameError> {
    // Syntax first on the raw form, so wildcards and stray characters get a precise message
    // (UTS 46 would otherwise map or accept some of them).
    let first = canonical(name)?;
    let ascii = if first.is_ascii() {
        first
    } else {
        idna::domain_to_ascii(&first).map_err(|_| NameError::NotIdn)?
    };
    // Labels starting with xn-- must really be punycode.
    if ascii.split('.').any(|l| l.starts_with("xn--")) {
        let (_, result) = idna::domain_to_unicode(&ascii);
        result.map_err(|_| NameError::BadPunycode)?;
    }
    canonical(&ascii)
}

/// The canonical ASCII form of a record name: [`to_ascii`], or `*.` and the canonical form
/// of the rest when the whole first label is `*` (`*.Bücher.example.com` →
/// `*.xn--bcher-kva.example.com`). A `*` anywhere else is refused.
#[cfg(feature = "idna")]
pub fn to_ascii_record(name: &str) -> Result<String, NameError> {
    // The syntax of the whole name first: it places the `*` (only the first label).
    canonical_record(name)?;
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    match trimmed.strip_prefix("*.") {
        Some(base) => Ok(format!("*.{}", to_ascii(base)?)),
        None => to_ascii(name),
    }
}

/// True when `name` (canonical) is a wildcard record name (`*.` + host name).
pub fn is_wildcard(name: &str) -> bool {
    name.starts_with("*.")
}

/// True when `name` (canonical) is `zone` itself or lies below it.
pub fn is_within(name: &str, zone: &str) -> bool {
    let zone = zone.strip_suffix('.').unwrap_or(zone);
    name.eq_ignore_ascii_case(zone)
        || (name.len() > zone.len()
            && name.as_bytes()[name.len() - zone.len() - 1] == b'.'
            && name[name.len() - zone.len()..].eq_ignore_ascii_case(zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_is_lowercase_without_trailing_dot() {
        assert_eq!(
            canonical("Home.Example.COM.").as_deref(),
            Ok("home.example.com")
        );
        assert_eq!(
            canonical("xn--bcher-kva.example").as_deref(),
            Ok("xn--bcher-kva.example")
        );
    }

    #[test]
    fn refuses_what_dns_updates_must_not_touch() {
        assert_eq!(canonical(""), Err(NameError::Empty));
        assert_eq!(canonical("."), Err(NameError::Empty));
        assert_eq!(canonical("router"), Err(NameError::NotQualified));
        assert_eq!(canonical("*.example.com"), Err(NameError::Wildcard));
        assert_eq!(canonical("a..example.com"), Err(NameError::EmptyLabel));
        assert_eq!(
            canonical("a b.example.com"),
            Err(NameError::BadCharacter(' '))
        );
        assert_eq!(
            canonical("_dmarc.example.com"),
            Err(NameError::BadCharacter('_'))
        );
        assert!(matches!(
            canonical("-a.example.com"),
            Err(NameError::HyphenAtEdge(_))
        ));
        let long = format!("{}.com", "a".repeat(64));
        assert!(matches!(canonical(&long), Err(NameError::LabelTooLong(_))));
        let huge = format!("{}com", "abcdefgh.".repeat(30));
        assert_eq!(canonical(&huge), Err(NameError::TooLong));
    }

    #[test]
    fn a_wildcard_is_only_a_whole_first_label() {
        assert_eq!(
            canonical_record("*.Home.Example.COM.").as_deref(),
            Ok("*.home.example.com")
        );
        assert_eq!(
            canonical_record("home.example.com").as_deref(),
            Ok("home.example.com")
        );
        assert!(is_wildcard("*.home.example.com"));
        assert!(!is_wildcard("home.example.com"));
        for bad in [
            "a.*.example.com",
            "*x.example.com",
            "x*.example.com",
            "*.*.example.com",
            "*",
            "*.",
            "**.example.com",
            "home.example.*",
        ] {
            assert_eq!(canonical_record(bad), Err(NameError::Wildcard), "{bad:?}");
        }
        assert_eq!(canonical_record("*.com"), Err(NameError::NotQualified));
        assert_eq!(
            canonical_record("*.example.com.."),
            Err(NameError::EmptyLabel)
        );
        assert_eq!(
            canonical_record("*..example.com"),
            Err(NameError::EmptyLabel)
        );
        let base = ["a", "b", "c"].map(|c| c.repeat(63)).join(".") + "." + &"d".repeat(60);
        let long = format!("*.{base}");
        assert!(long.len() > 253 && canonical(&long[2..]).is_ok());
        assert_eq!(canonical_record(&long), Err(NameError::TooLong));
    }

    #[test]
    fn zone_membership_respects_label_boundaries() {
        assert!(is_within("home.example.com", "example.com."));
        assert!(is_within("example.com", "example.com"));
        assert!(!is_within("evilexample.com", "example.com"));
        assert!(!is_within("example.com.evil.net", "example.com"));
    }

    #[cfg(feature = "idna")]
    mod idn {
        use super::super::*;

        #[test]
        fn a_wildcard_record_keeps_its_star_and_canonicalises_the_rest() {
            assert_eq!(
                to_ascii_record("*.Home.Example.COM.").as_deref(),
                Ok("*.home.example.com")
            );
            assert_eq!(
                to_ascii_record("*.Bücher.example.com").as_deref(),
                Ok("*.xn--bcher-kva.example.com")
            );
            assert_eq!(
                to_ascii_record("home.example.com").as_deref(),
                Ok("home.example.com")
            );
            for bad in [
                "a.*.example.com",
                "*x.example.com",
                "*.*.example.com",
                "*",
                "*.com",
                "*._r53ddns.example.com",
                "*.xn--zz.example.com",
                "\\052.example.com",
                "*.example.com..",
            ] {
                assert!(to_ascii_record(bad).is_err(), "{bad:?}");
            }
            // A zone (or any plain host name) is never a wildcard.
            assert_eq!(to_ascii("*.example.com"), Err(NameError::Wildcard));
        }

        #[test]
        fn case_trailing_dot_and_idn() {
            assert_eq!(
                to_ascii("Home.Example.COM.").as_deref(),
                Ok("home.example.com")
            );
            assert_eq!(
                to_ascii("Bücher.example.com").as_deref(),
                Ok("xn--bcher-kva.example.com")
            );
            assert_eq!(
                to_ascii("xn--bcher-kva.example.com").as_deref(),
                Ok("xn--bcher-kva.example.com")
            );
        }

        /// The router finds its names in the answer with its own small encoder
        /// (`punycode`): for names as typed it gives what the server keeps.
        #[test]
        fn the_routers_punycode_agrees_with_the_servers_form() {
            for name in [
                "Bücher.example.com",
                "*.München.de",
                "ÄÖÜ.Example.COM.",
                "straße.example.com",
                "他们为什么不说中文.example.com",
                "3年b組金八先生.example",
                "ελληνικά.example.gr",
                "home.example.com",
            ] {
                let router = crate::punycode::to_ascii(&canonical_record(name).expect("syntax"));
                assert_eq!(Ok(router), to_ascii_record(name), "{name:?}");
            }
        }

        #[test]
        fn refuses_tricks() {
            for bad in [
                "*.example.com",
                "home",
                "a..example.com",
                "_r53ddns.home.example.com",
                "home.example.com..",
                "home\u{0}.example.com",
                "",
            ] {
                assert!(to_ascii(bad).is_err(), "{bad:?}");
            }
            assert_eq!(to_ascii("xn--zz.example.com"), Err(NameError::BadPunycode));
            // A letter UTS 46 refuses at the start of a label (a combining mark).
            assert_eq!(to_ascii("\u{0903}a.example.com"), Err(NameError::NotIdn));
        }
    }
}
