//! Request signing, protocol v2: Ed25519 over method, path, the host the router addressed,
//! time, key id and the whole body.
//!
//! The exact bytes signed (`message`) are, joined by `\n`:
//! ```text
//! route53-ddns-v2
//! POST
//! /v2/update
//! <host: the authority the router addressed, see `authority`>
//! <time: the X-R53DDNS-Time header text, Unix milliseconds, canonical decimal>
//! <key id: the X-R53DDNS-Key header text>
//! <body bytes, verbatim>
//! ```
//! and travel in four headers: `X-R53DDNS-Key`, `X-R53DDNS-Host`, `X-R53DDNS-Time`,
//! `X-R53DDNS-Signature`. The host header repeats the signed host, so that a server reached
//! under another name can say so (`wrong_endpoint`) instead of only "bad signature".
//! What is signed is the header text; only canonical texts are accepted, so there is exactly
//! one way to write each value.

use crate::base64url;
use crate::key::{KeyId, KeyIdError, SigningKey};
use ring::signature::{UnparsedPublicKey, ED25519};

pub const KEY_HEADER: &str = "x-r53ddns-key";
pub const HOST_HEADER: &str = "x-r53ddns-host";
pub const TIME_HEADER: &str = "x-r53ddns-time";
pub const SIGNATURE_HEADER: &str = "x-r53ddns-signature";
/// Domain separation: a signature made for this protocol version means nothing elsewhere.
pub const CONTEXT: &str = "route53-ddns-v2";
/// The longest time text accepted: 16 digits is far beyond any plausible clock.
const MAX_TIME_DIGITS: usize = 16;

/// The host line of the signed bytes, and the `Host` header the router sends: the host in
/// lower case, an IPv6 literal in brackets, and `:port` only when the port is not 443.
pub fn authority(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    if port == 443 {
        host
    } else {
        format!("{host}:{port}")
    }
}

/// The canonical form of a `Host` header or a front end's domain name, for comparing with
/// the signed host: lower case, a trailing `:443` dropped.
pub fn canonical_host(text: &str) -> String {
    let lower = text.trim().to_ascii_lowercase();
    match lower.strip_suffix(":443") {
        Some(h) => h.to_owned(),
        None => lower,
    }
}

/// Whether `text` is already in the form `authority` writes (what a signer must send).
pub fn is_canonical_host(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 300
        && canonical_host(text) == text
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
}

/// The exact bytes that are signed.
pub fn message(
    method: &str,
    path: &str,
    host: &str,
    time: &str,
    key: &str,
    body: &[u8],
) -> Vec<u8> {
    let head = format!("{CONTEXT}\n{method}\n{path}\n{host}\n{time}\n{key}\n");
    let mut msg = Vec::with_capacity(head.len() + body.len());
    msg.extend_from_slice(head.as_bytes());
    msg.extend_from_slice(body);
    msg
}

/// The four signature headers of one request. Built only from canonical texts, so
/// `time_ms.to_string()` is exactly the header text that was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub key_id: KeyId,
    /// The host the request was signed for (see `authority`).
    pub host: String,
    pub time_ms: u64,
    /// base64url, 86 characters.
    pub signature: String,
}

impl SigningKey {
    /// Signs one request for `host` (see `authority`) at `time_ms`.
    pub fn sign(
        &self,
        method: &str,
        path: &str,
        host: &str,
        time_ms: u64,
        body: &[u8],
    ) -> SignedHeaders {
        let time = time_ms.to_string();
        let id = self.key_id();
        let msg = message(method, path, host, &time, id.as_str(), body);
        SignedHeaders {
            key_id: id.clone(),
            host: host.to_owned(),
            time_ms,
            signature: base64url::encode(&self.sign_bytes(&msg)),
        }
    }
}

/// Why the signature headers were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// A header is missing, or not in its one canonical form: which header, and how.
    Malformed(&'static str, &'static str),
    /// The key header is well formed but names a weak or non-canonical point.
    WeakKey(crate::ed25519::KeyProblem),
    /// The request was signed for another host than the one it reached.
    WrongEndpoint,
    /// The request time is outside the window around the server's clock.
    ClockSkew,
    /// The signature does not match the key and the bytes.
    BadSignature,
}

/// A time header in its one canonical form: decimal digits, no leading zero (`0` itself is
/// canonical: it is what `0u64.to_string()` writes), no sign or spaces, at most 16 digits.
fn parse_time(text: &str) -> Result<u64, &'static str> {
    if text.is_empty() {
        return Err("is empty");
    }
    if text.contains(',') {
        return Err("appears more than once (or holds a comma)");
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be decimal digits only (no sign, spaces or fraction)");
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err("must not have leading zeros");
    }
    if text.len() > MAX_TIME_DIGITS {
        return Err("has more than 16 digits");
    }
    text.parse().map_err(|_| "is not a number")
}

impl SignedHeaders {
    /// Reads the headers as received; `get` looks a header up by its lower-case name.
    /// Each must be present once and in its canonical form; the error names the one that is not.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, VerifyError> {
        let once = |name: &'static str| -> Result<&'a str, VerifyError> {
            let v = get(name).ok_or(VerifyError::Malformed(name, "is missing"))?;
            if v.contains(',') {
                return Err(VerifyError::Malformed(
                    name,
                    "appears more than once (or holds a comma)",
                ));
            }
            Ok(v)
        };
        let key_id = KeyId::parse(once(KEY_HEADER)?).map_err(|e| match e {
            KeyIdError::Encoding => VerifyError::Malformed(KEY_HEADER, e.describe()),
            KeyIdError::Weak(p) => VerifyError::WeakKey(p),
        })?;
        let host = once(HOST_HEADER)?;
        if !is_canonical_host(host) {
            return Err(VerifyError::Malformed(
                HOST_HEADER,
                "must be the endpoint's host in lower case, with :port only when it is not 443",
            ));
        }
        let time_ms = parse_time(once(TIME_HEADER)?)
            .map_err(|why| VerifyError::Malformed(TIME_HEADER, why))?;
        let sig = once(SIGNATURE_HEADER)?;
        if sig.len() != 86 || base64url::decode(sig).is_none_or(|b| b.len() != 64) {
            return Err(VerifyError::Malformed(
                SIGNATURE_HEADER,
                "is not 86 characters of unpadded base64url (a 64-byte Ed25519 signature)",
            ));
        }
        Ok(SignedHeaders {
            key_id,
            host: host.to_owned(),
            time_ms,
            signature: sig.to_owned(),
        })
    }

    /// Refuses a request signed for a host other than `reached` or one of `also`.
    pub fn check_host(&self, reached: &str, also: &[String]) -> Result<(), VerifyError> {
        if canonical_host(reached) == self.host
            || also.iter().any(|h| canonical_host(h) == self.host)
        {
            return Ok(());
        }
        Err(VerifyError::WrongEndpoint)
    }

    /// Refuses a request time more than `window_ms` away from `server_ms`.
    pub fn check_clock(&self, server_ms: u64, window_ms: u64) -> Result<(), VerifyError> {
        if self.time_ms.abs_diff(server_ms) > window_ms {
            return Err(VerifyError::ClockSkew);
        }
        Ok(())
    }

    /// Verifies the signature over the request. Call after the host and clock checks; needs
    /// no network (the key id is the public key).
    pub fn verify(&self, method: &str, path: &str, body: &[u8]) -> Result<(), VerifyError> {
        let sig = base64url::decode(&self.signature)
            .ok_or(VerifyError::Malformed(SIGNATURE_HEADER, "is not base64url"))?;
        let time = self.time_ms.to_string();
        let msg = message(method, path, &self.host, &time, self.key_id.as_str(), body);
        UnparsedPublicKey::new(&ED25519, self.key_id.public_key())
            .verify(&msg, &sig)
            .map_err(|_| VerifyError::BadSignature)
    }
}
