//! Name canonicalisation: IDN → punycode, then the protocol's syntax rules. Record names
//! (grants, requests) may be a wildcard `*.<name>`; zone names may not.

use route53_ddns_protocol::hostname;

/// The canonical ASCII form of a host name: punycode, lower case, no trailing dot.
/// The error text is safe to show the caller.
pub fn canonicalise(name: &str) -> Result<String, String> {
    // Syntax first on the raw form, so wildcards and stray characters get a precise message
    // (UTS 46 would otherwise map or accept some of them).
    let first = hostname::canonical(name).map_err(|e| e.to_string())?;
    let ascii = if first.is_ascii() {
        first
    } else {
        idna::domain_to_ascii(&first)
            .map_err(|_| "the name is not a valid internationalised domain name".to_string())?
    };
    // Labels starting with xn-- must really be punycode.
    if ascii.split('.').any(|l| l.starts_with("xn--")) {
        let (_, result) = idna::domain_to_unicode(&ascii);
        result.map_err(|_| "the name has an invalid punycode (xn--) label".to_string())?;
    }
    hostname::canonical(&ascii).map_err(|e| e.to_string())
}

/// The canonical form of a record name: [`canonicalise`], or `*.` and the canonical form
/// of the rest when the whole first label is `*` (`*.Bücher.example.com` →
/// `*.xn--bcher-kva.example.com`). A `*` anywhere else is refused.
pub fn canonicalise_record(name: &str) -> Result<String, String> {
    // The syntax of the whole name first: it places the `*` (only the first label).
    hostname::canonical_record(name).map_err(|e| e.to_string())?;
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    match trimmed.strip_prefix("*.") {
        Some(base) => Ok(format!("*.{}", canonicalise(base)?)),
        None => canonicalise(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_record_keeps_its_star_and_canonicalises_the_rest() {
        assert_eq!(
            canonicalise_record("*.Home.Example.COM.").as_deref(),
            Ok("*.home.example.com")
        );
        assert_eq!(
            canonicalise_record("*.Bücher.example.com").as_deref(),
            Ok("*.xn--bcher-kva.example.com")
        );
        assert_eq!(
            canonicalise_record("home.example.com").as_deref(),
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
            assert!(canonicalise_record(bad).is_err(), "{bad:?}");
        }
        // A zone (or any plain host name) is never a wildcard.
        assert!(canonicalise("*.example.com").is_err());
    }

    #[test]
    fn case_trailing_dot_and_idn() {
        assert_eq!(
            canonicalise("Home.Example.COM.").as_deref(),
            Ok("home.example.com")
        );
        assert_eq!(
            canonicalise("Bücher.example.com").as_deref(),
            Ok("xn--bcher-kva.example.com")
        );
        assert_eq!(
            canonicalise("xn--bcher-kva.example.com").as_deref(),
            Ok("xn--bcher-kva.example.com")
        );
    }

    #[test]
    fn refuses_tricks() {
        for bad in [
            "*.example.com",
            "home",
            "a..example.com",
            "_r53ddns.home.example.com",
            "home.example.com..",
            "xn--zz.example.com",
            "home\u{0}.example.com",
            "",
        ] {
            assert!(canonicalise(bad).is_err(), "{bad:?}");
        }
    }
}
