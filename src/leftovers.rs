//! `leftovers`: what stays behind when the package is removed — on the router (config, key
//! files), in the registry (the key) and in Route53 (each name's A/AAAA and its stamp) —
//! and the exact commands that remove it. The package's prerm logs these lines
//! (`logger -t route53-ddns`); nothing is changed here. One line per concern, each short
//! enough for one syslog message.

use crate::config;
use crate::error::Exit;
use crate::rotation;
use crate::uci::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The package's own directory for the key (and a private `ca_file`).
use crate::schema::KEY_DIR;

/// Where a deployment made with the documented stack name keeps its hosted zone id.
pub const ZONE_FROM_STACK: &str = "ZONE=$(aws cloudformation describe-stacks --stack-name route53-ddns --query \"Stacks[0].Parameters[?ParameterKey=='HostedZoneId'].ParameterValue\" --output text)";

/// The config's global `key_file` and host names, read leniently: a config that is not
/// complete (no endpoint yet) still names its hosts.
fn read(path: &Path) -> (PathBuf, Vec<String>) {
    let mut key = PathBuf::from(KEY_DIR).join("key");
    let mut names = Vec::new();
    let Ok(loaded) = config::read(path) else {
        return (key, names);
    };
    for s in &loaded.package.sections {
        let single = |o: &str| match s.get(o).map(|o| &o.value) {
            Some(Value::Single(v)) => Some(v.clone()),
            _ => None,
        };
        match s.kind.as_str() {
            "global" => {
                let confined = |k: &String| config::check_confined(path, "key_file", k).is_ok();
                if let Some(k) = single("key_file").filter(|k| k.starts_with('/') && confined(k)) {
                    key = PathBuf::from(k);
                }
            }
            "host" => {
                let name = single("name")
                    .and_then(|n| route53_ddns_protocol::hostname::canonical_record(&n).ok());
                if let Some(n) = name.filter(|n| !names.contains(n)) {
                    names.push(n);
                }
            }
            _ => {}
        }
    }
    (key, names)
}

/// The shell loop that deletes one name's A and AAAA sets and its stamp (AAAA, and the TXT
/// of earlier versions), each only if it exists, with the exact values Route53 holds (a
/// DELETE must match them). `$ZONE` is the deployment's hosted zone id.
/// The name is written once and globbing is off in a subshell (a wildcard name `*.x` must
/// not expand), so even a 253-character name keeps the line under one syslog message.
pub fn delete_records_command(name: &str) -> String {
    format!(
        "(set -f; N={}; for s in \"$N. A\" \"$N. AAAA\" \"_r53ddns.$N. AAAA\" \"_r53ddns.$N. TXT\"; do set -- $s; r=$(aws route53 list-resource-record-sets --hosted-zone-id \"$ZONE\" --start-record-name $1 --start-record-type $2 --max-items 1 --query \"ResourceRecordSets[?Name=='$1'&&Type=='$2']|[0]\" --output json); [ \"$r\" = null ] || aws route53 change-resource-record-sets --hosted-zone-id \"$ZONE\" --change-batch \"{{\\\"Changes\\\":[{{\\\"Action\\\":\\\"DELETE\\\",\\\"ResourceRecordSet\\\":$r}}]}}\"; done)",
        crate::shell::quote(name)
    )
}

/// The lines `leftovers` prints.
pub fn lines(path: &Path) -> Vec<String> {
    let (key, names) = read(path);
    let in_dir = key.starts_with(KEY_DIR);
    // With the config: what an upgrade over an edited one left (opkg's -opkg, apk's .apk-new).
    // Every path is one quoted shell word: a config or key path holding `$(…)`, quotes or
    // spaces is removed as named, never run.
    let with = |p: &Path, suffix: &str| {
        let mut s = p.as_os_str().to_owned();
        s.push(suffix);
        crate::shell::quote_path(Path::new(&s))
    };
    let mut files = vec![
        crate::shell::quote(KEY_DIR),
        with(path, ""),
        with(path, "-opkg"),
        with(path, ".apk-new"),
    ];
    if !in_dir {
        files.extend([with(&key, ""), with(&key, ".next"), with(&key, ".old-id")]);
    }
    files.push(crate::shell::quote(crate::state::DEFAULT_STATE_DIR));
    let current = rotation::key_id_of(&key);
    let key_text = match &current {
        Some(id) => format!("key {}, key id {id}", key.display()),
        None => format!("key {}", key.display()),
    };
    let ids = [
        (current, "its key"),
        (rotation::next_id(&key), "its next key"),
        (rotation::old_id(&key), "the key it replaced"),
    ];
    let mut out = vec![format!(
        "route53-ddns removed: left on the router are {KEY_DIR}/ ({key_text}) and {} if you changed it; remove them with: rm -rf {}",
        path.display(),
        files.join(" ")
    )];
    for (id, what) in ids.iter().filter_map(|(id, w)| Some((id.as_ref()?, w))) {
        out.push(format!(
            "to revoke {what} {id}, where your AWS credentials are: {}",
            rotation::delete_command(id)
        ));
    }
    if names.is_empty() {
        return out;
    }
    out.push(format!(
        "to delete the Route53 records and stamps of {}: set ZONE to the deployment's hosted zone id, e.g. {ZONE_FROM_STACK}, then run the line for each name below",
        listed(&names)
    ));
    for n in &names {
        out.push(match n.strip_prefix("*.") {
            // Route53 lists `*` as \052 and stamps `*.x` at `_r53ddns._wildcard.x`.
            Some(rest) => format!(
                "records of {n}: delete the A and AAAA sets named \\052.{rest} and the AAAA (and any TXT) set _r53ddns._wildcard.{rest} (Route53 console, or change-resource-record-sets with their current values)"
            ),
            None => format!("records of one name: {}", delete_records_command(n)),
        });
    }
    out
}

/// The names, as many as fit in ~400 characters, then how many more (one syslog message
/// holds about 1,000).
fn listed(names: &[String]) -> String {
    let mut text = String::new();
    for (i, n) in names.iter().enumerate() {
        if !text.is_empty() && text.len() + n.len() > 400 {
            return format!("{text} and {} more", names.len() - i);
        }
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(n);
    }
    text
}

pub fn leftovers(path: &Path) -> Exit {
    let mut stdout = std::io::stdout();
    for line in lines(path) {
        let _ = writeln!(stdout, "{line}");
    }
    Exit::Ok
}
