//! Whose address a request comes from. On a bare Function URL it is the connection's
//! (`requestContext.http.sourceIp`). Behind a proxy (CloudFront, an API Gateway HTTP proxy, a
//! reverse proxy) the connection is the proxy's, so `"auto"` and dyndns2 without `myip`
//! would publish the proxy's address: the caller's address is then taken only from a front
//! the deployment declares (`R53DDNS_FRONT`), from that front's documented header, and from
//! no front otherwise.

use std::net::IpAddr;

/// The front the deployment declares in front of the Function URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Front {
    /// None: the Function URL is called directly.
    #[default]
    None,
    /// CloudFront, with `CloudFront-Viewer-Address` in its origin request policy.
    CloudFront,
}

impl Front {
    /// `R53DDNS_FRONT`: unset, empty or `none`, or `cloudfront`.
    pub fn parse(text: Option<&str>) -> Result<Front, String> {
        match text.map(str::trim) {
            None | Some("" | "none") => Ok(Front::None),
            Some("cloudfront") => Ok(Front::CloudFront),
            Some(other) => Err(format!(
                "R53DDNS_FRONT is {other:?}; it is \"none\" or \"cloudfront\""
            )),
        }
    }
}

/// CloudFront's header with the viewer's address and port, `198.51.100.10:46532` (IPv6
/// unbracketed, the port after the last colon). Amazon CloudFront Developer Guide, "Add
/// CloudFront request headers".
pub const CLOUDFRONT_VIEWER_ADDRESS: &str = "cloudfront-viewer-address";

/// The caller's address as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// What answers report as `observed`: the caller's address when known, else the
    /// connection's.
    pub observed: Option<IpAddr>,
    /// The address `"auto"` (and dyndns2 without `myip`) may publish, or why there is none.
    pub usable: Result<IpAddr, String>,
    /// Whether the caller's own connection was HTTPS, as the front that knows says:
    /// `x-forwarded-proto: https` from the Function URL, `cloudfront-forwarded-proto: https`
    /// from a declared CloudFront; false behind an undeclared proxy or when not said.
    pub https: bool,
}

/// Whether a protocol header says exactly `https` (two comma-joined values do not).
fn says_https(value: Option<&str>) -> bool {
    value.is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// Decides the caller's address. `source` is the connection's (after the test override),
/// `header` reads a request header by lower-case name (repeated headers come comma-joined).
pub fn caller<'a>(
    front: Front,
    source: Option<IpAddr>,
    header: impl Fn(&str) -> Option<&'a str>,
) -> Caller {
    match front {
        Front::CloudFront => {
            let viewer = header(CLOUDFRONT_VIEWER_ADDRESS).map(viewer_address);
            let https = says_https(header("cloudfront-forwarded-proto"));
            match viewer {
                Some(Some(ip)) => Caller {
                    observed: Some(ip),
                    usable: Ok(ip),
                    https,
                },
                seen => Caller {
                    observed: source,
                    https,
                    usable: Err(if seen.is_some() {
                        "its CloudFront-Viewer-Address header is not one address and port".into()
                    } else {
                        "the deployment declares CloudFront in front and the request carries no CloudFront-Viewer-Address header (add it to the origin request policy)".into()
                    }),
                },
            }
        }
        Front::None => {
            let proxy = proxied(&header);
            Caller {
                observed: source,
                https: proxy.is_none() && says_https(header("x-forwarded-proto")),
                usable: match (proxy, source) {
                (Some(why), _) => Err(format!(
                    "it came through a proxy the deployment does not declare ({why}), so its source address is the proxy's"
                )),
                (None, Some(ip)) => Ok(ip),
                (None, None) => Err("the front end did not pass the source address".into()),
            },
            }
        }
    }
}

/// Evidence that a proxy stands between the caller and the Function URL: the headers a
/// proxy adds (RFC 9110 §7.6.3 `Via`, RFC 7239 `Forwarded`, CloudFront's `X-Amz-Cf-Id`), or
/// an `X-Forwarded-For` with more than the one entry the Function URL itself writes.
fn proxied<'a>(header: &impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    for name in ["via", "forwarded", "x-amz-cf-id", CLOUDFRONT_VIEWER_ADDRESS] {
        if header(name).is_some() {
            return Some(format!("it carries {name}"));
        }
    }
    let hops = header("x-forwarded-for").map_or(0, |v| v.split(',').count());
    (hops > 1).then(|| format!("x-forwarded-for lists {hops} addresses"))
}

/// `ip:port` (IPv6 unbracketed or in brackets); `None` for anything else, including two
/// comma-joined values.
fn viewer_address(text: &str) -> Option<IpAddr> {
    let (ip, port) = text.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let ip = ip
        .strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(ip);
    ip.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(front: Front, source: &str, headers: &[(&str, &str)]) -> Caller {
        let map: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        caller(front, source.parse().ok(), |n| {
            map.get(n).map(String::as_str)
        })
    }

    const EDGE: &str = "130.176.1.1";

    #[test]
    fn a_bare_function_url_call_uses_the_connection() {
        let c = run(
            Front::None,
            "198.51.100.7",
            &[("x-forwarded-for", "198.51.100.7")],
        );
        assert_eq!(c.usable, Ok("198.51.100.7".parse().expect("ip")));
        assert_eq!(c.observed, "198.51.100.7".parse().ok());
        assert!(run(Front::None, "", &[]).usable.is_err());
    }

    #[test]
    fn behind_an_undeclared_front_no_address_is_usable() {
        for headers in [
            vec![("via", "1.1 abc.cloudfront.net (CloudFront)")],
            vec![("x-amz-cf-id", "id")],
            vec![(CLOUDFRONT_VIEWER_ADDRESS, "198.51.100.7:4000")],
            vec![("forwarded", "for=198.51.100.7")],
            vec![("x-forwarded-for", "198.51.100.7, 130.176.1.1")],
        ] {
            let c = run(Front::None, EDGE, &headers);
            let why = c.usable.expect_err("refused");
            assert!(
                why.contains("proxy the deployment does not declare"),
                "{why}"
            );
            assert_eq!(c.observed, EDGE.parse().ok(), "{headers:?}");
        }
    }

    #[test]
    fn a_declared_cloudfront_front_gives_the_viewer_address_from_its_header_only() {
        for (value, want) in [
            ("198.51.100.7:46532", "198.51.100.7"),
            ("2001:db8::7:46532", "2001:db8::7"),
            ("[2001:db8::8]:443", "2001:db8::8"),
        ] {
            let c = run(
                Front::CloudFront,
                EDGE,
                &[
                    (CLOUDFRONT_VIEWER_ADDRESS, value),
                    ("x-forwarded-for", "203.0.113.9, 198.51.100.7"),
                ],
            );
            assert_eq!(c.usable, Ok(want.parse().expect("ip")), "{value}");
            assert_eq!(c.observed, want.parse().ok());
        }
        // Without the header (or with two, comma-joined, or no port), nothing is usable:
        // not the edge's address, not X-Forwarded-For.
        for headers in [
            vec![("x-forwarded-for", "198.51.100.7")],
            vec![(CLOUDFRONT_VIEWER_ADDRESS, "198.51.100.7:1,203.0.113.9:2")],
            vec![(CLOUDFRONT_VIEWER_ADDRESS, "198.51.100.7")],
        ] {
            let c = run(Front::CloudFront, EDGE, &headers);
            assert!(c.usable.is_err(), "{headers:?}");
            assert_eq!(c.observed, EDGE.parse().ok());
        }
    }

    #[test]
    fn https_is_what_the_front_that_knows_says() {
        const XFP: &str = "x-forwarded-proto";
        const CFP: &str = "cloudfront-forwarded-proto";
        let none = Front::None;
        let cf = Front::CloudFront;
        for (front, headers, want) in [
            (none, vec![(XFP, "https")], true),
            (none, vec![(XFP, "http")], false),
            (none, vec![], false),
            (none, vec![(XFP, "http,https")], false),
            // Behind an undeclared proxy the URL's https is the proxy's connection only.
            (none, vec![(XFP, "https"), ("via", "1.1 p")], false),
            (cf, vec![(XFP, "https")], false),
            (cf, vec![(XFP, "https"), (CFP, "http")], false),
            (cf, vec![(CFP, "https")], true),
        ] {
            assert_eq!(
                run(front, EDGE, &headers).https,
                want,
                "{front:?} {headers:?}"
            );
        }
    }

    #[test]
    fn the_front_setting_is_checked() {
        assert_eq!(Front::parse(None), Ok(Front::None));
        assert_eq!(Front::parse(Some("none")), Ok(Front::None));
        assert_eq!(Front::parse(Some("cloudfront")), Ok(Front::CloudFront));
        assert!(Front::parse(Some("CloudFlare")).is_err());
    }
}
