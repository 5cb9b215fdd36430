//! Route53: read one name's records (exact match), plan the smallest change, write it as
//! one atomic ChangeBatch. The REST/XML API is spoken directly (see `aws.rs` for signing).

use crate::aws::{self, AwsError, Budget};
use std::net::{Ipv4Addr, Ipv6Addr};

const API: &str = "2013-04-01";
const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
/// Prefix of the replay/ordering stamp's name: TXT `_r53ddns.<name>`.
pub const STAMP_LABEL: &str = "_r53ddns";

/// One record set as Route53 holds it (simple routing only; see `Existing::foreign`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSet {
    pub name: String,
    pub rtype: String,
    pub ttl: u32,
    pub values: Vec<String>,
}

/// Everything at one name that matters here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Existing {
    pub a: Option<RecordSet>,
    pub aaaa: Option<RecordSet>,
    pub stamp: Option<RecordSet>,
    /// A record type or routing policy this function must not fight with (CNAME, alias,
    /// weighted/latency/… sets at the name): described for the error message.
    pub foreign: Option<String>,
}

impl Existing {
    /// The time (Unix ms) of the last write through this function, from the stamp.
    pub fn stamp_time(&self) -> Option<u64> {
        let value = self.stamp.as_ref()?.values.first()?;
        parse_stamp(value)
    }
}

/// The stamp's TXT value, quoted as Route53 wants it.
pub fn stamp_value(time_ms: u64, who: &str) -> String {
    format!("\"t={time_ms} k={who}\"")
}

pub fn parse_stamp(value: &str) -> Option<u64> {
    value
        .trim_matches('"')
        .split(' ')
        .find_map(|f| f.strip_prefix("t="))
        .and_then(|t| t.parse().ok())
}

/// What one name should hold after the request. `None` = leave that family alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    pub ttl: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Delete,
    Upsert,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "CREATE",
            Action::Delete => "DELETE",
            Action::Upsert => "UPSERT",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    pub set: RecordSet,
}

/// The A/AAAA changes that bring `existing` to `desired`; empty when nothing differs.
pub fn plan(existing: &Existing, desired: &Desired) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut family = |current: &Option<RecordSet>, rtype: &str, want: Option<String>| {
        let Some(want) = want else { return };
        let same = current.as_ref().is_some_and(|c| {
            c.ttl == desired.ttl && c.values.len() == 1 && same_address(&c.values[0], &want)
        });
        if !same {
            changes.push(Change {
                action: Action::Upsert,
                set: RecordSet {
                    name: desired.name.clone(),
                    rtype: rtype.into(),
                    ttl: desired.ttl,
                    values: vec![want],
                },
            });
        }
    };
    family(&existing.a, "A", desired.ipv4.map(|a| a.to_string()));
    family(&existing.aaaa, "AAAA", desired.ipv6.map(|a| a.to_string()));
    changes
}

/// Compares addresses as addresses, so `2001:DB8::1` equals `2001:db8::1`.
fn same_address(have: &str, want: &str) -> bool {
    match (
        have.parse::<std::net::IpAddr>(),
        want.parse::<std::net::IpAddr>(),
    ) {
        (Ok(h), Ok(w)) => h == w,
        _ => false,
    }
}

/// Replaces the stamp: DELETE of the exact old value plus CREATE of the new one, so that
/// two writers racing on the same name conflict in Route53 instead of both succeeding.
pub fn stamp_changes(existing: &Existing, name: &str, value: String) -> Vec<Change> {
    let stamp_name = format!("{STAMP_LABEL}.{name}");
    let mut changes = Vec::new();
    if let Some(old) = &existing.stamp {
        changes.push(Change {
            action: Action::Delete,
            set: old.clone(),
        });
    }
    changes.push(Change {
        action: Action::Create,
        set: RecordSet {
            name: stamp_name,
            rtype: "TXT".into(),
            ttl: 60,
            values: vec![value],
        },
    });
    changes
}

/// The Route53 client for one hosted zone.
pub struct Route53<'a> {
    pub endpoint: &'a str,
    pub zone_id: &'a str,
    pub budget: Budget,
}

impl Route53<'_> {
    /// Reads the A, AAAA and stamp records of `name` (two exact-name lookups).
    pub fn existing(&self, name: &str) -> Result<Existing, AwsError> {
        let mut out = Existing::default();
        for set in self.list(name)? {
            match set {
                Listed::Simple(s) if s.rtype == "A" => out.a = Some(s),
                Listed::Simple(s) if s.rtype == "AAAA" => out.aaaa = Some(s),
                Listed::Simple(s) if s.rtype == "CNAME" => {
                    out.foreign = Some("a CNAME record".into())
                }
                Listed::Simple(_) => {}
                Listed::Other(rtype, what)
                    if rtype == "A" || rtype == "AAAA" || rtype == "CNAME" =>
                {
                    out.foreign = Some(format!("{what} {rtype} record"))
                }
                Listed::Other(..) => {}
            }
        }
        let stamp_name = format!("{STAMP_LABEL}.{name}");
        for set in self.list(&stamp_name)? {
            if let Listed::Simple(s) = set {
                if s.rtype == "TXT" {
                    out.stamp = Some(s);
                }
            }
        }
        Ok(out)
    }

    fn list(&self, name: &str) -> Result<Vec<Listed>, AwsError> {
        let url = format!(
            "{}/{API}/hostedzone/{}/rrset?name={name}.&maxitems=100",
            self.endpoint, self.zone_id
        );
        let reply = aws::with_retry(self.budget, || {
            let r = aws::send("GET", &url, &[], b"", "us-east-1", "route53")?;
            check(r)
        })?;
        parse_list(&reply, name).map_err(AwsError::Busy)
    }

    /// Sends one ChangeBatch; returns the change id (without `/change/`).
    pub fn change(&self, changes: &[Change], comment: &str) -> Result<String, AwsError> {
        let url = format!("{}/{API}/hostedzone/{}/rrset/", self.endpoint, self.zone_id);
        let body = change_batch_xml(changes, comment);
        let reply = aws::with_retry(self.budget, || {
            let r = aws::send(
                "POST",
                &url,
                &[("content-type", "text/xml")],
                body.as_bytes(),
                "us-east-1",
                "route53",
            )?;
            check(r)
        })?;
        parse_change_id(&reply).map_err(AwsError::Busy)
    }
}

fn check(reply: aws::Reply) -> Result<String, AwsError> {
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    if (200..300).contains(&reply.status) {
        return Ok(text);
    }
    let (code, message) = parse_error(&text);
    Err(aws::classify(reply.status, &code, &message))
}

#[derive(Debug, PartialEq, Eq)]
enum Listed {
    Simple(RecordSet),
    /// (type, description) of an alias or routing-policy set.
    Other(String, &'static str),
}

fn child_text<'a>(node: roxmltree::Node<'a, 'a>, tag: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.has_tag_name(tag))
        .and_then(|c| c.text())
}

/// Route53 returns names with a trailing dot and escapes some characters as `\ooo`.
fn same_name(listed: &str, name: &str) -> bool {
    listed
        .strip_suffix('.')
        .unwrap_or(listed)
        .eq_ignore_ascii_case(name)
}

fn parse_list(xml: &str, name: &str) -> Result<Vec<Listed>, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("Route53 list reply: {e}"))?;
    let mut out = Vec::new();
    for set in doc
        .descendants()
        .filter(|n| n.has_tag_name("ResourceRecordSet"))
    {
        let listed_name = child_text(set, "Name").unwrap_or_default();
        if !same_name(listed_name, name) {
            continue;
        }
        let rtype = child_text(set, "Type").unwrap_or_default().to_owned();
        let has = |tag: &str| set.children().any(|c| c.has_tag_name(tag));
        if has("AliasTarget") {
            out.push(Listed::Other(rtype, "an alias"));
            continue;
        }
        if has("SetIdentifier") {
            out.push(Listed::Other(rtype, "a weighted/latency/failover/geo"));
            continue;
        }
        let ttl = child_text(set, "TTL")
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        let values = set
            .descendants()
            .filter(|n| n.has_tag_name("Value"))
            .filter_map(|n| n.text())
            .map(str::to_owned)
            .collect();
        out.push(Listed::Simple(RecordSet {
            name: name.to_owned(),
            rtype,
            ttl,
            values,
        }));
    }
    Ok(out)
}

fn parse_change_id(xml: &str) -> Result<String, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("Route53 change reply: {e}"))?;
    let id = doc
        .descendants()
        .find(|n| n.has_tag_name("ChangeInfo"))
        .and_then(|n| child_text(n, "Id"))
        .ok_or("Route53 change reply has no ChangeInfo/Id")?;
    Ok(id.trim().trim_start_matches("/change/").to_owned())
}

/// (Code, Message) of a Route53 `ErrorResponse`; empty strings when absent.
fn parse_error(xml: &str) -> (String, String) {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return (String::new(), String::new());
    };
    let find = |tag: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(tag))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned()
    };
    (find("Code"), find("Message"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn change_batch_xml(changes: &[Change], comment: &str) -> String {
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"{XMLNS}\"><ChangeBatch><Comment>{}</Comment><Changes>",
        escape(comment)
    );
    for c in changes {
        x.push_str(&format!(
            "<Change><Action>{}</Action><ResourceRecordSet><Name>{}.</Name><Type>{}</Type><TTL>{}</TTL><ResourceRecords>",
            c.action.as_str(),
            escape(&c.set.name),
            escape(&c.set.rtype),
            c.set.ttl
        ));
        for v in &c.set.values {
            x.push_str(&format!(
                "<ResourceRecord><Value>{}</Value></ResourceRecord>",
                escape(v)
            ));
        }
        x.push_str("</ResourceRecords></ResourceRecordSet></Change>");
    }
    x.push_str("</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"<?xml version="1.0"?>
<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
<ResourceRecordSets>
<ResourceRecordSet><Name>home.example.com.</Name><Type>A</Type><TTL>60</TTL>
<ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
<ResourceRecordSet><Name>home.example.com.</Name><Type>AAAA</Type><TTL>300</TTL>
<ResourceRecords><ResourceRecord><Value>2001:db8::1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
<ResourceRecordSet><Name>home.example.com.</Name><Type>MX</Type><TTL>300</TTL>
<ResourceRecords><ResourceRecord><Value>10 mx.example.com</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
<ResourceRecordSet><Name>home2.example.com.</Name><Type>A</Type><TTL>60</TTL>
<ResourceRecords><ResourceRecord><Value>192.0.2.9</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
<ResourceRecordSet><Name>www.home.example.com.</Name><Type>A</Type>
<AliasTarget><HostedZoneId>Z1</HostedZoneId><DNSName>x.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet>
</ResourceRecordSets><IsTruncated>true</IsTruncated><MaxItems>100</MaxItems></ListResourceRecordSetsResponse>"#;

    #[test]
    fn list_keeps_only_the_exact_name() {
        let sets = parse_list(LIST, "home.example.com").expect("xml");
        assert_eq!(sets.len(), 3);
        assert_eq!(
            sets[0],
            Listed::Simple(RecordSet {
                name: "home.example.com".into(),
                rtype: "A".into(),
                ttl: 60,
                values: vec!["192.0.2.1".into()],
            })
        );
        let alias = parse_list(LIST, "www.home.example.com").expect("xml");
        assert_eq!(alias, vec![Listed::Other("A".into(), "an alias")]);
        assert!(parse_list("<nope", "x").is_err());
    }

    fn existing() -> Existing {
        let sets = parse_list(LIST, "home.example.com").expect("xml");
        let mut e = Existing::default();
        for s in sets {
            if let Listed::Simple(s) = s {
                match s.rtype.as_str() {
                    "A" => e.a = Some(s),
                    "AAAA" => e.aaaa = Some(s),
                    _ => {}
                }
            }
        }
        e
    }

    fn desired(v4: Option<&str>, v6: Option<&str>, ttl: u32) -> Desired {
        Desired {
            name: "home.example.com".into(),
            ipv4: v4.map(|a| a.parse().expect("v4")),
            ipv6: v6.map(|a| a.parse().expect("v6")),
            ttl,
        }
    }

    #[test]
    fn plan_writes_only_what_differs() {
        let e = existing();
        assert!(plan(&e, &desired(Some("192.0.2.1"), None, 60)).is_empty());
        assert!(plan(&e, &desired(None, None, 60)).is_empty());
        let p = plan(&e, &desired(Some("192.0.2.2"), None, 60));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].action, Action::Upsert);
        assert_eq!(p[0].set.values, vec!["192.0.2.2".to_string()]);
        // Same address, different TTL: rewrite. AAAA at TTL 300 vs wanted 60.
        let p = plan(&e, &desired(Some("192.0.2.1"), Some("2001:DB8::1"), 60));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].set.rtype, "AAAA");
        let p = plan(
            &Existing::default(),
            &desired(Some("192.0.2.1"), Some("2001:db8::1"), 60),
        );
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn stamps_replace_the_exact_old_value() {
        let mut e = Existing::default();
        let first = stamp_changes(&e, "home.example.com", stamp_value(5, "k"));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].set.name, "_r53ddns.home.example.com");
        assert_eq!(first[0].set.values, vec!["\"t=5 k=k\"".to_string()]);
        e.stamp = Some(first[0].set.clone());
        assert_eq!(e.stamp_time(), Some(5));
        let next = stamp_changes(&e, "home.example.com", stamp_value(9, "k"));
        assert_eq!(next[0].action, Action::Delete);
        assert_eq!(next[0].set.values, vec!["\"t=5 k=k\"".to_string()]);
        assert_eq!(next[1].action, Action::Create);
        assert_eq!(parse_stamp("\"k=x t=12\""), Some(12));
        assert_eq!(parse_stamp("\"garbage\""), None);
    }

    #[test]
    fn change_batch_and_replies() {
        let xml = change_batch_xml(
            &plan(&Existing::default(), &desired(Some("192.0.2.1"), None, 60)),
            "a & b",
        );
        assert!(xml.contains("<Action>UPSERT</Action><ResourceRecordSet><Name>home.example.com.</Name><Type>A</Type><TTL>60</TTL>"));
        assert!(xml.contains("<Comment>a &amp; b</Comment>"));
        assert!(roxmltree::Document::parse(&xml).is_ok());
        let reply = r#"<ChangeResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>PENDING</Status></ChangeInfo></ChangeResourceRecordSetsResponse>"#;
        assert_eq!(parse_change_id(reply).as_deref(), Ok("C2682N5HXP0BZ4"));
        let err = r#"<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
        assert_eq!(
            parse_error(err),
            ("Throttling".to_string(), "Rate exceeded".to_string())
        );
    }
}
