//! What the server answers: a result the router records, or an error with a stable code.

use crate::json::Json;
use serde::de::{value, DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateResult {
    /// Route53 was changed.
    Updated,
    /// Route53 already held these records; nothing was written.
    Unchanged,
}

/// The records of one name as they stand after the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedHost {
    pub name: String,
    #[serde(default)]
    pub a: Vec<Ipv4Addr>,
    #[serde(default)]
    pub aaaa: Vec<Ipv6Addr>,
    pub ttl: u32,
}

/// `200 OK` body of `POST /v1/update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateResponse {
    pub result: UpdateResult,
    pub hosts: Vec<PublishedHost>,
    /// The source address this request arrived from, as the server saw it.
    pub observed: IpAddr,
    pub request_id: String,
    /// Server clock, Unix milliseconds.
    pub server_time: u64,
    /// The Route53 change id when something was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// The time every name's ordering stamp now carries (this request's): the router sends
    /// it back with `hosts` as the names' `last` ([`crate::Last`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<u64>,
}

/// Stable error codes. The HTTP status follows from the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not a valid update (JSON, names, addresses, families).
    Malformed,
    /// 401: unknown key, or the signature does not verify.
    BadSignature,
    /// 401: the request time is more than five minutes from the server's clock.
    /// `server_time` says what the server's clock reads.
    ClockSkew,
    /// 403: the key may not update this name (or it is outside the zone).
    NameNotAllowed,
    /// 404: no such path.
    NotFound,
    /// 405: wrong method for this path.
    MethodNotAllowed,
    /// 409: this very request was already accepted (same key, same time).
    Replayed,
    /// 409: a request for one of the names with a later (or the same) time was accepted
    /// before this one; this one would undo it.
    Superseded,
    /// 401: the request was signed for another endpoint host than the one it reached.
    WrongEndpoint,
    /// 410: the request speaks an older protocol version (`/v1/update`).
    UpgradeRequired,
    /// 403: the key's or user's registry entry is malformed; the message names the parameter.
    RegistryInvalid,
    /// 403: the deployment's IAM name patterns do not cover the name (Route53 AccessDenied).
    NotPermitted,
    /// 413: the body is larger than the server reads.
    TooLarge,
    /// 429: slow down; see `retry_after`.
    Throttled,
    /// 503: Route53 or the registry could not be reached in time; retry later.
    Unavailable,
    /// 500: a fault on the server; retry later.
    Internal,
}

/// How a client should react to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Retrying the same thing cannot help: a person must fix the key, names or config.
    Permanent,
    /// Correct the clock by `server_time` and send once more.
    CorrectClock,
    /// Wait (`retry_after` if given, else back off) and try again.
    Transient,
}

impl ErrorCode {
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::Malformed => 400,
            ErrorCode::BadSignature | ErrorCode::ClockSkew | ErrorCode::WrongEndpoint => 401,
            ErrorCode::NameNotAllowed | ErrorCode::RegistryInvalid | ErrorCode::NotPermitted => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Replayed | ErrorCode::Superseded => 409,
            ErrorCode::UpgradeRequired => 410,
            ErrorCode::TooLarge => 413,
            ErrorCode::Throttled => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    pub fn disposition(self) -> Disposition {
        match self {
            ErrorCode::ClockSkew => Disposition::CorrectClock,
            // A newer request won; a later attempt carries a later time.
            ErrorCode::Replayed
            | ErrorCode::Superseded
            | ErrorCode::Throttled
            | ErrorCode::Unavailable
            | ErrorCode::Internal => Disposition::Transient,
            _ => Disposition::Permanent,
        }
    }

    /// Retrying cannot help: only a person can fix it. The router stops sending on such a
    /// refusal, and the endpoint's `PermanentError` metric counts it (for proven senders
    /// only). This is the one definition of "permanent" for both.
    pub fn is_permanent(self) -> bool {
        self.disposition() == Disposition::Permanent
    }

    /// What the router's owner should do about it.
    pub fn advice(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "the request was refused as malformed; check the host names and interfaces in the config, and that router and endpoint run compatible versions",
            ErrorCode::BadSignature => "the endpoint does not know this router's key: register it with the command `route53-ddns pubkey` prints",
            ErrorCode::ClockSkew => "the router's clock is wrong; enable NTP (System → Time Synchronization)",
            ErrorCode::NameNotAllowed => "this router's key may not update that name: add the name to the key's entry in the registry, or fix the name in the config",
            ErrorCode::NotFound | ErrorCode::MethodNotAllowed => "the endpoint URL is wrong: use the URL the deployment printed (ending in .on.aws/ or your API domain), without a path",
            ErrorCode::Replayed => "this exact request was already applied; the next run will send a fresh one",
            ErrorCode::Superseded => "a newer update for this name was accepted first (from this router, or another key with the same name); a later attempt sends a fresh one",
            ErrorCode::WrongEndpoint => "the endpoint was reached under another host name than the router signed for: use the URL the deployment printed, or add your custom domain to the deployment's EndpointHosts",
            ErrorCode::UpgradeRequired => "the endpoint speaks a newer protocol: upgrade route53-ddns on the router",
            ErrorCode::RegistryInvalid => "this router's registry entry is malformed: fix the SSM parameter the message names (see docs/protocol.md §8)",
            ErrorCode::NotPermitted => "the deployment may not write this name: redeploy with a RecordNamePatterns value that covers it (lambda/README.md)",
            ErrorCode::TooLarge => "too many host names in one config; split them across fewer names",
            ErrorCode::Throttled => "the endpoint asks to slow down; it will be retried later",
            ErrorCode::Unavailable | ErrorCode::Internal => "the endpoint had a temporary problem; it will be retried",
        }
    }
}

/// Body of every non-2xx answer of `POST /v1/update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorCode,
    /// A human-readable explanation; never contains secrets.
    pub message: String,
    pub request_id: String,
    /// Server clock, Unix milliseconds.
    pub server_time: u64,
    /// Seconds to wait before retrying (with 429 and 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<IpAddr>,
}

// Reading answers on the router. The Lambda writes them with serde; the router reads them
// with the small reader in `crate::json` (see its module comment for why). Field names and
// optionality follow the serde attributes above; `tests/response.rs` checks the two agree.

impl UpdateResponse {
    /// Reads a `200` body; `None` when it is not a well-formed update response.
    pub fn from_body(body: &[u8]) -> Option<UpdateResponse> {
        let j = Json::parse(body).ok()?;
        Some(UpdateResponse {
            result: from_wire(j.get("result")?.as_str()?)?,
            hosts: j
                .get("hosts")?
                .as_array()?
                .iter()
                .map(PublishedHost::from_json)
                .collect::<Option<_>>()?,
            observed: j.get("observed")?.as_parsed()?,
            request_id: j.get("request_id")?.as_str()?.to_owned(),
            server_time: j.get("server_time")?.as_u64()?,
            change_id: optional(&j, "change_id", |v| v.as_str().map(str::to_owned))?,
            stamp: optional(&j, "stamp", Json::as_u64)?,
        })
    }
}

impl PublishedHost {
    fn from_json(j: &Json) -> Option<PublishedHost> {
        Some(PublishedHost {
            name: j.get("name")?.as_str()?.to_owned(),
            a: addresses(j, "a")?,
            aaaa: addresses(j, "aaaa")?,
            ttl: u32::try_from(j.get("ttl")?.as_u64()?).ok()?,
        })
    }
}

impl ErrorResponse {
    /// Reads an error body; `None` when it is not one (a proxy's page, say).
    pub fn from_body(body: &[u8]) -> Option<ErrorResponse> {
        let j = Json::parse(body).ok()?;
        Some(ErrorResponse {
            error: from_wire(j.get("error")?.as_str()?)?,
            message: j.get("message")?.as_str()?.to_owned(),
            request_id: j.get("request_id")?.as_str()?.to_owned(),
            server_time: j.get("server_time")?.as_u64()?,
            retry_after: optional(&j, "retry_after", Json::as_u64)?,
            observed: optional(&j, "observed", Json::as_parsed)?,
        })
    }
}

/// A unit enum from its wire name, through serde's own string deserializer, so the names
/// are the ones the serde attributes give (no second list to keep in step).
fn from_wire<T: DeserializeOwned>(name: &str) -> Option<T> {
    T::deserialize(IntoDeserializer::<value::Error>::into_deserializer(name)).ok()
}

/// `#[serde(default)]` for an `Option`: missing or null is `None`, a wrong type is an error.
fn optional<T>(j: &Json, key: &str, read: impl Fn(&Json) -> Option<T>) -> Option<Option<T>> {
    match j.get(key) {
        None | Some(Json::Null) => Some(None),
        Some(v) => read(v).map(Some),
    }
}

/// `#[serde(default)]` for a list of addresses: missing is empty.
fn addresses<T: std::str::FromStr>(j: &Json, key: &str) -> Option<Vec<T>> {
    match j.get(key) {
        None => Some(Vec::new()),
        Some(v) => v.as_array()?.iter().map(Json::as_parsed).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_on_the_wire() {
        let e = ErrorResponse {
            error: ErrorCode::NameNotAllowed,
            message: "no".into(),
            request_id: "r".into(),
            server_time: 1,
            retry_after: None,
            observed: None,
        };
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"error":"name_not_allowed","message":"no","request_id":"r","server_time":1}"#
        );
        assert_eq!(ErrorCode::NameNotAllowed.status(), 403);
        assert_eq!(
            ErrorCode::ClockSkew.disposition(),
            Disposition::CorrectClock
        );
        assert_eq!(
            ErrorCode::BadSignature.disposition(),
            Disposition::Permanent
        );
    }

    #[test]
    fn permanent_means_only_a_person_can_fix_it() {
        use ErrorCode::*;
        for code in [
            NameNotAllowed,
            RegistryInvalid,
            NotPermitted,
            BadSignature,
            Malformed,
        ] {
            assert!(code.is_permanent(), "{code:?}");
        }
        // The router corrects its clock; the rest pass or are retried.
        for code in [
            ClockSkew,
            Throttled,
            Unavailable,
            Internal,
            Superseded,
            Replayed,
        ] {
            assert!(!code.is_permanent(), "{code:?}");
        }
    }
}
