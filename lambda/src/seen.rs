//! Last seen: for each key and dyndns2 user, its last accepted request, kept in one SSM
//! standard parameter `<prefix>/seen/keys/<key id>` or `<prefix>/seen/tokens/<user>`
//! (PutParameter with Overwrite), retried within the caller's limit. Best-effort: the
//! caller logs a failure and goes on.

use crate::aws::{self, AwsError};
use crate::principal::Principal;
use serde::Serialize;
use std::net::IpAddr;
use std::time::Duration;

/// The path under the registry prefix; the role may write here and nowhere else in SSM.
pub const SEEN: &str = "seen";
/// Longest User-Agent kept (printable ASCII only).
pub const MAX_AGENT: usize = 100;
/// Names are listed until the listed ones reach this many bytes; the rest are counted.
pub const MAX_NAMES_BYTES: usize = 2048;
/// A standard parameter's value is at most 4 KiB; the record stays well below.
pub const MAX_VALUE: usize = 4096;

/// What one accepted request leaves behind. Every field is bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Unix milliseconds when the endpoint accepted it.
    pub time_ms: u64,
    pub names: Vec<String>,
    /// Names left out to stay within [`MAX_NAMES_BYTES`].
    #[serde(skip_serializing_if = "is_zero")]
    pub more_names: usize,
    /// `updated` / `unchanged` (signed) or `good` / `nochg` (dyndns2).
    pub result: String,
    /// The User-Agent: `route53-ddns/<version>` for the router (not signed: informational).
    pub agent: Option<String>,
    pub observed: Option<IpAddr>,
    pub request_id: String,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Record {
    pub fn new(
        time_ms: u64,
        names: &[String],
        result: &str,
        agent: Option<&str>,
        observed: Option<IpAddr>,
        request_id: &str,
    ) -> Self {
        let mut kept = Vec::new();
        let mut bytes = 0;
        for n in names {
            bytes += n.len() + 3;
            if bytes > MAX_NAMES_BYTES {
                break;
            }
            kept.push(crate::log::bounded(n, 253));
        }
        Record {
            time_ms,
            more_names: names.len() - kept.len(),
            names: kept,
            result: crate::log::bounded(result, 32),
            agent: agent
                .map(|a| crate::log::bounded(a, MAX_AGENT))
                .filter(|a| !a.is_empty()),
            observed,
            request_id: crate::log::bounded(request_id, 64),
        }
    }

    pub fn to_json(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        // Cannot happen with the bounds above; never send SSM a value it must refuse.
        if text.len() > MAX_VALUE {
            return String::from("{}");
        }
        text
    }
}

/// `<prefix>/seen/keys/<key id>` or `<prefix>/seen/tokens/<user>`.
pub fn parameter_name(prefix: &str, principal: &Principal) -> String {
    match principal {
        Principal::Key(k) => format!("{prefix}/{SEEN}/keys/{k}"),
        Principal::User(u) => format!("{prefix}/{SEEN}/tokens/{u}"),
    }
}

/// Writes the record with PutParameter, retrying a throttled or failed attempt (backoff with
/// jitter) while `limit` allows: a lost record could otherwise look like a silent router.
pub fn write(
    endpoint: &str,
    region: &str,
    name: &str,
    record: &Record,
    limit: Duration,
) -> Result<(), AwsError> {
    let body = serde_json::json!({
        "Name": name,
        "Value": record.to_json(),
        "Type": "String",
        "Overwrite": true,
        "Tier": "Standard",
    })
    .to_string();
    let budget = aws::Budget {
        until: std::time::Instant::now() + limit,
    };
    let url = format!("{endpoint}/");
    aws::with_retry(budget, || {
        let reply = aws::send_within(
            "POST",
            &url,
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "AmazonSSM.PutParameter"),
            ],
            body.as_bytes(),
            region,
            "ssm",
            Some(budget.remaining()),
        )?;
        aws::json_answer(&reply).map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_bounded_whatever_the_request_carried() {
        let names: Vec<String> = (0..20)
            .map(|i| format!("{}{i}.example.com", "a".repeat(240)))
            .collect();
        let agent = format!("evil\n\u{7}{}", "x".repeat(5000));
        let r = Record::new(1, &names, "updated", Some(&agent), None, &"r".repeat(1000));
        assert!(r.names.len() < 20 && r.more_names == 20 - r.names.len());
        assert!(r.names.iter().map(String::len).sum::<usize>() <= MAX_NAMES_BYTES);
        let agent = r.agent.as_deref().unwrap_or_default();
        assert_eq!(agent.len(), MAX_AGENT);
        assert!(agent.starts_with("evil??"));
        assert_eq!(r.request_id.len(), 64);
        let json = r.to_json();
        assert!(json.len() <= MAX_VALUE, "{}", json.len());
        assert!(json.contains("\"more_names\""));
    }

    #[test]
    fn records_live_under_seen_beside_the_registry() {
        let der = route53_ddns_protocol::SigningKey::generate_pkcs8().expect("key");
        let key = route53_ddns_protocol::SigningKey::from_pkcs8(&der).expect("key");
        let id = key.key_id().clone();
        assert_eq!(
            parameter_name("/route53-ddns", &Principal::Key(id.clone())),
            format!("/route53-ddns/seen/keys/{id}")
        );
        assert_eq!(
            parameter_name("/p", &Principal::User("alice".into())),
            "/p/seen/tokens/alice"
        );
        let r = Record::new(5, &["a.example.com".into()], "good", None, None, "id");
        assert_eq!(
            r.to_json(),
            r#"{"time_ms":5,"names":["a.example.com"],"result":"good","agent":null,"observed":null,"request_id":"id"}"#
        );
    }
}
