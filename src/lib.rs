//! route53-ddns, the router side: reads the UCI config and netifd's addresses, signs an
//! update with the router's Ed25519 key and sends it over HTTPS to the Lambda endpoint.
//! Data flows one way: config → addresses → request → response → state/log.
//!
//! | module        | concern                                                                    |
//! |---------------|----------------------------------------------------------------------------|
//! | [`cli`]       | argh command line, exit codes, `status`/`check`/`keygen`/`pubkey` output    |
//! | [`uci`]       | parser of the UCI file syntax (quotes, `'\''`, lists, continuation)         |
//! | [`config`]    | the option schema (validation, defaults, `schema` JSON) and [`config::Config`] |
//! | [`key`]       | the key file: atomic 0600 create, no overwrite without `--force`, load      |
//! | [`netifd`]    | interface status from `ubus` (or the kernel when there is no ubus)          |
//! | [`addresses`] | which address each host gets: stable global IPv6, LAN suffix, NAT → "auto"  |
//! | [`tls`]       | rustls setup: algorithms offered, trusted roots, handshake errors in words  |
//! | [`roots`]     | certificate verification against the CA bundle, decoded on demand          |
//! | [`transport`] | one HTTPS POST: timeouts, pinned IP family, HTTP/1.1, answer or failure    |
//! | [`updater`]   | one pass: no-change check, signed request, staged retries, recording        |
//! | [`state`]     | per-host JSON state on tmpfs, written atomically                            |
//! | [`lock`]      | one run at a time; events during a run cause at most one more pass          |
//! | [`log`]       | syslog via `/dev/log` (+ stderr on a terminal), run and request ids         |

pub mod addresses;
pub mod cli;
pub mod config;
pub mod key;
pub mod lock;
pub mod log;
pub mod netifd;
pub mod roots;
pub mod state;
pub mod tls;
pub mod transport;
pub mod uci;
pub mod updater;
