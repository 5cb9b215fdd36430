//! The route53-ddns wire protocol, defined once for both ends.
//!
//! The router signs an [`UpdateRequest`] with its Ed25519 key; the Lambda verifies it,
//! decides, and answers with an [`UpdateResponse`] or an [`ErrorResponse`].
//! `docs/protocol.md` is the prose version of this crate.
//!
//! | module        | what it is                                                                  |
//! |---------------|-----------------------------------------------------------------------------|
//! | [`request`]   | the update request body: which names, which addresses (or "auto")           |
//! | [`key`]       | key ids (checked public keys) and the router's signing key                 |
//! | [`signature`] | the exact bytes signed, the four `X-R53DDNS-*` headers, sign/verify          |
//! | [`response`]  | success and error bodies, stable error codes and their HTTP statuses        |
//! | [`address`]   | which addresses may be published (global unicast) and why others may not   |
//! | [`ed25519`]   | public-key checks: canonical encoding, not a small-order point              |
//! | [`hostname`]  | host names: the one syntax rule; the server's IDN → punycode (`idna` feature) |
//! | [`punycode`]  | a Unicode name's `xn--` form without IDNA tables: the router finds its names in answers |
//! | [`base64url`] | the unpadded base64url used for keys and signatures                         |
//! | [`json`]      | the router's small JSON reader (serde writes; this reads on 8 MB of flash)  |

pub mod address;
pub mod base64url;
pub mod ed25519;
pub mod hostname;
pub mod json;
pub mod key;
pub mod punycode;
pub mod request;
pub mod response;
pub mod signature;

pub use key::{KeyId, KeyIdError, SigningKey};
pub use request::{AddrSpec, HostUpdate, Last, UpdateRequest};
pub use response::{ErrorCode, ErrorResponse, PublishedHost, UpdateResponse, UpdateResult};
pub use signature::{SignedHeaders, VerifyError};

/// The path of the signed update call.
pub const UPDATE_PATH: &str = "/v2/update";
/// The protocol v1 path: answered 410 `upgrade_required`, so an old router says what to do.
pub const LEGACY_UPDATE_PATH: &str = "/v1/update";
/// The path of the dyndns2-compatible call, for ddclient, inadyn and stock routers.
pub const DYNDNS2_PATH: &str = "/nic/update";
/// The largest request body the server reads; anything larger is refused with 413.
pub const MAX_BODY_BYTES: usize = 4096;
/// At most this many names in one request (dyndns2 allows 20 too).
pub const MAX_HOSTS: usize = 20;
/// How far the request time may be from the server's clock, in milliseconds.
pub const CLOCK_WINDOW_MS: u64 = 300_000;
/// The TTLs a name may be published with (seconds): a registry entry's, and a `last`'s.
pub const TTL_RANGE: std::ops::RangeInclusive<u32> = 1..=86_400;
/// The largest time an ordering stamp holds (48 bits of Unix milliseconds, docs/protocol.md
/// §3): the server writes no larger one, and a `last` naming a larger one is no guess.
pub const MAX_STAMP_MS: u64 = (1 << 48) - 1;
