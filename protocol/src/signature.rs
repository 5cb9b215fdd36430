//! Request signing: Ed25519 over method, path, time, key id and the whole body.
//!
//! The exact bytes signed (`message`) are, joined by `\n`:
//! ```text
//! route53-ddns-v1
//! POST
//! /v1/update
//! <time: Unix milliseconds, decimal>
//! <key id>
//! <body bytes, verbatim>
//! ```
//! and travel in three headers: `X-R53DDNS-Key`, `X-R53DDNS-Time`, `X-R53DDNS-Signature`.

use crate::base64url;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use std::fmt;

pub const KEY_HEADER: &str = "x-r53ddns-key";
pub const TIME_HEADER: &str = "x-r53ddns-time";
pub const SIGNATURE_HEADER: &str = "x-r53ddns-signature";
/// Domain separation: a signature made for this protocol means nothing elsewhere.
pub const CONTEXT: &str = "route53-ddns-v1";

/// A router's identity: its Ed25519 public key, base64url without padding (43 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    pub fn from_public_key(public: &[u8]) -> Option<Self> {
        (public.len() == 32).then(|| KeyId(base64url::encode(public)))
    }

    /// Accepts only the canonical text of a 32-byte key.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = base64url::decode(text)?;
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

/// The exact bytes that are signed.
pub fn message(method: &str, path: &str, time_ms: u64, key: &KeyId, body: &[u8]) -> Vec<u8> {
    let head = format!("{CONTEXT}\n{method}\n{path}\n{time_ms}\n{key}\n");
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
    /// A fresh key as PKCS#8 v2 DER, the format the key file holds.
    pub fn generate_pkcs8() -> Result<Vec<u8>, KeyError> {
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| KeyError("the system random number generator failed"))
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| {
            KeyError("not an Ed25519 PKCS#8 key (regenerate it with `route53-ddns keygen --force`)")
        })?;
        let id = KeyId::from_public_key(pair.public_key().as_ref())
            .ok_or(KeyError("unexpected public key length"))?;
        Ok(SigningKey { pair, id })
    }

    pub fn key_id(&self) -> &KeyId {
        &self.id
    }

    pub fn sign(&self, method: &str, path: &str, time_ms: u64, body: &[u8]) -> SignedHeaders {
        let sig = self
            .pair
            .sign(&message(method, path, time_ms, &self.id, body));
        SignedHeaders {
            key_id: self.id.clone(),
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

/// The three signature headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub key_id: KeyId,
    pub time_ms: u64,
    /// base64url, 86 characters.
    pub signature: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// A header is missing or not in its canonical form.
    MissingOrMalformed,
    /// The request time is outside the window around the server's clock.
    ClockSkew,
    /// The signature does not match the key and the bytes.
    BadSignature,
}

impl SignedHeaders {
    /// Reads the headers as received (values only, already looked up case-insensitively).
    pub fn parse(
        key: Option<&str>,
        time: Option<&str>,
        sig: Option<&str>,
    ) -> Result<Self, VerifyError> {
        let key_id = key
            .and_then(KeyId::parse)
            .ok_or(VerifyError::MissingOrMalformed)?;
        let time_ms = time
            .filter(|t| !t.is_empty() && t.len() <= 16 && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .ok_or(VerifyError::MissingOrMalformed)?;
        let signature = sig
            .filter(|s| base64url::decode(s).is_some_and(|b| b.len() == 64))
            .ok_or(VerifyError::MissingOrMalformed)?
            .to_owned();
        Ok(SignedHeaders {
            key_id,
            time_ms,
            signature,
        })
    }

    /// Refuses a request time more than `window_ms` away from `server_ms`.
    pub fn check_clock(&self, server_ms: u64, window_ms: u64) -> Result<(), VerifyError> {
        if self.time_ms.abs_diff(server_ms) > window_ms {
            return Err(VerifyError::ClockSkew);
        }
        Ok(())
    }

    /// Verifies the signature over the request. Call after looking the key up in the registry.
    pub fn verify(&self, method: &str, path: &str, body: &[u8]) -> Result<(), VerifyError> {
        let sig = base64url::decode(&self.signature).ok_or(VerifyError::MissingOrMalformed)?;
        let msg = message(method, path, self.time_ms, &self.key_id, body);
        UnparsedPublicKey::new(&ED25519, self.key_id.public_key())
            .verify(&msg, &sig)
            .map_err(|_| VerifyError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        let der = SigningKey::generate_pkcs8().expect("rng");
        SigningKey::from_pkcs8(&der).expect("fresh key")
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let k = key();
        let body = br#"{"hosts":[{"name":"home.example.com","ipv4":"auto"}]}"#;
        let h = k.sign("POST", "/v1/update", 1_700_000_000_000, body);
        assert_eq!(h.verify("POST", "/v1/update", body), Ok(()));
        assert_eq!(
            h.verify("GET", "/v1/update", body),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            h.verify("POST", "/v2/update", body),
            Err(VerifyError::BadSignature)
        );
        let mut tampered = body.to_vec();
        tampered[20] ^= 1;
        assert_eq!(
            h.verify("POST", "/v1/update", &tampered),
            Err(VerifyError::BadSignature)
        );
        let later = SignedHeaders {
            time_ms: h.time_ms + 1,
            ..h.clone()
        };
        assert_eq!(
            later.verify("POST", "/v1/update", body),
            Err(VerifyError::BadSignature)
        );
        let other = SignedHeaders {
            key_id: key().key_id().clone(),
            ..h
        };
        assert_eq!(
            other.verify("POST", "/v1/update", body),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn headers_round_trip_through_text() {
        let k = key();
        let h = k.sign("POST", "/v1/update", 42, b"{}");
        let t = h.time_ms.to_string();
        let parsed = SignedHeaders::parse(Some(h.key_id.as_str()), Some(&t), Some(&h.signature));
        assert_eq!(parsed, Ok(h));
        assert_eq!(
            SignedHeaders::parse(Some("short"), Some("1"), Some("x")),
            Err(VerifyError::MissingOrMalformed)
        );
        assert_eq!(
            SignedHeaders::parse(Some(k.key_id().as_str()), Some("-5"), Some("x")),
            Err(VerifyError::MissingOrMalformed)
        );
    }

    #[test]
    fn clock_window_is_symmetric() {
        let h = key().sign("POST", "/v1/update", 1_000_000, b"");
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
