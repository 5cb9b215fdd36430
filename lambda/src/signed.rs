//! The signed door, `POST /v2/update`: size, headers, verify (host, clock, signature),
//! body, authorise, reconcile, and the JSON answer.

use crate::authorise::{authorise, Wanted};
use crate::caller::Caller;
use crate::error::Error;
use crate::event::{Request, Response};
use crate::invocation::Invocation;
use crate::log::LogLine;
use crate::reconcile::reconcile_all;
use crate::verify::{self, SignedInput};
use route53_ddns_protocol::{
    AddrSpec, ErrorCode, SignedHeaders, UpdateRequest, UpdateResponse, UpdateResult,
    MAX_BODY_BYTES, MAX_HOSTS, UPDATE_PATH,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub fn handle(
    inv: &Invocation,
    req: &Request,
    caller: &Caller,
    log: &mut LogLine,
) -> Result<Response, Error> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    let headers = SignedHeaders::parse(|name| req.header(name)).map_err(verify::header_error)?;
    log.principal = Some(headers.key_id.to_string());
    let verified = verify::signed(SignedInput {
        headers,
        method: "POST",
        path: UPDATE_PATH,
        body: &req.body,
        reached: &req.reached_host(),
        also: &inv.cfg.endpoint_hosts,
        now_ms: inv.now_ms,
    })?;

    let body =
        UpdateRequest::from_body(&req.body).map_err(|e| Error::new(ErrorCode::Malformed, e))?;
    if body.hosts.is_empty() || body.hosts.len() > MAX_HOSTS {
        return Err(Error::new(
            ErrorCode::Malformed,
            format!("a request names 1 to {MAX_HOSTS} hosts"),
        ));
    }
    let observed = caller.observed.ok_or_else(|| {
        Error::new(
            ErrorCode::Internal,
            "the front end did not pass the source address",
        )
    })?;
    let wanted = body
        .hosts
        .iter()
        .map(|h| {
            Ok(Wanted {
                name: h.name.clone(),
                ipv4: resolve(h.ipv4, &caller.usable, &h.name, "ipv4", v4)?,
                ipv6: resolve(h.ipv6, &caller.usable, &h.name, "ipv6", v6)?,
                auto: matches!(h.ipv4, AddrSpec::Auto) || matches!(h.ipv6, AddrSpec::Auto),
                last: h.last.clone(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;

    let decision = authorise(inv, verified, &wanted)?;
    // The key is registered and its entry valid: from here on a refusal is the owner's.
    log.proven = true;
    let mut seen = std::collections::HashSet::new();
    for outcome in &decision.per_name {
        let i = *outcome.as_ref().map_err(Clone::clone)?;
        if !seen.insert(i) {
            return Err(Error::new(
                ErrorCode::Malformed,
                format!("{} appears twice", decision.name(i).unwrap_or_default()),
            ));
        }
    }
    if decision.authorised.is_empty() {
        return Err(Error::new(ErrorCode::Malformed, "no host to update"));
    }
    log.names = decision.names();
    let done = reconcile_all(inv, &decision.authorised)?;
    log.change_id = done.change_id.clone();
    log.conflicts = done.conflicts;
    log.legacy_stamps = done.legacy_stamps.clone();
    log.order_ms = Some(done.stamp_ms);
    let result = if done.updated {
        UpdateResult::Updated
    } else {
        UpdateResult::Unchanged
    };
    log.result = Some(if done.updated { "updated" } else { "unchanged" });
    crate::accepted::follow_up(inv, &decision.authorised, &done, req, Some(observed), log);
    Ok(Response::json(
        200,
        &UpdateResponse {
            result,
            hosts: done.hosts.into_iter().map(|(h, _)| h).collect(),
            observed,
            request_id: inv.request_id.clone(),
            server_time: inv.now_ms,
            change_id: done.change_id,
            stamp: Some(done.stamp_ms),
        },
    ))
}

/// The address to publish for one family: given, or the caller's for `"auto"`.
fn resolve<T: Copy>(
    spec: AddrSpec<T>,
    usable: &Result<IpAddr, String>,
    name: &str,
    family: &str,
    of_family: fn(IpAddr) -> Option<T>,
) -> Result<Option<T>, Error> {
    match spec {
        AddrSpec::Keep => Ok(None),
        AddrSpec::Set(a) => Ok(Some(a)),
        AddrSpec::Auto => {
            let observed = *usable.as_ref().map_err(|why| {
                Error::new(
                    ErrorCode::Malformed,
                    format!(
                        "{name}: {family} is \"auto\" but the caller's address is not known: {why}; send the address itself"
                    ),
                )
            })?;
            auto(observed, name, family, of_family)
        }
    }
}

/// `"auto"` with a known caller address: it must be of the family asked for.
fn auto<T: Copy>(
    observed: IpAddr,
    name: &str,
    family: &str,
    of_family: fn(IpAddr) -> Option<T>,
) -> Result<Option<T>, Error> {
    of_family(observed).map(Some).ok_or_else(|| {
        Error::new(
            ErrorCode::Malformed,
            format!(
                "{name}: {family} is \"auto\" but the request arrived over the other family (from {observed}); connect over {family} for \"auto\""
            ),
        )
    })
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
