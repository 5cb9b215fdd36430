//! The dyndns2 door (`GET`/`POST /nic/update`) for ddclient, inadyn, ddns-scripts and
//! stock routers: Basic auth (or `username`/`password` in the query, over HTTPS) with a
//! per-user token of which only the SHA-256 is stored; every answer is dyndns2 text.

use crate::authorise::{authorise, Wanted};
use crate::error::Error;
use crate::event::{Request, Response};
use crate::invocation::Invocation;
use crate::log::LogLine;
use crate::reconcile::reconcile_all;
use crate::registry::valid_user;
use crate::signed::{v4, v6};
use crate::snapshot::{self, Judged, Kind, Standing};
use route53_ddns_protocol::{ErrorCode, MAX_HOSTS};
use std::net::IpAddr;

/// The query of one update, as far as this server uses it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub hostnames: Vec<String>,
    /// Every address given in `myip` (`v4`, `v6` or `v4,v6`), `myipv4` and `myipv6`,
    /// as text: the ones that do not parse fall back to the observed address.
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    /// `username`/`password` in the query (some NAS and router firmwares send them so).
    pub username: Option<String>,
    pub password: Option<String>,
    /// `offline=YES`: Dyn's offline redirect, which this server does not offer.
    pub offline: bool,
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
            "username" | "user" if !v.is_empty() => q.username = Some(v.into_owned()),
            "password" | "pass" if !v.is_empty() => q.password = Some(v.into_owned()),
            "offline" => q.offline = v.eq_ignore_ascii_case("yes"),
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
    given.and_then(|text| {
        text.parse::<IpAddr>()
            .ok()
            .and_then(of_family)
            .filter(|a| usable(*a))
            .or_else(from_observed)
    })
}

/// A dyndns2 answer: always text, with the status the clients expect.
fn answer(log: &mut LogLine, status: u16, code: &'static str, body: String) -> Response {
    log.result = Some(code);
    Response::text(status, body)
}

/// The most bytes of query string, and of body, this door reads: ddclient's longest request
/// (many names, both addresses) is far below. Anything larger is refused before parsing.
pub const MAX_INPUT_BYTES: usize = 4096;

/// A refusal of an unproven sender: the dyndns2 text, and the code for the metrics.
fn refuse(log: &mut LogLine, status: u16, code: ErrorCode, text: &'static str) -> Response {
    log.code = Some(code);
    answer(log, status, text, text.into())
}

pub fn handle(
    inv: &Invocation,
    req: &Request,
    caller: &crate::caller::Caller,
    log: &mut LogLine,
) -> Response {
    if req.body.len() > MAX_INPUT_BYTES || req.query.len() > MAX_INPUT_BYTES {
        // dyndns2's answer for a request the server will not take; 413 says why.
        return refuse(log, 413, ErrorCode::TooLarge, "badagent");
    }
    // The address "no myip" and Dyn's fallback use: the caller's, when it is known.
    let usable = caller.usable.as_ref().ok().copied();
    let mut q = parse_query(&req.query);
    if req.method == "POST" && !req.body.is_empty() {
        let form = parse_query(&String::from_utf8_lossy(&req.body));
        q.merge(form);
    }
    let creds = match req.header("authorization") {
        Some(h) => match parse_basic(h) {
            Some(c) => Some(c),
            None => return refuse(log, 200, ErrorCode::BadSignature, "badauth"),
        },
        None => match (q.username.take(), q.password.take()) {
            // Not over plain HTTP: only when the front says the caller's connection was HTTPS
            // (a Function URL is HTTPS-only and says so in `x-forwarded-proto`).
            (Some(u), Some(p)) if caller.https => Some((u, p)),
            _ => None,
        },
    };
    let Some((user, token)) = creds else {
        return refuse(log, 401, ErrorCode::BadSignature, "badauth")
            .with_header("www-authenticate", "Basic realm=\"route53-ddns\"");
    };
    log.principal = Some(format!("dyndns2:{user}"));
    let judged = match valid_user(&user) {
        true => snapshot::judge(inv, Kind::User, &user),
        false => Judged {
            standing: Standing::Stranger,
            known_before: false,
            miss_read: false,
        },
    };
    let verified = match crate::verify::dyndns2(
        &inv.registry(),
        judged,
        &user,
        &token,
        inv.now_ms,
        inv.cfg.default_ttl,
    ) {
        Ok(v) => v,
        Err(e) => {
            log.fail(e.code, &e.message);
            log.detail = e.detail.clone();
            log.proven = e.proven;
            let code = e.dyndns2_answer();
            return answer(log, 200, code, code.into());
        }
    };
    log.proven = true;
    if q.hostnames.is_empty() {
        return answer(log, 200, "notfqdn", "notfqdn".into());
    }
    if q.hostnames.len() > MAX_HOSTS {
        return answer(log, 200, "numhost", "numhost".into());
    }
    if q.offline {
        // Dyn sold offline redirects to paying users: its answer for an option not offered.
        let lines = vec!["!donator"; q.hostnames.len()].join("\n");
        return answer(log, 200, "!donator", lines);
    }
    let (given4, given6) = if q.ipv4.is_none() && q.ipv6.is_none() {
        // No address given: the caller's.
        let o = usable.map(|o| o.to_string());
        (
            o.clone().filter(|o| !o.contains(':')),
            o.filter(|o| o.contains(':')),
        )
    } else {
        (q.ipv4.clone(), q.ipv6.clone())
    };
    let ipv4 = pick(inv, given4.as_deref(), usable, v4);
    let ipv6 = pick(inv, given6.as_deref(), usable, v6);
    if ipv4.is_none() && ipv6.is_none() {
        if let Err(why) = &caller.usable {
            log.detail = Some(format!("no usable address: {why}"));
        }
        let lines = vec!["dnserr"; q.hostnames.len()].join("\n");
        return answer(log, 200, "dnserr", lines);
    }
    let wanted: Vec<Wanted> = q
        .hostnames
        .iter()
        .map(|name| Wanted {
            name: name.clone(),
            ipv4,
            ipv6,
            // A dyndns2 request is as good as its credentials: a copy needs no stamp to pass.
            auto: false,
            last: None,
        })
        .collect();
    let decision = match authorise(inv, verified, &wanted) {
        Ok(d) => d,
        Err(e) => {
            log.fail(e.code, &e.message);
            let code = e.dyndns2_answer();
            return answer(log, 200, code, code.into());
        }
    };
    // A name refused to a proven user (not granted, not publishable) is the owner's to fix.
    if let Some(Err(e)) = decision.per_name.iter().find(|o| o.is_err()) {
        log.fail(e.code, &e.message);
    }
    let done = (!decision.authorised.is_empty()).then(|| {
        log.names = decision.names();
        reconcile_all(inv, &decision.authorised)
    });
    if let Some(Ok(d)) = &done {
        log.change_id = d.change_id.clone();
        log.conflicts = d.conflicts;
        log.legacy_stamps = d.legacy_stamps.clone();
        // Nothing written inside the quiet period (quiet.rs): no stamp, no place in the order.
        log.order_ms = d.written.then_some(d.stamp_ms);
        crate::accepted::follow_up(inv, &decision.authorised, d, req, caller.observed, log);
    }
    if let Some(Err(e)) = &done {
        log.fail(e.code, &e.message);
        log.detail = e.detail.clone();
    }
    let mut first: Option<&'static str> = None;
    let lines: Vec<String> = decision
        .per_name
        .iter()
        .map(|outcome| {
            let (code, text) = line(outcome, done.as_ref(), (ipv4.is_some(), ipv6.is_some()));
            first.get_or_insert(code);
            text
        })
        .collect();
    answer(log, 200, first.unwrap_or("911"), lines.join("\n"))
}

/// One host's line of the answer.
/// One name's answer line. `good`/`nochg` echo the addresses of the families this request
/// set, as Dyn's servers echo the address sent: a client that matches the whole answer
/// (pfSense compares it with `good %IP%`) still matches on a dual-stack name.
fn line(
    outcome: &Result<usize, Error>,
    done: Option<&Result<crate::reconcile::Reconciled, Error>>,
    (sent4, sent6): (bool, bool),
) -> (&'static str, String) {
    let code_only = |c: &'static str| (c, c.to_string());
    match (outcome, done) {
        (Err(e), _) if e.code == ErrorCode::Malformed => code_only("notfqdn"),
        (Err(e), _) => code_only(e.dyndns2_answer()),
        (Ok(_), Some(Err(e))) => code_only(e.dyndns2_answer()),
        (Ok(i), Some(Ok(d))) => match d.hosts.get(*i) {
            Some((host, changed)) => {
                let v4 = host.a.iter().filter(|_| sent4).map(|a| a.to_string());
                let v6 = host.aaaa.iter().filter(|_| sent6).map(|a| a.to_string());
                let ips: Vec<String> = v4.chain(v6).collect();
                let code = if *changed { "good" } else { "nochg" };
                (code, format!("{code} {}", ips.join(",")))
            }
            None => code_only("911"),
        },
        (Ok(_), None) => code_only("911"),
    }
}

impl Query {
    /// Fills what the query left out from a POST form body.
    fn merge(&mut self, form: Query) {
        if self.hostnames.is_empty() {
            self.hostnames = form.hostnames;
        }
        self.ipv4 = self.ipv4.take().or(form.ipv4);
        self.ipv6 = self.ipv6.take().or(form.ipv6);
        self.username = self.username.take().or(form.username);
        self.password = self.password.take().or(form.password);
        self.offline |= form.offline;
    }
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
}
