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
    request_context: RequestContext,
    body: Option<String>,
    #[serde(deserialize_with = "or_default")]
    is_base64_encoded: bool,
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

    /// The host this request reached: the front end's domain name when it tells us (it is
    /// what it routed on), else the `Host` header.
    pub fn reached_host(&self) -> String {
        if self.domain_name.is_empty() {
            self.header("host").unwrap_or_default().to_owned()
        } else {
            self.domain_name.clone()
        }
    }
}

impl RawEvent {
    /// Turns the event into a request; `Err` when the body is not valid base64.
    pub fn into_request(self) -> Result<Request, &'static str> {
        let body = match self.body {
            None => Vec::new(),
            Some(b) if self.is_base64_encoded => {
                decode_standard_base64(&b).ok_or("the body is not valid base64")?
            }
            Some(b) => b.into_bytes(),
        };
        let path = if self.raw_path.is_empty() {
            self.request_context.http.path
        } else {
            self.raw_path
        };
        Ok(Request {
            method: self.request_context.http.method.to_ascii_uppercase(),
            path,
            query: self.raw_query_string,
            headers: self
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body,
            source_ip: self.request_context.http.source_ip.parse().ok(),
            domain_name: self.request_context.domain_name,
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
    fn nulls_and_missing_fields_are_empty() {
        let raw = r#"{"rawPath":"/x","rawQueryString":null,"headers":null,"body":null}"#;
        let ev: RawEvent = serde_json::from_str(raw).expect("event");
        let req = ev.into_request().expect("request");
        assert_eq!(req.query, "");
        assert!(req.body.is_empty());
        assert_eq!(req.source_ip, None);
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
