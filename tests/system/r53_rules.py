"""Route53's rules for ChangeResourceRecordSets and ListResourceRecordSets, as pure functions
over parsed record sets (the server that applies them is r53_standin.py).

ChangeResourceRecordSets
    The whole batch is checked against the zone's current sets, change by change against
    the state as modified by the earlier changes of the same batch: DELETE must match an
    existing set exactly (name, type, TTL, the set of values), CREATE must not exist, UPSERT
    replaces, CNAME cannot share a name, A/AAAA values must be addresses, TXT values quoted
    strings, every name in the zone. A (name, type) may appear twice only as DELETE followed
    by CREATE (the replace Route53 documents). A batch that breaks a rule is refused whole
    with one message per broken rule, in Route53's wording (see `batch_error_xml` for the
    two shapes the refusal takes and their sources).
ListResourceRecordSets
    Answered from the zone's full listing, in Route53's order: by name with the labels
    reversed and a trailing dot ("com.example.www."), compared as ASCII, then by type;
    `name`/`type` start the listing at the first set >= (name, type); `maxitems` (<= 300)
    truncates with NextRecordName/NextRecordType.
Names
    As Route53 spells them: a name may be given with `\\ddd` octal escapes (`\\052.x` and
    `*.x` are one name); it is stored decoded and lower case (so moto holds `*.x.`), sorted by
    its raw characters (`*` is 42, before `-` and the digits), and listed with every character
    but a-z, 0-9, `-` and `_` escaped: a wildcard `*.x` is listed as `\\052.x.`.
"""

from __future__ import annotations

import collections
import dataclasses
import ipaddress
import re
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

NS = "https://route53.amazonaws.com/doc/2013-04-01/"
ET.register_namespace("", NS)
MAX_LIST = 300


class Refusal(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class BatchRefusal(Refusal):
    """InvalidChangeBatch with one message per broken rule."""

    def __init__(self, messages: list[str]):
        super().__init__("InvalidChangeBatch", "[" + ", ".join(messages) + "]")
        self.messages = messages

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


# The two shapes of an InvalidChangeBatch refusal (HTTP 400 both):
# - "legacy": the root element is InvalidChangeBatch itself, one <Message> per broken rule
#   inside <Messages>, then <RequestId>; no <Error>, no <Code>. Every AWS SDK carries a
#   customisation for it: aws-sdk-go service/route53/unmarshal_error.go (+ _test.go),
#   aws-sdk-go-v2 service/route53/internal/customizations/custom_error_deser.go (+ _test.go),
#   aws-sdk-kotlin services/route53/.../ChangeResourceRecordSetsUnmarshalling.kt (+ tests).
#   botocore has none (it parses this body as Code "" and Message "").
# - "standard": ErrorResponse/Error with Code InvalidChangeBatch and all messages in one
#   <Message> as "[m1, m2]": what Route53 answered in October 2024 (bodies captured in
#   aws-sdk-kotlin issue #1433 and pull request #1435; the Kotlin SDK's end-to-end test
#   services/route53/e2eTest/src/InvalidChangeBatchTest.kt asserts that joined message).
BATCH_SHAPES = ("legacy", "standard")


def batch_error_xml(messages: list[str], shape: str) -> bytes:
    """Route53's InvalidChangeBatch body for `messages` in `shape` (see BATCH_SHAPES)."""
    if shape == "standard":
        return error_xml("InvalidChangeBatch", "[" + ", ".join(messages) + "]")
    if shape != "legacy":
        raise ValueError(f"unknown InvalidChangeBatch shape {shape!r}")
    each = "".join(f"<Message>{escape(m)}</Message>" for m in messages)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<InvalidChangeBatch xmlns="{NS}"><Messages>{each}</Messages>'
            f"<RequestId>{uuid.uuid4()}</RequestId></InvalidChangeBatch>").encode()


def parse_batch_error(body: bytes) -> tuple[str, list[str]]:
    """(shape, messages) of an InvalidChangeBatch body of either shape (for tests)."""
    root = ET.fromstring(body)
    if local(root.tag) == "InvalidChangeBatch":
        msgs = child(root, "Messages")
        return "legacy", [m.text or "" for m in (msgs if msgs is not None else [])]
    err = child(root, "Error")
    msg = (text(err, "Message") or "") if err is not None else ""
    inner = msg[1:-1] if msg.startswith("[") and msg.endswith("]") else msg
    return "standard", [inner]


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
