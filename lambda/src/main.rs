//! route53-ddns Lambda: verifies signed router updates (and dyndns2), reconciles Route53.
//!
//! Data flows one way, top to bottom: event → route → door (signed | dyndns2) → verify →
//! authorise → reconcile → Route53. Each step takes the value only the step before can make.
//! An EventBridge schedule event (never a Function URL request) runs the silence check.
//!
//! | module     | concern                                                                  |
//! |------------|--------------------------------------------------------------------------|
//! | `main`     | the runtime loop: event in, response out, one log line                    |
//! | `config`   | deployment settings from the environment                                  |
//! | `caller`     | the caller's address: the connection's, or a declared front's header    |
//! | `event`      | HTTP in/out: the Function URL (payload 2.0) event and response          |
//! | `invocation` | per-invocation facts: config, request id, clock, budget, AWS clients    |
//! | `route`      | path and method → one of the two doors, or a refusal                    |
//! | `signed`     | door 1, `POST /v2/update`: headers, body, JSON answer                   |
//! | `dyndns2`    | door 2, `/nic/update`: credentials, query, dyndns2 text answers         |
//! | `verify`     | proves the sender (signature or token) → `Verified`                     |
//! | `authorise`  | `Verified` + names → `Authorised` (zone, grants, addresses); names are  |
//! |              | canonicalised by the protocol's `hostname::to_ascii` (IDN → punycode)    |
//! | `reconcile`  | `Authorised` → Route53: ordering stamps, one atomic batch, race retries |
//! | `guess`      | pure: a write on the sender's `last` without a read, checked by Route53 |
//! | `quiet`      | the write budget: unchanged requests leave recently written names alone |
//! | `order`      | pure: a request's place in its names' order, settling lost answers, waits |
//! | `principal`  | who sent a request: a key or a dyndns2 user, named one way          |
//! | `pace`       | while Route53 throttles: this instance's spread of `retry_after`       |
//! | `plan`       | pure: records now vs wanted → changes; Route53's order of names         |
//! | `stamp`      | pure: the ordering stamp, one AAAA at `_r53ddns.<name>`; earlier TXT read |
//! | `route53`    | the Route53 client: paged reads of names + stamps, one ChangeBatch, retries |
//! | `route53_xml` | pure: Route53's XML, list pages → records per name, ChangeBatch, replies |
//! | `registry`   | which key/user may update which names: SSM Parameter Store              |
//! | `snapshot`   | per instance: which keys/users are registered, so strangers cost no SSM call |
//! | `zones`      | several hosted zones: the list, a name's longest-suffix zone, per-zone runs |
//! | `aws`        | SigV4-signed calls over ureq + rustls, retry with backoff and jitter    |
//! | `error`      | the one error type: wire code, safe message, log-only detail            |
//! | `listing`    | SSM GetParametersByPath, paged and bounded (registry, seen, silence) |
//! | `log`        | the structured JSON log line                                            |
//! | `metrics`    | CloudWatch metrics inside the log line (embedded metric format)         |
//! | `accepted`   | after an accepted request: last seen + change notification, bounded    |
//! | `seen`       | last-seen record per key/user: SSM `<prefix>/seen/…`, best-effort       |
//! | `notify`     | change notifications: SNS Publish of old → new, best-effort             |
//! | `silence`    | hourly schedule: registered keys/users silent too long → `SilentRouters` |
//! | `alive`      | the silence check's second source: recent stamps in Route53 vouch for a router |

mod accepted;
mod alive;
mod authorise;
mod aws;
mod caller;
mod config;
mod dyndns2;
mod error;
mod event;
mod guess;
mod invocation;
mod listing;
mod log;
mod metrics;
mod notify;
mod order;
mod pace;
mod plan;
mod principal;
mod quiet;
mod reconcile;
mod registry;
mod route;
mod route53;
mod route53_xml;
mod seen;
mod signed;
mod silence;
mod snapshot;
mod stamp;
mod verify;
mod zones;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use route53_ddns_protocol::ErrorCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn invoke(
    cfg: &Result<config::Config, String>,
    event: LambdaEvent<event::RawEvent>,
) -> event::Response {
    let started = Instant::now();
    let ssm_before = aws::ssm_calls();
    let now = now_ms();
    let mut log = log::LogLine {
        request_id: event.context.request_id.clone(),
        ..Default::default()
    };
    if let (Ok(cfg), true) = (cfg, event.payload.is_schedule()) {
        let inv = invocation::Invocation::new(
            cfg,
            event.context.request_id.clone(),
            now,
            event.context.deadline,
        );
        return silence::run(&inv, &metrics::function_name())
            .with_header("x-request-id", &event.context.request_id);
    }
    let request = match cfg {
        Err(e) => Err((
            ErrorCode::Internal,
            format!("the function is misconfigured: {e}"),
        )),
        Ok(cfg) => event
            .payload
            .into_request()
            .map(|req| (cfg, req))
            .map_err(|why| (ErrorCode::Malformed, why.to_string())),
    };
    let response = match request {
        Ok((cfg, req)) => {
            log.method = req.method.clone();
            log.path = req.path.clone();
            let inv = invocation::Invocation::new(
                cfg,
                event.context.request_id.clone(),
                now,
                event.context.deadline,
            );
            log.budget_ms = inv.budget.remaining().as_millis() as u64;
            let response = route::handle(&inv, &req, &mut log);
            log.route53_calls = inv.route53_calls.get();
            log.guess = inv.guess.get();
            response
        }
        Err((code, message)) => {
            log.fail(code, &message);
            event::Response::json(
                code.status(),
                &route53_ddns_protocol::ErrorResponse {
                    error: code,
                    message,
                    request_id: event.context.request_id.clone(),
                    server_time: now,
                    retry_after: None,
                    observed: None,
                },
            )
        }
    };
    log.status = response.status_code;
    log.ssm_calls = aws::ssm_calls().wrapping_sub(ssm_before);
    log.latency_ms = started.elapsed().as_millis() as u64;
    log.metrics = Some(metrics::Emf::of(&log, now, &metrics::function_name()).members());
    log.emit();
    response.with_header("x-request-id", &event.context.request_id)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let cfg = config::Config::from_env();
    if let Err(e) = &cfg {
        eprintln!(
            "{}",
            serde_json::json!({"level": "error", "message": format!("configuration: {e}")})
        );
    }
    let cfg = &cfg;
    lambda_runtime::run(service_fn(move |event| async move {
        Ok::<_, Error>(invoke(cfg, event))
    }))
    .await
}
