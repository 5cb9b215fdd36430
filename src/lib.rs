//! route53-ddns, the router side: reads the UCI config and netifd's addresses, signs an
//! update with the router's Ed25519 key and sends it over HTTPS to the Lambda endpoint.
//! Data flows one way: config → addresses → request → response → state/log.
//!
//! | module        | concern                                                                    |
//! |---------------|----------------------------------------------------------------------------|
//! | [`cli`]       | argh command line, exit codes, the `update` loop                            |
//! | [`uci`]       | parser of the UCI file syntax (quotes, `'\''`, lists, continuation)         |
//! | [`schema`]    | the option table (defaults, ranges, docs, the `schema` JSON for LuCI)       |
//! | [`values`]    | checks of one value: bool, endpoint URL, interface, IPv6 suffix, range     |
//! | [`config`]    | the validated [`config::Config`] from a (size-capped) config file           |
//! | [`error`]     | the router's one error type and the exit codes                             |
//! | [`retry`]     | the retry policy: waits, ceiling, `retry_after` clamp, paced waits         |
//! | [`keycmd`]    | `keygen`/`pubkey` (`--next`, `--old`): key files, registry commands        |
//! | [`key`]       | the key file: atomic 0600 create, no overwrite without `--force`, load      |
//! | [`rotation`]  | next key: tried first, fallback to the current key, promotion, old key id  |
//! | [`command`]   | child processes (ubus, ip): deadline, process-group kill, output cap       |
//! | [`files`]     | file reads with a size cap (config, key, state, /proc)                     |
//! | [`netifd`]    | interface status from `ubus` (or the kernel when there is no ubus)          |
//! | [`addresses`] | which address each host gets: stable global IPv6, LAN suffix, NAT → "auto"  |
//! | [`wan6`]      | which interface the router's IPv6 comes from (wan6, or PPPoE's wan_6)       |
//! | [`host_id`]   | a LAN host's `ipv6_suffix`: fixed suffix or MAC (EUI-64) under a prefix     |
//! | [`tls`]       | rustls setup: algorithms offered, trusted roots, handshake errors in words  |
//! | [`pem`]       | PEM bundle reading: capped lines, skipping, word-at-a-time search, base64  |
//! | [`roots`]     | certificate verification against the CA bundle, decoded on demand; hint   |
//! | [`transport`] | one HTTPS POST: timeouts, pinned IP family, HTTP/1.1, answer or failure    |
//! | [`boot_order`]| wan6 up before wan: no route yet to an IPv4-only endpoint is not a fault |
//! | [`updater`]   | one pass: no-change check, signed request, staged retries, recording        |
//! | [`leftovers`] | what removing the package leaves, and the commands that remove it        |
//! | [`shell`]     | POSIX single-quoting of every value in a command printed for the owner    |
//! | [`idn`]       | a Unicode name's `xn--` (Punycode) form, to find it in the endpoint's answer |
//! | [`state`]     | per-host JSON state on tmpfs, written atomically                            |
//! | [`tidy`]      | the state directory kept usable: odd files removed, stale temporaries too   |
//! | [`lock`]      | one run at a time; events during a run cause at most one more pass          |
//! | [`log`]       | syslog via `/dev/log` (+ stderr on a terminal), run and request ids         |

pub mod addresses;
pub mod boot_order;
pub mod cli;
pub mod clock;
pub mod command;
pub mod config;
pub mod detach;
pub mod error;
pub mod files;
pub mod host_id;
pub mod idn;
pub mod key;
pub mod keycmd;
pub mod leftovers;
pub mod lock;
pub mod log;
pub mod netifd;
pub mod pem;
pub mod record;
pub mod retry;
pub mod roots;
pub mod rotation;
pub mod schema;
pub mod shell;
pub mod state;
pub mod status;
pub mod tidy;
pub mod tls;
pub mod transport;
pub mod uci;
pub mod updater;
pub mod values;
