//! Tests of Route53's XML: list pages, change ids, error replies, ChangeBatch.

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
<ResourceRecordSet><Name>_r53ddns.home.example.com.</Name><Type>AAAA</Type><TTL>60</TTL>
<ResourceRecords><ResourceRecord><Value>100:1::9:0:0:1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
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
    // The AAAA stamp (time 9) and an earlier version's TXT stamp (time 5): both kept,
    // the newest counts.
    assert_eq!(e.stamp().map(|s| s.time_ms), Some(9));
    assert_eq!(e.stamp.as_ref().map(|s| s.rtype.as_str()), Some("AAAA"));
    assert_eq!(
        e.legacy_stamp.as_ref().map(|s| s.values.clone()),
        Some(vec!["\"t=5 k=K\"".to_string()])
    );
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
    assert_eq!(e.stamp().map(|s| s.time_ms), Some(9));
    assert!(e.legacy_stamp.is_some());
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
}

fn coded(code: &str, message: &str) -> ErrorReply {
    ErrorReply::Coded {
        code: code.into(),
        message: message.into(),
    }
}

#[test]
fn error_replies_are_read_in_both_of_route53s_shapes() {
    // The REST-XML shape every Route53 API answers in.
    let err = br#"<?xml version="1.0"?>
<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
    assert_eq!(parse_error(err), coded("Throttling", "Rate exceeded"));
    let prior = br#"<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>PriorRequestNotComplete</Code><Message>The request was rejected because Route 53 was still processing a prior request.</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
    assert!(
        matches!(parse_error(prior), ErrorReply::Coded { code, .. } if code == "PriorRequestNotComplete")
    );
    // ChangeResourceRecordSets' own shape for a refused batch: no Code element; one
    // Message per problem (as the AWS SDKs' Route53 error customisations read it).
    let batch = br#"<?xml version="1.0" encoding="UTF-8"?>
<InvalidChangeBatch xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
  <Messages>
    <Message>Tried to delete resource record set [name='_r53ddns.home.example.com.', type='TXT'] but it was not found</Message>
    <Message>Tried to create resource record set [name='home.example.com.', type='A'] but it already exists</Message>
  </Messages>
  <RequestId>b25f48e8-84fd-11e6-80d9-574e0c4664cb</RequestId>
</InvalidChangeBatch>"#;
    assert_eq!(
        parse_error(batch),
        coded(
            "InvalidChangeBatch",
            "Tried to delete resource record set [name='_r53ddns.home.example.com.', type='TXT'] but it was not found, Tried to create resource record set [name='home.example.com.', type='A'] but it already exists"
        )
    );
    let single = br#"<InvalidChangeBatch xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Message>Tried to delete resource record set [name='x.example.com.', type='TXT'] but the values provided do not match the current values</Message><RequestId>r</RequestId></InvalidChangeBatch>"#;
    assert!(
        matches!(parse_error(single), ErrorReply::Coded { code, message }
        if code == "InvalidChangeBatch" && message.ends_with("do not match the current values"))
    );
    let bare = br#"<Error><Code>AccessDenied</Code><Message>denied</Message></Error>"#;
    assert_eq!(parse_error(bare), coded("AccessDenied", "denied"));
}

#[test]
fn an_unrecognised_reply_keeps_only_its_first_bytes_printable() {
    for body in [
        &b"<html><body>502 Bad Gateway</body></html>"[..],
        b"",
        b"<ErrorResponse><Error><Message>no code</Message></Error></ErrorResponse>",
        b"<InvalidChangeBatch><Messages/></InvalidChangeBatch>",
        b"{\"message\":\"json\"}",
    ] {
        assert!(
            matches!(parse_error(body), ErrorReply::Unrecognised(_)),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    let mut long = b"<x>\x01\xff".to_vec();
    long.extend(std::iter::repeat_n(b'a', 10_000));
    let ErrorReply::Unrecognised(start) = parse_error(&long) else {
        panic!("a foreign reply was read as an error");
    };
    assert!(start.starts_with("<x>\\x01\\xff"), "{start}");
    assert!(
        start.len() < crate::aws::UNRECOGNISED_PREFIX + 40,
        "{}",
        start.len()
    );
    assert!(start.ends_with("(10005 bytes)"), "{start}");
}
