//! Decides: routes a request, runs the signed-update checks in order, and applies the
//! result to Route53 through `apply` (shared with dyndns2).

use crate::aws::{AwsError, Budget};
use crate::config::Config;
use crate::event::{Request, Response};
use crate::log::LogLine;
use crate::registry::{Grant, Registry};
use crate::route53::{self, Desired, Existing, Route53};
use route53_ddns_protocol::address::Policy;
use route53_ddns_protocol::signature::{KEY_HEADER, SIGNATURE_HEADER, TIME_HEADER};
use route53_ddns_protocol::{
    AddrSpec, ErrorCode, ErrorResponse, PublishedHost, SignedHeaders, UpdateRequest,
    UpdateResponse, UpdateResult, CLOCK_WINDOW_MS, DYNDNS2_PATH, MAX_BODY_BYTES, MAX_HOSTS,
    UPDATE_PATH,
};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// Per-invocation facts.
pub struct Invocation<'a> {
    pub cfg: &'a Config,
    pub request_id: String,
    pub now_ms: u64,
    pub budget: Budget,
}

impl Invocation<'_> {
    pub fn registry(&self) -> Registry<'_> {
        Registry {
            endpoint: &self.cfg.ssm_endpoint,
            region: &self.cfg.region,
            prefix: &self.cfg.registry_prefix,
            budget: self.budget,
        }
    }

    fn route53(&self) -> Route53<'_> {
        Route53 {
            endpoint: &self.cfg.route53_endpoint,
            zone_id: &self.cfg.zone_id,
            budget: self.budget,
        }
    }

    pub fn policy(&self) -> Policy {
        Policy {
            allow_documentation: self.cfg.allow_documentation,
        }
    }
}

/// Builds the budget for one invocation: at most 20 s, and within the Lambda deadline.
pub fn budget(deadline_ms: u64, now_ms: u64) -> Budget {
    Budget::new(deadline_ms, now_ms, Duration::from_secs(20))
}

/// Routes one HTTP request. The log line is filled in along the way.
pub fn handle(inv: &Invocation, req: &Request, log: &mut LogLine) -> Response {
    let observed = req.source_ip.map(|ip| inv.cfg.observed(ip));
    log.observed = observed;
    match (req.path.as_str(), req.method.as_str()) {
        (UPDATE_PATH, "POST") => {
            log.route = "update";
            match update(inv, req, observed, log) {
                Ok(r) => r,
                Err(e) => {
                    log.fail(e.error, &e.message);
                    error_response(e)
                }
            }
        }
        (DYNDNS2_PATH, "GET") => {
            log.route = "dyndns2";
            crate::dyndns2::handle(inv, req, observed, log)
        }
        (UPDATE_PATH, _) | (DYNDNS2_PATH, _) => {
            let allow = if req.path == UPDATE_PATH {
                "POST"
            } else {
                "GET"
            };
            let e = err(
                inv,
                ErrorCode::MethodNotAllowed,
                format!("use {allow}"),
                observed,
            );
            log.fail(e.error, &e.message);
            error_response(e).with_header("allow", allow)
        }
        _ => {
            let e = err(
                inv,
                ErrorCode::NotFound,
                format!("no such path; the update path is {UPDATE_PATH}"),
                observed,
            );
            log.fail(e.error, &e.message);
            error_response(e)
        }
    }
}

pub fn err(
    inv: &Invocation,
    code: ErrorCode,
    message: String,
    observed: Option<IpAddr>,
) -> ErrorResponse {
    let retry_after = match code {
        ErrorCode::Throttled => Some(2),
        ErrorCode::Unavailable => Some(5),
        _ => None,
    };
    ErrorResponse {
        error: code,
        message,
        request_id: inv.request_id.clone(),
        server_time: inv.now_ms,
        retry_after,
        observed,
    }
}

fn error_response(e: ErrorResponse) -> Response {
    let mut r = Response::json(e.error.status(), &e);
    if let Some(s) = e.retry_after {
        r = r.with_header("retry-after", &s.to_string());
    }
    r
}

/// The signed `POST /v1/update`, checks in this order: size, headers, clock, signature
/// (no network needed: the key id is the public key), registry, body, names, addresses.
fn update(
    inv: &Invocation,
    req: &Request,
    observed: Option<IpAddr>,
    log: &mut LogLine,
) -> Result<Response, ErrorResponse> {
    let fail = |code, msg: String| err(inv, code, msg, observed);
    if req.body.len() > MAX_BODY_BYTES {
        return Err(fail(
            ErrorCode::TooLarge,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    let headers = SignedHeaders::parse(
        req.header(KEY_HEADER),
        req.header(TIME_HEADER),
        req.header(SIGNATURE_HEADER),
    )
    .map_err(|_| {
        fail(
            ErrorCode::BadSignature,
            format!(
                "missing or malformed {KEY_HEADER} / {TIME_HEADER} / {SIGNATURE_HEADER} header"
            ),
        )
    })?;
    log.principal = Some(headers.key_id.to_string());
    if headers.check_clock(inv.now_ms, CLOCK_WINDOW_MS).is_err() {
        let skew = headers.time_ms as i128 - inv.now_ms as i128;
        return Err(fail(
            ErrorCode::ClockSkew,
            format!(
                "the request time is {} s {} the server's clock (allowed: ±{} s); server_time is the server's clock",
                skew.unsigned_abs() / 1000,
                if skew > 0 { "ahead of" } else { "behind" },
                CLOCK_WINDOW_MS / 1000
            ),
        ));
    }
    if headers.verify("POST", UPDATE_PATH, &req.body).is_err() {
        return Err(fail(
            ErrorCode::BadSignature,
            "the signature does not match the key and the request".into(),
        ));
    }
    let entry = inv
        .registry()
        .get("keys", headers.key_id.as_str())
        .map_err(|e| aws_error(inv, e, observed, "the registry"))?
        .ok_or_else(|| fail(ErrorCode::BadSignature, "this key is not registered".into()))?;
    let grants = crate::registry::parse_key_entry(&entry, inv.cfg.default_ttl).map_err(|e| {
        fail(
            ErrorCode::Internal,
            format!("the registry entry of this key is invalid: {e}"),
        )
    })?;

    let body = UpdateRequest::from_body(&req.body).map_err(|e| fail(ErrorCode::Malformed, e))?;
    if body.hosts.is_empty() || body.hosts.len() > MAX_HOSTS {
        return Err(fail(
            ErrorCode::Malformed,
            format!("a request names 1 to {MAX_HOSTS} hosts"),
        ));
    }
    let mut targets = Vec::new();
    let mut seen = HashSet::new();
    for host in &body.hosts {
        let name = crate::names::canonicalise(&host.name)
            .map_err(|e| fail(ErrorCode::Malformed, format!("{:?}: {e}", host.name)))?;
        log.names.push(name.clone());
        if !seen.insert(name.clone()) {
            return Err(fail(ErrorCode::Malformed, format!("{name} appears twice")));
        }
        let grant =
            authorise(inv, &grants, &name).map_err(|m| fail(ErrorCode::NameNotAllowed, m))?;
        let ipv4 = resolve(inv, host.ipv4, observed, &name, ("ipv4", v4))
            .map_err(|m| fail(ErrorCode::Malformed, m))?;
        let ipv6 = resolve(inv, host.ipv6, observed, &name, ("ipv6", v6))
            .map_err(|m| fail(ErrorCode::Malformed, m))?;
        if ipv4.is_none() && ipv6.is_none() {
            return Err(fail(
                ErrorCode::Malformed,
                format!("{name}: neither ipv4 nor ipv6 is given"),
            ));
        }
        targets.push(Target { grant, ipv4, ipv6 });
    }
    let observed = observed.ok_or_else(|| {
        fail(
            ErrorCode::Internal,
            "the front end did not pass the source address".into(),
        )
    })?;
    let applied = apply(
        inv,
        &targets,
        headers.key_id.as_str(),
        Stamp::Signed(headers.time_ms),
    )
    .map_err(|e| apply_error(inv, e, Some(observed)))?;
    log.change_id = applied.change_id.clone();
    log.result = Some(if applied.updated() {
        "updated"
    } else {
        "unchanged"
    });
    Ok(Response::json(
        200,
        &UpdateResponse {
            result: if applied.updated() {
                UpdateResult::Updated
            } else {
                UpdateResult::Unchanged
            },
            hosts: applied.hosts.into_iter().map(|(h, _)| h).collect(),
            observed,
            request_id: inv.request_id.clone(),
            server_time: inv.now_ms,
            change_id: applied.change_id,
        },
    ))
}

/// The grant for `name`, or why the caller may not touch it.
pub fn authorise(inv: &Invocation, grants: &[Grant], name: &str) -> Result<Grant, String> {
    if !route53_ddns_protocol::hostname::is_within(name, &inv.cfg.zone_name) {
        return Err(format!("{name} is not in the zone {}", inv.cfg.zone_name));
    }
    grants
        .iter()
        .find(|g| g.name == name)
        .cloned()
        .ok_or_else(|| format!("this key may not update {name}"))
}

/// The address to publish for one family, checked against the policy.
fn resolve<T: Into<IpAddr> + Copy>(
    inv: &Invocation,
    spec: AddrSpec<T>,
    observed: Option<IpAddr>,
    name: &str,
    (family, of_family): (&str, fn(IpAddr) -> Option<T>),
) -> Result<Option<T>, String> {
    let addr = match spec {
        AddrSpec::Keep => return Ok(None),
        AddrSpec::Set(a) => a,
        AddrSpec::Auto => {
            let Some(seen) = observed else {
                return Err(format!(
                    "{name}: {family} \"auto\" needs the source address, which is unknown"
                ));
            };
            of_family(seen).ok_or_else(|| {
                format!(
                    "{name}: {family} is \"auto\" but the request arrived over the other family (from {seen}); connect over {family} for \"auto\""
                )
            })?
        }
    };
    let ip: IpAddr = addr.into();
    inv.policy()
        .check(ip)
        .map_err(|why| format!("{name}: {ip} is {why} and cannot be published"))?;
    Ok(Some(addr))
}

pub fn v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    }
}

pub fn v6(ip: IpAddr) -> Option<Ipv6Addr> {
    match ip {
        IpAddr::V6(a) => Some(a),
        IpAddr::V4(_) => None,
    }
}

/// One name to reconcile.
#[derive(Debug, Clone)]
pub struct Target {
    pub grant: Grant,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

/// How the ordering stamp is checked and written.
#[derive(Debug, Clone, Copy)]
pub enum Stamp {
    /// A signed request's time: refused unless newer than the stored stamp.
    Signed(u64),
    /// dyndns2 has no client time: the server's clock, bumped past the stored stamp.
    Server(u64),
}

#[derive(Debug)]
pub enum ApplyError {
    Replayed(String),
    Foreign(String, String),
    Aws(AwsError),
}

pub struct Applied {
    /// The records now published, and whether this name was changed.
    pub hosts: Vec<(PublishedHost, bool)>,
    pub change_id: Option<String>,
}

impl Applied {
    pub fn updated(&self) -> bool {
        self.change_id.is_some()
    }
}

/// Reads, compares and — only if something differs — writes one atomic ChangeBatch with
/// the A/AAAA changes and the new stamps. A concurrent writer makes Route53 refuse the
/// batch (the stamp DELETE no longer matches); then everything is read again once more.
pub fn apply(
    inv: &Invocation,
    targets: &[Target],
    who: &str,
    stamp: Stamp,
) -> Result<Applied, ApplyError> {
    let r53 = inv.route53();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut changes = Vec::new();
        let mut hosts = Vec::new();
        for t in targets {
            let existing = r53.existing(&t.grant.name).map_err(ApplyError::Aws)?;
            if let Some(what) = &existing.foreign {
                return Err(ApplyError::Foreign(t.grant.name.clone(), what.clone()));
            }
            let stored = existing.stamp_time();
            if let (Stamp::Signed(time), Some(stored)) = (stamp, stored) {
                if time <= stored {
                    return Err(ApplyError::Replayed(t.grant.name.clone()));
                }
            }
            let desired = Desired {
                name: t.grant.name.clone(),
                ipv4: t.ipv4,
                ipv6: t.ipv6,
                ttl: t.grant.ttl,
            };
            let plan = route53::plan(&existing, &desired);
            let changed = !plan.is_empty();
            if changed {
                let time = match stamp {
                    Stamp::Signed(t) => t,
                    Stamp::Server(now) => now.max(stored.map_or(0, |s| s + 1)),
                };
                changes.extend(plan);
                changes.extend(route53::stamp_changes(
                    &existing,
                    &t.grant.name,
                    route53::stamp_value(time, who),
                ));
            }
            hosts.push((published(&existing, &desired), changed));
        }
        if changes.is_empty() {
            return Ok(Applied {
                hosts,
                change_id: None,
            });
        }
        let comment = format!("route53-ddns {} by {who}", inv.request_id);
        match r53.change(&changes, &comment) {
            Ok(id) => {
                return Ok(Applied {
                    hosts,
                    change_id: Some(id),
                })
            }
            Err(AwsError::Rejected { code, .. }) if code == "InvalidChangeBatch" && attempt < 2 => {
                continue
            }
            Err(e) => return Err(ApplyError::Aws(e)),
        }
    }
}

/// The records of a name once `desired` is applied.
fn published(existing: &Existing, desired: &Desired) -> PublishedHost {
    let a = match desired.ipv4 {
        Some(a) => vec![a],
        None => existing
            .a
            .iter()
            .flat_map(|s| &s.values)
            .filter_map(|v| v.parse().ok())
            .collect(),
    };
    let aaaa = match desired.ipv6 {
        Some(a) => vec![a],
        None => existing
            .aaaa
            .iter()
            .flat_map(|s| &s.values)
            .filter_map(|v| v.parse().ok())
            .collect(),
    };
    let ttl = if desired.ipv4.is_some() || desired.ipv6.is_some() {
        desired.ttl
    } else {
        existing
            .a
            .as_ref()
            .or(existing.aaaa.as_ref())
            .map_or(desired.ttl, |s| s.ttl)
    };
    PublishedHost {
        name: desired.name.clone(),
        a,
        aaaa,
        ttl,
    }
}

pub fn aws_error(
    inv: &Invocation,
    e: AwsError,
    observed: Option<IpAddr>,
    what: &str,
) -> ErrorResponse {
    match e {
        AwsError::Throttled => err(
            inv,
            ErrorCode::Throttled,
            format!("{what} is throttling requests"),
            observed,
        ),
        AwsError::Busy(m) => err(
            inv,
            ErrorCode::Unavailable,
            format!("{what} is unavailable: {m}"),
            observed,
        ),
        AwsError::Rejected { code, message } => err(
            inv,
            ErrorCode::Internal,
            format!("{what} refused the request: {code}: {message}"),
            observed,
        ),
        AwsError::Fault(m) => err(inv, ErrorCode::Internal, format!("{what}: {m}"), observed),
    }
}

pub fn apply_error(inv: &Invocation, e: ApplyError, observed: Option<IpAddr>) -> ErrorResponse {
    match e {
        ApplyError::Replayed(name) => err(
            inv,
            ErrorCode::Replayed,
            format!("{name} was already updated by this request or a newer one"),
            observed,
        ),
        ApplyError::Foreign(name, what) => err(
            inv,
            ErrorCode::NameNotAllowed,
            format!("{name} has {what}, which route53-ddns does not manage"),
            observed,
        ),
        ApplyError::Aws(e) => aws_error(inv, e, observed, "Route53"),
    }
}

#[cfg(test)]
mod tests {
    use route53_ddns_protocol::SignedHeaders;

    /// The worked example of docs/protocol.md §1 (RFC 8032 test-1 key).
    #[test]
    fn worked_example_in_the_docs_verifies() {
        let body = br#"{"hosts":[{"name":"home.example.com","ipv4":"auto","ipv6":"2001:db8::1"}]}"#;
        assert_eq!(body.len(), 74);
        let h = SignedHeaders::parse(
            Some("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            Some("1764115200000"),
            Some("OjvLyg3DptwcvLFP9EKjuyph3MtYoGRZNPw9wcrr_0h90N9vABePwMW7dnippydi9RT2QeExXCOpfC7Y-kOYCw"),
        )
        .expect("canonical headers");
        assert_eq!(h.verify("POST", "/v1/update", body), Ok(()));
        assert!(h.verify("POST", "/v1/update", &body[1..]).is_err());
    }
}
