//! Who is asking, proven: the signed door's Ed25519 check and the dyndns2 door's token
//! check both end in a [`Verified`], which only this module can construct. Authorisation
//! takes a `Verified`, so a request cannot reach Route53 without passing one of the two.

use crate::error::Error;
pub use crate::principal::Principal;
use crate::registry::{parse_token_entry, token_sha256, valid_user, Grant, Registry};
use crate::snapshot::{Judged, Standing};
use route53_ddns_protocol::{ErrorCode, SignedHeaders, VerifyError, CLOCK_WINDOW_MS};

/// Where a request stands in its names' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// A signed request's own time: accepted only if later than every stamp of its names.
    Signed(u64),
    /// dyndns2 has no client time: the server's clock, moved past the stored stamps.
    Server(u64),
}

/// A request whose sender is proven. Fields are private: only `signed` and `dyndns2` make one.
#[derive(Debug)]
pub struct Verified {
    principal: Principal,
    order: Order,
    /// dyndns2 reads the user's entry to check the token; its grants travel along.
    grants: Option<Vec<Grant>>,
}

impl Verified {
    /// Consumed by authorisation only.
    pub(crate) fn into_parts(self) -> (Principal, Order, Option<Vec<Grant>>) {
        (self.principal, self.order, self.grants)
    }
}

/// The facts the signed check needs from the request.
pub struct SignedInput<'a> {
    pub headers: SignedHeaders,
    pub method: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
    /// The host this request reached, and the deployment's other accepted hosts.
    pub reached: &'a str,
    pub also: &'a [String],
    pub now_ms: u64,
}

/// Host, then clock, then signature; no network is needed (the key id is the public key).
pub fn signed(input: SignedInput) -> Result<Verified, Error> {
    let h = input.headers;
    h.check_host(input.reached, input.also).map_err(|_| {
        Error::new(
            ErrorCode::WrongEndpoint,
            format!(
                "the request was signed for {} but reached {}; a request signed for another endpoint is not accepted here",
                h.host,
                route53_ddns_protocol::signature::canonical_host(input.reached)
            ),
        )
    })?;
    if h.check_clock(input.now_ms, CLOCK_WINDOW_MS).is_err() {
        let skew = i128::from(h.time_ms) - i128::from(input.now_ms);
        return Err(Error::new(
            ErrorCode::ClockSkew,
            format!(
                "the request time is {} s {} the server's clock (allowed: ±{} s); server_time is the server's clock",
                skew.unsigned_abs() / 1000,
                if skew > 0 { "ahead of" } else { "behind" },
                CLOCK_WINDOW_MS / 1000
            ),
        ));
    }
    h.verify(input.method, input.path, input.body)
        .map_err(|_| {
            Error::new(
                ErrorCode::BadSignature,
                "the signature does not match the key and the request",
            )
        })?;
    Ok(Verified {
        principal: Principal::Key(h.key_id),
        order: Order::Signed(h.time_ms),
        grants: None,
    })
}

/// The message for headers that could not even be parsed.
pub fn header_error(e: VerifyError) -> Error {
    match e {
        VerifyError::Malformed(name, why) => {
            Error::new(ErrorCode::BadSignature, format!("the {name} header {why}"))
        }
        VerifyError::WeakKey(p) => Error::new(
            ErrorCode::BadSignature,
            format!(
                "the key in {} {}",
                route53_ddns_protocol::signature::KEY_HEADER,
                p.describe()
            ),
        ),
        _ => Error::new(
            ErrorCode::BadSignature,
            "the signature headers are not valid",
        ),
    }
}

/// Compares in time independent of where the first difference is.
fn equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The dyndns2 door: user and token, the token compared as SHA-256 in constant time. A user
/// the registry snapshot does not list (`standing`, see `snapshot`) is refused without an
/// SSM call; one that is read but has no entry costs the same as a wrong token. `Err` codes:
/// `BadSignature` (badauth), `RegistryInvalid`, `Unavailable`, or an AWS failure.
pub fn dyndns2(
    registry: &Registry,
    judged: Judged,
    user: &str,
    token: &str,
    now_ms: u64,
    default_ttl: u32,
) -> Result<Verified, Error> {
    let badauth = || Error::new(ErrorCode::BadSignature, "bad user name or token");
    if !valid_user(user) {
        return Err(badauth());
    }
    match judged.standing {
        Standing::Read => {}
        // Not registered: no SSM call (the token cannot be checked without an entry anyway).
        Standing::Stranger => return Err(badauth()),
        Standing::Unavailable => {
            return Err(Error::new(
                ErrorCode::Unavailable,
                "the registry could not be read; retry later",
            ))
        }
    }
    let entry = registry
        .get("tokens", user)
        .map_err(|e| Error::aws("the registry", e))?;
    if entry.is_some() {
        crate::snapshot::learn(crate::snapshot::Kind::User, user, judged);
    }
    let presented = sha256(token.as_bytes());
    let expected = entry.as_deref().and_then(token_sha256).unwrap_or([0u8; 32]);
    // Always compare, so an unknown user costs the same as a wrong token; and judge the
    // rest of the entry only for a caller who holds the token, so a malformed entry is
    // `badauth` to everyone else.
    let Some(json) = entry.filter(|_| equal(&presented, &expected)) else {
        return Err(badauth());
    };
    match parse_token_entry(&json, default_ttl) {
        Err(why) => Err(Error::new(
            ErrorCode::RegistryInvalid,
            format!(
                "the registry entry {} is invalid: {why}",
                registry.parameter("tokens", user)
            ),
        )
        .proven()),
        Ok(grant) => Ok(Verified {
            principal: Principal::User(user.to_owned()),
            order: Order::Server(now_ms),
            grants: Some(grant.names),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_comparison() {
        let h = sha256(b"secret");
        assert!(equal(&h, &sha256(b"secret")));
        assert!(!equal(&h, &sha256(b"Secret")));
    }

    #[test]
    fn stamps_name_keys_and_users_apart() {
        assert_eq!(
            Principal::User("alice".into()).stamp_by(),
            crate::stamp::stamp_id("u=alice")
        );
        assert_eq!(Principal::User("alice".into()).describe(), "dyndns2:alice");
    }
}
