//! The per-router silence check, run hourly by an EventBridge schedule: lists the registry
//! (`<prefix>/keys/`, `<prefix>/tokens/`) and the last-seen records (`<prefix>/seen/…`) with
//! SSM GetParametersByPath, and writes one log line whose `SilentRouters` metric (EMF) is
//! the number of registered keys/users without an accepted request for `silence_hours`.
//!
//! Never seen: a key/user with no last-seen record counts as silent once its registry
//! entry is older than `silence_hours` (its LastModifiedDate), so a newly registered router
//! has the same grace as one that just sent its heartbeat. One the records call silent is
//! not, when a recent stamp of one of its names in Route53 names it (`alive`): a failed
//! last-seen write does not make an updating router silent.

use crate::aws::AwsError;
use crate::event::Response;
use crate::invocation::Invocation;
use crate::listing::{list, Entry};
use crate::seen::SEEN;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Instant;

/// Silent principals named in the log line; the rest are counted in `silent_more`.
pub const MAX_LISTED: usize = 50;

/// A registered principal: its log name (key id, `dyndns2:<user>`) and registration time.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub principal: String,
    pub registered_ms: Option<u64>,
}

/// The principal a parameter under `base` (`<prefix>/keys`, `<prefix>/seen/tokens`, …) is
/// for: only direct children, named as the log line names them.
fn principal(name: &str, base: &str, user: bool) -> Option<String> {
    let id = name.strip_prefix(base)?.strip_prefix('/')?;
    if id.is_empty() || id.contains('/') {
        return None;
    }
    let id = crate::log::bounded(id, 120);
    Some(if user { format!("dyndns2:{id}") } else { id })
}

/// The registered keys and users from the two registry listings.
pub fn registered(prefix: &str, keys: &[Entry], tokens: &[Entry]) -> Vec<Registered> {
    let of = |entries: &[Entry], kind: &str, user: bool| -> Vec<Registered> {
        let base = format!("{prefix}/{kind}");
        entries
            .iter()
            .filter_map(|e| {
                Some(Registered {
                    principal: principal(&e.name, &base, user)?,
                    registered_ms: e.modified_ms,
                })
            })
            .collect()
    };
    let mut out = of(keys, "keys", false);
    out.extend(of(tokens, "tokens", true));
    out
}

/// Last seen per principal: the record's `time_ms`, else the parameter's LastModifiedDate
/// (it is written when the request is accepted).
pub fn last_seen(prefix: &str, seen: &[Entry]) -> HashMap<String, u64> {
    let keys = format!("{prefix}/{SEEN}/keys");
    let tokens = format!("{prefix}/{SEEN}/tokens");
    seen.iter()
        .filter_map(|e| {
            let who = principal(&e.name, &keys, false).or(principal(&e.name, &tokens, true))?;
            let time = serde_json::from_str::<Value>(&e.value)
                .ok()
                .and_then(|v| v["time_ms"].as_u64())
                .or(e.modified_ms)?;
            Some((who, time))
        })
        .collect()
}

/// The registered principals silent for longer than `hours` at `now_ms`, in listing order.
/// Never seen: silent once registered more than `hours` ago (or when that time is unknown).
pub fn silent(
    now_ms: u64,
    hours: u32,
    registered: &[Registered],
    seen: &HashMap<String, u64>,
) -> Vec<String> {
    let limit = u64::from(hours) * 3_600_000;
    let quiet = |since: Option<u64>| since.is_none_or(|t| now_ms.saturating_sub(t) > limit);
    registered
        .iter()
        .filter(|r| match seen.get(&r.principal) {
            Some(t) => quiet(Some(*t)),
            None => quiet(r.registered_ms),
        })
        .map(|r| r.principal.clone())
        .collect()
}

/// The check's outcome, before it becomes the log line.
struct Outcome {
    registered: usize,
    /// Silent by their last-seen records, alive by a recent stamp of theirs.
    vouched_by_stamps: usize,
    silent: Vec<String>,
    truncated: bool,
}

fn check(inv: &Invocation) -> Result<Outcome, AwsError> {
    let prefix = &inv.cfg.registry_prefix;
    let (keys, t1) = list(inv, &format!("{prefix}/keys"), false)?;
    let (tokens, t2) = list(inv, &format!("{prefix}/tokens"), false)?;
    let (seen, t3) = list(inv, &format!("{prefix}/{SEEN}"), true)?;
    let registered = registered(prefix, &keys, &tokens);
    let by_records = silent(
        inv.now_ms,
        inv.cfg.silence_hours,
        &registered,
        &last_seen(prefix, &seen),
    );
    // A last-seen write can fail; the stamps in Route53 are the second source.
    let candidates = by_records.len();
    let names = crate::alive::names_of(prefix, &keys, &tokens, inv.cfg.default_ttl);
    let limit_ms = u64::from(inv.cfg.silence_hours) * 3_600_000;
    let silent = crate::alive::still_silent(inv, by_records, &names, limit_ms);
    Ok(Outcome {
        registered: registered.len(),
        vouched_by_stamps: candidates - silent.len(),
        silent,
        truncated: t1 || t2 || t3,
    })
}

/// Runs the check and writes its one log line. A failed listing writes no metric, so the
/// alarm (TreatMissingData: breaching) fires as it does when the schedule stops.
pub fn run(inv: &Invocation, function: &str) -> Response {
    let started = Instant::now();
    let mut line = serde_json::json!({
        "level": "info",
        "request_id": inv.request_id,
        "route": "silence",
        "silence_hours": inv.cfg.silence_hours,
    });
    let status = match check(inv) {
        Ok(o) => {
            let count = o.silent.len();
            line["registered"] = o.registered.into();
            line["vouched_by_stamps"] = o.vouched_by_stamps.into();
            line["silent_routers"] = o.silent[..count.min(MAX_LISTED)].into();
            line["silent_more"] = count.saturating_sub(MAX_LISTED).into();
            line["truncated"] = o.truncated.into();
            crate::metrics::silent_routers(&mut line, inv.now_ms, function, count);
            200
        }
        Err(e) => {
            line["level"] = "error".into();
            line["error"] = format!("listing the registry failed: {e:?}").into();
            503
        }
    };
    line["latency_ms"] = (started.elapsed().as_millis() as u64).into();
    println!("{line}");
    let mut answer = line.clone();
    if let Some(o) = answer.as_object_mut() {
        o.remove("_aws");
    }
    Response::json(status, &answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3_600_000;
    const NOW: u64 = 1_800_000_000_000;

    fn entry(name: &str, value: &str, modified_ms: Option<u64>) -> Entry {
        Entry {
            name: name.into(),
            value: value.into(),
            modified_ms,
        }
    }

    #[test]
    fn counts_only_those_silent_longer_than_the_hours() {
        let p = "/p";
        let keys = [
            entry("/p/keys/A", "{}", Some(NOW - 100 * H)),
            entry("/p/keys/B", "{}", Some(NOW - 100 * H)),
            entry("/p/keys/NEW", "{}", Some(NOW - H)),
            entry("/p/keys/OLD", "{}", Some(NOW - 27 * H)),
            entry("/p/keys/nested/X", "{}", None),
        ];
        let tokens = [
            entry("/p/tokens/alice", "{}", Some(NOW - 100 * H)),
            entry("/p/tokens/bob", "{}", None),
        ];
        let seen = [
            entry(
                "/p/seen/keys/A",
                &format!(r#"{{"time_ms":{}}}"#, NOW - 25 * H),
                None,
            ),
            entry(
                "/p/seen/keys/B",
                &format!(r#"{{"time_ms":{}}}"#, NOW - 27 * H),
                None,
            ),
            entry("/p/seen/tokens/alice", "not json", Some(NOW - 2 * H)),
            // A record for a key no longer registered is not a router to watch.
            entry("/p/seen/keys/GONE", r#"{"time_ms":1}"#, None),
        ];
        let reg = registered(p, &keys, &tokens);
        assert_eq!(reg.len(), 6);
        let got = silent(NOW, 26, &reg, &last_seen(p, &seen));
        assert_eq!(got, ["B", "OLD", "dyndns2:bob"]);
        // Exactly at the limit is not yet silent; one millisecond later it is.
        let edge = HashMap::from([("A".to_owned(), NOW - 26 * H)]);
        let a = &reg[..1];
        assert!(silent(NOW, 26, a, &edge).is_empty());
        assert_eq!(silent(NOW + 1, 26, a, &edge), ["A"]);
        // All fresh: none.
        let fresh = HashMap::from([("A".to_owned(), NOW), ("B".to_owned(), NOW - H)]);
        assert!(silent(NOW, 26, &reg[..2], &fresh).is_empty());
        // A clock behind a record (skew) is not silence.
        assert!(silent(NOW - 10 * H, 2, a, &fresh).is_empty());
    }

    #[test]
    fn only_direct_children_of_the_paths_are_principals() {
        assert_eq!(
            principal("/p/keys/k1", "/p/keys", false).as_deref(),
            Some("k1")
        );
        assert_eq!(
            principal("/p/seen/tokens/u", "/p/seen/tokens", true).as_deref(),
            Some("dyndns2:u")
        );
        assert_eq!(principal("/p/keysX/k1", "/p/keys", false), None);
        assert_eq!(principal("/p/keys/", "/p/keys", false), None);
        assert_eq!(principal("/p/keys/a/b", "/p/keys", false), None);
        assert_eq!(
            principal(&format!("/p/keys/{}\n", "x".repeat(300)), "/p/keys", false).map(|s| s.len()),
            Some(120)
        );
    }
}
