//! Route53's REST/XML documents: a `ListResourceRecordSets` page parsed into record sets
//! (names unescaped as Route53 escapes them) and read per name, the `ChangeBatch` request
//! written, the change id and `ErrorResponse` of a reply read. Pure: no calls (see
//! `route53.rs`).

use crate::plan::{Change, Existing, RecordSet};
use crate::stamp::stamp_name;

const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// One listed record set, with the name as Route53 wrote it (lower case, no trailing dot).
#[derive(Debug, PartialEq, Eq)]
pub enum Listed {
    Simple(RecordSet),
    /// (name, type, description) of an alias or routing-policy set.
    Other(String, String, &'static str),
}

pub struct Page {
    pub sets: Vec<Listed>,
    /// Where the next page starts, when the listing was truncated.
    pub next: Option<String>,
}

/// What a page says about `name` and its stamp.
pub fn existing_of(sets: &[Listed], name: &str) -> Existing {
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
            Listed::Simple(s) if s.name == stamp => match s.rtype.as_str() {
                "AAAA" => out.stamp = Some(s.clone()),
                "TXT" => out.legacy_stamp = Some(s.clone()),
                _ => {}
            },
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

pub fn parse_page(xml: &str) -> Result<Page, String> {
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

pub fn parse_change_id(xml: &str) -> Result<String, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("Route53 change reply: {e}"))?;
    let id = doc
        .descendants()
        .find(|n| n.has_tag_name("ChangeInfo"))
        .and_then(|n| child_text(n, "Id"))
        .ok_or("Route53 change reply has no ChangeInfo/Id")?;
    Ok(id.trim().trim_start_matches("/change/").to_owned())
}

/// What a Route53 error reply says. Route53 answers in two shapes (both handled by the AWS
/// SDKs: aws-sdk-go `service/route53/unmarshal_error.go`, the Kotlin SDK's
/// `ChangeResourceRecordSetsUnmarshallingTest`):
/// - every API: the REST-XML `<ErrorResponse><Error><Type/><Code/><Message/></Error>
///   <RequestId/></ErrorResponse>`;
/// - `ChangeResourceRecordSets` refusing a batch: `<InvalidChangeBatch><Messages>
///   <Message/>…</Messages><RequestId/></InvalidChangeBatch>`, one `Message` per problem and
///   no `Code` element at all.
#[derive(Debug, PartialEq, Eq)]
pub enum ErrorReply {
    /// The error code (for the second shape, `InvalidChangeBatch`) and the message(s).
    Coded { code: String, message: String },
    /// Neither shape: the reply's first bytes, printable, for the log.
    Unrecognised(String),
}

pub fn parse_error(body: &[u8]) -> ErrorReply {
    let text = String::from_utf8_lossy(body);
    let parsed = roxmltree::Document::parse(&text).ok().and_then(|doc| {
        let root = doc.root_element();
        match root.tag_name().name() {
            "InvalidChangeBatch" => {
                let messages: Vec<&str> = root
                    .children()
                    .filter(|c| c.has_tag_name("Messages"))
                    .flat_map(|m| m.children().filter(|c| c.has_tag_name("Message")))
                    .filter_map(|m| m.text())
                    .map(str::trim)
                    .collect();
                let message = child_text(root, "Message").map(str::trim);
                let message = match (messages.is_empty(), message) {
                    (false, _) => messages.join(", "),
                    (true, Some(m)) => m.to_owned(),
                    (true, None) => return None,
                };
                Some(ErrorReply::Coded {
                    code: "InvalidChangeBatch".into(),
                    message,
                })
            }
            "ErrorResponse" | "Error" => {
                let error = if root.has_tag_name("Error") {
                    Some(root)
                } else {
                    root.children().find(|c| c.has_tag_name("Error"))
                }?;
                let code = child_text(error, "Code")?.trim();
                (!code.is_empty()).then(|| ErrorReply::Coded {
                    code: code.to_owned(),
                    message: child_text(error, "Message")
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                })
            }
            _ => None,
        }
    });
    parsed.unwrap_or_else(|| ErrorReply::Unrecognised(crate::aws::first_bytes(body)))
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
mod tests;
