//! Who is registered, known without an SSM call per request: each instance keeps a snapshot
//! of the registry's key ids and dyndns2 user names (GetParametersByPath of `<prefix>/keys`
//! and `<prefix>/tokens`, plus `<prefix>/seen` for the keys that were ever accepted),
//! so a request from a key or user that is not registered costs no SSM call.
//!
//! The rules, per instance (Lambda hands an instance one request at a time, and the lock is
//! held through a refresh, so at most one refresh is ever in flight):
//! - the snapshot is refreshed when it is [`REFRESH_AFTER_MS`] old, or at once on a miss, but
//!   never sooner than the floor after the previous attempt (successful or not): 250 ms per
//!   page of the last listing, at least [`FLOOR_MIN_MS`], at most [`FLOOR_MAX_MS`];
//! - a snapshot older than [`MAX_AGE_MS`] refuses no one;
//! - a listed key or user is still read with GetParameter by the caller, so a revocation
//!   takes effect at once and the grants are never stale;
//! - a miss the snapshot cannot settle by a refresh may be read directly: a bucket of
//!   [`MISS_READ_BURST`] reads refilled one per [`MISS_READ_GAP_MS`] (a key registered
//!   seconds ago works at once); when it is empty the miss is refused without any AWS call.

use crate::aws::Budget;
use crate::config::Config;
use crate::invocation::Invocation;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A snapshot this old is refreshed by the next request.
pub const REFRESH_AFTER_MS: u64 = 30_000;
/// A snapshot older than this refuses no one (registration takes effect within it).
pub const MAX_AGE_MS: u64 = 60_000;
/// The least time between two refresh attempts...
pub const FLOOR_MIN_MS: u64 = 10_000;
/// ...growing by this per page of the last listing...
pub const FLOOR_PER_PAGE_MS: u64 = 250;
/// ...up to this.
pub const FLOOR_MAX_MS: u64 = 45_000;
/// Direct reads for misses: one more allowed per this many milliseconds...
pub const MISS_READ_GAP_MS: u64 = 1_000;
/// ...and at most this many in a burst.
pub const MISS_READ_BURST: u64 = 10;
/// The keys ever accepted (last-seen records) are listed again after this long.
pub const ACCEPTED_REFRESH_MS: u64 = 600_000;
/// The most time one refresh may take out of a request.
const REFRESH_BUDGET: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Key,
    User,
}

/// One listing of the registry.
#[derive(Debug, Default, Clone)]
pub struct Listing {
    pub keys: HashSet<String>,
    pub users: HashSet<String>,
    /// False when a path had more entries than are read: a miss proves nothing then.
    pub complete: bool,
    /// SSM pages the listing took (sets the floor).
    pub pages: u64,
    /// Keys with a last-seen record, when they were listed this time.
    pub accepted: Option<HashSet<String>>,
}

/// What to do with a request from `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Read its registry entry with GetParameter.
    Read,
    /// Not registered: refuse without any AWS call.
    Stranger,
    /// No snapshot to judge by, and no direct read allowed now.
    Unavailable,
}

/// The answer, and whether `id` was registered once (listed now, or a key that was accepted
/// before): a refusal of such a validly signed key is the owner's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    pub standing: Standing,
    pub known_before: bool,
    /// The read is one of the bucket's miss reads: if it finds the entry, the read is
    /// given back (`learn`), so only misses that find nothing use the bucket up.
    pub miss_read: bool,
}

/// The per-instance state. Times are milliseconds of a monotonic clock.
#[derive(Debug, Default)]
pub struct State {
    listing: Option<(u64, Listing)>,
    attempted_ms: Option<u64>,
    accepted: HashSet<String>,
    accepted_ms: Option<u64>,
    /// The bucket of miss reads as a theoretical arrival time (GCRA): a read is allowed
    /// when this is at most `(BURST - 1) × GAP` ahead of now.
    miss_read_tat_ms: u64,
}

impl State {
    fn floor(&self) -> u64 {
        let pages = self.listing.as_ref().map_or(0, |(_, l)| l.pages);
        pages
            .saturating_mul(FLOOR_PER_PAGE_MS)
            .clamp(FLOOR_MIN_MS, FLOOR_MAX_MS)
    }

    fn may_refresh(&self, now: u64) -> bool {
        self.attempted_ms
            .is_none_or(|t| now < t || now - t >= self.floor())
    }

    fn age(&self, now: u64) -> Option<u64> {
        let (taken, _) = self.listing.as_ref()?;
        now.checked_sub(*taken)
    }

    /// Whether the snapshot lists `id`: `None` when it cannot say (none, too old, or a miss
    /// in an incomplete listing).
    fn lists(&self, kind: Kind, id: &str, now: u64) -> Option<bool> {
        self.age(now).filter(|a| *a <= MAX_AGE_MS)?;
        let (_, l) = self.listing.as_ref()?;
        let set = match kind {
            Kind::Key => &l.keys,
            Kind::User => &l.users,
        };
        match set.contains(id) {
            true => Some(true),
            false if l.complete => Some(false),
            false => None,
        }
    }

    fn refresh(&mut self, now: u64, fetch: &mut impl FnMut(bool) -> Option<Listing>) {
        let with_accepted = self
            .accepted_ms
            .is_none_or(|t| now < t || now - t >= ACCEPTED_REFRESH_MS);
        self.attempted_ms = Some(now);
        if let Some(mut listing) = fetch(with_accepted) {
            if let Some(accepted) = listing.accepted.take() {
                self.accepted = accepted;
                self.accepted_ms = Some(now);
            }
            self.listing = Some((now, listing));
        }
    }

    /// The standing of `id` at `now`; `fetch(with_accepted)` lists the registry (and the
    /// accepted keys when asked), `None` when it could not.
    pub fn judge(
        &mut self,
        kind: Kind,
        id: &str,
        now: u64,
        mut fetch: impl FnMut(bool) -> Option<Listing>,
    ) -> Judged {
        let stale = self.age(now).is_none_or(|a| a >= REFRESH_AFTER_MS);
        // Refresh when stale, or at once on a miss; either way no sooner than the floor.
        let miss = self.lists(kind, id, now) != Some(true);
        if (stale || miss) && self.may_refresh(now) {
            self.refresh(now, &mut fetch);
        }
        let listed = self.lists(kind, id, now);
        let known_before =
            listed == Some(true) || (kind == Kind::Key && self.accepted.contains(id));
        let mut miss_read = false;
        let standing = match listed {
            Some(true) => Standing::Read,
            _ if self.miss_read_tat_ms <= now + (MISS_READ_BURST - 1) * MISS_READ_GAP_MS => {
                self.miss_read_tat_ms = self.miss_read_tat_ms.max(now) + MISS_READ_GAP_MS;
                miss_read = true;
                Standing::Read
            }
            Some(false) => Standing::Stranger,
            None => Standing::Unavailable,
        };
        Judged {
            standing,
            known_before,
            miss_read,
        }
    }
}

impl State {
    /// `id` was just read and found registered: listed from now on, and a key is known to
    /// have been registered (so its refusal after a revocation is the owner's business).
    /// A miss read that found its entry is given back to the bucket: a key registered
    /// moments ago is no stranger, and only misses that find nothing use the bucket up.
    pub fn learn(&mut self, kind: Kind, id: &str, judged: Judged) {
        if judged.miss_read {
            self.miss_read_tat_ms = self.miss_read_tat_ms.saturating_sub(MISS_READ_GAP_MS);
        }
        if let Some((_, l)) = self.listing.as_mut() {
            match kind {
                Kind::Key => l.keys.insert(id.to_owned()),
                Kind::User => l.users.insert(id.to_owned()),
            };
        }
        if kind == Kind::Key {
            self.accepted.insert(id.to_owned());
        }
    }
}

/// Records that `id`'s registry entry was just read (as `judged` allowed) and exists.
pub fn learn(kind: Kind, id: &str, judged: Judged) {
    let mut st = state().lock().unwrap_or_else(|p| p.into_inner());
    st.learn(kind, id, judged);
}

fn state() -> &'static Mutex<State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE.get_or_init(|| Mutex::new(State::default()))
}

/// Milliseconds since the first call, from a monotonic clock.
fn mono_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// The standing of key or user `id` in this instance's snapshot (refreshed as needed).
pub fn judge(inv: &Invocation, kind: Kind, id: &str) -> Judged {
    let now = mono_ms();
    let mut st = state().lock().unwrap_or_else(|p| p.into_inner());
    st.judge(kind, id, now, |with_accepted| fetch(inv, with_accepted))
}

/// The direct children of `<base>/` among listed parameter names.
fn ids(entries: &[crate::listing::Entry], base: &str) -> HashSet<String> {
    entries
        .iter()
        .filter_map(|e| e.name.strip_prefix(base)?.strip_prefix('/'))
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .map(str::to_owned)
        .collect()
}

fn fetch(inv: &Invocation, with_accepted: bool) -> Option<Listing> {
    let cfg: &Config = inv.cfg;
    let budget = Budget {
        until: Instant::now() + REFRESH_BUDGET.min(inv.budget.remaining()),
    };
    let prefix = &cfg.registry_prefix;
    let list =
        |path: &str, recursive| crate::listing::list_within(cfg, budget, path, recursive).ok();
    let (keys_base, users_base) = (format!("{prefix}/keys"), format!("{prefix}/tokens"));
    let (keys, t1) = list(&keys_base, false)?;
    let (users, t2) = list(&users_base, false)?;
    // The role may list `<prefix>/seen` (the path asked for is what IAM authorises), so the
    // keys' records are taken from that listing.
    let seen = format!("{prefix}/{}", crate::seen::SEEN);
    let accepted = with_accepted
        .then(|| list(&seen, true))
        .flatten()
        .map(|(records, _)| ids(&records, &format!("{seen}/keys")));
    let page = |n: usize| (n as u64).div_ceil(10).max(1);
    Some(Listing {
        pages: page(keys.len()) + page(users.len()),
        keys: ids(&keys, &keys_base),
        users: ids(&users, &users_base),
        complete: !t1 && !t2,
        accepted,
    })
}

#[cfg(test)]
mod tests;
