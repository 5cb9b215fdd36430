//! Command line (argh): `route53-ddns [--config PATH] <update|status|keygen|pubkey|check|schema>`.

use crate::config::{self, Config, DEFAULT_CONFIG};
use crate::keycmd;
use crate::lock::{Coalescer, Lock};
use crate::netifd::Interfaces;
use crate::state::Store;
use crate::status::{check, status};
use crate::updater::{self, Clock, Exit, Outcome, SystemClock};
use argh::FromArgs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    Leftovers(Leftovers),
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
    /// send even if nothing changed, past a scheduled retry, and retry a permanent refusal
    #[argh(switch)]
    force: bool,
    /// the clock was just set (NTP hotplug): send at once if the last try failed on the
    /// clock (TLS, clock skew) or nothing was sent yet
    #[argh(switch)]
    clock_synced: bool,
    /// after a transient failure, exit at once instead of waiting (outside the lock) for
    /// the next try; the next event or timer run sends it
    #[argh(switch)]
    no_wait: bool,
    /// return at once and run in the background, detached from the caller's session,
    /// standard streams and every other inherited file descriptor (LuCI's "Update now")
    #[argh(switch)]
    detach: bool,
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
    /// create the next key (<key_file>.next) for a rotation without a gap: the router
    /// switches to it once the endpoint accepts it
    #[argh(switch)]
    next: bool,
}

#[derive(FromArgs)]
/// Print the public key (the key id) and how to register it with the endpoint.
#[argh(subcommand, name = "pubkey")]
struct Pubkey {
    /// the next key (keygen --next) and how to register it
    #[argh(switch)]
    next: bool,
    /// the key the last rotation replaced and how to remove it from the registry
    #[argh(switch)]
    old: bool,
}

#[derive(FromArgs)]
/// Validate the config, key and CA file, and say what is wrong.
#[argh(subcommand, name = "check")]
struct Check {}

#[derive(FromArgs)]
/// Print what removing the package leaves (config, key files, the key in the registry, the
/// Route53 records and stamps) and the commands that remove it; changes nothing.
#[argh(subcommand, name = "leftovers")]
struct Leftovers {}

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
        Cmd::Keygen(k) if k.next => keycmd::keygen_next(&args.config, k.force),
        Cmd::Keygen(k) => keycmd::keygen(&args.config, k.force),
        Cmd::Pubkey(p) if p.old => keycmd::pubkey_old(&args.config),
        Cmd::Pubkey(p) if p.next => keycmd::pubkey_next(&args.config),
        Cmd::Pubkey(_) => keycmd::pubkey(&args.config),
        Cmd::Check(_) => check(&args.config),
        Cmd::Leftovers(_) => crate::leftovers::leftovers(&args.config),
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

/// Loads and validates the config for `update`; `Err` is the exit code (logged).
fn update_config(path: &Path, u: &Update) -> Result<Config, Exit> {
    let loaded = config::read(path).map_err(|e| {
        log::error!("{e}");
        Exit::Config
    })?;
    if !config::is_enabled(&loaded.package) {
        log::debug!("disabled (enabled is 0); nothing to do");
        return Err(Exit::Nothing);
    }
    let (cfg, warnings) = Config::from_package(path, &loaded).map_err(|e| {
        log::error!("{e}; run `route53-ddns check`");
        Exit::Config
    })?;
    log::set_max_level(cfg.log_level);
    for w in &warnings {
        log::warn!("{}: {w}", path.display());
    }
    if let Some(i) = &u.interface {
        if !crate::addresses::uses_interface(&cfg, i) {
            log::debug!("interface {i} is not one this config reads; nothing to do");
            return Err(Exit::Nothing);
        }
    }
    Ok(cfg)
}

/// One pass under the lock. Each pass rereads the config: a burst may include a reload.
fn one_pass(path: &Path, store: &Store, force: bool, clock_synced: bool) -> Exit {
    crate::tidy::remove_stale_temporaries(&store.dir);
    let result = Config::load(path)
        .map_err(crate::error::Error::from)
        .and_then(|(cfg, _)| {
            if !cfg.enabled {
                return Ok(Outcome::Nothing);
            }
            let mut ifaces = Interfaces::default();
            updater::pass(
                &cfg,
                store,
                force,
                clock_synced,
                &mut ifaces,
                &mut SystemClock,
            )
        });
    updater::report(&result)
}

fn update(path: &Path, u: Update) -> Exit {
    if u.detach && !crate::detach::detach() {
        // The caller's side: the run goes on in the background.
        return Exit::Ok;
    }
    crate::log::init(log::LevelFilter::Info, false);
    let cfg = match update_config(path, &u) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let store = Store::new(crate::state::state_dir());
    if let Err(e) = store.ensure_dir() {
        log::error!("cannot create {}: {e}", store.dir.display());
        return Exit::Transient;
    }
    let coalescer = Coalescer::new(&store.dir);
    let mut first = true;
    // Held while this process waits for a scheduled retry (and runs it).
    let mut _waiting: Option<Lock> = None;
    loop {
        let (force, synced) = (first && u.force, first && u.clock_synced);
        first = false;
        let mut earlier = None;
        let passes = coalescer.run(force, |f| {
            run_exit(&mut earlier, one_pass(path, &store, f || force, synced))
        });
        let exit = match passes {
            Ok(Some(exit)) => exit,
            Ok(None) => {
                log::info!("another update is running; it will make one more pass for this event");
                return Exit::Ok;
            }
            Err(e) => {
                log::error!("cannot lock {}: {e}", store.dir.display());
                return Exit::Transient;
            }
        };
        if exit != Exit::Transient || u.no_wait {
            return exit;
        }
        if _waiting.is_none() {
            match coalescer.try_wait_lock() {
                Ok(Some(l)) => _waiting = Some(l),
                // Another process already waits for the next try.
                _ => return exit,
            }
        }
        if !wait_for_retry(&store, cfg.check_interval_s()) {
            return exit;
        }
    }
}

/// The exit code of a run so far, after a pass that ended with `now`. A pass that found
/// nothing to do (another event's, after this run's own pass sent) does not undo what an
/// earlier pass did: the run sent a request, so it does not exit 3 ("no request sent").
fn run_exit(earlier: &mut Option<Exit>, now: Exit) -> Exit {
    match *earlier {
        Some(e) if now == Exit::Nothing => e,
        _ => {
            *earlier = Some(now);
            now
        }
    }
}

/// Sleeps, outside the update lock, until the scheduled retry is due. `false` when there
/// is nothing left to retry (another run succeeded or gave up) or the next try is further
/// away than the safety-net timer's next run, which then sends it.
fn wait_for_retry(store: &Store, limit_s: u64) -> bool {
    let mut clock = SystemClock;
    loop {
        let run = store.run();
        let now = clock.now().as_secs();
        let Some(next) = run.due(now).filter(|_| run.retrying()) else {
            return false;
        };
        if next <= now {
            return true;
        }
        let left = next - now;
        if left > limit_s {
            log::info!("the next try is in {left} s; the safety-net timer sends it");
            return false;
        }
        // Wake up now and then: a success meanwhile ends the wait early.
        clock.sleep(Duration::from_secs(left.min(60)));
    }
}
