"""A Route53 stand-in as strict as Route53, in front of moto (which stays the store).

moto is laxer than Route53: it accepts a CREATE of an existing set (and then holds two),
checks a DELETE against its own change journal instead of the current set, applies a batch
change by change with no lock, lists names in its own order, answers InvalidChangeBatch in
another shape and never throttles. This proxy sits between the Lambda and moto and applies
Route53's rules (r53_rules.py: batch checks, listing order, names) one batch at a time under
one lock; only a valid batch reaches moto, rewritten so moto applies exactly it. Everything
else is forwarded unchanged. Every rule and its source is listed in tests/system/README.md.

Answers, as Route53 sends them (HTTP 400 all):
- InvalidChangeBatch in `batch_shape` "legacy" (default: <InvalidChangeBatch><Messages>,
  one <Message> per broken rule) or "standard" (<ErrorResponse>, "[m1, m2]"); see
  r53_rules.BATCH_SHAPES for the sources of each.
- Throttling / "Rate exceeded" from the documented token buckets (r53_throttle.py), when
  switched on with `set_throttling(...)`.
- PriorRequestNotComplete / "The request was rejected because Route 53 was still processing
  a prior request." for a ChangeResourceRecordSets that arrives while a batch for the same
  zone is still being applied, when `busy_zone` is True (otherwise it waits its turn).

Knobs: `fail_next`/`fail_code`/`fail_changes_only` (answer the next N calls with an error),
`set_throttling(...)`, `busy_zone`, `batch_shape`, and the lost answers:
`reset_before_apply` (the next N ChangeResourceRecordSets calls get their connection reset
before anything is applied) and `drop_after_apply` (the next N valid batches are applied,
then the connection is reset with no answer). Counters: calls, lists, changes (batches moto
applied), rejected (InvalidChangeBatch answers), throttled, busy, resets_before_apply,
dropped_after_apply, change_calls (ChangeResourceRecordSets calls, applied or not),
moto_refused (batches this proxy passed but moto refused: should stay 0). `history`:
every applied batch, in order.
"""

from __future__ import annotations

import collections
import http.client
import http.server
import socket
import struct
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from typing import Callable

from r53_rules import (BATCH_SHAPES, BatchRefusal, Refusal, RRSet, batch_error_xml, check_batch,
                       child, error_xml, forward_batch_xml, list_answer, norm_name, parse_batch,
                       text)
from r53_throttle import Route53Throttling, action_of

from standin_http import MAX_BODY, BoundedHandler, serve
# moto routes a request to a service by the credential scope of its Authorization header.
MOTO_AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/route53/aws4_request, "
             "SignedHeaders=host, Signature=0")
BUSY = "The request was rejected because Route 53 was still processing a prior request."
MESSAGES = {"Throttling": "Rate exceeded", "PriorRequestNotComplete": BUSY}
INJECTED_BATCH_MESSAGE = ("Tried to delete resource record set [name='injected.', type='TXT'] "
                          "but it was not found")
RESET = object()  # handle()'s answer when the connection is to be reset with no reply
COUNTERS = ("calls", "lists", "change_calls", "changes", "rejected", "throttled", "busy",
            "resets_before_apply", "dropped_after_apply", "moto_refused")


class Route53StandIn:
    """The proxy server (see the module docstring). `port` is where the Lambda points."""

    def __init__(self, upstream_port: int, clock: Callable[[], float] = time.monotonic,
                 batch_shape: str = "legacy"):
        if batch_shape not in BATCH_SHAPES:
            raise ValueError(f"batch_shape must be one of {BATCH_SHAPES}")
        self.upstream, self.clock, self.batch_shape = upstream_port, clock, batch_shape
        self.lock = threading.Lock()        # counters and knobs
        self.zone_lock = threading.Lock()   # one batch (or listing) at a time
        for name in COUNTERS:
            setattr(self, name, 0)
        self.fail_next, self.fail_code, self.fail_changes_only = 0, "Throttling", False
        self.busy_zone = False
        self.reset_before_apply_next = self.drop_after_apply_next = 0
        self.throttling: Route53Throttling | None = None
        self.applying: collections.Counter = collections.Counter()  # zone id -> batches under way
        self.history: collections.deque = collections.deque(maxlen=20000)
        self.zone_names: dict[str, str] = {}
        # The zone's sets as moto holds them, kept here so that a call does not list the
        # whole zone from moto: read once, then updated with every batch moto applied.
        # Checked against moto's ResourceRecordSetCount on every call (a write that went
        # straight to moto and changed the count makes it read again); `resync()` re-reads.
        self.cache: dict[str, list[RRSet]] = {}
        self.server = serve(_handler(self))
        self.port = self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def set_throttling(self, on: bool = True, changes: tuple[float, float] | None = None, **kw):
        """Route53's documented buckets (r53_throttle.py) on this stand-in's clock, or off."""
        with self.lock:
            self.throttling = Route53Throttling(self.clock, changes=changes, **kw) if on else None

    def lose_answers(self, reset_before_apply: int = 0, drop_after_apply: int = 0):
        with self.lock:
            self.reset_before_apply_next = reset_before_apply
            self.drop_after_apply_next = drop_after_apply

    def counters(self) -> dict:
        with self.lock:
            return {k: getattr(self, k) for k in COUNTERS}

    # --- one request ------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict, body: bytes):
        """(status, headers, body) of the answer, or RESET (reset the connection, no answer)."""
        url = urllib.parse.urlsplit(path)
        parts = url.path.rstrip("/").split("/")
        action = action_of(method, parts)
        is_change = action == "ChangeResourceRecordSets"
        is_list = action == "ListResourceRecordSets"
        with self.lock:
            self.calls += 1
            self.lists += is_list
            self.change_calls += is_change
            fail = self.fail_next > 0 and (is_change or not self.fail_changes_only)
            if fail:
                self.fail_next -= 1
            code, throttling = self.fail_code, self.throttling
        if fail:
            return self._injected(code)
        if throttling is not None and not throttling.admit(action):
            return self._throttled()
        if len(body) > MAX_BODY:
            return self._error(400, "InvalidInput", "The request body is too large")
        try:
            if is_change:
                return self._change(parts[3], body)
            if is_list:
                with self.zone_lock:
                    sets = self._sets(parts[3])
                return 200, [("content-type", "text/xml")], list_answer(
                    sets, urllib.parse.parse_qs(url.query, keep_blank_values=True))
        except BatchRefusal as r:
            return self._batch_error(r.messages)
        except Refusal as r:
            return self._error(r.status, r.code, r.message)
        fwd = {k: v for k, v in headers.items() if k.lower() != "host"}
        return self._moto(method, path, body, fwd)

    def _headers(self):
        return [("content-type", "text/xml"), ("x-amzn-requestid", str(uuid.uuid4()))]

    def _error(self, status, code, message):
        return status, self._headers(), error_xml(code, message)

    def _batch_error(self, messages):
        return 400, self._headers(), batch_error_xml(messages, self.batch_shape)

    def _injected(self, code):
        if code == "InvalidChangeBatch":
            return self._batch_error([INJECTED_BATCH_MESSAGE])
        return self._error(400, code, MESSAGES.get(code, "The request was rejected"))

    def _throttled(self):
        with self.lock:
            self.throttled += 1
        return self._error(400, "Throttling", "Rate exceeded")

    def _moto(self, method, path, body=b"", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
        try:
            h = dict(headers) if headers is not None else {"Authorization": MOTO_AUTH}
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read(16 * MAX_BODY)
            return r.status, r.getheaders(), data
        finally:
            conn.close()

    def _zone_name(self, zone_id: str) -> str:
        if zone_id not in self.zone_names:
            status, _, data = self._moto("GET", f"/2013-04-01/hostedzone/{zone_id}")
            if status != 200:
                raise Refusal("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}", 404)
            hz = child(ET.fromstring(data), "HostedZone")
            self.zone_names[zone_id] = norm_name(text(hz, "Name") or "")
        return self.zone_names[zone_id]

    def resync(self):
        with self.zone_lock:
            self.cache.clear()

    def _sets(self, zone_id: str) -> list[RRSet]:
        """Every set of the zone, as moto holds it (call with zone_lock held)."""
        status, _, data = self._moto("GET", f"/2013-04-01/hostedzone/{zone_id}")
        if status != 200:
            raise Refusal("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}", 404)
        hz = child(ET.fromstring(data), "HostedZone")
        self.zone_names.setdefault(zone_id, norm_name(text(hz, "Name") or ""))
        count = text(hz, "ResourceRecordSetCount")
        cached = self.cache.get(zone_id)
        if cached is not None and count is not None and str(len(cached)) == count:
            return cached
        self.cache[zone_id] = self.moto_sets(zone_id)
        return self.cache[zone_id]

    def moto_sets(self, zone_id: str) -> list[RRSet]:
        """Every set of the zone, listed from moto itself."""
        status, _, data = self._moto("GET", f"/2013-04-01/hostedzone/{zone_id}/rrset?maxitems=1000000")
        if status != 200:
            raise Refusal("InternalError", f"moto listing failed: {status}", 500)
        root = ET.fromstring(data)
        return [RRSet.parse(el) for el in child(root, "ResourceRecordSets")]

    def _change(self, zone_id: str, body: bytes):
        batch = parse_batch(body)
        with self.lock:
            throttling = self.throttling
            if self.reset_before_apply_next > 0:
                self.reset_before_apply_next -= 1
                self.resets_before_apply += 1
                return RESET
            if self.busy_zone and self.applying[zone_id]:
                self.busy += 1
                return self._error(400, "PriorRequestNotComplete", BUSY)
            self.applying[zone_id] += 1
        try:
            if throttling is not None and not throttling.admit_changes([a for a, _ in batch]):
                return self._throttled()
            return self._apply(zone_id, batch)
        finally:
            with self.lock:
                self.applying[zone_id] -= 1

    def _apply(self, zone_id: str, batch):
        with self.zone_lock:
            zone = self._zone_name(zone_id)
            current = self._sets(zone_id)
            after: dict = {}
            errors = check_batch(zone, current, batch, after)
            if errors:
                with self.lock:
                    self.rejected += 1
                raise BatchRefusal(errors)
            status, headers, data = self._moto(
                "POST", f"/2013-04-01/hostedzone/{zone_id}/rrset/", forward_batch_xml(batch, current),
                {"Authorization": MOTO_AUTH, "content-type": "text/xml"})
            with self.lock:
                if status != 200:
                    self.cache.pop(zone_id, None)
                    self.moto_refused += 1
                    return status, headers, data
                self.cache[zone_id] = list(after.values())
                self.changes += 1
                self.history.append((time.monotonic(), [(a, s.name, s.rtype, s.ttl, s.values)
                                                        for a, s in batch]))
                if self.drop_after_apply_next > 0:
                    self.drop_after_apply_next -= 1
                    self.dropped_after_apply += 1
                    return RESET
        return status, headers, data


def _handler(standin: Route53StandIn):
    class Handler(BoundedHandler):
        def _serve(self):
            body = self.read_body()
            if body is None:
                return self.answer(*standin._error(400, "InvalidInput", "Invalid Content-Length"))
            answer = standin.handle(self.command, self.path, dict(self.headers), body)
            if answer is RESET:
                return reset(self)
            self.answer(*answer)

        do_GET = do_POST = do_DELETE = _serve

    return Handler


def reset(handler: http.server.BaseHTTPRequestHandler):
    """Closes the handler's connection with a TCP reset and no answer (SO_LINGER 0)."""
    handler.close_connection = True
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


R53Proxy = Route53StandIn  # the name the stack and older tests know
