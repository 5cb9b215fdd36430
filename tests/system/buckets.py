"""Token buckets for the stand-ins' documented throttling, on an injectable clock.

A bucket holds at most `capacity` tokens and gains `rate` tokens a second; a request (or a
record change) takes tokens and is refused when a bucket has too few. This is the algorithm
the Route 53 Developer Guide describes ("Throttling for Amazon Route 53 API requests":
"Amazon Route 53 uses a token bucket algorithm ... The bucket refills at a fixed rate every
second, up to its maximum capacity"); the SSM stand-in uses the same shape for SSM's
transactions-per-second quotas.

`clock` is a function returning seconds (default `time.monotonic`); tests pass a `FakeClock`
so that no assertion depends on the wall clock.
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class FakeClock:
    """A clock that moves only when told to (`advance`)."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float):
        self.now += seconds


class TokenBucket:
    def __init__(self, capacity: float, rate: float, clock: Callable[[], float] = time.monotonic):
        if not (capacity > 0 and rate > 0):
            raise ValueError("a bucket needs a positive capacity and refill rate")
        self.capacity, self.rate, self.clock = float(capacity), float(rate), clock
        self.tokens, self.at = float(capacity), clock()

    def level(self) -> float:
        """Tokens now (refilled up to capacity since the last look)."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        return self.tokens


def take_all(buckets: list[TokenBucket], counts: list[float], lock: threading.Lock) -> bool:
    """Takes counts[i] tokens from buckets[i], all or none: False (nothing taken) when any
    bucket has too few. A request is throttled when any of its buckets is empty."""
    with lock:
        if any(b.level() < n for b, n in zip(buckets, counts)):
            return False
        for b, n in zip(buckets, counts):
            b.tokens -= n
        return True
