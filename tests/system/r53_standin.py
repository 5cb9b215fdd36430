"""A Route53 stand-in as strict as Route53, in front of moto (which stays the store).

moto is laxer than Route53: it accepts a CREATE of an existing set (and then holds two),
checks a DELETE against its own change journal instead of the current set, applies a batch
change by change with no lock, lists names in its own order and never throttles. This proxy
sits between the Lambda and moto and, for the Route53 REST API:

ChangeResourceRecordSets (POST /2013-04-01/hostedzone/<id>/rrset)
    One lock: batches (and listings) are applied one at a time. The zone's current sets are
    read from moto under that lock and the whole batch is checked against Route53's rules,
    change by change against the state as modified by the earlier changes of the same batch:
    DELETE must match an existing set exactly (name, type, TTL, the set of values), CREATE
    must not exist, UPSERT replaces, CNAME cannot share a name, A/AAAA values must be
    addresses, TXT values quoted strings, every name in the zone. A (name, type) may appear
    twice only as DELETE followed by CREATE (the replace Route53 documents). A batch that
    breaks a rule is refused whole: HTTP 400 `InvalidChangeBatch`, Route53's ErrorResponse
    with all messages as "[m1, m2]". Only a valid batch reaches moto, rewritten so moto
    applies exactly it (names lower-case with the trailing dot; a DELETE carries the values
    as moto stores them).
ListResourceRecordSets (GET .../rrset?name=&type=&maxitems=)
    Answered here from moto's full listing, in Route53's order: by name with the labels
    reversed and a trailing dot ("com.example.www."), compared as ASCII, then by type;
    `name`/`type` start the listing at the first set >= (name, type); `maxitems` (<= 300)
    truncates with NextRecordName/NextRecordType.
Names
    As Route53 spells them: a name may be given with `\\ddd` octal escapes (`\\052.x` and
    `*.x` are one name); it is stored decoded and lower case (so moto holds `*.x.`), sorted by
    its raw characters (`*` is 42, before `-` and the digits), and listed with every character
    but a-z, 0-9, `-` and `_` escaped: a wildcard `*.x` is listed as `\\052.x.`.
Everything else is forwarded unchanged.

Knobs: `fail_next`/`fail_code`/`fail_changes_only` (answer the next N calls with an error),
`rate_limit` (None, or requests/s over all calls: a token bucket answered with `Throttling`
/ "Rate exceeded" as Route53 does). Counters: calls, lists, changes (batches moto applied),
rejected (InvalidChangeBatch answers), throttled, moto_refused (batches this proxy passed
but moto refused: should stay 0). `history`: every applied batch, in order.
"""

from __future__ import annotations

import collections
import dataclasses
import http.client
import http.server
import ipaddress
import re
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

NS = "https://route53.amazonaws.com/doc/2013-04-01/"
ET.register_namespace("", NS)
MAX_BODY = 1 << 20
MAX_LIST = 300
# moto routes a request to a service by the credential scope of its Authorization header.
MOTO_AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/route53/aws4_request, "
             "SignedHeaders=host, Signature=0")
MESSAGES = {"Throttling": "Rate exceeded",
            "InvalidChangeBatch": "[Tried to delete resource record set but it was not found]"}


class Refusal(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


_OCTAL = re.compile(r"\\([0-7]{3})")


def norm_name(name: str) -> str:
    """A name as Route53 stores it: escapes decoded, lower case, with the trailing dot."""
    name = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), name.strip()).lower()
    return name if name.endswith(".") else name + "."


def listed_name(name: str) -> str:
    """A stored name as ListResourceRecordSets writes it: `*.x.` -> `\052.x.`."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else
                   "".join(f"\\{b:03o}" for b in c.encode()) for c in name)


def sort_key(name: str) -> str:
    """Route53's listing order: labels reversed, trailing dot kept, compared as ASCII."""
    return ".".join(reversed(norm_name(name).rstrip(".").split("."))) + "."


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(el: ET.Element, tag: str) -> ET.Element | None:
    return next((c for c in el if local(c.tag) == tag), None)


def text(el: ET.Element, tag: str) -> str | None:
    c = child(el, tag)
    return None if c is None or c.text is None else c.text.strip()


@dataclasses.dataclass
class RRSet:
    name: str                 # normalised: lower case, trailing dot
    rtype: str
    setid: str | None
    ttl: str | None
    values: tuple[str, ...]   # as given / as moto stores them (order kept)
    el: ET.Element            # the ResourceRecordSet element, name normalised

    @property
    def key(self):
        return (self.name, self.rtype, self.setid)

    @property
    def simple(self) -> bool:
        return child(self.el, "AliasTarget") is None

    def label(self) -> str:
        extra = f", set-identifier='{self.setid}'" if self.setid is not None else ""
        return f"[name='{self.name}', type='{self.rtype}'{extra}]"

    @classmethod
    def parse(cls, el: ET.Element) -> "RRSet":
        name, rtype = text(el, "Name"), text(el, "Type")
        if not name or not rtype:
            raise Refusal("InvalidInput", "Invalid request: a ResourceRecordSet needs Name and Type")
        el = _copy(el)
        child(el, "Name").text = norm_name(name)
        rrs = child(el, "ResourceRecords")
        values = tuple((text(r, "Value") or "") for r in rrs) if rrs is not None else ()
        return cls(norm_name(name), rtype.upper(), text(el, "SetIdentifier"), text(el, "TTL"),
                   values, el)


def _copy(el: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(el))


def parse_batch(body: bytes) -> list[tuple[str, RRSet]]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise Refusal("MalformedInput", f"Invalid XML ; {e}")
    batch = child(root, "ChangeBatch") if local(root.tag) == "ChangeResourceRecordSetsRequest" else None
    changes = child(batch, "Changes") if batch is not None else None
    if changes is None or len(changes) == 0:
        raise Refusal("MalformedInput", "ChangeBatch is not valid, expected ChangeResourceRecordSetsRequest")
    out = []
    for ch in changes:
        action, el = text(ch, "Action"), child(ch, "ResourceRecordSet")
        if action not in ("CREATE", "DELETE", "UPSERT") or el is None:
            raise Refusal("InvalidInput", f"Invalid XML ; cvc-enumeration-valid: Value '{action}' is "
                          "not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'.")
        s = RRSet.parse(el)
        if s.simple and (s.ttl is None or not s.values):
            raise Refusal("InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all of "
                          "[TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in "
                          f"Change with [Action={action}, Name={s.name}, Type={s.rtype}, "
                          f"SetIdentifier={s.setid or 'null'}]")
        out.append((action, s))
    return out


def value_errors(s: RRSet) -> list[str]:
    bad = []
    for v in s.values:
        if s.rtype == "A":
            try:
                ipaddress.IPv4Address(v)
            except ValueError:
                bad.append(f"Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value "
                           f"is not a valid IPv4 address) encountered with '{v}''")
        elif s.rtype == "AAAA":
            try:
                ipaddress.IPv6Address(v)
            except ValueError:
                bad.append(f"Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value "
                           f"is not a valid IPv6 address) encountered with '{v}''")
        elif s.rtype == "TXT" and not (len(v) >= 2 and v.startswith('"') and v.endswith('"')):
            bad.append(f"Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be "
                       f"enclosed in quotation marks) encountered with '{v}''")
    if s.ttl is not None and not (s.ttl.isdigit() and int(s.ttl) <= 2147483647):
        bad.append(f"Invalid TTL '{s.ttl}' for {s.label()}")
    return bad


def check_batch(zone: str, current: list[RRSet], batch: list[tuple[str, RRSet]],
                after: dict | None = None) -> list[str]:
    """Route53's rules, change by change against the state the earlier changes left.
    Returns the error messages; empty when the batch is valid (then `after`, if given, is
    filled with the zone's sets as the batch leaves them)."""
    seen = collections.defaultdict(list)
    for action, s in batch:
        seen[s.key].append(action)
    repeated = [k for k, acts in seen.items() if len(acts) > 1 and acts != ["DELETE", "CREATE"]]
    if repeated:
        return [f"The request contains an invalid set of changes for a resource record set "
                f"'{t} {n}'" for n, t, _ in repeated]
    state = {s.key: s for s in current}
    errors = []
    for action, s in batch:
        if s.name != zone and not s.name.endswith("." + zone):
            errors.append(f"RRSet with DNS name {s.name} is not permitted in zone {zone}")
            continue
        if action != "DELETE":
            bad = value_errors(s)
            if bad:
                errors += bad
                continue
        have = state.get(s.key)
        if action == "DELETE":
            if have is None:
                errors.append(f"Tried to delete resource record set {s.label()} but it was not found")
            elif not same_set(have, s):
                errors.append(f"Tried to delete resource record set {s.label()} but the values "
                              "provided do not match the current values")
            else:
                del state[s.key]
            continue
        if action == "CREATE" and have is not None:
            errors.append(f"Tried to create resource record set {s.label()} but it already exists")
            continue
        others = {o.rtype for o in state.values() if o.name == s.name and o.rtype != s.rtype}
        if s.rtype == "CNAME" and others:
            errors.append(f"RRSet of type CNAME with DNS name {s.name} is not permitted as it conflicts "
                          f"with other records with the same DNS name in zone {zone}")
            continue
        if s.rtype != "CNAME" and "CNAME" in others:
            errors.append(f"RRSet of type {s.rtype} with DNS name {s.name} is not permitted because a "
                          f"conflicting RRSet of type CNAME with the same DNS name already exists in zone {zone}")
            continue
        state[s.key] = s
    if after is not None and not errors:
        after.update(state)
    return errors


def same_set(have: RRSet, given: RRSet) -> bool:
    """A DELETE matches: same TTL, the same set of values (any order), same alias/routing."""
    if have.simple != given.simple:
        return False
    if not have.simple:
        return ET.tostring(child(have.el, "AliasTarget")) == ET.tostring(child(given.el, "AliasTarget"))
    return (have.ttl == given.ttl and len(have.values) == len(given.values)
            and set(have.values) == set(given.values))


def list_answer(sets: list[RRSet], query: dict) -> bytes:
    """ListResourceRecordSets as Route53 answers it, from the zone's full set list."""
    q = {k: v[-1] for k, v in query.items()}
    start_name, start_type = q.get("name"), q.get("type")
    if start_type and not start_name:
        raise Refusal("InvalidInput", "The input is not valid")
    raw = q.get("maxitems", str(MAX_LIST))
    if not raw.isdigit() or int(raw) < 1:
        raise Refusal("InvalidInput", f"Invalid value for maxitems: {raw}")
    maxitems = min(int(raw), MAX_LIST)
    ordered = sorted(sets, key=lambda s: (sort_key(s.name), s.rtype, s.setid or ""))
    if start_name:
        start = (sort_key(start_name), (start_type or "").upper())
        ordered = [s for s in ordered if (sort_key(s.name), s.rtype) >= start]
    page, rest = ordered[:maxitems], ordered[maxitems:]
    body = "".join(ET.tostring(_listed(s.el), encoding="unicode") for s in page)
    tail = f"<IsTruncated>{'true' if rest else 'false'}</IsTruncated>"
    if rest:
        tail += (f"<NextRecordName>{escape(listed_name(rest[0].name))}</NextRecordName>"
                 f"<NextRecordType>{rest[0].rtype}</NextRecordType>")
        if rest[0].setid is not None:
            tail += f"<NextRecordIdentifier>{escape(rest[0].setid)}</NextRecordIdentifier>"
    tail += f"<MaxItems>{maxitems}</MaxItems>"
    return (f'<?xml version="1.0"?>\n<ListResourceRecordSetsResponse xmlns="{NS}">'
            f"<ResourceRecordSets>{body}</ResourceRecordSets>{tail}"
            "</ListResourceRecordSetsResponse>").encode()


def _listed(el: ET.Element) -> ET.Element:
    """A set's element with its name spelled as Route53 lists it."""
    out = _copy(el)
    child(out, "Name").text = listed_name(norm_name(text(el, "Name") or ""))
    return out


def error_xml(code: str, message: str) -> bytes:
    return ('<?xml version="1.0"?>\n'
            f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
            "</ErrorResponse>").encode()


def forward_batch_xml(batch: list[tuple[str, RRSet]], current: list[RRSet]) -> bytes:
    """The valid batch as moto must see it to apply exactly that: every DELETE names the
    stored set with moto's own spelling of its TTL and values (moto checks a DELETE against
    its journal of earlier writes, value order included)."""
    stored = {s.key: s for s in current}
    changes = []
    for action, s in batch:
        el = stored[s.key].el if action == "DELETE" and s.key in stored else s.el
        # A CREATE was checked not to exist; moto's own CREATE check misfires on a set that
        # existed before (its journal), so it gets the equivalent UPSERT.
        act = "UPSERT" if action == "CREATE" else action
        changes.append(f"<Change><Action>{act}</Action>{ET.tostring(el, encoding='unicode')}</Change>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsRequest xmlns="{NS}">'
            f"<ChangeBatch><Changes>{''.join(changes)}</Changes></ChangeBatch>"
            "</ChangeResourceRecordSetsRequest>").encode()


class TokenBucket:
    def __init__(self, rate: float):
        self.rate, self.tokens, self.at = rate, rate, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Route53StandIn:
    """The proxy server (see the module docstring). `port` is where the Lambda points."""

    def __init__(self, upstream_port: int):
        standin = self
        self.upstream = upstream_port
        self.lock = threading.Lock()        # counters and knobs
        self.zone_lock = threading.Lock()   # one batch (or listing) at a time
        self.calls = self.lists = self.changes = self.rejected = self.throttled = 0
        self.moto_refused = 0
        self.fail_next = 0
        self.fail_code = "Throttling"
        self.fail_changes_only = False
        self.rate_limit: float | None = None
        self._bucket: TokenBucket | None = None
        self.history: collections.deque = collections.deque(maxlen=20000)
        self.zone_names: dict[str, str] = {}
        # The zone's sets as moto holds them, kept here so that a call does not list the
        # whole zone from moto: read once, then updated with every batch moto applied.
        # Checked against moto's ResourceRecordSetCount on every call (a write that went
        # straight to moto and changed the count makes it read again); `resync()` re-reads.
        self.cache: dict[str, list[RRSet]] = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(min(length, MAX_BODY + 1)) if length else b""
                status, headers, out = standin.handle(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "date",
                                         "server"):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_DELETE = _serve

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def set_rate_limit(self, per_second: float | None):
        with self.lock:
            self.rate_limit = per_second
            self._bucket = TokenBucket(per_second) if per_second else None

    def counters(self) -> dict:
        with self.lock:
            return {k: getattr(self, k) for k in
                    ("calls", "lists", "changes", "rejected", "throttled", "moto_refused")}

    # --- one request ------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict, body: bytes):
        url = urllib.parse.urlsplit(path)
        parts = url.path.rstrip("/").split("/")
        rrset = len(parts) == 5 and parts[1:3] == ["2013-04-01", "hostedzone"] and parts[4] == "rrset"
        is_change = rrset and method == "POST"
        is_list = rrset and method == "GET"
        with self.lock:
            self.calls += 1
            self.lists += is_list
            fail = self.fail_next > 0 and (is_change or not self.fail_changes_only)
            if fail:
                self.fail_next -= 1
            code = self.fail_code
            limited = self._bucket is not None and not self._bucket.take()
            self.throttled += limited
        if fail:
            return self._error(400, code, MESSAGES.get(code, "The request was rejected"))
        if limited:
            return self._error(400, "Throttling", "Rate exceeded")
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
        except Refusal as r:
            return self._error(r.status, r.code, r.message)
        fwd = {k: v for k, v in headers.items() if k.lower() != "host"}
        return self._moto(method, path, body, fwd)

    def _error(self, status, code, message):
        return status, [("content-type", "text/xml"), ("x-amzn-requestid", str(uuid.uuid4()))], \
            error_xml(code, message)

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
        with self.zone_lock:
            zone = self._zone_name(zone_id)
            current = self._sets(zone_id)
            after: dict = {}
            errors = check_batch(zone, current, batch, after)
            if errors:
                with self.lock:
                    self.rejected += 1
                raise Refusal("InvalidChangeBatch", "[" + ", ".join(errors) + "]")
            status, headers, data = self._moto(
                "POST", f"/2013-04-01/hostedzone/{zone_id}/rrset/", forward_batch_xml(batch, current),
                {"Authorization": MOTO_AUTH, "content-type": "text/xml"})
            with self.lock:
                if status == 200:
                    self.cache[zone_id] = list(after.values())
                    self.changes += 1
                    self.history.append((time.monotonic(), [(a, s.name, s.rtype, s.ttl, s.values)
                                                            for a, s in batch]))
                else:
                    self.cache.pop(zone_id, None)
                    self.moto_refused += 1
        return status, headers, data


R53Proxy = Route53StandIn  # the name the stack and older tests know
