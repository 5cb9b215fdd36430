//! Tests of error classification of AWS replies and the retry policy.

use super::*;

#[test]
fn error_codes_sort_into_what_to_do() {
    assert_eq!(
        classify(400, "Throttling", "Rate exceeded"),
        AwsError::Throttled
    );
    assert!(matches!(
        classify(400, "PriorRequestNotComplete", "x"),
        AwsError::Busy(_)
    ));
    assert!(matches!(classify(503, "", ""), AwsError::Busy(_)));
    assert!(matches!(
        classify(400, "InvalidChangeBatch", "x"),
        AwsError::Rejected { .. }
    ));
}

#[test]
fn a_json_reply_without_an_error_type_is_unrecognised_not_a_refusal() {
    let reply = |status, body: &str| Reply {
        status,
        body: body.as_bytes().to_vec(),
    };
    let typed = r#"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":""}"#;
    assert!(matches!(
        json_answer(&reply(400, typed)),
        Err(AwsError::Rejected { code, .. }) if code == "ParameterNotFound"
    ));
    for body in ["<html>gateway</html>", "{}", ""] {
        let got = json_answer(&reply(400, body));
        assert!(
            matches!(&got, Err(AwsError::Unrecognised(m)) if m.starts_with("HTTP 400: ")),
            "{body:?} -> {got:?}"
        );
    }
    assert_eq!(json_answer(&reply(429, "")), Err(AwsError::Throttled));
    assert!(matches!(
        json_answer(&reply(502, "")),
        Err(AwsError::Busy(_))
    ));
}

#[test]
fn retry_stops_on_success_on_permanent_errors_and_at_the_cap() {
    let budget = Budget::new(u64::MAX, 0, Duration::from_secs(30));
    let mut n = 0;
    let r = with_retry(budget, || {
        n += 1;
        if n < 3 {
            Err(AwsError::Throttled)
        } else {
            Ok(n)
        }
    });
    assert_eq!(r, Ok(3));
    let mut n = 0;
    let r: Result<(), _> = with_retry(budget, || {
        n += 1;
        Err(AwsError::Fault("x".into()))
    });
    assert!(r.is_err());
    assert_eq!(n, 1);
    let tight = Budget::new(1_000, 1, Duration::from_secs(30));
    let mut n = 0;
    let r: Result<(), _> = with_retry(tight, || {
        n += 1;
        Err(AwsError::Throttled)
    });
    assert_eq!(r, Err(AwsError::Throttled));
    assert!(n < MAX_ATTEMPTS, "gave up within the budget after {n}");
}

#[test]
fn throttled_attempts_are_bounded_separately() {
    let budget = Budget::new(u64::MAX, 0, Duration::from_secs(30));
    for limit in [0, 2] {
        let mut n = 0;
        let r: Result<(), _> = with_retry_throttled(budget, limit, || {
            n += 1;
            Err(AwsError::Throttled)
        });
        assert_eq!(r, Err(AwsError::Throttled));
        assert_eq!(n, limit + 1, "tried once plus {limit} retries");
    }
    let mut n = 0;
    let r: Result<(), _> = with_retry_throttled(budget, 0, || {
        n += 1;
        Err(AwsError::Busy("x".into()))
    });
    assert!(r.is_err());
    assert_eq!(n, MAX_ATTEMPTS, "other transient errors keep their retries");
}
