//! One structured JSON line per request on stdout (CloudWatch). Never a token or signature.
//! It carries its own CloudWatch metrics (see `metrics`).

use route53_ddns_protocol::ErrorCode;
use serde::Serialize;
use std::net::IpAddr;

#[derive(Debug, Default, Serialize)]
pub struct LogLine {
    pub request_id: String,
    /// "update", "dyndns2" or "" when the path was unknown.
    pub route: &'static str,
    pub method: String,
    pub path: String,
    /// Key id (a public key) or `dyndns2:<user>`.
    pub principal: Option<String>,
    pub names: Vec<String>,
    pub observed: Option<IpAddr>,
    /// updated / unchanged / an error code / a dyndns2 answer.
    pub result: Option<&'static str>,
    pub status: u16,
    pub change_id: Option<String>,
    pub error: Option<String>,
    /// What AWS said when a call failed (never sent to the caller).
    pub detail: Option<String>,
    /// ChangeBatches refused because another writer got there first.
    pub conflicts: u32,
    /// The stamp time written for the names (the request's place in their order).
    pub order_ms: Option<u64>,
    /// Route53 API calls made for this request.
    pub route53_calls: u32,
    /// SSM API calls made for this request (registry reads and listings, last seen).
    pub ssm_calls: u32,
    /// The sender was proven: a valid signature of a key that is or was registered, or a
    /// valid token (the `PermanentError` / `UnprovenRefusal` split reads it).
    pub proven: bool,
    pub latency_ms: u64,
    /// Time left for Route53/SSM retries when the request arrived.
    pub budget_ms: u64,
    /// The request was carried out (Route53 matches it): the `Accepted` metric.
    pub accepted: bool,
    /// The User-Agent of an accepted request (bounded; not signed).
    pub agent: Option<String>,
    /// The last-seen record: "written", or what went wrong (the update stands either way).
    pub seen: Option<String>,
    /// The change notification: its SNS message id, or what went wrong.
    pub notified: Option<String>,
    /// Earlier versions' TXT stamps: "removed <n>", or what went wrong (harmless).
    pub legacy_stamps: Option<String>,
    /// What came of the request's `last` (`Invocation::guess`).
    pub guess: Option<&'static str>,
    /// The error code of a refusal (the `PermanentError` metric reads it).
    #[serde(skip)]
    pub code: Option<ErrorCode>,
    /// The embedded-metric-format members (`metrics::Emf::members`), added just before the
    /// line is written. Plain JSON here, so the log line depends on no metric type.
    #[serde(flatten)]
    pub metrics: Option<serde_json::Map<String, serde_json::Value>>,
}

impl LogLine {
    pub fn fail(&mut self, code: ErrorCode, message: &str) {
        self.result = Some(code_name(code));
        self.code = Some(code);
        self.error = Some(message.to_owned());
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn emit(&self) {
        let line = self.to_json();
        if !line.is_empty() {
            println!("{line}");
        }
    }
}

fn code_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Malformed => "malformed",
        ErrorCode::BadSignature => "bad_signature",
        ErrorCode::ClockSkew => "clock_skew",
        ErrorCode::NameNotAllowed => "name_not_allowed",
        ErrorCode::NotFound => "not_found",
        ErrorCode::MethodNotAllowed => "method_not_allowed",
        ErrorCode::Replayed => "replayed",
        ErrorCode::Superseded => "superseded",
        ErrorCode::WrongEndpoint => "wrong_endpoint",
        ErrorCode::UpgradeRequired => "upgrade_required",
        ErrorCode::RegistryInvalid => "registry_invalid",
        ErrorCode::NotPermitted => "not_permitted",
        ErrorCode::TooLarge => "too_large",
        ErrorCode::Throttled => "throttled",
        ErrorCode::Unavailable => "unavailable",
        ErrorCode::Internal => "internal",
    }
}

/// At most `max` bytes of printable ASCII (anything else becomes `?`).
pub fn bounded(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_wire_codes() {
        for c in [
            ErrorCode::Malformed,
            ErrorCode::ClockSkew,
            ErrorCode::TooLarge,
            ErrorCode::Superseded,
            ErrorCode::WrongEndpoint,
            ErrorCode::UpgradeRequired,
            ErrorCode::RegistryInvalid,
            ErrorCode::NotPermitted,
        ] {
            let wire = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(wire.trim_matches('"'), code_name(c));
        }
    }
}
