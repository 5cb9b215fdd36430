//! HTTP in and out: the Lambda Function URL / API Gateway HTTP API (payload 2.0) event and
//! its response, parsed with serde rather than `lambda_http` (fewer crates, same shape).

use route53_ddns_protocol::base64url;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// The subset of the payload-2.0 event this function reads. Every field may be absent
/// or `null` (emulators send `null` for an empty query string).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawEvent {
    #[serde(deserialize_with = "or_default")]
    raw_path: String,
    #[serde(deserialize_with = "or_default")]
    raw_query_string: String,
    #[serde(deserialize_with = "or_default")]
    headers: HashMap<String, String>,
    #[serde(deserialize_with = "or_default")]
    request_context: Option<RequestContext>,
    body: Option<String>,
    #[serde(deserialize_with = "or_default")]
    is_base64_encoded: bool,
    /// EventBridge members (a scheduled event); absent from Function URL events.
    #[serde(deserialize_with = "or_default")]
    source: String,
    #[serde(rename = "detail-type", deserialize_with = "or_default")]
    detail_type: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RequestContext {
    #[serde(deserialize_with = "or_default")]
    http: HttpContext,
    #[serde(deserialize_with = "or_default")]
    domain_name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct HttpContext {
    #[serde(deserialize_with = "or_default")]
    method: String,
    #[serde(deserialize_with = "or_default")]
    path: String,
    #[serde(deserialize_with = "or_default")]
    source_ip: String,
}

fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An HTTP request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// The connection's source address, when the front end told us.
    pub source_ip: Option<IpAddr>,
    /// The domain the front end routed on (Function URL / API Gateway `domainName`).
    pub domain_name: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The host this request reached: the Function URL's `requestContext.domainName`, which
    /// AWS sets to the URL's own domain whatever the client sent. Never the `Host` header
    /// (the client writes it); an event without a domain name reached no host of its own,
    /// and only the deployment's listed hosts can match.
    pub fn reached_host(&self) -> String {
        self.domain_name.clone()
    }
}

impl RawEvent {
    /// An EventBridge schedule (`source` `aws.events`, `detail-type` `Scheduled Event`) and
    /// no `requestContext`. A Function URL event always carries `requestContext.http`, and its
    /// top-level members are built by AWS: a caller of the URL sets only the method, path,
    /// query, headers and body, so no request through the URL is taken for a schedule.
    pub fn is_schedule(&self) -> bool {
        self.request_context.is_none()
            && self.source == "aws.events"
            && self.detail_type == "Scheduled Event"
    }

    /// Turns the event into a request; `Err` when the body is not valid base64.
    pub fn into_request(self) -> Result<Request, &'static str> {
        let body = match self.body {
            None => Vec::new(),
            Some(b) if self.is_base64_encoded => {
                decode_standard_base64(&b).ok_or("the body is not valid base64")?
            }
            Some(b) => b.into_bytes(),
        };
        let ctx = self.request_context.unwrap_or_default();
        let path = if self.raw_path.is_empty() {
            ctx.http.path
        } else {
            self.raw_path
        };
        Ok(Request {
            method: ctx.http.method.to_ascii_uppercase(),
            path,
            query: self.raw_query_string,
            headers: self
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body,
            source_ip: ctx.http.source_ip.parse().ok(),
            domain_name: ctx.domain_name,
        })
    }
}

/// The payload-2.0 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub status_code: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub is_base64_encoded: bool,
    /// Always empty; some Function URL emulators insist on the field.
    pub cookies: Vec<String>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: String) -> Self {
        let mut headers = BTreeMap::new();
        headers.insert("content-type".into(), content_type.into());
        headers.insert("cache-control".into(), "no-store".into());
        Response {
            status_code: status,
            headers,
            body,
            is_base64_encoded: false,
            cookies: Vec::new(),
        }
    }

    pub fn json(status: u16, body: &impl Serialize) -> Self {
        let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
        Self::new(status, "application/json", text)
    }

    pub fn text(status: u16, body: String) -> Self {
        Self::new(status, "text/plain; charset=utf-8", body)
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}

/// Standard (RFC 4648 §4) base64 with optional padding, via the protocol's base64url decoder.
pub fn decode_standard_base64(text: &str) -> Option<Vec<u8>> {
    let unpadded = text.trim_end_matches('=');
    if text.len() - unpadded.len() > 2 || unpadded.contains(['-', '_']) {
        return None;
    }
    let url: String = unpadded
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    base64url::decode(&url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_function_url_event() {
        let raw = r#"{"version":"2.0","rawPath":"/v1/update","rawQueryString":"a=b",
            "headers":{"X-R53DDNS-Key":"k","content-type":"application/json"},
            "requestContext":{"requestId":"r","http":{"method":"post","path":"/v1/update","sourceIp":"2001:db8::7"}},
            "body":"eyJhIjoxfQ==","isBase64Encoded":true}"#;
        let ev: RawEvent = serde_json::from_str(raw).expect("event");
        let req = ev.into_request().expect("request");
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/v1/update");
        assert_eq!(req.query, "a=b");
        assert_eq!(req.header("x-r53ddns-key"), Some("k"));
        assert_eq!(req.body, br#"{"a":1}"#);
        assert_eq!(req.source_ip, "2001:db8::7".parse().ok());
    }

    #[test]
    fn the_host_reached_is_the_domain_name_never_the_host_header() {
        let raw = r#"{"rawPath":"/v2/update","headers":{"host":"attacker.example"},
            "requestContext":{"domainName":"abc.lambda-url.eu-west-1.on.aws","http":{"method":"POST"}}}"#;
        let req = serde_json::from_str::<RawEvent>(raw)
            .expect("event")
            .into_request()
            .expect("request");
        assert_eq!(req.reached_host(), "abc.lambda-url.eu-west-1.on.aws");
        let raw = r#"{"rawPath":"/v2/update","headers":{"host":"attacker.example"}}"#;
        let req = serde_json::from_str::<RawEvent>(raw)
            .expect("event")
            .into_request()
            .expect("request");
        assert_eq!(req.reached_host(), "");
    }

    #[test]
    fn nulls_and_missing_fields_are_empty() {
        let raw = r#"{"rawPath":"/x","rawQueryString":null,"headers":null,"body":null}"#;
        let ev: RawEvent = serde_json::from_str(raw).expect("event");
        let req = ev.into_request().expect("request");
        assert_eq!(req.query, "");
        assert!(req.body.is_empty());
        assert_eq!(req.source_ip, None);
    }

    const SCHEDULE: &str = r#"{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",
        "time":"2026-12-02T02:00:00Z","region":"us-east-1",
        "resources":["arn:aws:events:us-east-1:123456789012:rule/route53-ddns-silence"],"detail":{}}"#;

    #[test]
    fn a_schedule_event_is_recognised_and_no_url_request_is() {
        let ev: RawEvent = serde_json::from_str(SCHEDULE).expect("event");
        assert!(ev.is_schedule());
        // A Function URL request, whatever it carries in headers, query or body.
        let url = r#"{"version":"2.0","rawPath":"/v2/update","rawQueryString":"source=aws.events",
            "headers":{"source":"aws.events","detail-type":"Scheduled Event"},
            "requestContext":{"http":{"method":"POST","path":"/v2/update","sourceIp":"192.0.2.1"}},
            "body":"{\"source\":\"aws.events\",\"detail-type\":\"Scheduled Event\"}"}"#;
        let ev: RawEvent = serde_json::from_str(url).expect("event");
        assert!(!ev.is_schedule());
        // Even the schedule's members beside a requestContext are a URL event.
        let mixed = SCHEDULE.replacen('{', r#"{"requestContext":{"http":{"method":"GET"}},"#, 1);
        let ev: RawEvent = serde_json::from_str(&mixed).expect("event");
        assert!(!ev.is_schedule());
        for other in [
            SCHEDULE.replace("aws.events", "custom.app"),
            SCHEDULE.replace("Scheduled Event", "Object Created"),
            "{}".to_owned(),
        ] {
            let ev: RawEvent = serde_json::from_str(&other).expect("event");
            assert!(!ev.is_schedule(), "{other}");
        }
    }

    #[test]
    fn standard_base64() {
        assert_eq!(
            decode_standard_base64("dXNlcjpwYXNz").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(
            decode_standard_base64("Pz8/Pw==").as_deref(),
            Some(&b"????"[..])
        );
        assert_eq!(decode_standard_base64("a-b_"), None);
        assert_eq!(decode_standard_base64("a==="), None);
    }
}
