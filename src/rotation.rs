//! Key rotation without a gap. A next key (`keygen --next`: `<key_file>.next`, 0600) is
//! tried first on every request; a permanent refusal of it (not registered yet, names not
//! granted) falls back at once, in the same pass, to the current key. The first request
//! the endpoint accepts with the next key promotes it: the current key's id is written to
//! `<key_file>.old-id`, then `.next` is renamed over the key file (atomic: the key file is
//! the old or the new key at every moment) and the old private key is gone. `pubkey --old`
//! and `status` then print the one command that removes the old key from the registry.
//! Ordering is by the signed time, not the key, so a switch never looks superseded.

use crate::error::Error;
use crate::key::{self, KeyFileError};
use route53_ddns_protocol::{KeyId, SigningKey, UpdateResponse};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// While a next key is refused, it is tried again (an update is sent even if nothing
/// changed) at most this often; `update --force` tries it at once.
pub const PROBE_S: u64 = 3600;

/// The registry path of a key (the SSM parameter the endpoint reads).
pub fn parameter(id: &str) -> String {
    format!("/route53-ddns/keys/{id}")
}

/// The command that removes a key from the registry.
pub fn delete_command(id: &str) -> String {
    format!(
        "aws ssm delete-parameter --name {}",
        crate::shell::quote(&parameter(id))
    )
}

fn with_suffix(key_file: &Path, suffix: &str) -> PathBuf {
    let mut s = key_file.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// `<key_file>.next`: the key waiting to be accepted.
pub fn next_path(key_file: &Path) -> PathBuf {
    with_suffix(key_file, ".next")
}

/// `<key_file>.old-id`: the id (public) of the key the last promotion replaced.
pub fn old_id_path(key_file: &Path) -> PathBuf {
    with_suffix(key_file, ".old-id")
}

/// The current key and, when one is pending, the next key.
pub struct Keys {
    pub current: SigningKey,
    pub next: Option<SigningKey>,
}

/// Loads the keys for a pass. A next key that cannot be used is warned about and left
/// out: rotation never makes an update fail.
pub fn load(key_file: &Path) -> Result<Keys, KeyFileError> {
    let current = key::load(key_file)?;
    let next = match key::load(&next_path(key_file)) {
        Ok(k) if k.key_id() == current.key_id() => None,
        Ok(k) => Some(k),
        Err(KeyFileError::Missing(_)) => None,
        Err(e) => {
            log::warn!("{e}; the next key is not used");
            None
        }
    };
    Ok(Keys { current, next })
}

/// The id of the next key, when there is a usable one (for `status`).
pub fn next_id(key_file: &Path) -> Option<String> {
    key_id_of(&next_path(key_file))
}

/// The id of the key in `path`, if it holds a usable one.
pub fn key_id_of(path: &Path) -> Option<String> {
    let der = crate::files::read_capped(path, key::MAX_KEY_FILE).ok()?;
    SigningKey::from_pkcs8(&der)
        .ok()
        .map(|k| k.key_id().to_string())
}

/// The id recorded by the last promotion, if it is one.
pub fn old_id(key_file: &Path) -> Option<String> {
    let text = crate::files::read_text_capped(&old_id_path(key_file), 256).ok()?;
    let id = text.trim();
    KeyId::parse(id).ok().map(|_| id.to_owned())
}

fn sync_dir(path: &Path) {
    if let Some(d) = path.parent().and_then(|d| fs::File::open(d).ok()) {
        let _ = d.sync_all();
    }
}

/// Makes the next key the key: records the current key's id, then renames `.next` over
/// the key file.
pub fn promote(key_file: &Path, current: &KeyId) -> io::Result<()> {
    crate::state::write_atomic(&old_id_path(key_file), format!("{current}\n").as_bytes())?;
    fs::rename(next_path(key_file), key_file)?;
    sync_dir(key_file);
    Ok(())
}

/// The state file that says when the pending next key was last refused.
fn probe_file(dir: &Path) -> PathBuf {
    dir.join("next-key-probe")
}

/// What a permanent refusal is recorded against: the config and both keys, so a new or
/// removed next key is tried again at once.
pub fn fingerprint(config: &str, key: &SigningKey, next: Option<&SigningKey>) -> String {
    let next = next.map(|k| format!(":{}", k.key_id()));
    format!("{config}:{}{}", key.key_id(), next.unwrap_or_default())
}

/// Whether a pending next key should be tried now even if nothing else changed: not
/// tried yet (this one), or refused more than [`PROBE_S`] ago.
pub fn probe_due(state_dir: &Path, next: Option<&SigningKey>, now: u64) -> bool {
    let Some(next) = next else {
        return false;
    };
    let file = probe_file(state_dir);
    let text = crate::files::read_text_capped(&file, 256).unwrap_or_default();
    let mut it = text.split_whitespace();
    let (Some(t), Some(id)) = (it.next().and_then(|t| t.parse::<u64>().ok()), it.next()) else {
        return true;
    };
    id != next.key_id().as_str() || t > now || now - t >= PROBE_S
}

fn record_probe(dir: &Path, next: &SigningKey, now: u64) {
    let line = format!("{now} {}\n", next.key_id());
    if let Err(e) = crate::state::write_atomic(&probe_file(dir), line.as_bytes()) {
        log::warn!("cannot write state in {}: {e}", dir.display());
    }
}

/// What the updater does after a request signed with the next key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Its result is the request's.
    Done,
    /// The endpoint refused the next key permanently: send again with the current key.
    FallBack,
}

/// The policy after a request signed with `next`: an acceptance promotes it; a permanent
/// refusal is recorded (probed again after [`PROBE_S`]) and falls back to `current`.
pub fn after_next_key(
    key_file: &Path,
    state_dir: &Path,
    current: &SigningKey,
    next: &SigningKey,
    result: &Result<UpdateResponse, Error>,
    now: u64,
) -> Then {
    match result {
        Ok(_) => {
            accepted(key_file, state_dir, current, next);
            Then::Done
        }
        Err(Error::Refused { code, .. }) if code.is_permanent() => {
            log::info!(
                "the endpoint does not accept the next key {} yet ({}); sending with the current key {}. Register the next key with the command `route53-ddns pubkey --next` prints",
                next.key_id(),
                crate::error::code_text(*code),
                current.key_id()
            );
            record_probe(state_dir, next, now);
            Then::FallBack
        }
        Err(_) => Then::Done,
    }
}

fn accepted(file: &Path, state_dir: &Path, current: &SigningKey, next: &SigningKey) {
    let _ = fs::remove_file(probe_file(state_dir));
    match promote(file, current.key_id()) {
        Ok(()) => log::info!(
            "key rotation: the endpoint accepted the next key {}; it is now the key ({}). Remove the old key {} from the registry where you have AWS credentials: {}",
            next.key_id(),
            file.display(),
            current.key_id(),
            delete_command(current.key_id().as_str())
        ),
        Err(e) => log::error!(
            "the endpoint accepted the next key {}, but it could not replace {}: {e}; it stays pending and is promoted at the next accepted update",
            next.key_id(),
            file.display()
        ),
    }
}
