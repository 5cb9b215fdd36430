//! route53-ddns, the router side: reads the UCI config and netifd's addresses, signs an
//! update with the router's Ed25519 key and sends it over HTTPS to the Lambda endpoint.
//! Data flows one way: config → addresses → request → response → state/log.
//!
//! | module         | concern                                                                                |
//! |----------------|----------------------------------------------------------------------------------------|
//! | [`cli`]        | argh command line, exit codes, the `update` loop: the one orchestrator above the rest  |
//! | [`updater`]    | one pass: addresses → no-change check → signed request → answer → state; asks rotation |
//! | [`uci`]        | parser of the UCI file syntax (quotes, `'\''`, lists, continuation)                    |
//! | [`schema`]     | the option table (defaults, ranges, docs, the `schema` JSON for LuCI)                  |
//! | [`values`]     | checks of one value: bool, endpoint URL, interface, IPv6 suffix, range                 |
//! | [`config`]     | the validated [`config::Config`] from a (size-capped) config file: plain data          |
//! | [`error`]      | the router's one error type and the exit codes                                         |
//! | [`retry`]      | the retry policy: waits, ceiling, `retry_after` clamp, paced waits                     |
//! | [`clock`]      | time, sleep and randomness for the updater, replaceable in tests                       |
//! | [`keycmd`]     | `keygen`/`pubkey` (`--next`, `--old`): key files, registry commands                    |
//! | [`key`]        | the key file: atomic 0600 create, no overwrite without `--force`, load                 |
//! | [`rotation`]   | the next-key policy the updater asks: tried first, fall back, promotion, old id        |
//! | [`command`]    | child processes (ubus, ip): deadline, process-group kill, output cap; pid alive        |
//! | [`detach`]     | `update --detach`: the run goes on in its own session                                  |
//! | [`files`]      | file reads with a size cap (config, key, state, /proc)                                 |
//! | [`netifd`]     | interface status from `ubus` (or the kernel when there is no ubus)                     |
//! | [`addresses`]  | the one place addresses are chosen: WAN IPv4/NAT, IPv6 and its interface, LAN hosts    |
//! | [`host_id`]    | a LAN host's `ipv6_suffix`: fixed suffix or MAC (EUI-64) under a prefix                |
//! | [`tls`]        | rustls setup: algorithms offered, trusted roots, handshake errors in words             |
//! | [`pem`]        | PEM bundle reading: capped lines, skipping, word-at-a-time search, base64              |
//! | [`roots`]      | the CA file (opened, capped), verification against it decoded on demand; hint          |
//! | [`transport`]  | one HTTPS POST: timeouts, pinned IP family, HTTP/1.1, answer or failure                |
//! | [`boot_order`] | wan6 up before wan: no route yet to an IPv4-only endpoint is not a fault               |
//! | [`record`]     | the per-host state a pass leaves, and the no-change check against it                   |
//! | [`status`]     | `status` and `check`: what the last runs did, is everything usable                     |
//! | [`leftovers`]  | what removing the package leaves, and the commands that remove it                      |
//! | [`shell`]      | POSIX single-quoting of every value in a command printed for the owner                 |
//! | [`state`]      | per-host JSON state on tmpfs, written atomically                                       |
//! | [`tidy`]       | the state directory kept usable: odd files removed, stale temporaries too              |
//! | [`lock`]       | one run at a time; events during a run cause at most one more pass                     |
//! | [`log`]        | syslog via `/dev/log` (+ stderr on a terminal), run and request ids                    |
//!
//! Imports go one way (no circles; `tests/system/test_layout.py`): `cli` and `updater` on
//! top, leaves below; `config` is data read by all.

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
