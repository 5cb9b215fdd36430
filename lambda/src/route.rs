//! Routes one HTTP request to its door: the signed update (`POST /v2/update`), dyndns2
//! (`/nic/update`), or a refusal that says which path and method to use.

use crate::error::Error;
use crate::event::{Request, Response};
use crate::invocation::Invocation;
use crate::log::LogLine;
use route53_ddns_protocol::{
    ErrorCode, ErrorResponse, DYNDNS2_PATH, LEGACY_UPDATE_PATH, UPDATE_PATH,
};
use std::net::IpAddr;

/// Routes one request. The log line is filled in along the way.
pub fn handle(inv: &Invocation, req: &Request, log: &mut LogLine) -> Response {
    let source = req.source_ip.map(|ip| inv.cfg.observed(ip));
    let caller = crate::caller::caller(inv.cfg.front, source, |n| req.header(n));
    let observed = caller.observed;
    log.observed = observed;
    let path = req.path.as_str();
    let is_dyndns2 = path == DYNDNS2_PATH || path.strip_suffix('/') == Some(DYNDNS2_PATH);
    let outcome = match (path, req.method.as_str()) {
        (UPDATE_PATH, "POST") => {
            log.route = "update";
            crate::signed::handle(inv, req, &caller, log)
        }
        _ if is_dyndns2 => {
            log.route = "dyndns2";
            return match req.method.as_str() {
                "GET" | "POST" => crate::dyndns2::handle(inv, req, &caller, log),
                _ => {
                    // dyndns2's answer for a method it does not take.
                    log.result = Some("badagent");
                    log.code = Some(ErrorCode::MethodNotAllowed);
                    Response::text(405, "badagent".into()).with_header("allow", "GET, POST")
                }
            };
        }
        (UPDATE_PATH, _) => Err(Error::new(ErrorCode::MethodNotAllowed, "use POST")),
        (LEGACY_UPDATE_PATH, _) => Err(Error::new(
            ErrorCode::UpgradeRequired,
            format!("this endpoint speaks protocol v2 (POST {UPDATE_PATH}); upgrade route53-ddns on the router"),
        )),
        _ => Err(Error::new(
            ErrorCode::NotFound,
            format!("no such path; routers use POST {UPDATE_PATH}, dyndns2 clients {DYNDNS2_PATH}"),
        )),
    };
    match outcome {
        Ok(r) => r,
        Err(e) => {
            log.fail(e.code, &e.message);
            log.detail = e.detail.clone();
            log.proven |= e.proven;
            let allow = (e.code == ErrorCode::MethodNotAllowed).then_some("POST");
            let r = error_response(inv, e, observed);
            match allow {
                Some(a) => r.with_header("allow", a),
                None => r,
            }
        }
    }
}

/// The JSON answer for a refusal of the signed route.
pub fn error_response(inv: &Invocation, e: Error, observed: Option<IpAddr>) -> Response {
    let body = ErrorResponse {
        error: e.code,
        message: e.message,
        request_id: inv.request_id.clone(),
        server_time: inv.now_ms,
        retry_after: e.retry_after,
        observed,
    };
    let mut r = Response::json(e.code.status(), &body);
    if let Some(s) = e.retry_after {
        r = r.with_header("retry-after", &s.to_string());
    }
    r
}
