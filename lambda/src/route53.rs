//! The Route53 client for one hosted zone: reads the records and stamps of several names
//! in as few `ListResourceRecordSets` pages as Route53's order allows, and writes one
//! atomic ChangeBatch. The REST/XML API is spoken directly (see `aws.rs` for signing).

use crate::aws::{self, AwsError, Budget};
use crate::plan::{order_key, stamp_name, Change, Existing, RecordSet};
use std::collections::BTreeMap;

const API: &str = "2013-04-01";
const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
/// Records per page. Route53 allows up to 300; the names read here are usually adjacent.
const PAGE: u32 = 100;

/// Whether a `ChangeBatch` refusal means "the records changed under us" (a concurrent
/// writer), as opposed to a batch that is wrong in itself.
pub fn is_conflict(code: &str, message: &str) -> bool {
    code == "InvalidChangeBatch"
        && (message.contains("not found")
            || message.contains("do not match")
            || message.contains("already exists"))
}

/// A ChangeBatch that did not (provably) go through.
#[derive(Debug)]
pub struct ChangeFailure {
    pub error: AwsError,
    /// An attempt's outcome is unknown: it may have been applied.
    pub maybe_applied: bool,
}

pub struct Route53<'a> {
    pub endpoint: &'a str,
    pub zone_id: &'a str,
    pub budget: Budget,
    /// Counts calls, for the log line and the benchmark.
    pub calls: &'a std::cell::Cell<u32>,
}

/// One listed record set, with the name as Route53 wrote it (lower case, no trailing dot).
#[derive(Debug, PartialEq, Eq)]
enum Listed {
    Simple(RecordSet),
    /// (name, type, description) of an alias or routing-policy set.
    Other(String, String, &'static str),
}

struct Page {
    sets: Vec<Listed>,
    /// Where the next page starts, when the listing was truncated.
    next: Option<String>,
}

impl Route53<'_> {
    /// The A, AAAA and stamp records of each name. Reads page by page in Route53's order,
    /// starting at the first name not yet covered, so names next to each other (and each
    /// name's `_r53ddns.` stamp, which sorts right after it) share a read.
    pub fn read(&self, names: &[String]) -> Result<BTreeMap<String, Existing>, AwsError> {
        let mut todo: Vec<&String> = names.iter().collect();
        todo.sort_by_key(|n| order_key(n));
        todo.dedup();
        let mut out = BTreeMap::new();
        let mut i = 0;
        while i < todo.len() {
            let page = self.list(todo[i])?;
            let covered = |name: &str| match &page.next {
                None => true,
                Some(next) => order_key(&stamp_name(name)) < order_key(next),
            };
            let start = i;
            while i < todo.len() && covered(todo[i]) {
                out.insert(todo[i].clone(), existing_of(&page.sets, todo[i]));
                i += 1;
            }
            if i == start {
                // The page ended inside this name's records: read its stamp on its own.
                let mut e = existing_of(&page.sets, todo[i]);
                let stamp_page = self.list(&stamp_name(todo[i]))?;
                e.stamp = existing_of(&stamp_page.sets, todo[i]).stamp;
                out.insert(todo[i].clone(), e);
                i += 1;
            }
        }
        Ok(out)
    }

    fn list(&self, from: &str) -> Result<Page, AwsError> {
        // A wildcard's `*` is not a URI-unreserved character: percent-encoded, as SigV4
        // signs it (canonical names hold nothing else that needs it).
        let from = from.replace('*', "%2A");
        let url = format!(
            "{}/{API}/hostedzone/{}/rrset?name={from}.&maxitems={PAGE}",
            self.endpoint, self.zone_id
        );
        let reply = aws::with_retry(self.budget, || {
            self.calls.set(self.calls.get() + 1);
            let r = aws::send("GET", &url, &[], b"", "us-east-1", "route53")?;
            check(r)
        })?;
        parse_page(&reply).map_err(AwsError::Busy)
    }

    /// Sends one ChangeBatch; returns the change id (without `/change/`). On failure,
    /// says whether an attempt may have been applied although its answer was lost (the
    /// connection failed, or a 5xx), in which case a later refusal may be our own echo.
    pub fn change(&self, changes: &[Change], comment: &str) -> Result<String, ChangeFailure> {
        let url = format!("{}/{API}/hostedzone/{}/rrset/", self.endpoint, self.zone_id);
        let body = change_batch_xml(changes, comment);
        let uncertain = std::cell::Cell::new(false);
        let reply = aws::with_retry(self.budget, || {
            self.calls.set(self.calls.get() + 1);
            let sent = aws::send(
                "POST",
                &url,
                &[("content-type", "text/xml")],
                body.as_bytes(),
                "us-east-1",
                "route53",
            )
            .and_then(check);
            if matches!(sent, Err(AwsError::Busy(_))) {
                uncertain.set(true);
            }
            sent
        })
        .map_err(|error| ChangeFailure {
            error,
            maybe_applied: uncertain.get(),
        })?;
        parse_change_id(&reply).map_err(|m| ChangeFailure {
            error: AwsError::Busy(m),
            maybe_applied: true,
        })
    }
}

/// What a page says about `name` and its stamp.
fn existing_of(sets: &[Listed], name: &str) -> Existing {
    let stamp = stamp_name(name);
    let mut out = Existing::default();
    for set in sets {
        match set {
            Listed::Simple(s) if s.name == name => match s.rtype.as_str() {
                "A" => out.a = Some(s.clone()),
                "AAAA" => out.aaaa = Some(s.clone()),
                "CNAME" => out.foreign = Some("a CNAME record".into()),
                _ => {}
            },
            Listed::Simple(s) if s.name == stamp && s.rtype == "TXT" => out.stamp = Some(s.clone()),
            Listed::Other(n, rtype, what)
                if n == name && matches!(rtype.as_str(), "A" | "AAAA" | "CNAME") =>
            {
                out.foreign = Some(format!("{what} {rtype} record"))
            }
            _ => {}
        }
    }
    out
}

fn check(reply: aws::Reply) -> Result<String, AwsError> {
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    if (200..300).contains(&reply.status) {
        return Ok(text);
    }
    let (code, message) = parse_error(&text);
    Err(aws::classify(reply.status, &code, &message))
}

fn child_text<'a>(node: roxmltree::Node<'a, 'a>, tag: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.has_tag_name(tag))
        .and_then(|c| c.text())
}

/// Route53 writes names in lower case with a trailing dot, and every character but a-z,
/// 0-9, `-` and `_` as a `\ddd` octal escape: a wildcard `*.x` is listed as `\052.x.`.
/// Returns the name as this function spells it (`*.x`).
fn listed_name(text: &str) -> String {
    let text = text.strip_suffix('.').unwrap_or(text);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 4)
            .filter(|_| bytes[i] == b'\\')
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| d.bytes().all(|b| (b'0'..=b'7').contains(&b)))
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).to_ascii_lowercase()
}

fn parse_page(xml: &str) -> Result<Page, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("Route53 list reply: {e}"))?;
    let mut sets = Vec::new();
    for set in doc
        .descendants()
        .filter(|n| n.has_tag_name("ResourceRecordSet"))
    {
        let name = listed_name(child_text(set, "Name").unwrap_or_default());
        let rtype = child_text(set, "Type").unwrap_or_default().to_owned();
        let has = |tag: &str| set.children().any(|c| c.has_tag_name(tag));
        if has("AliasTarget") {
            sets.push(Listed::Other(name, rtype, "an alias"));
            continue;
        }
        if has("SetIdentifier") {
            sets.push(Listed::Other(
                name,
                rtype,
                "a weighted/latency/failover/geo",
            ));
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
        sets.push(Listed::Simple(RecordSet {
            name,
            rtype,
            ttl,
            values,
        }));
    }
    let root = doc.root_element();
    let truncated = child_text(root, "IsTruncated").is_some_and(|t| t.trim() == "true");
    let next = match (truncated, child_text(root, "NextRecordName")) {
        (false, _) => None,
        (true, Some(n)) => Some(listed_name(n)),
        (true, None) => return Err("Route53 list reply is truncated without NextRecordName".into()),
    };
    Ok(Page { sets, next })
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
    use crate::plan::{plan, Desired};

    const LIST: &str = r#"<?xml version="1.0"?>
<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
<ResourceRecordSets>
<ResourceRecordSet><Name>home.example.com.</Name><Type>A</Type><TTL>60</TTL>
<ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
<ResourceRecordSet><Name>home.example.com.</Name><Type>AAAA</Type><TTL>300</TTL>
<ResourceRecords><ResourceRecord><Value>2001:db8::1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
<ResourceRecordSet><Name>home.example.com.</Name><Type>MX</Type><TTL>300</TTL>
<ResourceRecords><ResourceRecord><Value>10 mx.example.com</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
<ResourceRecordSet><Name>_r53ddns.home.example.com.</Name><Type>TXT</Type><TTL>60</TTL>
<ResourceRecords><ResourceRecord><Value>"t=5 k=K"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
<ResourceRecordSet><Name>www.home.example.com.</Name><Type>A</Type>
<AliasTarget><HostedZoneId>Z1</HostedZoneId><DNSName>x.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet>
</ResourceRecordSets><IsTruncated>true</IsTruncated><NextRecordName>home2.example.com.</NextRecordName><NextRecordType>A</NextRecordType><MaxItems>100</MaxItems></ListResourceRecordSetsResponse>"#;

    #[test]
    fn a_page_gives_each_name_its_records_and_stamp() {
        let page = parse_page(LIST).expect("xml");
        assert_eq!(page.next.as_deref(), Some("home2.example.com"));
        let e = existing_of(&page.sets, "home.example.com");
        assert_eq!(
            e.a.as_ref().map(|s| s.values.clone()),
            Some(vec!["192.0.2.1".to_string()])
        );
        assert_eq!(e.aaaa.as_ref().map(|s| s.ttl), Some(300));
        assert_eq!(e.stamp().map(|s| s.time_ms), Some(5));
        assert_eq!(e.foreign, None);
        let alias = existing_of(&page.sets, "www.home.example.com");
        assert_eq!(alias.foreign.as_deref(), Some("an alias A record"));
        assert!(parse_page("<nope").is_err());
        let cut = LIST.replace("<NextRecordName>home2.example.com.</NextRecordName>", "");
        assert!(parse_page(&cut).is_err(), "truncated without a next name");
    }

    #[test]
    fn listed_names_are_unescaped_as_route53_escapes_them() {
        assert_eq!(listed_name("\\052.home.example.com."), "*.home.example.com");
        assert_eq!(listed_name("Home.Example.com."), "home.example.com");
        assert_eq!(listed_name("a\\055b.example.com"), "a-b.example.com");
        // Not an escape: kept as is (and then matches no name this function writes).
        assert_eq!(listed_name("\\09.example.com."), "\\09.example.com");
        assert_eq!(listed_name("x\\05"), "x\\05");
        let xml = LIST.replace("www.home.example.com.", "\\052.home.example.com.");
        let page = parse_page(&xml).expect("xml");
        let wild = existing_of(&page.sets, "*.home.example.com");
        assert_eq!(wild.foreign.as_deref(), Some("an alias A record"));
        let stamped = LIST.replace(
            "<Name>_r53ddns.home.example.com.</Name>",
            "<Name>_r53ddns._wildcard.home.example.com.</Name>",
        );
        let stamped = stamped.replace(
            "<Name>home.example.com.</Name><Type>A</Type>",
            "<Name>\\052.home.example.com.</Name><Type>A</Type>",
        );
        let page = parse_page(&stamped).expect("xml");
        let e = existing_of(&page.sets, "*.home.example.com");
        assert_eq!(
            e.a.as_ref().map(|a| a.values.clone()),
            Some(vec!["192.0.2.1".to_string()])
        );
        assert_eq!(e.stamp().map(|s| s.time_ms), Some(5));
    }

    #[test]
    fn conflicts_are_told_from_broken_batches() {
        assert!(is_conflict(
            "InvalidChangeBatch",
            "[Tried to delete resource record set [name='_r53ddns.a.example.com.', type='TXT'] but it was not found]"
        ));
        assert!(is_conflict(
            "InvalidChangeBatch",
            "[Tried to create resource record set [name='x.', type='TXT'] but it already exists]"
        ));
        assert!(!is_conflict(
            "InvalidChangeBatch",
            "[RRSet with DNS name x. is not permitted in zone example.com.]"
        ));
        assert!(!is_conflict("Throttling", "not found"));
    }

    #[test]
    fn change_batch_and_replies() {
        let d = Desired {
            name: "home.example.com".into(),
            ipv4: "192.0.2.1".parse().ok(),
            ipv6: None,
            ttl: 60,
        };
        let xml = change_batch_xml(&plan(&Existing::default(), &d), "a & b");
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
