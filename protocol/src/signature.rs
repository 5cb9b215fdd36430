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
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use std::fmt;

pub const KEY_HEADER: &str = "x-r53ddns-key";
pub const HOST_HEADER: &str = "x-r53ddns-host";
pub const TIME_HEADER: &str = "x-r53ddns-time";
pub const SIGNATURE_HEADER: &str = "x-r53ddns-signature";
/// Domain separation: a signature made for this protocol version means nothing elsewhere.
pub const CONTEXT: &str = "route53-ddns-v2";
/// The longest time text accepted: 16 digits is far beyond any plausible clock.
const MAX_TIME_DIGITS: usize = 16;

/// A router's identity: its Ed25519 public key, base64url without padding (43 characters).
/// Only a canonically encoded point that is not of small order is a key id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

/// Why a text is not a usable key id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyIdError {
    /// Not 43 characters of canonical base64url for 32 bytes.
    Encoding,
    /// 32 bytes, but not a key anyone can be held to (see `ed25519::check_public_key`).
    Weak(crate::ed25519::KeyProblem),
}

impl KeyIdError {
    pub fn describe(self) -> &'static str {
        match self {
            KeyIdError::Encoding => {
                "is not 43 characters of unpadded base64url (a 32-byte Ed25519 public key)"
            }
            KeyIdError::Weak(p) => p.describe(),
        }
    }
}

impl KeyId {
    /// The key id of 32 public-key bytes, refused when the point is weak or non-canonical.
    pub fn from_public_key(public: &[u8]) -> Result<Self, KeyIdError> {
        let bytes: &[u8; 32] = public.try_into().map_err(|_| KeyIdError::Encoding)?;
        crate::ed25519::check_public_key(bytes).map_err(KeyIdError::Weak)?;
        Ok(KeyId(base64url::encode(public)))
    }

    /// Accepts only the canonical text of a 32-byte key that passes `from_public_key`.
    pub fn parse(text: &str) -> Result<Self, KeyIdError> {
        if text.len() != 43 {
            return Err(KeyIdError::Encoding);
        }
        let bytes = base64url::decode(text).ok_or(KeyIdError::Encoding)?;
        Self::from_public_key(&bytes)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn public_key(&self) -> Vec<u8> {
        base64url::decode(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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

/// The router's private key. Its `Debug` output never shows key material.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    id: KeyId,
}

/// The key file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub &'static str);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl SigningKey {
    /// A fresh key as PKCS#8 v2 DER, the format the key file holds. A key whose public
    /// point would be refused as a key id is never returned (drawn again; practically never).
    pub fn generate_pkcs8() -> Result<Vec<u8>, KeyError> {
        let rng = SystemRandom::new();
        for _ in 0..8 {
            let doc = Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| KeyError("the system random number generator failed"))?;
            if Self::from_pkcs8(doc.as_ref()).is_ok() {
                return Ok(doc.as_ref().to_vec());
            }
        }
        Err(KeyError(
            "the system random number generator keeps producing unusable keys",
        ))
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| {
            KeyError("not an Ed25519 PKCS#8 key (regenerate it with `route53-ddns keygen --force`)")
        })?;
        let id = KeyId::from_public_key(pair.public_key().as_ref()).map_err(|_| {
            KeyError("the key's public point is weak or non-canonical (regenerate it with `route53-ddns keygen --force`)")
        })?;
        Ok(SigningKey { pair, id })
    }

    pub fn key_id(&self) -> &KeyId {
        &self.id
    }

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
        let msg = message(method, path, host, &time, self.id.as_str(), body);
        let sig = self.pair.sign(&msg);
        SignedHeaders {
            key_id: self.id.clone(),
            host: host.to_owned(),
            time_ms,
            signature: base64url::encode(sig.as_ref()),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
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

/// A time header in its one canonical form: decimal digits, no leading zero, no sign or
/// spaces, at most 16 digits.
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
    if text.starts_with('0') {
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

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "abc.lambda-url.eu-west-1.on.aws";

    fn key() -> SigningKey {
        let der = SigningKey::generate_pkcs8().expect("rng");
        SigningKey::from_pkcs8(&der).expect("fresh key")
    }

    fn headers_of(h: &SignedHeaders) -> Vec<(&'static str, String)> {
        vec![
            (KEY_HEADER, h.key_id.to_string()),
            (HOST_HEADER, h.host.clone()),
            (TIME_HEADER, h.time_ms.to_string()),
            (SIGNATURE_HEADER, h.signature.clone()),
        ]
    }

    fn parse_with(list: &[(&'static str, String)]) -> Result<SignedHeaders, VerifyError> {
        SignedHeaders::parse(|name| {
            list.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_str())
        })
    }

    fn with(
        h: &SignedHeaders,
        name: &'static str,
        value: &str,
    ) -> Result<SignedHeaders, VerifyError> {
        let mut list = headers_of(h);
        for (k, v) in list.iter_mut() {
            if *k == name {
                *v = value.to_owned();
            }
        }
        parse_with(&list)
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let k = key();
        let body = br#"{"hosts":[{"name":"home.example.com","ipv4":"auto"}]}"#;
        let h = k.sign("POST", "/v2/update", HOST, 1_700_000_000_000, body);
        assert_eq!(h.verify("POST", "/v2/update", body), Ok(()));
        assert_eq!(
            h.verify("GET", "/v2/update", body),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            h.verify("POST", "/v1/update", body),
            Err(VerifyError::BadSignature)
        );
        let mut tampered = body.to_vec();
        tampered[20] ^= 1;
        assert_eq!(
            h.verify("POST", "/v2/update", &tampered),
            Err(VerifyError::BadSignature)
        );
        let later = SignedHeaders {
            time_ms: h.time_ms + 1,
            ..h.clone()
        };
        assert_eq!(
            later.verify("POST", "/v2/update", body),
            Err(VerifyError::BadSignature)
        );
        let elsewhere = SignedHeaders {
            host: "evil.example.net".into(),
            ..h.clone()
        };
        assert_eq!(
            elsewhere.verify("POST", "/v2/update", body),
            Err(VerifyError::BadSignature)
        );
        let other = SignedHeaders {
            key_id: key().key_id().clone(),
            ..h
        };
        assert_eq!(
            other.verify("POST", "/v2/update", body),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn the_signed_bytes_are_exactly_the_documented_lines() {
        let msg = message("POST", "/v2/update", "h:8443", "12", "KEY", b"{}");
        assert_eq!(
            msg,
            b"route53-ddns-v2\nPOST\n/v2/update\nh:8443\n12\nKEY\n{}"
        );
    }

    #[test]
    fn headers_round_trip_through_text() {
        let h = key().sign("POST", "/v2/update", HOST, 42, b"{}");
        assert_eq!(parse_with(&headers_of(&h)), Ok(h));
    }

    #[test]
    fn only_canonical_time_texts_are_accepted() {
        let h = key().sign("POST", "/v2/update", HOST, 1_764_115_200_000, b"{}");
        let t = h.time_ms.to_string();
        for bad in [
            format!("0{t}"),
            format!("000{t}"),
            format!("+{t}"),
            format!(" {t}"),
            format!("{t} "),
            format!("{t},{t}"),
            format!("{t}.0"),
            "-5".into(),
            String::new(),
            "0".into(),
            "12345678901234567".into(),
        ] {
            match with(&h, TIME_HEADER, &bad) {
                Err(VerifyError::Malformed(name, _)) => assert_eq!(name, TIME_HEADER, "{bad:?}"),
                other => panic!("{bad:?} was not refused as a malformed time: {other:?}"),
            }
        }
        assert!(with(&h, TIME_HEADER, &t).is_ok());
    }

    #[test]
    fn every_header_is_named_when_missing_duplicated_or_malformed() {
        let h = key().sign("POST", "/v2/update", HOST, 42, b"{}");
        for name in [KEY_HEADER, HOST_HEADER, TIME_HEADER, SIGNATURE_HEADER] {
            let list: Vec<_> = headers_of(&h)
                .into_iter()
                .filter(|(k, _)| *k != name)
                .collect();
            assert_eq!(
                parse_with(&list),
                Err(VerifyError::Malformed(name, "is missing"))
            );
            let value = headers_of(&h)
                .into_iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v);
            let doubled = format!("{0},{0}", value.unwrap_or_default());
            assert!(
                matches!(with(&h, name, &doubled), Err(VerifyError::Malformed(n, _)) if n == name),
                "{name} twice"
            );
        }
        let sig = h.signature.clone();
        for bad in [&sig[1..], "x", &format!("{sig}A")] {
            assert!(matches!(
                with(&h, SIGNATURE_HEADER, bad),
                Err(VerifyError::Malformed(SIGNATURE_HEADER, _))
            ));
        }
        for bad in ["ABC.on.aws", "abc.on.aws:443", "", "a b", "abc.on.aws/x"] {
            assert!(
                matches!(
                    with(&h, HOST_HEADER, bad),
                    Err(VerifyError::Malformed(HOST_HEADER, _))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            with(&h, KEY_HEADER, &format!("{}=", h.key_id)),
            Err(VerifyError::Malformed(KEY_HEADER, _))
        ));
    }

    #[test]
    fn the_host_must_be_the_one_reached_or_a_listed_front() {
        let h = key().sign("POST", "/v2/update", HOST, 42, b"{}");
        assert_eq!(h.check_host(HOST, &[]), Ok(()));
        assert_eq!(
            h.check_host("ABC.lambda-url.eu-west-1.on.aws:443", &[]),
            Ok(())
        );
        assert_eq!(
            h.check_host("other.on.aws", &[]),
            Err(VerifyError::WrongEndpoint)
        );
        let fronted = key().sign("POST", "/v2/update", "ddns.example.com", 42, b"{}");
        assert_eq!(
            fronted.check_host(HOST, &[]),
            Err(VerifyError::WrongEndpoint)
        );
        assert_eq!(
            fronted.check_host(HOST, &["DDNS.example.com".into()]),
            Ok(())
        );
    }

    #[test]
    fn authority_is_the_host_header_form() {
        assert_eq!(authority("ABC.on.aws", 443), "abc.on.aws");
        assert_eq!(authority("127.0.0.1", 8443), "127.0.0.1:8443");
        assert_eq!(authority("::1", 8443), "[::1]:8443");
        assert_eq!(authority("2001:db8::1", 443), "[2001:db8::1]");
        for h in ["abc.on.aws", "127.0.0.1:8443", "[::1]:8443"] {
            assert!(is_canonical_host(h), "{h}");
        }
    }

    #[test]
    fn small_order_and_non_canonical_keys_are_no_key_ids() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let text = base64url::encode(&identity);
        assert!(matches!(KeyId::parse(&text), Err(KeyIdError::Weak(_))));
        let h = key().sign("POST", "/v2/update", HOST, 42, b"{}");
        assert!(matches!(
            with(&h, KEY_HEADER, &text),
            Err(VerifyError::WeakKey(_))
        ));
        // y = p (2^255 - 19) is a non-canonical encoding of y = 0.
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(matches!(
            KeyId::parse(&base64url::encode(&p)),
            Err(KeyIdError::Weak(_))
        ));
        assert_eq!(KeyId::parse("short"), Err(KeyIdError::Encoding));
    }

    #[test]
    fn clock_window_is_symmetric() {
        let h = key().sign("POST", "/v2/update", HOST, 1_000_000, b"");
        assert!(h.check_clock(1_000_000 + 300_000, 300_000).is_ok());
        assert!(h.check_clock(1_000_000 - 300_000, 300_000).is_ok());
        assert_eq!(
            h.check_clock(1_000_000 + 300_001, 300_000),
            Err(VerifyError::ClockSkew)
        );
        assert_eq!(
            h.check_clock(1_000_000 - 300_001, 300_000),
            Err(VerifyError::ClockSkew)
        );
    }

    #[test]
    fn debug_never_prints_key_material() {
        let der = SigningKey::generate_pkcs8().expect("rng");
        let k = SigningKey::from_pkcs8(&der).expect("fresh key");
        let dbg = format!("{k:?}");
        assert!(dbg.contains(k.key_id().as_str()));
        assert!(!dbg.contains(&base64url::encode(&der[16..48])));
    }
}
