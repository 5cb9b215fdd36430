"""The client side of the endpoint, in Python, so Lambda tests need no router binary: a
router's Ed25519 key signing protocol v2 requests (`Signer`), the authority it signs for,
the clock in milliseconds, and a small HTTP client (`http_request` -> `Reply`) that
returns error statuses as replies. Re-exported by stack.py.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import time
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def authority(host: str, port: int) -> str:
    """The v2 <host>: lower case, an IPv6 literal in brackets, ":port" unless it is 443
    (what the router sends in Host: and X-R53DDNS-Host)."""
    host = host.strip("[]").lower()
    if ":" in host:
        host = f"[{host}]"
    return host if port == 443 else f"{host}:{port}"


def url_authority(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    return authority(u.hostname or "", u.port or (443 if u.scheme == "https" else 80))


def stamp_id(who: str) -> str:
    """Who a stamp names (docs/protocol.md §3): `h=` and the 8 base64url characters of the
    first 48 bits of SHA-256 over a fixed label and `k=<key id>` or `u=<dyndns2 user>`, as
    lambda/src/stamp.rs makes it."""
    return "h=" + b64url(hashlib.sha256(b"route53-ddns stamp v1\n" + who.encode()).digest()[:6])


def stamp_of(time_ms: int, who: str) -> str:
    """The stamp's AAAA value for a request at `time_ms` by `who` (`k=<key id>`/`u=<user>`):
    0100, version 1, 48 bits of time, 48 bits of the id, in RFC 5952 text (docs/protocol.md §3)."""
    sender = int.from_bytes(hashlib.sha256(b"route53-ddns stamp v1\n" + who.encode()).digest()[:6], "big")
    return str(ipaddress.IPv6Address(0x0100 << 112 | 1 << 96 | time_ms << 48 | sender))


def stamp_name(name: str) -> str:
    """`_r53ddns.<name>`, a wildcard's `*` as `_wildcard` (docs/protocol.md §3)."""
    name = name.rstrip(".")
    return "_r53ddns." + ("_wildcard." + name[2:] if name.startswith("*.") else name)


def read_stamp(value: str | None):
    """(time_ms, stamp id) of an AAAA stamp value, or None when it is not one."""
    try:
        bits = int(ipaddress.IPv6Address(value or ""))
    except ValueError:
        return None
    if bits >> 96 != 0x0100 << 16 | 1:
        return None
    return (bits >> 48) & (1 << 48) - 1, "h=" + b64url((bits & (1 << 48) - 1).to_bytes(6, "big"))


def now_ms() -> int:
    """The wall clock in milliseconds, as signed requests carry it."""
    return int(time.time() * 1000)


class Signer:
    """A router's Ed25519 key, in Python, so Lambda tests need no router binary."""

    def __init__(self):
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = b64url(raw)

    def message(self, body: bytes, time_ms, host: str, method="POST", path="/v2/update",
                key_text: str | None = None) -> bytes:
        """Protocol v2's signed bytes (docs/protocol.md §1); `time_ms` as the header text."""
        key = self.key_id if key_text is None else key_text
        head = f"route53-ddns-v2\n{method}\n{path}\n{host}\n{time_ms}\n{key}\n".encode()
        return head + body

    def headers(self, body: bytes, time_ms: int | None = None, host: str | None = None, *,
                time_text: str | None = None, key_text: str | None = None) -> dict:
        """The four signature headers for `body`, signed for `host` (default: the local
        endpoint's host, set by the Stack). `time_text` / `key_text` send other header texts
        (non-canonical ones, for attacks); what is signed is always the text sent."""
        t = int(time.time() * 1000) if time_ms is None else time_ms
        tt = str(t) if time_text is None else time_text
        kt = self.key_id if key_text is None else key_text
        h = host or self.host
        sig = self.key.sign(self.message(body, tt, h, key_text=kt))
        return {
            "content-type": "application/json",
            "x-r53ddns-key": kt,
            "x-r53ddns-host": h,
            "x-r53ddns-time": tt,
            "x-r53ddns-signature": b64url(sig),
        }

    # The host a Signer signs for when none is given: the Stack sets it to its HTTP front.
    host = "127.0.0.1"


class Reply:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Reply({self.status}, {self.text[:300]!r})"


def http_request(url: str, method="GET", body: bytes | None = None, headers=None, context=None,
                 timeout=60) -> Reply:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return Reply(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers), e.read())
