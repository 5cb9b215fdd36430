//! route53-ddns Lambda: verifies signed router updates (and dyndns2), reconciles Route53.
//!
//! Data flows one way, top to bottom:
//!
//! | module     | concern                                                                  |
//! |------------|--------------------------------------------------------------------------|
//! | `main`     | the runtime loop: event in, response out, one log line                    |
//! | `config`   | deployment settings from the environment                                  |
//! | `event`    | HTTP in/out: the Function URL (payload 2.0) event and response            |
//! | `handler`  | decide: routing, signature/clock/registry/name/address checks, `apply`    |
//! | `dyndns2`  | `GET /nic/update`: Basic auth with hashed tokens, plain-text answers      |
//! | `names`    | name canonicalisation (IDN → punycode, case, trailing dot)                |
//! | `registry` | which key/user may update which names: SSM Parameter Store                |
//! | `route53`  | exact-name reads, the change plan, the atomic ChangeBatch, stamps, XML    |
//! | `aws`      | SigV4-signed calls over ureq + rustls, retry with backoff and jitter      |
//! | `log`      | the structured JSON log line                                              |

mod aws;
mod config;
mod dyndns2;
mod event;
mod handler;
mod log;
mod names;
mod registry;
mod route53;

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
    let now = now_ms();
    let mut log = log::LogLine {
        request_id: event.context.request_id.clone(),
        ..Default::default()
    };
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
            let inv = handler::Invocation {
                cfg,
                request_id: event.context.request_id.clone(),
                now_ms: now,
                budget: handler::budget(event.context.deadline, now),
            };
            log.budget_ms = inv.budget.remaining().as_millis() as u64;
            handler::handle(&inv, &req, &mut log)
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
    log.latency_ms = started.elapsed().as_millis() as u64;
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
