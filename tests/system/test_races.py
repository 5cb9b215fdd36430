"""The race property: many writers of one name at once, on the strict Route53 stand-in.

Each round (seeded, `random.Random(seed)`) takes a fresh name, registers 2-4 router keys and
1-3 dyndns2 users for it (revoked after the round), and fires 10 requests at once at a Lambda emulator that runs 10+
instances (`cargo lambda watch --concurrency`), in a random order with random start delays:
signed v2 requests (a key may send several with increasing times, a request may be sent
twice verbatim, two keys may sign the same time) and dyndns2 updates, all with random
addresses from a small pool (so some change nothing). Asserted, every round:

- no answer is HTTP 500; every signed answer is 200, 409 `superseded`/`replayed`, or 429
  for an unchanged request inside its name's quiet period (lambda/src/quiet.rs); every dyndns2
  answer is `good`/`nochg`;
- before each round one of its keys publishes the name, and that key's requests in the round
  mostly carry the answer's `last` (a right guess until the first of them wins; the others
  are refuted and read, lambda/src/guess.rs), while other keys' requests sometimes carry it
  too (always wrong: the stamp names another sender);
- rounds are played on Route53's two InvalidChangeBatch shapes (legacy `<InvalidChangeBatch>`
  and the standard `<ErrorResponse>`), and one round in four loses ChangeBatch answers: a
  connection reset before a batch is applied, or after it was applied (the stand-in's
  `lose_answers`). A request whose lost answer could not be settled says so (409 "answer ...
  was lost", 503 `unavailable`): it is "unknown", its stamp write may or may not be there;
- every request that changed the records (200 `updated`, `good`) is notified exactly once,
  and nothing else is;
- the stand-in's history of applied batches for the name holds exactly one stamp write per
  accepted (200) request, stamp times strictly increasing in the order Route53 applied them;
- the final A/AAAA, read with boto3 straight from moto, are the addresses of the request the
  final `_r53ddns.<name>` AAAA stamp names (time and the id of "k=<key>" / "u=<user>"), and that
  request was answered 200;
- the final stamp time is above that of every other accepted signed request, and no signed
  request was accepted after an accepted one with a later time had been answered.

R53_RACE_ROUNDS (default 200) and R53_RACE_SEED (default 11) change the run; a failing round
prints its seed, and the run prints rounds, requests, 409s, 500s and the wall time.
"""

from __future__ import annotations

import base64
import collections
import os
import random
import threading
import time
import urllib.parse
import uuid

import pytest

from stack import Signer, Stack, http_request, now_ms, read_stamp, stamp_id
from test_guess import last_of

ROUNDS = int(os.environ.get("R53_RACE_ROUNDS", "200"))
SEED = int(os.environ.get("R53_RACE_SEED", "11"))
PER_ROUND = 10
CONCURRENCY = 10
V4 = [f"192.0.2.{i}" for i in (1, 2, 3)] + ["198.51.100.7"]
V6 = ["2001:db8::1", "2001:db8::2", "2001:db8:1::3"]


@pytest.fixture(scope="module")
def race_stack(tmp_path_factory):
    host = Signer.host  # a Stack sets the default signed host; keep the session stack's
    s = Stack(tmp_path_factory.mktemp("race-stack"), concurrency=CONCURRENCY)
    Signer.host = host
    try:
        yield s
    finally:
        s.close()



class Req:
    def __init__(self, kind, who, v4, v6, t=None, signer=None):
        self.kind, self.who, self.v4, self.v6, self.t, self.signer = kind, who, v4, v6, t, signer
        self.last = None
        self.delay = 0.0
        self.start = self.end = None
        self.status, self.text = None, ""

    def label(self):
        return f"{self.kind} {self.who[:8]} t={self.t} {self.v4} {self.v6} -> {self.status} {self.text[:80]!r}"


def plan_round(rng: random.Random, stack: Stack, name: str) -> tuple[list[Req], list, list]:
    signers = [Signer() for _ in range(rng.randint(2, 4))]
    for s in signers:
        stack.register_key(s.key_id, [name])
    users = []
    for _ in range(rng.randint(1, 3)):
        user, token = "r" + uuid.uuid4().hex[:10], uuid.uuid4().hex
        stack.register_token(user, token, [name])
        users.append((user, token))
    n_dyn = rng.randint(1, len(users))
    # The name as the first key last left it: the `last` its requests send back.
    pre = stack.post_update(signers[0], {"hosts": [{"name": name, "ipv4": rng.choice(V4),
                                                   "ipv6": rng.choice(V6)}]})
    assert pre.status == 200, pre
    last0 = last_of(pre.json(), name)
    base = now_ms() + 200
    reqs, last_t = [], {}
    for user, token in users[:n_dyn]:  # one request per user, so its stamp names it
        r = Req("dyndns2", user, rng.choice(V4), rng.choice(V6))
        r.token = token
        reqs.append(r)
    while len(reqs) < PER_ROUND:
        if reqs and rng.random() < 0.1:
            prior = [r for r in reqs if r.kind == "signed"]
            if prior:  # the same signed request again, verbatim
                p = rng.choice(prior)
                reqs.append(Req("signed", p.who, p.v4, p.v6, p.t, p.signer))
                reqs[-1].last = p.last
                continue
        s = rng.choice(signers)
        if rng.random() < 0.1 and last_t:
            t = rng.choice(list(last_t.values()))  # a time another key also signs
        else:
            t = base + rng.randint(0, 1500)
        t = max(t, last_t.get(s.key_id, 0) + 1)  # one key's times increase
        last_t[s.key_id] = t
        reqs.append(Req("signed", s.key_id, rng.choice(V4), rng.choice(V6), t, s))
        if rng.random() < (0.7 if s is signers[0] else 0.3):
            reqs[-1].last = last0
    rng.shuffle(reqs)
    for r in reqs:
        r.delay = rng.choice([0.0, 0.0, rng.uniform(0, 0.05), rng.uniform(0, 0.2)])
    return reqs, signers, users


def send(stack: Stack, name: str, r: Req):
    if r.kind == "signed":
        host = {"name": name, "ipv4": r.v4, "ipv6": r.v6}
        if r.last is not None:
            host["last"] = r.last
        rep = stack.post_update(r.signer, {"hosts": [host]}, time_ms=r.t)
    else:
        q = urllib.parse.urlencode({"hostname": name, "myip": f"{r.v4},{r.v6}"})
        cred = base64.b64encode(f"{r.who}:{r.token}".encode()).decode()
        rep = http_request(f"{stack.http_url}/nic/update?{q}", headers={"Authorization": f"Basic {cred}"})
    return rep.status, rep.text


def run_round(stack: Stack, name: str, reqs: list[Req]):
    gate = threading.Barrier(len(reqs))

    def one(r: Req):
        gate.wait()
        time.sleep(r.delay)
        r.start = time.monotonic()
        try:
            r.status, r.text = send(stack, name, r)
        except OSError as e:
            r.status, r.text = -1, f"transport: {e}"
        r.end = time.monotonic()

    threads = [threading.Thread(target=one, args=(r,)) for r in reqs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)


def parse_stamp(value: str):
    """(time, sender id) of an AAAA stamp: the id is `stamp_id` of "k=<key>" / "u=<user>", see who_of."""
    return read_stamp(value) or (-1, value)


def who_of(r) -> str:
    return stamp_id(("k=" if r.kind == "signed" else "u=") + r.who)


def unknown(r: Req) -> bool:
    """A request whose batch may or may not have been applied (its answer was lost): signed,
    409/503 saying so; dyndns2, a bare `nochg` (409 `superseded` in dyndns2's words: a newer
    request stands) or `911`."""
    if r.kind == "dyndns2":
        return r.status == 200 and r.text in ("nochg", "911")
    return r.status in (409, 503) and "was lost" in r.text


def quiet(r: Req) -> bool:
    return r.status == 429 and "changes no address" in r.text


def changed(r: Req) -> bool:
    return r.status == 200 and (r.text.startswith("good") or '"result":"updated"' in r.text)


def check_round(stack: Stack, name: str, reqs: list[Req], history, notes, lossy=False) -> list[str]:
    bad = []
    for r in reqs:
        if r.status == 500 or r.status == -1:
            bad.append(f"500/transport: {r.label()}")
        elif r.kind == "signed" and not (r.status == 200 or quiet(r) or unknown(r) or (
                r.status == 409 and ('"superseded"' in r.text or '"replayed"' in r.text))):
            bad.append(f"signed answer not 200/409 superseded|replayed/429 quiet: {r.label()}")
        elif r.kind == "dyndns2" and not (r.status == 200 and r.text.split(" ")[0] in ("good", "nochg")):
            bad.append(f"dyndns2 answer not good/nochg: {r.label()}")
    ok = [r for r in reqs if r.status == 200]
    sent = sum(1 for n in notes if any(c["name"] == name for c in n["Message"]["changes"]))
    copies = len(ok) - len({(r.kind, r.who, r.t) for r in ok})  # see "replay accepted" below
    if not (sum(changed(r) for r in ok) - copies <= sent <= sum(changed(r) for r in ok)):
        bad.append(f"{sent} change notifications for {sum(changed(r) for r in ok)} changes")
    # Route53's order of applied stamps for this name (the stand-in's history).
    stamp_name = f"_r53ddns.{name}."
    writes = [parse_stamp(vals[0]) for _, changes in history for (a, n, t, _ttl, vals) in changes
              if n == stamp_name and t == "AAAA" and a == "CREATE"]
    twice = collections.Counter((r.who, r.t) for r in ok if r.kind == "signed")
    stamped = collections.Counter((w, t) for t, w in writes)
    for (who, t), n in twice.items():
        # Two copies of one request, the first copy's answer lost: the second copy's batch
        # can land first, and the first copy then finds its own stamp. The request is applied
        # once (checked below); both copies are told 200 (docs/protocol.md §3, "Lost answers").
        shared = lossy and stamped[(stamp_id("k=" + who), t)] == 1
        if n > 1 and not shared:
            bad.append(f"replay accepted: one signed request (key {who[:8]} t={t}) answered 200 {n} times")
    times = [t for t, _ in writes]
    if times != sorted(set(times)):
        bad.append(f"stamp times not strictly increasing in Route53's order: {times}")
    signed_ids = {who_of(r) for r in reqs if r.kind == "signed"}
    # A dyndns2 `nochg` inside the quiet period writes nothing (and in a round every stamp
    # is fresh), so only `good` ones write; an unknown request's write may be there or not.
    key = lambda r: (who_of(r), r.t) if r.kind == "signed" else (who_of(r),)  # noqa: E731
    written = [r for r in ok if r.kind == "signed" or r.text.startswith("good")]
    want = collections.Counter(set(key(r) for r in written))  # copies of one request: one write
    got = collections.Counter(((w, t) if w in signed_ids else (w,)) for t, w in writes)
    maybe = collections.Counter(key(r) for r in reqs if unknown(r))
    if not (want <= got and got - want <= maybe):
        bad.append(f"stamp writes {dict(got)} != accepted requests {dict(want)} (+ unknown {dict(maybe)})")
    rec = stack.records(name)
    stamp = stack.stamp(name)
    if stamp is None:
        return bad + ["no stamp after the round"]
    t_final, who = parse_stamp(stamp)
    named = [r for r in ok + [u for u in reqs if unknown(u)]
             if who_of(r) == who and (r.kind == "dyndns2" or r.t == t_final)]
    if not named:
        return bad + [f"the final stamp {stamp} names no request answered 200"]
    w = named[0]
    if (rec["A"], rec["AAAA"]) != ([w.v4], [w.v6]):
        bad.append(f"final records {rec['A']} {rec['AAAA']} are not those of the stamp's request {w.label()}")
    for r in ok:
        if r.kind == "signed" and r is not w and r.t >= t_final and not (r.who == w.who and r.t == w.t):
            bad.append(f"accepted {r.label()} is not older than the final stamp t={t_final}")
    for a in ok:
        for b in ok:
            if a.kind == b.kind == "signed" and a.end < b.start and b.t <= a.t:
                bad.append(f"accepted after a newer accepted one had answered: {b.label()} after {a.label()}")
    return bad


def test_concurrent_writers_of_one_name_leave_the_latest_accepted_intent(race_stack):
    stack = race_stack
    # Warm-up: start every emulated instance before the clock runs.
    warm = [Req("signed", "w", "192.0.2.1", "2001:db8::1", now_ms() + i, Signer()) for i in range(CONCURRENCY)]
    wname = stack.new_name("warm")
    for r in warm:
        stack.register_key(r.signer.key_id, [wname])
    run_round(stack, wname, warm)

    started = time.monotonic()
    before = stack.route53_counts()
    totals = collections.Counter()
    failures = []
    kinds = collections.Counter()
    spent = collections.Counter()
    lat = []
    for i in range(ROUNDS):
        seed = SEED * 100_000 + i
        rng = random.Random(seed)
        name = stack.new_name("race")
        t0 = time.monotonic()
        reqs, signers, users = plan_round(rng, stack, name)
        mark = len(stack.proxy.history)
        stack.proxy.batch_shape = rng.choice(["legacy", "standard"])
        lossy = rng.random() < 0.25
        if lossy:
            stack.lose_route53_answers(reset_before_apply=rng.randint(0, 2),
                                       drop_after_apply=rng.randint(1, 2))
        stack.notifications()  # drop anything left from before
        t1 = time.monotonic()
        run_round(stack, name, reqs)
        stack.lose_route53_answers()  # whatever this round did not use
        spent["setup"] += t1 - t0
        spent["requests"] += time.monotonic() - t1
        history = list(stack.proxy.history)[mark:]
        for r in reqs:
            lat.append(r.end - r.start)
            totals["requests"] += 1
            totals[f"{r.kind} {r.status}"] += 1
            totals["unknown outcome"] += unknown(r)
            totals["quiet 429"] += quiet(r)
            totals["with last"] += r.last is not None
        t1 = time.monotonic()
        totals["lossy rounds"] += lossy
        bad = check_round(stack, name, reqs, history, stack.notifications(wait_s=0.2), lossy)
        spent["check"] += time.monotonic() - t1
        # The round's keys and users leave the registry, so that it stays the size of one
        # round: a registry that grows by 200 rounds' entries makes every instance's listing
        # (lambda/src/snapshot.rs) long enough to hit SSM's read limit, which is
        # test_load's and flood.py's subject, not this test's.
        for signer in signers:
            stack.revoke_key(signer.key_id)
        for user, _ in users:
            stack.revoke_token(user)
        if bad:
            failures.append((seed, bad, [r.label() for r in reqs]))
            for b in bad:
                kinds[b.split(":")[0].split(" {")[0][:60]] += 1
    wall = time.monotonic() - started
    after = stack.route53_counts()
    r53 = {k: after[k] - before[k] for k in after}
    n409 = sum(v for k, v in totals.items() if k.endswith(" 409"))
    n500 = sum(v for k, v in totals.items() if k.endswith(" 500"))
    log = stack.lambda_log()
    totals.update({f"guess {g}": log.count(f'"guess":"{g}"') for g in ("written", "refuted", "unused")})
    print(f"\nrace: rounds={i + 1} requests={totals['requests']} 409s={n409} 500s={n500} "
          f"wall={wall:.1f}s latency median={sorted(lat)[len(lat) // 2]:.2f}s max={max(lat):.2f}s spent={ {k: round(v, 1) for k, v in spent.items()} } answers={dict(sorted(totals.items()))} route53={r53} seed={SEED}")
    if kinds:
        print(f"failed rounds: {len(failures)}; by kind: {dict(kinds)}")
    for seed, bad, labels in failures[:5]:
        print(f"FAILED round seed={seed}:\n  " + "\n  ".join(bad) + "\n requests:\n  " + "\n  ".join(labels))
    assert not failures, f"{len(failures)} rounds broke the race property; seeds {[f[0] for f in failures]}"
    assert r53["moto_refused"] == 0
    cached = sorted((x.name, x.rtype, x.ttl, tuple(sorted(x.values))) for x in stack.proxy.cache[stack.zone_id])
    stored = sorted((x.name, x.rtype, x.ttl, tuple(sorted(x.values))) for x in stack.proxy.moto_sets(stack.zone_id))
    assert cached == stored, "the stand-in's copy of the zone is what moto holds"
