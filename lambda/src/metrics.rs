//! CloudWatch metrics in the log line itself (embedded metric format): an `_aws` member
//! tells CloudWatch Logs to take `Accepted`, `PermanentError` and `UnprovenRefusal` from the
//! same JSON line as metrics of namespace `route53-ddns`, dimension `Function`. No API call
//! per request.

use crate::log::LogLine;
use serde::Serialize;

pub const NAMESPACE: &str = "route53-ddns";
/// 1 when the request was carried out (records written or confirmed), else 0.
pub const ACCEPTED: &str = "Accepted";
/// 1 when a proven sender was refused for good: a fault only the owner can fix (alarmed).
pub const PERMANENT_ERROR: &str = "PermanentError";
/// 1 when a sender that is not proven was refused (strangers, clock skew, next-key probes):
/// not alarmed by default.
pub const UNPROVEN_REFUSAL: &str = "UnprovenRefusal";
pub const DIMENSION: &str = "Function";
/// The hourly silence check's count of registered keys/users silent too long (`silence.rs`).
pub const SILENT_ROUTERS: &str = "SilentRouters";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Emf {
    #[serde(rename = "_aws")]
    aws: Metadata,
    #[serde(rename = "Function")]
    function: String,
    #[serde(rename = "Accepted")]
    accepted: u8,
    #[serde(rename = "PermanentError")]
    permanent_error: u8,
    #[serde(rename = "UnprovenRefusal")]
    unproven_refusal: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    timestamp: u64,
    #[serde(rename = "CloudWatchMetrics")]
    cloud_watch_metrics: [Directive; 1],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive {
    namespace: &'static str,
    dimensions: [[&'static str; 1]; 1],
    metrics: [Metric; 3],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    name: &'static str,
    unit: &'static str,
}

/// Whether a refusal is one that only the owner can fix: a proven sender (a valid signature
/// of a key that is or was registered, or a valid token) refused with a code the router
/// also treats as permanent (`ErrorCode::is_permanent`, the one definition). A clock skew is
/// judged before the signature, and a next key not registered yet was never accepted, so
/// neither is proven; nor is anything a stranger can send.
pub fn permanent(line: &LogLine) -> bool {
    line.proven && line.code.is_some_and(|c| c.is_permanent())
}

/// A 4xx-class refusal of a sender that is not proven.
pub fn unproven_refusal(line: &LogLine) -> bool {
    !line.proven && !line.accepted && line.code.is_some_and(|c| (400..500).contains(&c.status()))
}

impl Emf {
    /// The metric members for `line`, stamped `now_ms`, for the function `function`
    /// (`AWS_LAMBDA_FUNCTION_NAME`; the alarms name it as their dimension).
    /// The directive and metric members, to flatten into the log line.
    pub fn members(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        }
    }

    pub fn of(line: &LogLine, now_ms: u64, function: &str) -> Self {
        Emf {
            aws: Metadata {
                timestamp: now_ms,
                cloud_watch_metrics: [Directive {
                    namespace: NAMESPACE,
                    dimensions: [[DIMENSION]],
                    metrics: [
                        Metric {
                            name: ACCEPTED,
                            unit: "Count",
                        },
                        Metric {
                            name: PERMANENT_ERROR,
                            unit: "Count",
                        },
                        Metric {
                            name: UNPROVEN_REFUSAL,
                            unit: "Count",
                        },
                    ],
                }],
            },
            function: function.to_owned(),
            accepted: u8::from(line.accepted),
            permanent_error: u8::from(permanent(line)),
            unproven_refusal: u8::from(unproven_refusal(line)),
        }
    }
}

/// Adds the `SilentRouters` metric members (same namespace and dimension) to `line`.
pub fn silent_routers(line: &mut serde_json::Value, now_ms: u64, function: &str, count: usize) {
    line["_aws"] = serde_json::json!({
        "Timestamp": now_ms,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": [[DIMENSION]],
            "Metrics": [{"Name": SILENT_ROUTERS, "Unit": "Count"}],
        }],
    });
    line[DIMENSION] = function.into();
    line[SILENT_ROUTERS] = count.into();
}

/// The function's name as Lambda sets it, else the crate's.
pub fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .map(|n| crate::log::bounded(&n, 140))
        .unwrap_or_else(|| env!("CARGO_PKG_NAME").to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use route53_ddns_protocol::ErrorCode;

    fn emitted(line: &mut LogLine) -> serde_json::Value {
        line.metrics = Some(Emf::of(line, 1_700_000_000_123, "ddns-fn").members());
        serde_json::from_str(&line.to_json()).expect("one JSON line")
    }

    #[test]
    fn the_log_line_carries_an_emf_directive_for_its_own_members() {
        let mut line = LogLine {
            request_id: "r".into(),
            accepted: true,
            result: Some("updated"),
            ..Default::default()
        };
        let v = emitted(&mut line);
        let aws = &v["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_123u64);
        let d = &aws["CloudWatchMetrics"][0];
        assert_eq!(d["Namespace"], "route53-ddns");
        assert_eq!(d["Dimensions"], serde_json::json!([["Function"]]));
        let names: Vec<&str> = d["Metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .map(|m| {
                assert_eq!(m["Unit"], "Count");
                m["Name"].as_str().expect("name")
            })
            .collect();
        assert_eq!(names, ["Accepted", "PermanentError", "UnprovenRefusal"]);
        // Every dimension and metric named is a member at the root, of the right type.
        assert_eq!(v["Function"], "ddns-fn");
        assert_eq!(v["Accepted"], 1);
        assert_eq!(v["PermanentError"], 0);
        // The ordinary fields are still there.
        assert_eq!(v["result"], "updated");
        assert_eq!(v["request_id"], "r");
    }

    #[test]
    fn the_silence_line_carries_silent_routers_as_a_metric() {
        let mut v = serde_json::json!({"route": "silence"});
        silent_routers(&mut v, 7, "ddns-fn", 3);
        let d = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 7);
        assert_eq!(d["Namespace"], "route53-ddns");
        assert_eq!(d["Dimensions"], serde_json::json!([["Function"]]));
        assert_eq!(
            d["Metrics"],
            serde_json::json!([{"Name": "SilentRouters", "Unit": "Count"}])
        );
        assert_eq!(
            (&v["Function"], &v["SilentRouters"]),
            (&"ddns-fn".into(), &3.into())
        );
    }

    #[test]
    fn only_permanent_refusals_of_proven_senders_count_as_permanent() {
        for (code, proven, permanent, unproven) in [
            (ErrorCode::NameNotAllowed, true, 1, 0),
            (ErrorCode::NotPermitted, true, 1, 0),
            (ErrorCode::RegistryInvalid, true, 1, 0),
            (ErrorCode::BadSignature, true, 1, 0), // a revoked key that keeps sending
            (ErrorCode::Malformed, true, 1, 0),
            (ErrorCode::Superseded, true, 0, 0),
            (ErrorCode::Throttled, true, 0, 0),
            (ErrorCode::Unavailable, true, 0, 0),
            // Anything from a sender not proven: never the alarm, its own metric.
            (ErrorCode::BadSignature, false, 0, 1),
            (ErrorCode::ClockSkew, false, 0, 1),
            (ErrorCode::WrongEndpoint, false, 0, 1),
            (ErrorCode::NameNotAllowed, false, 0, 1),
            (ErrorCode::TooLarge, false, 0, 1),
            (ErrorCode::Malformed, false, 0, 1),
            (ErrorCode::Unavailable, false, 0, 0),
        ] {
            let mut line = LogLine {
                proven,
                ..Default::default()
            };
            line.fail(code, "x");
            let v = emitted(&mut line);
            assert_eq!(v["PermanentError"], permanent, "{code:?} proven={proven}");
            assert_eq!(v["UnprovenRefusal"], unproven, "{code:?} proven={proven}");
            assert_eq!(v["Accepted"], 0);
        }
    }
}
