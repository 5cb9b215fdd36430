//! Router keys: the key id (a checked Ed25519 public key) and the signing key that never
//! leaves the router.

use crate::base64url;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use std::fmt;

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

    pub(crate) fn public_key(&self) -> Vec<u8> {
        base64url::decode(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
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

    /// The Ed25519 signature of `msg` (the signed bytes: `signature::message`).
    pub(crate) fn sign_bytes(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
