"""Route53's documented API throttling, for the Route53 stand-in (off unless switched on).

Source: Route 53 Developer Guide, "Throttling for Amazon Route 53 API requests"
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html
(and the announcement https://aws.amazon.com/blogs/networking-and-content-delivery/
introducing-change-based-throttling-for-amazon-route-53-apis/):

- "Route 53 applies two independent limits: Request rate ... Change throughput: the number
  of individual DNS record changes per second, aggregated across the API actions that
  modify DNS data." "A request can be throttled by either limit."
- Request rate at two levels: "Account level: all Amazon Route 53 API requests from your
  account draw from one bucket" and "Account and action level: each API action also has its
  own bucket"; "Requests consume tokens from both buckets, and are throttled if either
  bucket is empty." Table: all actions combined (account level) 50 / 10 per second; "any API
  action not listed below (default per action)" 50 / 10. Every action the Lambda calls
  (ChangeResourceRecordSets, ListResourceRecordSets, GetHostedZone, GetChange) is unlisted,
  so each has the default bucket.
- Throttled: "HTTP 400 error (Bad request) ... a Code element with a value of Throttling and
  a Message element with a value of Rate exceeded".

The change-throughput bucket's size and refill rate are not in the stored copy of the page
this was written from, so they are arguments (`changes=(capacity, rate)`) with no default.
Each Change element of a batch is one record change; an UPSERT counts twice ("UPSERT
requests count twice": https://repost.aws/knowledge-center/route-53-avoid-throttling-errors).
A batch needing more change tokens than the bucket holds is refused whole (our reading).
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from buckets import TokenBucket, take_all

ACCOUNT = (50, 10)      # capacity, refill per second
PER_ACTION = (50, 10)
UPSERT_WEIGHT = 2


class Route53Throttling:
    def __init__(self, clock: Callable[[], float] = time.monotonic, account=ACCOUNT,
                 per_action=PER_ACTION, changes: tuple[float, float] | None = None):
        self.clock, self.per_action = clock, per_action
        self.account = TokenBucket(*account, clock)
        self.actions: dict[str, TokenBucket] = {}
        self.changes = TokenBucket(*changes, clock) if changes else None
        self.lock = threading.Lock()

    def admit(self, action: str) -> bool:
        """One request of `action`: a token from the account bucket and the action's own."""
        with self.lock:
            bucket = self.actions.setdefault(action, TokenBucket(*self.per_action, self.clock))
        return take_all([self.account, bucket], [1, 1], self.lock)

    def admit_changes(self, actions: list[str]) -> bool:
        """A batch's record changes against the change-throughput bucket (if there is one)."""
        if self.changes is None:
            return True
        weight = sum(UPSERT_WEIGHT if a == "UPSERT" else 1 for a in actions)
        return take_all([self.changes], [weight], self.lock)


def action_of(method: str, parts: list[str]) -> str:
    """The Route53 API action of a REST request (path split on '/'), for its own bucket."""
    if len(parts) >= 4 and parts[1:3] == ["2013-04-01", "hostedzone"]:
        if len(parts) == 5 and parts[4] == "rrset":
            return "ChangeResourceRecordSets" if method == "POST" else "ListResourceRecordSets"
        if len(parts) == 4:
            return {"GET": "GetHostedZone", "DELETE": "DeleteHostedZone"}.get(method, "Other")
    if len(parts) == 4 and parts[1:3] == ["2013-04-01", "change"]:
        return "GetChange"
    return f"{method} /{'/'.join(parts[1:3])}"
