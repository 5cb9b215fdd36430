//! What the Lambda writes (serde) is what the router reads (`from_body`), for every shape of
//! answer; what is not an answer is read as none.

use route53_ddns_protocol::{
    ErrorCode, ErrorResponse, PublishedHost, UpdateResponse, UpdateResult,
};

const CODES: [ErrorCode; 11] = [
    ErrorCode::Malformed,
    ErrorCode::BadSignature,
    ErrorCode::ClockSkew,
    ErrorCode::NameNotAllowed,
    ErrorCode::NotFound,
    ErrorCode::MethodNotAllowed,
    ErrorCode::Replayed,
    ErrorCode::TooLarge,
    ErrorCode::Throttled,
    ErrorCode::Unavailable,
    ErrorCode::Internal,
];

fn ok_response(result: UpdateResult, change_id: Option<&str>) -> UpdateResponse {
    UpdateResponse {
        result,
        hosts: vec![
            PublishedHost {
                name: "home.example.com".into(),
                a: vec!["192.0.2.1".parse().expect("v4")],
                aaaa: vec!["2001:db8::1".parse().expect("v6")],
                ttl: 60,
            },
            PublishedHost {
                name: "nas.example.com".into(),
                a: vec![],
                aaaa: vec![
                    "2001:db8::2".parse().expect("v6"),
                    "2001:db8::3".parse().expect("v6"),
                ],
                ttl: u32::MAX,
            },
        ],
        observed: "2001:db8:ffff::1".parse().expect("ip"),
        request_id: "req-\"1\"-é".into(),
        server_time: 1_764_000_000_123,
        stamp: change_id.map(|_| 1_764_000_000_001),
        change_id: change_id.map(str::to_owned),
    }
}

#[test]
fn every_success_the_lambda_writes_is_read_back_whole() {
    for result in [UpdateResult::Updated, UpdateResult::Unchanged] {
        for change_id in [None, Some("/change/C0123")] {
            let sent = ok_response(result, change_id);
            let body = serde_json::to_vec(&sent).expect("serialise");
            assert_eq!(UpdateResponse::from_body(&body), Some(sent.clone()));
            let pretty = serde_json::to_vec_pretty(&sent).expect("serialise");
            assert_eq!(UpdateResponse::from_body(&pretty), Some(sent));
        }
    }
}

#[test]
fn every_error_the_lambda_writes_is_read_back_whole() {
    for code in CODES {
        for (retry_after, observed) in [(None, None), (Some(30), Some("192.0.2.9"))] {
            let sent = ErrorResponse {
                error: code,
                message: format!("{} went wrong", code.status()),
                request_id: "r-1".into(),
                server_time: 5,
                retry_after,
                observed: observed.map(|o| o.parse().expect("ip")),
            };
            let body = serde_json::to_vec(&sent).expect("serialise");
            assert_eq!(ErrorResponse::from_body(&body), Some(sent), "{code:?}");
            assert_eq!(UpdateResponse::from_body(&body), None);
        }
    }
}

#[test]
fn optional_fields_may_be_missing_or_null_but_not_of_another_type() {
    let base = r#""result":"updated","hosts":[{"name":"a.example.com","ttl":60}],"observed":"192.0.2.1","request_id":"r","server_time":1"#;
    let read = |extra: &str| UpdateResponse::from_body(format!("{{{base}{extra}}}").as_bytes());
    let plain = read("").expect("a and aaaa default to empty");
    assert!(plain.hosts[0].a.is_empty() && plain.hosts[0].aaaa.is_empty());
    assert_eq!(
        read(r#","change_id":null"#).map(|r| r.change_id),
        Some(None)
    );
    assert_eq!(read(r#","change_id":7"#), None);
    assert_eq!(read(r#","stamp":5"#).map(|r| r.stamp), Some(Some(5)));
    assert_eq!(read(r#","stamp":"5""#), None);
    assert!(
        read(r#","future_field":{"x":[1]}"#).is_some(),
        "unknown fields are ignored"
    );
}

#[test]
fn what_is_not_an_answer_is_read_as_none() {
    let good = serde_json::to_string(&ok_response(UpdateResult::Updated, None)).expect("serialise");
    let broken = [
        String::new(),
        "<html>502 Bad Gateway</html>".into(),
        good.replace("\"updated\"", "\"maybe\""),
        good.replace("\"192.0.2.1\"", "\"192.0.2.999\""),
        good.replace("\"ttl\":60", "\"ttl\":-60"),
        good.replace("\"ttl\":60", "\"ttl\":4294967296"),
        good.replace("\"server_time\":1764000000123", "\"server_time\":\"soon\""),
        good.replace("\"request_id\"", "\"request\""),
        good[..good.len() - 1].to_owned(),
    ];
    for body in broken {
        assert_eq!(UpdateResponse::from_body(body.as_bytes()), None, "{body}");
    }
    let unknown_code = r#"{"error":"teapot","message":"m","request_id":"r","server_time":1}"#;
    assert_eq!(ErrorResponse::from_body(unknown_code.as_bytes()), None);
}
