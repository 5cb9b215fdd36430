//! Change notifications (optional, per deployment): one SNS message per request that
//! changed records, with each name's old → new addresses, the router and the request id.
//! Best-effort and bounded in time: a failed or slow publish never fails the update.

use crate::aws::{self, AwsError};
use serde::Serialize;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// Where change notifications go: `R53DDNS_CHANGE_TOPIC_ARN`, SNS at its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub arn: String,
    pub endpoint: String,
}

impl Topic {
    /// `None` when notifications are off (no topic ARN set); `Err` for an ARN that is not one.
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        region: &str,
    ) -> Result<Option<Self>, String> {
        let Some(arn) = get("R53DDNS_CHANGE_TOPIC_ARN") else {
            return Ok(None);
        };
        let parts: Vec<&str> = arn.split(':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "sns"
            && !parts[5].is_empty()
            && arn.len() <= 256
            && arn
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":-_.".contains(&b));
        if !ok {
            return Err("R53DDNS_CHANGE_TOPIC_ARN is not an SNS topic ARN".into());
        }
        let endpoint = get("AWS_ENDPOINT_URL_SNS")
            .or_else(|| get("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| format!("https://sns.{region}.amazonaws.com"));
        Ok(Some(Topic {
            arn,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
        }))
    }
}

/// SNS refuses subjects of 100 characters or more.
pub const MAX_SUBJECT: usize = 99;

/// One name whose A or AAAA changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostChange {
    pub name: String,
    pub old_a: Vec<Ipv4Addr>,
    pub old_aaaa: Vec<Ipv6Addr>,
    pub new_a: Vec<Ipv4Addr>,
    pub new_aaaa: Vec<Ipv6Addr>,
}

/// The message body (JSON, for filters and scripts) and its subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message<'a> {
    /// Key id or `dyndns2:<user>`.
    pub router: &'a str,
    pub request_id: &'a str,
    pub time_ms: u64,
    pub changes: &'a [HostChange],
}

fn list<T: ToString>(v: &[T]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

impl HostChange {
    /// `home.example.com A 198.51.100.1 -> 203.0.113.50`, one family per change.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.old_a != self.new_a {
            parts.push(format!("A {} -> {}", list(&self.old_a), list(&self.new_a)));
        }
        if self.old_aaaa != self.new_aaaa {
            parts.push(format!(
                "AAAA {} -> {}",
                list(&self.old_aaaa),
                list(&self.new_aaaa)
            ));
        }
        format!("{} {}", self.name, parts.join(", "))
    }
}

impl Message<'_> {
    /// SNS subjects are printable ASCII on one line, under 100 characters.
    pub fn subject(&self) -> String {
        let first = self.changes.first().map(HostChange::describe);
        let more = self.changes.len().saturating_sub(1);
        let mut s = format!("route53-ddns: {}", first.unwrap_or_default());
        if more > 0 {
            s.push_str(&format!(" (+{more})"));
        }
        let mut s = crate::log::bounded(&s, MAX_SUBJECT);
        if s.len() == MAX_SUBJECT {
            s.replace_range(MAX_SUBJECT - 3.., "...");
        }
        s
    }

    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One SNS Publish (query API) within `limit`, not retried.
pub fn publish(
    topic: &Topic,
    region: &str,
    subject: &str,
    message: &str,
    limit: Duration,
) -> Result<String, AwsError> {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "Publish")
        .append_pair("Version", "2010-03-31")
        .append_pair("TopicArn", &topic.arn)
        .append_pair("Subject", subject)
        .append_pair("Message", message)
        .finish();
    let reply = aws::send_within(
        "POST",
        &format!("{}/", topic.endpoint),
        &[("content-type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
        region,
        "sns",
        Some(limit),
    )?;
    let text = String::from_utf8_lossy(&reply.body);
    let doc = roxmltree::Document::parse(&text).ok();
    let find = |tag: &str| {
        doc.as_ref()
            .and_then(|d| d.descendants().find(|n| n.has_tag_name(tag)))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned()
    };
    if (200..300).contains(&reply.status) {
        return Ok(find("MessageId"));
    }
    Err(aws::classify(reply.status, &find("Code"), &find("Message")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> HostChange {
        HostChange {
            name: "home.example.com".into(),
            old_a: vec!["198.51.100.1".parse().expect("ip")],
            old_aaaa: vec![],
            new_a: vec!["203.0.113.50".parse().expect("ip")],
            new_aaaa: vec!["2001:db8::1".parse().expect("ip")],
        }
    }

    #[test]
    fn the_message_says_old_to_new_the_router_and_the_request() {
        let changes = [change()];
        let m = Message {
            router: "dyndns2:alice",
            request_id: "req-1",
            time_ms: 7,
            changes: &changes,
        };
        assert_eq!(
            m.subject(),
            "route53-ddns: home.example.com A 198.51.100.1 -> 203.0.113.50, AAAA - -> 2001:db8::1"
        );
        let body: serde_json::Value = serde_json::from_str(&m.body()).expect("json");
        assert_eq!(body["router"], "dyndns2:alice");
        assert_eq!(body["request_id"], "req-1");
        assert_eq!(body["changes"][0]["old_a"][0], "198.51.100.1");
        assert_eq!(body["changes"][0]["new_aaaa"][0], "2001:db8::1");
    }

    #[test]
    fn subjects_stay_within_what_sns_takes() {
        let mut c = change();
        c.name = format!("{}.example.com", "a".repeat(200));
        let changes = [c.clone(), c];
        let m = Message {
            router: "k",
            request_id: "r",
            time_ms: 0,
            changes: &changes,
        };
        let s = m.subject();
        assert_eq!(s.len(), MAX_SUBJECT);
        assert!(s.ends_with("...") && !s.contains('\n'));
    }

    #[test]
    fn the_topic_is_off_unless_set_and_must_be_an_sns_arn() {
        let none = |_: &str| None;
        assert_eq!(Topic::from_lookup(&none, "eu-west-1"), Ok(None));
        let arn = |k: &str| {
            (k == "R53DDNS_CHANGE_TOPIC_ARN")
                .then(|| "arn:aws:sns:eu-west-1:123456789012:changes".to_owned())
        };
        let t = Topic::from_lookup(&arn, "eu-west-1").expect("valid");
        assert_eq!(
            t.map(|t| t.endpoint),
            Some("https://sns.eu-west-1.amazonaws.com".into())
        );
        let bad = |k: &str| (k == "R53DDNS_CHANGE_TOPIC_ARN").then(|| "changes".to_owned());
        assert!(Topic::from_lookup(&bad, "eu-west-1").is_err());
    }
}
