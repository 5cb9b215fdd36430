#!/usr/bin/env python3
"""A flood of strangers while registered routers update: what it costs in SSM calls.

The local stack of the system tests (tests/system/stack.py: moto, the Lambda under
`cargo lambda watch`, the Route53 stand-in, and the SSM stand-in with SSM's documented
throughput limits switched on when the stack has one) takes, for DURATION seconds:

- a flood at RATE requests/s, half signed updates from random unregistered keys (a pool of
  fresh Ed25519 keys, each valid, none registered), half dyndns2 logins of unknown users;
- ROUTERS registered routers, each sending a signed update every PERIOD seconds (the
  address alternates, so every update writes Route53).

    python3 lambda/bench/flood.py [--rate 100] [--duration 60] [--routers 20] [--period 10]
                                  [--concurrency 2] [--no-ssm-limits]

Prints: the flood rate reached and its answers; every router update's outcome; SSM calls
in all, per second (mean and the busiest second), by action when the stand-in counts them,
and how many flood requests cost any SSM call (from the function's own log lines,
`ssm_calls`, bucketed by their EMF timestamp). Numbers, not assertions.
"""

import argparse
import base64
import collections
import json
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "system"))
from stack import Signer, Stack, http_request  # noqa: E402


def lines_by_id(stack) -> dict:
    out = {}
    for line in stack.lambda_log().splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            j = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(j, dict) and "request_id" in j:
            out[j["request_id"]] = j
    return out


def flood(stack, rate: float, duration: float, name: str, results: list):
    signers = [Signer() for _ in range(200)]
    stop_at = time.monotonic() + duration
    body = {"hosts": [{"name": name, "ipv4": "auto"}]}

    def one(i: int):
        try:
            if i % 2:
                r = stack.post_update(signers[i % len(signers)], body)
            else:
                auth = base64.b64encode(f"u{uuid.uuid4().hex[:12]}:guess".encode()).decode()
                r = http_request(f"{stack.http_url}/nic/update?hostname={name}",
                                 headers={"authorization": f"Basic {auth}"}, timeout=30)
            results.append((r.status, r.text[:20] if r.status == 200 else "", r.headers.get("x-request-id")))
        except OSError as e:
            results.append((0, type(e).__name__, None))

    with ThreadPoolExecutor(max_workers=32) as pool:
        i, t0 = 0, time.monotonic()
        while time.monotonic() < stop_at:
            target = t0 + i / rate
            pause = target - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            pool.submit(one, i)
            i += 1


def router(stack, signer, name, period: float, duration: float, out: list):
    stop_at = time.monotonic() + duration
    n = 0
    while time.monotonic() < stop_at:
        started = time.monotonic()
        addr = f"198.51.100.{1 + n % 2}"
        r = stack.post_update(signer, {"hosts": [{"name": name, "ipv4": addr}]})
        out.append((r.status, time.monotonic() - started, r.headers.get("x-request-id")))
        n += 1
        time.sleep(max(0.0, period - (time.monotonic() - started)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--routers", type=int, default=20)
    ap.add_argument("--period", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--no-ssm-limits", action="store_true")
    a = ap.parse_args()
    stack = Stack(Path(tempfile.mkdtemp(prefix="flood-")), concurrency=a.concurrency)
    try:
        limits = hasattr(stack, "ssm_limits") and not a.no_ssm_limits
        if limits:
            stack.ssm_limits(reads=True, puts=True)
        print(f"SSM stand-in limits: {'on' if limits else 'off (no SSM stand-in in this stack)'}")
        routers = [(Signer(), stack.new_name("router")) for _ in range(a.routers)]
        for s, n in routers:
            stack.register_key(s.key_id, [n])
        time.sleep(1)
        before = stack.ssm_counts() if hasattr(stack, "ssm_counts") else None
        flood_results, router_results = [], collections.defaultdict(list)
        threads = [threading.Thread(target=flood, args=(stack, a.rate, a.duration, stack.new_name(), flood_results))]
        for i, (s, n) in enumerate(routers):
            threads.append(threading.Thread(target=router, args=(stack, s, n, a.period, a.duration, router_results[i])))
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        time.sleep(2)
        report(stack, a, elapsed, flood_results, router_results, before)
    finally:
        stack.close()


def report(stack, a, elapsed, flood_results, router_results, before):
    logs = lines_by_id(stack)
    print(f"flood: {len(flood_results)} requests sent over {a.duration:.0f} s "
          f"({len(flood_results) / a.duration:.1f}/s, asked {a.rate}/s), all answered after {elapsed:.1f} s "
          f"({len(flood_results) / elapsed:.1f}/s answered); "
          f"answers: {dict(collections.Counter((s, t) for s, t, _ in flood_results))}")
    updates = [u for rs in router_results.values() for u in rs]
    lat = sorted(d for _, d, _ in updates)
    print(f"routers: {len(router_results)} x every {a.period} s: {len(updates)} updates, "
          f"answers {dict(collections.Counter(s for s, _, _ in updates))}, "
          f"latency median {lat[len(lat) // 2] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    per_second, flood_calls, flood_costing = collections.Counter(), 0, 0
    for status, _, rid in flood_results:
        line = logs.get(rid or "")
        if line:
            flood_calls += line.get("ssm_calls", 0)
            flood_costing += line.get("ssm_calls", 0) > 0
    for line in logs.values():
        ts = (line.get("_aws") or {}).get("Timestamp")
        if ts and line.get("ssm_calls"):
            per_second[ts // 1000] += line["ssm_calls"]
    seconds = max(1.0, elapsed)
    total = sum(per_second.values())
    print(f"SSM calls (function's log lines): {total} in all, {total / seconds:.2f}/s mean, "
          f"busiest second {max(per_second.values(), default=0)}; flood requests costing any: "
          f"{flood_costing} of {len(flood_results)} ({flood_calls} calls)")
    router_calls = sum(logs.get(rid or "", {}).get("ssm_calls", 0) for _, _, rid in
                       (u for rs in router_results.values() for u in rs))
    print(f"  of which router updates: {router_calls} (a GetParameter and a PutParameter each)")
    seen = collections.Counter(
        (logs.get(rid or "", {}).get("seen") or "none").split(":")[0]
        for _, _, rid in (u for rs in router_results.values() for u in rs))
    print(f"router updates' last-seen writes: {dict(seen)}")
    if before is not None:
        after = stack.ssm_counts()
        calls = {k: v - before["calls"].get(k, 0) for k, v in after["calls"].items()}
        print(f"SSM stand-in: calls {calls}, throttled {after['throttled'] - before['throttled']}")


if __name__ == "__main__":
    main()
