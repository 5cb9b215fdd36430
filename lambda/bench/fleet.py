#!/usr/bin/env python3
"""A fleet renumbered at once: N routers, each a real signed v2 request through the real
Lambda (`cargo lambda watch --concurrency C`) to the Route53 stand-in with Route53's
documented throttling on, each router retrying as the router does.

    python3 lambda/bench/fleet.py --routers 100 [--concurrency 10] [--policy paced|floor]

The stack is tests/system/stack.py's (moto, the Route53 and SSM stand-ins, the Lambda in its
runtime loop). Route53 throttling: the account bucket and each action's bucket (50 tokens,
10/s), plus a change-throughput bucket (`--changes CAP,RATE`; its documented size is not
known here, see lambda/bench/README.md). N keys are registered (one name each), every name
is first published through the Lambda with throttling off (each router keeps the answer's
`stamp` and records as the router does), then at t=0 every router sends its new address
with that `last` (`--no-last`: without, so every update reads first).

Each simulated router is a schedule in this process (no router binary), the requests are
real HTTP. After a failure it waits as the router does (src/retry.rs `next_wait`, src/updater.rs
`schedule`):
  floor  the policy before pacing: every failure counts; wait = max(own backoff, retry_after)
         with the own backoff 10-12 s, 60-72 s, 120-144 s, ... (retry.rs `delay`).
  paced  the policy with pacing: a 429 `throttled` with `retry_after` is a schedule, not a
         failure: the next try is at retry_after (at most `PACED_MAX` in a row); anything else
         counts as a failure as in `floor`.
The router's safety-net timer is not modelled (a wait longer than check_interval is sent at
its due time, not at the next timer tick): the figures are a lower bound for long waits.

Bounded: at most `--max-seconds` of simulated updates (default 900), every request has a
60 s timeout, then it stops and reports who was not right. Numbers, not assertions.

Prints: time until every record is right (read back from moto), answers by status, the 429s,
retries per router, Route53 calls per update (the Lambda's log lines, `route53_calls`, and
the stand-in's counters), and a timeline per 10 s of answers and Route53 calls.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import heapq
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "system"))
from stack import PREFIX, ZONE, Signer, Stack  # noqa: E402

# src/retry.rs: FIRST_RETRY, STEP, STEP_CAP_S, CEILING, RETRY_AFTER_MAX.
FIRST_RETRY, STEP, STEP_CAP, CEILING, RETRY_AFTER_MAX = 10, 60, 1500, 1800, 3600
# src/retry.rs PACED_MAX: paced answers in a row honoured as a schedule.
PACED_MAX = 8


def delay(failures: int, r: float) -> float:
    """src/retry.rs `delay`."""
    step = FIRST_RETRY if failures <= 1 else min(STEP * (1 << min(failures - 2, 16)), STEP_CAP)
    return min(step * (1 + 0.2 * min(max(r, 0.0), 1.0)), CEILING)


class Router:
    def __init__(self, i: int, policy: str):
        self.i, self.policy = i, policy
        self.signer = Signer()
        self.name = f"r{i:05d}.{ZONE}"
        self.failures = self.paced = self.tries = 0
        self.done_at: float | None = None
        self.statuses: list[int] = []
        # What the router keeps from its last 200 and sends back as `last` (src/record.rs).
        self.last: dict | None = None

    def keep(self, answer: dict):
        """src/record.rs `success`: the answer's stamp and this name's published records."""
        host = next((h for h in answer.get("hosts", []) if h.get("name") == self.name), None)
        if host is None or not isinstance(answer.get("stamp"), int):
            self.last = None
            return
        self.last = {"stamp": answer["stamp"], "ttl": host["ttl"]}
        self.last.update({k: host[k] for k in ("a", "aaaa") if host.get(k)})

    def after(self, status: int, body: dict) -> float | None:
        """Seconds until the next try (None: done or given up), as src/updater.rs decides."""
        self.statuses.append(status)
        if status == 200:
            return None
        code = body.get("error") if isinstance(body, dict) else None
        if status < 500 and status not in (408, 429):
            return None  # permanent: the router stops (counted as lost)
        ra = body.get("retry_after") if isinstance(body, dict) else None
        ra = ra if isinstance(ra, int) and ra >= 0 else None
        if (self.policy == "paced" and status == 429 and code == "throttled" and ra is not None
                and self.paced < PACED_MAX):
            self.paced += 1
            return float(min(ra, RETRY_AFTER_MAX))
        self.failures += 1
        own = delay(self.failures, random.random())
        return own if ra is None else max(own, float(min(ra, RETRY_AFTER_MAX)))


def body_for(name: str, ip: str, last: dict | None = None) -> bytes:
    host = {"name": name, "ipv4": ip}
    if last is not None:
        host["last"] = last
    return json.dumps({"hosts": [host]}, separators=(",", ":")).encode()


def publish(stack: Stack, routers: list[Router], ip: str, workers: int):
    """Every router's name at `ip`, through the Lambda (throttling off)."""
    def one(r: Router):
        for _ in range(5):
            rep = stack.post_update(r.signer, body_for(r.name, ip))
            if rep.status == 200:
                r.keep(rep.json())
                return
            time.sleep(1)
        raise RuntimeError(f"{r.name} could not be published: {rep}")
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, routers))


def all_records(stack: Stack) -> dict[str, list[str]]:
    """Every A record of the zone, read from moto directly."""
    out, kw = {}, {"HostedZoneId": stack.zone_id, "MaxItems": "300"}
    while True:
        page = stack.r53.list_resource_record_sets(**kw)
        for s in page["ResourceRecordSets"]:
            if s["Type"] == "A":
                out[s["Name"].rstrip(".")] = sorted(v["Value"] for v in s["ResourceRecords"])
        if not page.get("IsTruncated"):
            return out
        kw.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])


def log_lines(text: str, since: int) -> list[dict]:
    out = []
    for line in text[since:].splitlines():
        i = line.find('{"request_id"')
        if i < 0:
            continue
        try:
            j = json.loads(line[i:])
        except ValueError:
            continue
        if j.get("route") == "update":
            out.append(j)
    return out


def run_fleet(stack: Stack, routers: list[Router], ip: str, workers: int, max_s: float,
              send_last: bool = True):
    """The renumbering: every router sends at t=0, then follows its retry policy."""
    events = []  # (t, seq, router) on the wall clock of this process (monotonic)
    t0 = time.monotonic()
    for r in routers:
        heapq.heappush(events, (t0, r.i, r))
    lock = threading.Condition()
    inflight = [0]
    answers = []  # (t - t0, status, error code, retry_after)
    seq = [len(routers)]

    def send(r: Router):
        r.tries += 1
        try:
            rep = stack.post_update(r.signer, body_for(r.name, ip, r.last if send_last else None))
            status = rep.status
            try:
                body = rep.json()
            except ValueError:
                body = {}
        except OSError as e:
            status, body = 599, {"error": f"transport: {e}"}
        now = time.monotonic()
        wait = r.after(status, body)
        with lock:
            answers.append((now - t0, status, body.get("error"), body.get("retry_after")))
            if status == 200:
                r.done_at = now - t0
            elif wait is not None and now + wait - t0 <= max_s:
                seq[0] += 1
                heapq.heappush(events, (now + wait, seq[0], r))
            inflight[0] -= 1
            lock.notify_all()

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        while True:
            with lock:
                if not events and inflight[0] == 0:
                    break
                if not events or inflight[0] >= workers:
                    lock.wait(0.2)
                    continue
                t, _, r = events[0]
                now = time.monotonic()
                if t > now:
                    lock.wait(min(t - now, 0.2))
                    continue
                heapq.heappop(events)
                inflight[0] += 1
            pool.submit(send, r)
    return answers, time.monotonic() - t0


def timeline(answers, width=10):
    """Per `width` s: answers by kind."""
    rows = collections.defaultdict(collections.Counter)
    for t, status, code, _ in answers:
        rows[int(t // width)]["ok" if status == 200 else f"{status} {code}"] += 1
    return rows


def report(args, routers, answers, elapsed, lines, r53_before, r53_after, records, ip):
    n = len(routers)
    right = sum(1 for r in routers if records.get(r.name) == [ip])
    done = [r.done_at for r in routers if r.done_at is not None]
    statuses = collections.Counter((s, c) for _, s, c, _ in answers)
    print(f"routers {n}, Lambda concurrency {args.concurrency}, policy {args.policy}, "
          f"change bucket {args.changes}, last {'sent' if not args.no_last else 'not sent'}")
    print(f"records right at the end (read from moto): {right}/{n}; lost: {n - right}")
    if done:
        print(f"time until every accepted router was answered 200: {max(done):.1f} s "
              f"(median {statistics.median(done):.1f} s, p90 {sorted(done)[int(len(done) * .9) - 1]:.1f} s)")
    print(f"run ended after {elapsed:.1f} s of simulated updates (limit {args.max_seconds} s)")
    print("answers: " + ", ".join(f"{s} {c or ''}: {k}".replace(" :", ":")
                                  for (s, c), k in sorted(statuses.items(), key=str)))
    retries = [r.tries - 1 for r in routers]
    print(f"requests {len(answers)} for {n} updates; retries per router: mean "
          f"{statistics.mean(retries):.2f}, max {max(retries)}, "
          f"routers that needed none {sum(1 for x in retries if x == 0)}; "
          f"failure-backoff steps taken: {sum(r.failures for r in routers)}, "
          f"paced waits: {sum(r.paced for r in routers)}")
    ras = [ra for _, s, _, ra in answers if s == 429 and isinstance(ra, int)]
    if ras:
        print(f"retry_after of the 429s: min {min(ras)}, median {statistics.median(ras)}, max {max(ras)} s")
    calls = [j.get("route53_calls", 0) for j in lines]
    ok = [j.get("route53_calls", 0) for j in lines if j.get("status") == 200]
    d = {k: r53_after.get(k, 0) - r53_before.get(k, 0) for k in r53_after if isinstance(r53_after[k], int)}
    print(f"Route53 calls (Lambda log): {sum(calls)} over {len(lines)} requests, "
          f"{sum(calls) / max(1, n):.2f} per update; in accepted requests {sum(ok) / max(1, len(ok)):.2f} each")
    print(f"Route53 stand-in: {json.dumps(d)}")
    guesses = collections.Counter(j.get("guess") for j in lines)
    print("what came of `last` (log line `guess`): " + ", ".join(
        f"{k or 'no last'}: {v}" for k, v in sorted(guesses.items(), key=str)))
    lat = sorted(j.get("latency_ms", 0) for j in lines)
    if lat:
        print(f"Lambda latency: median {statistics.median(lat)} ms, p90 {lat[int(len(lat) * .9) - 1]} ms, "
              f"max {lat[-1]} ms; Lambda time in all: {sum(lat) / 1000:.0f} s")
    print(f"reads spent on a write that did not happen: {d.get('lists', 0) - d.get('changes', 0)}; "
          f"Route53 calls that were not throttled: {d.get('calls', 0) - d.get('throttled', 0)} "
          f"({(d.get('calls', 0) - d.get('throttled', 0)) / max(1, n):.2f} per update)")
    print("timeline (10 s buckets): answers")
    for b, c in sorted(timeline(answers).items()):
        print(f"  {b * 10:5d}-{b * 10 + 10:<5d} " + ", ".join(f"{k}: {v}" for k, v in sorted(c.items())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--routers", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--policy", choices=("paced", "floor"), default="paced")
    ap.add_argument("--changes", default="1000,100",
                    help="change-throughput bucket CAPACITY,PER_SECOND ('off': none)")
    ap.add_argument("--workers", type=int, default=64, help="requests in flight at most")
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--no-last", action="store_true",
                    help="routers send no `last` (every update reads first, as before)")
    args = ap.parse_args()
    if not (1 <= args.routers <= 20000 and 1 <= args.concurrency <= 64 and args.max_seconds <= 7200):
        ap.error("routers 1..20000, concurrency 1..64, max-seconds <= 7200")
    changes = None if args.changes == "off" else tuple(float(x) for x in args.changes.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="fleet-"))
    stack = Stack(workdir, concurrency=args.concurrency)
    try:
        routers = [Router(i, args.policy) for i in range(args.routers)]
        t = time.monotonic()
        for r in routers:
            stack.ssm.put_parameter(Name=f"{PREFIX}/keys/{r.signer.key_id}",
                                    Value=json.dumps({"names": [r.name]}), Type="String")
        publish(stack, routers, "198.51.100.1", min(args.workers, args.concurrency))
        for r in routers:
            r.tries = 0
            r.statuses.clear()
        print(f"set-up: {args.routers} keys registered and names published in {time.monotonic() - t:.0f} s")
        time.sleep(6)  # the buckets refill
        stack.route53_throttling(True, changes=changes)
        since = len(stack.lambda_log())
        before = stack.route53_counts()
        ip = "203.0.113.7"
        answers, elapsed = run_fleet(stack, routers, ip, args.workers, args.max_seconds,
                                     not args.no_last)
        after = stack.route53_counts()
        stack.route53_throttling(False)
        time.sleep(1)
        lines = log_lines(stack.lambda_log(), since)
        report(args, routers, answers, elapsed, lines, before, after, all_records(stack), ip)
    finally:
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
