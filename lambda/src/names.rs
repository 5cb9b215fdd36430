//! Name canonicalisation: IDN → punycode, then the protocol's syntax rules.

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

#[cfg(test)]
mod tests {
    use super::*;

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
