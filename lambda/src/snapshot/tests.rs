//! Tests of the snapshot's rules on a made-up clock: refresh, floor, age limit, miss-read bucket.

use super::*;

fn listing(keys: &[&str], pages: u64) -> Listing {
    Listing {
        keys: keys.iter().map(|k| k.to_string()).collect(),
        users: HashSet::from(["alice".to_owned()]),
        complete: true,
        pages,
        accepted: Some(HashSet::from(["OLD".to_owned()])),
    }
}

/// Judges `id` at `now` with a registry listing `keys`; returns (standing, fetches).
fn at(st: &mut State, id: &str, now: u64, keys: &[&str]) -> (Standing, u32) {
    let mut n = 0;
    let j = st.judge(Kind::Key, id, now, |_| {
        n += 1;
        Some(listing(keys, 2))
    });
    (j.standing, n)
}

#[test]
fn a_flood_of_strangers_costs_one_refresh_per_floor_and_one_read_per_second() {
    let mut st = State::default();
    let (mut fetches, mut reads) = (0, 0);
    // 100 strangers a second for 60 s.
    for i in 0..6000u64 {
        let now = i * 10;
        let (s, n) = at(&mut st, &format!("S{i}"), now, &["A"]);
        fetches += n;
        reads += u32::from(s == Standing::Read);
    }
    assert!(
        fetches <= 60_000 / FLOOR_MIN_MS as u32 + 1,
        "{fetches} refreshes"
    );
    assert!(reads <= 60 + MISS_READ_BURST as u32, "{reads} direct reads");
    // The registered key is read (and so checked) every time, with no extra listing.
    assert_eq!(at(&mut st, "A", 60_001, &["A"]), (Standing::Read, 0));
}

#[test]
fn registration_is_seen_by_the_next_refresh_and_a_miss_refreshes_after_the_floor() {
    let mut st = State::default();
    assert_eq!(at(&mut st, "A", 0, &["A"]), (Standing::Read, 1));
    for i in 0..MISS_READ_BURST {
        let got = at(&mut st, "X", 100 + i, &["A"]);
        assert_eq!(got, (Standing::Read, 0), "miss read {i} of the burst");
    }
    assert_eq!(at(&mut st, "Y", 200, &["A"]), (Standing::Stranger, 0));
    // B is registered now: within the floor it is refused without a listing...
    assert_eq!(at(&mut st, "B", 300, &["A", "B"]), (Standing::Stranger, 0));
    // ...but a miss after the floor refreshes at once, and B is read.
    let t = FLOOR_MIN_MS;
    assert_eq!(at(&mut st, "B", t, &["A", "B"]), (Standing::Read, 1));
    // Revoked from the registry: a listed key is still read, so SSM's "not found" wins.
    assert_eq!(at(&mut st, "A", t + 1, &["B"]), (Standing::Read, 0));
}

#[test]
fn keys_registered_faster_than_the_bucket_refills_are_all_read() {
    let mut st = State::default();
    at(&mut st, "A", 0, &["A"]);
    // 100 new keys in 5 s, none listed yet: every one is read, and found.
    for i in 0..100u64 {
        let id = format!("NEW{i}");
        let j = st.judge(Kind::Key, &id, 1 + i * 50, |_| Some(listing(&["A"], 2)));
        assert_eq!(j.standing, Standing::Read, "{id}");
        st.learn(Kind::Key, &id, j);
    }
    // Misses that find nothing still use the bucket up.
    let refused = (0..20u64)
        .filter(|i| {
            let j = st.judge(Kind::Key, &format!("S{i}"), 5_001 + i, |_| None);
            j.standing == Standing::Stranger
        })
        .count();
    assert_eq!(refused, 20 - MISS_READ_BURST as usize);
}

#[test]
fn an_old_snapshot_refuses_no_one_and_a_failed_refresh_waits_for_the_floor() {
    let mut st = State::default();
    assert_eq!(at(&mut st, "A", 0, &["A"]).1, 1);
    let n = std::cell::Cell::new(0);
    let failing = |_| {
        n.set(n.get() + 1);
        None
    };
    // Past REFRESH_AFTER the listing fails; the snapshot still judges until MAX_AGE.
    let j = st.judge(Kind::Key, "S", REFRESH_AFTER_MS, failing);
    assert_eq!((j.standing, n.get()), (Standing::Read, 1), "the miss read");
    for _ in 1..MISS_READ_BURST {
        st.judge(Kind::Key, "S", REFRESH_AFTER_MS + 1, failing);
    }
    let j = st.judge(Kind::Key, "S", REFRESH_AFTER_MS + 500, failing);
    assert_eq!(
        (j.standing, n.get()),
        (Standing::Stranger, 1),
        "floor: no new attempt"
    );
    // Past MAX_AGE with SSM still failing: no one is refused as a stranger.
    let later = MAX_AGE_MS + 1;
    let j = st.judge(Kind::Key, "S", later, failing);
    assert_eq!((j.standing, n.get()), (Standing::Read, 2));
    for _ in 0..MISS_READ_BURST {
        st.judge(Kind::Key, "S", later + 5, failing);
    }
    let j = st.judge(Kind::Key, "S", later + 10, failing);
    assert_eq!(j.standing, Standing::Unavailable);
}

#[test]
fn keys_accepted_before_are_known_and_the_floor_grows_with_the_registry() {
    let mut st = State::default();
    let j = st.judge(Kind::Key, "OLD", 0, |_| Some(listing(&["A"], 2)));
    assert!(j.known_before, "a revoked key that was accepted before");
    let j = st.judge(Kind::Key, "NEXT", 1, |_| Some(listing(&["A"], 2)));
    assert!(!j.known_before, "a next key never accepted is a stranger");
    // Registered since the listing, read once and found: listed and known from then on.
    st.learn(Kind::Key, "NEXT", j);
    let j = st.judge(Kind::Key, "NEXT", 3, |_| None);
    assert_eq!((j.standing, j.known_before), (Standing::Read, true));
    let j = st.judge(Kind::User, "alice", 2, |_| Some(listing(&["A"], 2)));
    assert_eq!((j.standing, j.known_before), (Standing::Read, true));
    // A large registry: 100 pages make the floor 25 s.
    let mut big = State::default();
    big.judge(Kind::Key, "A", 0, |_| Some(listing(&["A"], 100)));
    let mut n = 0;
    for now in (1_000..25_000).step_by(1_000) {
        big.judge(Kind::Key, "S", now, |_| {
            n += 1;
            Some(listing(&["A"], 100))
        });
    }
    assert_eq!(n, 0);
    big.judge(Kind::Key, "S", 25_000, |_| {
        n += 1;
        Some(listing(&["A"], 100))
    });
    assert_eq!(n, 1);
}
