//! Command line (argh): `route53-ddns [--config PATH] <update|status|keygen|pubkey|check|schema>`.

use crate::config::{self, Config, DEFAULT_CONFIG};
use crate::key::KeyFileError;
use crate::lock::Coalescer;
use crate::netifd::Interfaces;
use crate::state::{ErrorInfo, Store};
use crate::updater::{self, Exit, SystemClock};
use argh::FromArgs;
use route53_ddns_protocol::SigningKey;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `println!` that ignores a closed stdout (`| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[derive(FromArgs)]
/// Dynamic DNS for OpenWrt: publishes this router's addresses in your Route53 zone
/// through a signed HTTPS endpoint.
struct Args {
    /// config file (default /etc/config/route53-ddns)
    #[argh(option, default = "PathBuf::from(DEFAULT_CONFIG)")]
    config: PathBuf,
    /// print the version and exit
    #[argh(switch)]
    version: bool,
    #[argh(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(FromArgs)]
#[argh(subcommand)]
enum Cmd {
    Update(Update),
    Status(Status),
    Keygen(Keygen),
    Pubkey(Pubkey),
    Check(Check),
    Schema(Schema),
}

#[derive(FromArgs)]
/// Publish the current addresses if they changed (run by hotplug and the safety-net timer).
/// Exit: 0 updated or confirmed, 3 nothing to do, 4 config or key error, 5 refused
/// permanently, 6 transient failure.
#[argh(subcommand, name = "update")]
struct Update {
    /// netifd interface that changed ($INTERFACE); others exit 3 at once
    #[argh(option)]
    interface: Option<String>,
    /// send even if nothing changed, and retry a permanent refusal
    #[argh(switch)]
    force: bool,
}

#[derive(FromArgs)]
/// Show the last results.
#[argh(subcommand, name = "status")]
struct Status {
    /// machine-readable output (for LuCI and scripts)
    #[argh(switch)]
    json: bool,
}

#[derive(FromArgs)]
/// Create the router's key (mode 0600); refuses to replace an existing one.
#[argh(subcommand, name = "keygen")]
struct Keygen {
    /// replace an existing key (it must then be registered again)
    #[argh(switch)]
    force: bool,
}

#[derive(FromArgs)]
/// Print the public key (the key id) and how to register it with the endpoint.
#[argh(subcommand, name = "pubkey")]
struct Pubkey {}

#[derive(FromArgs)]
/// Validate the config, key and CA file, and say what is wrong.
#[argh(subcommand, name = "check")]
struct Check {}

#[derive(FromArgs)]
/// Print the config schema as JSON.
#[argh(subcommand, name = "schema")]
struct Schema {}

/// Entry point; returns the process exit code.
pub fn main() -> i32 {
    let args: Args = argh::from_env();
    if args.version {
        say!("route53-ddns {}", env!("CARGO_PKG_VERSION"));
        return 0;
    }
    let Some(cmd) = args.cmd else {
        eprintln!("route53-ddns: a command is needed; see `route53-ddns --help`");
        return Exit::Usage as i32;
    };
    let exit = match cmd {
        Cmd::Update(u) => update(&args.config, u),
        Cmd::Status(s) => status(&args.config, s.json),
        Cmd::Keygen(k) => keygen(&args.config, k.force),
        Cmd::Pubkey(_) => pubkey(&args.config),
        Cmd::Check(_) => check(&args.config),
        Cmd::Schema(_) => {
            say!(
                "{}",
                serde_json::to_string(&config::schema()).unwrap_or_default()
            );
            Exit::Ok
        }
    };
    exit as i32
}

fn update(path: &Path, u: Update) -> Exit {
    crate::log::init(log::LevelFilter::Info, false);
    let loaded = match config::read(path) {
        Ok(l) => l,
        Err(e) => {
            log::error!("{e}");
            return Exit::Config;
        }
    };
    if !config::is_enabled(&loaded.package) {
        log::debug!("disabled (enabled is 0); nothing to do");
        return Exit::Nothing;
    }
    let (cfg, warnings) = match Config::from_package(path, &loaded) {
        Ok(c) => c,
        Err(e) => {
            log::error!("{e}; run `route53-ddns check`");
            return Exit::Config;
        }
    };
    log::set_max_level(cfg.log_level);
    for w in &warnings {
        log::warn!("{}: {w}", path.display());
    }
    if let Some(i) = &u.interface {
        if !cfg.uses_interface(i) {
            log::debug!("interface {i} is not one this config reads; nothing to do");
            return Exit::Nothing;
        }
    }
    let store = Store::new(crate::state::state_dir());
    if let Err(e) = store.ensure_dir() {
        log::error!("cannot create {}: {e}", store.dir.display());
        return Exit::Config;
    }
    let coalescer = Coalescer::new(&store.dir);
    let result = coalescer.run(u.force, |force| {
        // Each pass rereads the config: a burst may include a config reload.
        let cfg = match Config::load(path) {
            Ok((c, _)) => c,
            Err(e) => {
                log::error!("{e}");
                return Exit::Config;
            }
        };
        if !cfg.enabled {
            return Exit::Nothing;
        }
        let mut ifaces = Interfaces::default();
        let exit = updater::pass(
            &cfg,
            &store,
            force || u.force,
            &mut ifaces,
            &mut SystemClock,
        );
        if let Some(w) = &ifaces.wan6 {
            crate::wan6::record(&store.dir, w);
        }
        exit
    });
    match result {
        Ok(Some(exit)) => exit,
        Ok(None) => {
            log::info!("another update is running; it will make one more pass for this event");
            Exit::Ok
        }
        Err(e) => {
            log::error!("cannot lock {}: {e}", store.dir.display());
            Exit::Transient
        }
    }
}

#[derive(Serialize)]
struct StatusJson {
    version: &'static str,
    enabled: bool,
    config_error: Option<String>,
    key_id: Option<String>,
    last_run: Option<u64>,
    next_check: Option<u64>,
    /// Where the router's IPv6 came from at the last run (wan6 or PPPoE's wan_6).
    ipv6_interface: Option<Wan6Json>,
    hosts: Vec<HostStatusJson>,
}

#[derive(Serialize)]
struct Wan6Json {
    name: String,
    automatic: bool,
    note: String,
}

#[derive(Serialize)]
struct HostStatusJson {
    name: String,
    ipv4: Option<String>,
    ipv6: Option<String>,
    result: String,
    time: Option<u64>,
    request_id: Option<String>,
    observed: Option<String>,
    wan_ipv4: Option<String>,
    nat: Option<String>,
    diagnosis: Option<String>,
    error: Option<ErrorInfo>,
}

fn build_status(path: &Path) -> StatusJson {
    let store = Store::new(crate::state::state_dir());
    let run = store.run();
    let mut out = StatusJson {
        version: env!("CARGO_PKG_VERSION"),
        enabled: false,
        config_error: None,
        key_id: None,
        last_run: run.last_run,
        next_check: None,
        ipv6_interface: None,
        hosts: Vec::new(),
    };
    let loaded = match config::read(path) {
        Ok(l) => l,
        Err(e) => {
            out.config_error = Some(e.to_string());
            return out;
        }
    };
    out.enabled = config::is_enabled(&loaded.package);
    let cfg = match Config::from_package(path, &loaded) {
        Ok((c, _)) => c,
        Err(e) => {
            out.config_error = Some(e.to_string());
            return out;
        }
    };
    out.key_id = std::fs::read(&cfg.key_file)
        .ok()
        .and_then(|der| route53_ddns_protocol::SigningKey::from_pkcs8(&der).ok())
        .map(|k| k.key_id().to_string());
    out.next_check = run
        .last_run
        .filter(|_| out.enabled)
        .map(|t| t + cfg.check_interval_min * 60);
    if cfg.hosts.iter().any(|h| h.ipv6) {
        out.ipv6_interface = crate::wan6::recorded(&store.dir).map(|w| Wan6Json {
            name: w.interface,
            automatic: w.automatic,
            note: w.note,
        });
    }
    out.hosts = cfg
        .hosts
        .iter()
        .map(|h| {
            let st = store.host(&h.name);
            HostStatusJson {
                name: h.name.clone(),
                ipv4: st.ipv4,
                ipv6: st.ipv6,
                result: st.result.unwrap_or_else(|| "never".into()),
                time: st.time,
                request_id: st.request_id,
                observed: st.observed,
                wan_ipv4: st.wan_ipv4,
                nat: st.nat,
                diagnosis: st.diagnosis,
                error: st.error,
            }
        })
        .collect();
    out
}

fn status(path: &Path, json: bool) -> Exit {
    let s = build_status(path);
    if json {
        say!("{}", serde_json::to_string(&s).unwrap_or_default());
        return Exit::Ok;
    }
    say!(
        "route53-ddns {}: {}",
        s.version,
        if s.enabled { "enabled" } else { "disabled" }
    );
    if let Some(e) = &s.config_error {
        say!("config error: {e}");
    }
    say!(
        "key: {}",
        s.key_id
            .as_deref()
            .unwrap_or("none (run `route53-ddns keygen`)")
    );
    if let Some(t) = s.last_run {
        say!("last run: {} UTC", crate::log::timestamp(t));
    }
    if let Some(w) = &s.ipv6_interface {
        say!("IPv6 interface: {} ({})", w.name, w.note);
    }
    for h in &s.hosts {
        say!(
            "{}: {} (A {}, AAAA {}){}",
            h.name,
            h.result,
            h.ipv4.as_deref().unwrap_or("-"),
            h.ipv6.as_deref().unwrap_or("-"),
            h.time
                .map(|t| format!(" at {} UTC", crate::log::timestamp(t)))
                .unwrap_or_default()
        );
        if let Some(d) = &h.diagnosis {
            say!("  note: {d}");
        }
        if let Some(e) = &h.error {
            say!(
                "  error {}{}: {}\n  what to do: {}",
                e.code,
                if e.permanent { " (permanent)" } else { "" },
                e.message,
                e.advice
            );
        }
    }
    Exit::Ok
}

fn key_path(path: &Path) -> (PathBuf, Vec<String>) {
    let default = PathBuf::from("/etc/route53-ddns/key");
    match config::read(path) {
        Ok(loaded) => match Config::from_package(path, &loaded) {
            Ok((c, _)) => (c.key_file, c.hosts.into_iter().map(|h| h.name).collect()),
            Err(_) => {
                // Use key_file from the file even if other options are still missing.
                let file = loaded
                    .package
                    .sections
                    .iter()
                    .filter(|s| s.kind == "global")
                    .find_map(|s| s.get("key_file"))
                    .and_then(|o| match &o.value {
                        crate::uci::Value::Single(v) if v.starts_with('/') => {
                            Some(PathBuf::from(v))
                        }
                        _ => None,
                    })
                    .unwrap_or(default);
                (file, Vec::new())
            }
        },
        Err(_) => (default, Vec::new()),
    }
}

fn print_registration(key_id: &str, names: &[String]) {
    let names = if names.is_empty() {
        vec!["home.example.com".to_owned()]
    } else {
        names.to_vec()
    };
    let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    say!(
        "Register this key with the endpoint (where you have AWS credentials for the deployment):\n  aws ssm put-parameter --type String --name '/route53-ddns/keys/{key_id}' --value '{{\"names\":[{}]}}'",
        list.join(",")
    );
}

fn keygen(path: &Path, force: bool) -> Exit {
    let (file, names) = key_path(path);
    let created = crate::key::generate(&file, force);
    if created.is_ok() {
        eprintln!("created {}", file.display());
    }
    show_key(created, &names)
}

fn pubkey(path: &Path) -> Exit {
    let (file, names) = key_path(path);
    show_key(crate::key::load(&file), &names)
}

/// Prints the key id and the command that registers it, or why there is no key.
fn show_key(key: Result<SigningKey, KeyFileError>, names: &[String]) -> Exit {
    match key {
        Ok(k) => {
            say!("{}", k.key_id());
            print_registration(k.key_id().as_str(), names);
            Exit::Ok
        }
        Err(e) => {
            eprintln!("route53-ddns: {e}");
            Exit::Config
        }
    }
}

fn enabled_in(path: &Path) -> bool {
    config::read(path).is_ok_and(|l| config::is_enabled(&l.package))
}

fn check(path: &Path) -> Exit {
    crate::log::init(log::LevelFilter::Warn, true);
    let (cfg, warnings) = match Config::load(path) {
        Ok(c) => c,
        Err(e) if e.problems.iter().all(|p| p.unset) && !enabled_in(path) => {
            // A freshly installed package: disabled, nothing filled in yet, nothing wrong.
            for p in &e.problems {
                say!("note: {}: not set up yet: {p}", e.path.display());
            }
            say!(
                "config ok: disabled until the endpoint and a host are set (then set enabled to 1)"
            );
            return Exit::Ok;
        }
        Err(e) => {
            for p in &e.problems {
                say!("error: {}: {p}", e.path.display());
            }
            return Exit::Config;
        }
    };
    for w in &warnings {
        say!("warning: {}: {w}", path.display());
    }
    let mut ok = true;
    match crate::key::load(&cfg.key_file) {
        Ok(k) => say!("key: {} ({})", k.key_id(), cfg.key_file.display()),
        Err(e) => {
            say!("error: {e}");
            ok = false;
        }
    }
    if cfg.endpoint.https {
        let ca = cfg
            .ca_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(config::SYSTEM_CA_BUNDLE));
        if let Err(e) = crate::tls::load_roots(&ca) {
            say!("error: {e}");
            ok = false;
        }
    }
    if !cfg.enabled {
        say!("note: enabled is 0: no updates are sent");
    }
    for h in &cfg.hosts {
        say!(
            "host {}: ipv4 {}, ipv6 {}{}",
            h.name,
            if h.ipv4 { "on" } else { "off" },
            if h.ipv6 { "on" } else { "off" },
            h.ipv6_suffix
                .map(|s| format!(" (LAN host, suffix {s})"))
                .unwrap_or_default()
        );
    }
    if ok {
        say!(
            "config ok: {} host(s), endpoint {}",
            cfg.hosts.len(),
            cfg.endpoint.base
        );
        Exit::Ok
    } else {
        Exit::Config
    }
}
