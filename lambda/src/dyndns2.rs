//! dyndns2 (`GET /nic/update`) for ddclient, inadyn and stock routers: Basic auth with a
//! per-user token (only its SHA-256 is stored), plain-text answers, one line per host.

use crate::event::{Request, Response};
use crate::handler::{apply, authorise, v4, v6, ApplyError, Invocation, Stamp, Target};
use crate::log::LogLine;
use crate::registry::{parse_token_entry, valid_user};
use route53_ddns_protocol::MAX_HOSTS;
use std::net::IpAddr;

/// The query of one update, as far as this server uses it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub hostnames: Vec<String>,
    /// Every address given in `myip` (`v4`, `v6` or `v4,v6`), `myipv4` and `myipv6`,
    /// as text: the ones that do not parse fall back to the observed address.
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
}

pub fn parse_query(query: &str) -> Query {
    let mut q = Query::default();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "hostname" => q.hostnames.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned),
            ),
            "myip" => {
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    if part.contains(':') {
                        q.ipv6 = Some(part.to_owned());
                    } else {
                        q.ipv4 = Some(part.to_owned());
                    }
                }
            }
            "myipv4" if !v.is_empty() => q.ipv4 = Some(v.into_owned()),
            "myipv6" if !v.is_empty() => q.ipv6 = Some(v.into_owned()),
            _ => {}
        }
    }
    q
}

/// `(user, token)` from an `Authorization: Basic …` header.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = crate::event::decode_standard_base64(rest.trim())?;
    let text = String::from_utf8(raw).ok()?;
    let (user, token) = text.split_once(':')?;
    Some((user.to_owned(), token.to_owned()))
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Compares in time independent of where the first difference is.
fn equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The address for one family: the one given if it may be published, else (as Dyn did)
/// the address the request came from, if that is of this family and may be published.
fn pick<T: Copy + Into<IpAddr>>(
    inv: &Invocation,
    given: Option<&str>,
    observed: Option<IpAddr>,
    of_family: fn(IpAddr) -> Option<T>,
) -> Option<T> {
    let usable = |a: T| inv.policy().check(a.into()).is_ok();
    let from_observed = || observed.and_then(of_family).filter(|a| usable(*a));
    match given {
        Some(text) => text
            .parse::<IpAddr>()
            .ok()
            .and_then(of_family)
            .filter(|a| usable(*a))
            .or_else(from_observed),
        None => None,
    }
}

pub fn handle(
    inv: &Invocation,
    req: &Request,
    observed: Option<IpAddr>,
    log: &mut LogLine,
) -> Response {
    let answer = |log: &mut LogLine, code: &'static str, body: String| {
        log.result = Some(code);
        Response::text(200, body)
    };
    let Some(auth) = req.header("authorization") else {
        log.result = Some("badauth");
        return Response::text(401, "badauth".into())
            .with_header("www-authenticate", "Basic realm=\"route53-ddns\"");
    };
    let Some((user, token)) = parse_basic(auth) else {
        return answer(log, "badauth", "badauth".into());
    };
    if !valid_user(&user) {
        return answer(log, "badauth", "badauth".into());
    }
    log.principal = Some(format!("dyndns2:{user}"));
    let entry = match inv.registry().get("tokens", &user) {
        Ok(e) => e,
        Err(e) => {
            log.error = Some(format!("registry: {e:?}"));
            return answer(log, "911", "911".into());
        }
    };
    let presented = sha256(token.as_bytes());
    let grant = entry.and_then(|json| parse_token_entry(&json, inv.cfg.default_ttl).ok());
    let expected = grant.as_ref().map_or([0u8; 32], |g| g.sha256);
    // Always compare, so an unknown user costs the same as a wrong token.
    let matches = equal(&presented, &expected);
    let Some(grant) = grant.filter(|_| matches) else {
        return answer(log, "badauth", "badauth".into());
    };

    let q = parse_query(&req.query);
    if q.hostnames.is_empty() {
        return answer(log, "notfqdn", "notfqdn".into());
    }
    if q.hostnames.len() > MAX_HOSTS {
        return answer(log, "numhost", "numhost".into());
    }
    let (given4, given6) = if q.ipv4.is_none() && q.ipv6.is_none() {
        // No address given: the connection's.
        let o = observed.map(|o| o.to_string());
        (
            o.clone().filter(|o| !o.contains(':')),
            o.filter(|o| o.contains(':')),
        )
    } else {
        (q.ipv4.clone(), q.ipv6.clone())
    };
    let ipv4 = pick(inv, given4.as_deref(), observed, v4);
    let ipv6 = pick(inv, given6.as_deref(), observed, v6);

    // Per host: its answer, or its index among the targets to apply.
    let mut lines: Vec<Result<usize, &'static str>> = Vec::new();
    let mut targets: Vec<Target> = Vec::new();
    for host in &q.hostnames {
        let name = match crate::names::canonicalise(host) {
            Ok(n) => n,
            Err(_) => {
                lines.push(Err("notfqdn"));
                continue;
            }
        };
        log.names.push(name.clone());
        let Ok(g) = authorise(inv, &grant.names, &name) else {
            lines.push(Err("nohost"));
            continue;
        };
        if ipv4.is_none() && ipv6.is_none() {
            lines.push(Err("dnserr"));
            continue;
        }
        if let Some(i) = targets.iter().position(|t| t.grant.name == name) {
            lines.push(Ok(i));
            continue;
        }
        targets.push(Target {
            grant: g,
            ipv4,
            ipv6,
        });
        lines.push(Ok(targets.len() - 1));
    }
    let applied = if targets.is_empty() {
        None
    } else {
        match apply(inv, &targets, &user, Stamp::Server(inv.now_ms)) {
            Ok(a) => Some(Ok(a)),
            Err(e) => {
                let code = match &e {
                    ApplyError::Foreign(..) => "nohost",
                    ApplyError::Aws(crate::aws::AwsError::Rejected { .. }) => "dnserr",
                    _ => "911",
                };
                log.error = Some(format!("{e:?}"));
                Some(Err(code))
            }
        }
    };
    if let Some(Ok(a)) = &applied {
        log.change_id = a.change_id.clone();
    }
    let mut out = Vec::new();
    let mut first: Option<&'static str> = None;
    for line in lines {
        let (code, text) = match (line, &applied) {
            (Err(code), _) => (code, code.to_string()),
            (Ok(_), Some(Err(code))) => (*code, code.to_string()),
            (Ok(i), Some(Ok(a))) => {
                let (host, changed) = &a.hosts[i];
                let ips: Vec<String> = host
                    .a
                    .iter()
                    .map(|a| a.to_string())
                    .chain(host.aaaa.iter().map(|a| a.to_string()))
                    .collect();
                let code = if *changed { "good" } else { "nochg" };
                (code, format!("{code} {}", ips.join(",")))
            }
            (Ok(_), None) => ("911", "911".into()),
        };
        first.get_or_insert(code);
        out.push(text);
    }
    answer(log, first.unwrap_or("911"), out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_forms_of_the_clients() {
        let q = parse_query(
            "hostname=a.example.com,b.example.com&myip=192.0.2.1,2001:db8::1&wildcard=NOCHG",
        );
        assert_eq!(q.hostnames, vec!["a.example.com", "b.example.com"]);
        assert_eq!(q.ipv4.as_deref(), Some("192.0.2.1"));
        assert_eq!(q.ipv6.as_deref(), Some("2001:db8::1"));
        let q = parse_query("hostname=a.example.com&myipv6=2001%3Adb8%3A%3A2");
        assert_eq!(q.ipv4, None);
        assert_eq!(q.ipv6.as_deref(), Some("2001:db8::2"));
        let q = parse_query("system=dyndns&hostname=&myip=");
        assert!(q.hostnames.is_empty());
        assert_eq!(q.ipv4, None);
    }

    #[test]
    fn basic_auth() {
        assert_eq!(
            parse_basic("Basic dXNlcjpwYTpzcw=="),
            Some(("user".into(), "pa:ss".into()))
        );
        assert_eq!(parse_basic("Bearer dXNlcjpwYXNz"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(parse_basic("Basic dXNlcg=="), None, "no colon");
    }

    #[test]
    fn token_hash_comparison() {
        let h = sha256(b"secret");
        assert!(equal(&h, &sha256(b"secret")));
        assert!(!equal(&h, &sha256(b"Secret")));
    }
}
