//! `status` (what the last runs did and what is going on now) and `check` (is the config,
//! key and CA file usable).

use crate::config::{self, Config};
use crate::lock::Coalescer;
use crate::state::{ErrorInfo, RunState, Store};
use crate::updater::{Clock, Exit, SystemClock};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `println!` that ignores a closed stdout (`| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[derive(Serialize)]
struct StatusJson {
    version: &'static str,
    enabled: bool,
    config_error: Option<String>,
    key_id: Option<String>,
    /// The key and its rotation ([`crate::rotation`]).
    key: KeyJson,
    last_run: Option<u64>,
    next_check: Option<u64>,
    /// Where the router's IPv6 came from at the last run (wan6 or PPPoE's wan_6).
    ipv6_interface: Option<Wan6Json>,
    run: RunJson,
    hosts: Vec<HostStatusJson>,
}

#[derive(Serialize, Default)]
struct KeyJson {
    id: Option<String>,
    /// A next key (`keygen --next`) waits to be accepted by the endpoint.
    next_pending: bool,
    next_key_id: Option<String>,
    /// The key the last rotation replaced, until its `.old-id` file is removed.
    old_key_id: Option<String>,
    /// The command that removes that key from the registry.
    old_key_remove: Option<String>,
}

#[derive(Serialize)]
struct Wan6Json {
    name: String,
    automatic: bool,
    note: String,
}

/// What is going on right now: a pass holding the lock, a scheduled retry, or nothing.
#[derive(Serialize, Default)]
struct RunJson {
    /// `idle`, `running` (a pass holds the lock) or `retrying` (a retry is scheduled).
    state: &'static str,
    /// Since when: the running pass's start, or the first failure of the retried request.
    since: Option<u64>,
    /// The try in progress (running) or the last failed try (retrying), 1-based.
    attempt: Option<u32>,
    /// When the failed request is sent again (Unix s), and whether a process waits for it.
    next_try: Option<u64>,
    waiting: bool,
    last_error: Option<ErrorInfo>,
}

fn run_json(store: &Store, run: &RunState, now: u64) -> RunJson {
    let lock = Coalescer::new(&store.dir);
    let retrying = run.retrying();
    let tries = run.failures.saturating_add(run.paced);
    let next_try = run.due(now).filter(|_| retrying);
    let base = RunJson {
        next_try,
        waiting: retrying && lock.is_waiting(),
        last_error: run.last_error.clone().filter(|_| retrying),
        ..RunJson::default()
    };
    if lock.is_running() {
        RunJson {
            state: "running",
            since: run.running_since,
            attempt: Some(tries.saturating_add(1)),
            ..base
        }
    } else if retrying {
        RunJson {
            state: "retrying",
            since: run.failing_since,
            attempt: Some(tries),
            ..base
        }
    } else {
        RunJson {
            state: "idle",
            ..base
        }
    }
}

/// When the router looks at the addresses next: the safety-net timer's next run, at once
/// if the service is enabled and has not run yet (procd runs it as the service starts).
fn next_check(run: &RunState, enabled: bool, interval_s: u64, now: u64) -> Option<u64> {
    if !enabled {
        return None;
    }
    let timer = run
        .last_run
        .map_or(now, |t| t.saturating_add(interval_s).max(now));
    Some(timer)
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

/// The key in `key_file`, a pending next key and the key the last rotation replaced.
fn key_json(key_file: &Path) -> KeyJson {
    let id = crate::rotation::key_id_of(key_file);
    let next = crate::rotation::next_id(key_file).filter(|n| Some(n) != id.as_ref());
    let old = crate::rotation::old_id(key_file);
    KeyJson {
        id,
        next_pending: next.is_some(),
        next_key_id: next,
        old_key_remove: old.as_deref().map(crate::rotation::delete_command),
        old_key_id: old,
    }
}

fn build_status(path: &Path) -> StatusJson {
    let store = Store::new(crate::state::state_dir());
    let run = store.run();
    let now = SystemClock.now().as_secs();
    let mut out = StatusJson {
        version: env!("CARGO_PKG_VERSION"),
        enabled: false,
        config_error: None,
        key_id: None,
        key: KeyJson::default(),
        last_run: run.last_run,
        next_check: None,
        ipv6_interface: None,
        run: run_json(&store, &run, now),
        hosts: Vec::new(),
    };
    // The key first: a router that is not set up yet (or whose config is broken) has its
    // key all the same, and the owner needs its id to register it.
    out.key = key_json(&crate::keycmd::key_path(path).0);
    out.key_id = out.key.id.clone();
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
    out.next_check = next_check(&run, out.enabled, cfg.check_interval_s(), now);
    if cfg.hosts.iter().any(|h| h.ipv6) {
        out.ipv6_interface = crate::addresses::wan6::recorded(&store.dir).map(|w| Wan6Json {
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

pub fn status(path: &Path, json: bool) -> Exit {
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
    if let Some(n) = &s.key.next_key_id {
        say!("next key: {n} (pending: each update tries it first, the current key after it, until the endpoint accepts it; `route53-ddns pubkey --next` shows how to register it)");
    }
    if let (Some(o), Some(cmd)) = (&s.key.old_key_id, &s.key.old_key_remove) {
        say!("old key: {o} was replaced; remove it from the registry: {cmd} (then `route53-ddns pubkey --old` says which file to delete)");
    }
    if let Some(t) = s.last_run {
        say!("last run: {} UTC", crate::log::timestamp(t));
    }
    if let Some(w) = &s.ipv6_interface {
        say!("IPv6 interface: {} ({})", w.name, w.note);
    }
    print_run(&s.run);
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

fn print_run(r: &RunJson) {
    let at = |t: Option<u64>| {
        t.map(|t| format!("{} UTC", crate::log::timestamp(t)))
            .unwrap_or_else(|| "-".into())
    };
    match r.state {
        "running" => say!(
            "running since {}, try {}",
            at(r.since),
            r.attempt.unwrap_or(1)
        ),
        "retrying" => say!(
            "retrying: {} tries failed since {}; next try {}{}",
            r.attempt.unwrap_or(0),
            at(r.since),
            at(r.next_try),
            if r.waiting {
                ""
            } else {
                " (at the next timer run or event after it)"
            }
        ),
        _ => {}
    }
    if let Some(e) = &r.last_error {
        say!(
            "  last error {}: {}\n  what to do: {}",
            e.code,
            e.message,
            e.advice
        );
    }
}

fn enabled_in(path: &Path) -> bool {
    config::read(path).is_ok_and(|l| config::is_enabled(&l.package))
}

pub fn check(path: &Path) -> Exit {
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
        Ok(k) => {
            say!("key: {} ({})", k.key_id(), cfg.key_file.display());
            if let Some(n) = crate::rotation::next_id(&cfg.key_file) {
                say!("next key: {n} (pending until the endpoint accepts it)");
            }
        }
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
