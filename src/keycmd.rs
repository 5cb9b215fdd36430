//! `keygen` and `pubkey` (with `--next` and `--old` for a rotation): the key files and
//! the registry commands printed for them. The key itself is never printed.

use crate::config::{self, Config};
use crate::error::Exit;
use crate::key::KeyFileError;
use route53_ddns_protocol::SigningKey;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `println!` that ignores a closed stdout (`| head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The key file the config names, and the config's host names.
pub fn key_path(path: &Path) -> (PathBuf, Vec<String>) {
    let default = PathBuf::from(config::KEY_DIR).join("key");
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
                        crate::uci::Value::Single(v)
                            if v.starts_with('/')
                                && config::check_confined(path, "key_file", v).is_ok() =>
                        {
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
    let value = format!("{{\"names\":[{}]}}", list.join(","));
    say!(
        "Register this key with the endpoint (where you have AWS credentials for the deployment):\n  aws ssm put-parameter --type String --name {} --value {}",
        crate::shell::quote(&crate::rotation::parameter(key_id)),
        crate::shell::quote(&value)
    );
}

pub fn keygen_next(path: &Path, force: bool) -> Exit {
    let (file, names) = key_path(path);
    let current = match crate::key::load(&file) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("route53-ddns: {e}; a next key replaces a current one");
            return Exit::Config;
        }
    };
    let next = crate::rotation::next_path(&file);
    let created = crate::key::generate(&next, force);
    if created.is_ok() {
        eprintln!("created {}", next.display());
    }
    show_next(created, &current, &names)
}

pub fn pubkey_next(path: &Path) -> Exit {
    let (file, names) = key_path(path);
    let next = crate::rotation::next_path(&file);
    match (crate::key::load(&file), crate::key::load(&next)) {
        (Ok(current), next) => show_next(next, &current, &names),
        (Err(e), _) => show_key(Err(e), &names),
    }
}

/// The next key's id, the registration command with the config's names, and the one
/// that copies the current key's entry (exactly the same grants).
fn show_next(
    next: Result<SigningKey, KeyFileError>,
    current: &SigningKey,
    names: &[String],
) -> Exit {
    let next = match next {
        Ok(k) => k,
        Err(KeyFileError::Missing(p)) => {
            eprintln!(
                "route53-ddns: no next key at {}: create one with `route53-ddns keygen --next`",
                p.display()
            );
            return Exit::Config;
        }
        Err(e) => return show_key(Err(e), names),
    };
    let id = next.key_id().as_str();
    let cur = current.key_id().as_str();
    say!("{id}");
    say!("This is the next key: each update is signed with it first and, until the endpoint accepts it, sent again with the current key {cur}. The first accepted update makes it the key.");
    print_registration(id, names);
    say!(
        "or give it exactly the current key's names by copying its entry:\n  aws ssm put-parameter --type String --name {} --value \"$(aws ssm get-parameter --name {} --query Parameter.Value --output text)\"",
        crate::shell::quote(&crate::rotation::parameter(id)),
        crate::shell::quote(&crate::rotation::parameter(cur))
    );
    Exit::Ok
}

pub fn pubkey_old(path: &Path) -> Exit {
    let (file, _) = key_path(path);
    let Some(old) = crate::rotation::old_id(&file) else {
        eprintln!(
            "route53-ddns: no replaced key is recorded ({} does not exist): nothing to remove",
            crate::rotation::old_id_path(&file).display()
        );
        return Exit::Nothing;
    };
    say!("{old}");
    say!(
        "The key the last rotation replaced; the router no longer has it. Remove it from the registry (where you have AWS credentials for the deployment):\n  {}\nthen, on the router: rm {}",
        crate::rotation::delete_command(&old),
        crate::shell::quote_path(&crate::rotation::old_id_path(&file))
    );
    Exit::Ok
}

pub fn keygen(path: &Path, force: bool) -> Exit {
    let (file, names) = key_path(path);
    let created = crate::key::generate(&file, force);
    if created.is_ok() {
        eprintln!("created {}", file.display());
    }
    show_key(created, &names)
}

pub fn pubkey(path: &Path) -> Exit {
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
