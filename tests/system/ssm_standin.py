"""An SSM (Parameter Store) stand-in in front of moto's SSM, with SSM's documented limits.

SSM speaks JSON 1.1: POST / with `X-Amz-Target: AmazonSSM.<Action>`. Every request is
forwarded to moto unchanged (moto stays the store) and counted per action; when a limit is
switched on, the stand-in answers first, in SSM's JSON error shape: HTTP 400 with
`{"__type": "<code>", "message": "<text>"}` (botocore's JSON parser reads the code from
`__type` and the text from `message` or `Message`; the Lambda does the same, aws.rs). The
limits and their sources (all listed again in tests/system/README.md):

Read throughput (`reads=True`): GetParameter, GetParameters and GetParametersByPath share
    one account-wide budget of 40 transactions per second ("Default throughput: 40 (Shared
    by the following API actions: GetParameter, GetParameters, GetParametersByPath)",
    "AWS Systems Manager endpoints and quotas", https://docs.aws.amazon.com/general/latest/gr/ssm.html).
    Modelled as a token bucket of 40 refilled at 40/s. Over it: ThrottlingException /
    "Rate exceeded" (https://repost.aws/knowledge-center/ssm-parameter-store-rate-exceeded;
    ThrottlingException is HTTP 400 in the AWS APIs' common errors).
PutParameter throughput (`puts=True`): 3 transactions per second with standard throughput,
    as AWS Support stated it (github-aws-runners/terraform-aws-github-runner issue #2944,
    which also notes the figure is missing from the quotas page). A bucket of 3 refilled at
    3/s; over it: ThrottlingException / "Rate exceeded".
Standard parameters per account and Region (`parameter_limit=10_000`): "Total number of
    parameters allowed (per AWS account and AWS Region)": Standard 10,000
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
    A PutParameter that would create one more standard parameter beyond the limit is
    refused with ParameterLimitExceeded and the text of botocore's SSM model ("You have
    exceeded the number of parameters for this Amazon Web Services account. Delete one or
    more parameters and try again."). The count is of the parameters moto holds when the
    limit is switched on, kept up to date by the writes and deletes that pass through here
    (`resync()` counts again after writes that went straight to moto).

Counters: `calls` (a Counter per action), `throttled`, `limit_exceeded`. Bodies are read up
to MAX_BODY bytes (a longer Content-Length is refused), each read within READ_TIMEOUT_S (standin_http.py).
"""

from __future__ import annotations

import collections
import http.client
import json
import threading
import time
import uuid
from typing import Callable

from buckets import TokenBucket, take_all

from standin_http import MAX_BODY, BoundedHandler, serve
READ_ACTIONS = ("GetParameter", "GetParameters", "GetParametersByPath")
READ_TPS = 40
PUT_TPS = 3
STANDARD_PARAMETER_LIMIT = 10_000
RATE_EXCEEDED = "Rate exceeded"
LIMIT_MESSAGE = ("You have exceeded the number of parameters for this Amazon Web Services "
                 "account. Delete one or more parameters and try again.")
MOTO_AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ssm/aws4_request, "
             "SignedHeaders=host, Signature=0")


def json_error(code: str, message: str, status: int = 400):
    """(status, headers, body) of an SSM JSON 1.1 error."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("content-type", "application/x-amz-json-1.1"),
                    ("x-amzn-requestid", str(uuid.uuid4()))], body


class SsmStandIn:
    def __init__(self, upstream_port: int, clock: Callable[[], float] = time.monotonic):
        self.upstream, self.clock = upstream_port, clock
        self.lock = threading.Lock()
        self.put_lock = threading.Lock()  # a counted PutParameter at a time (limit on)
        self.calls: collections.Counter = collections.Counter()
        self.throttled = self.limit_exceeded = 0
        self.reads: TokenBucket | None = None
        self.puts: TokenBucket | None = None
        self.parameter_limit: int | None = None
        self.names: set[str] = set()
        self.server = serve(_handler(self))
        self.port = self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def set_limits(self, reads: bool = False, puts: bool = False, parameter_limit: int | None = None):
        """Switches the documented limits on (or, with no arguments, all off)."""
        with self.lock:
            self.reads = TokenBucket(READ_TPS, READ_TPS, self.clock) if reads else None
            self.puts = TokenBucket(PUT_TPS, PUT_TPS, self.clock) if puts else None
        if parameter_limit is not None:
            self.resync()
        self.parameter_limit = parameter_limit

    def counters(self) -> dict:
        with self.lock:
            return {"calls": dict(self.calls), "throttled": self.throttled,
                    "limit_exceeded": self.limit_exceeded}

    def resync(self):
        """Counts again the standard parameters moto holds."""
        names, token = set(), None
        for _ in range(10_000):  # pages of 50: bounded at 500,000 parameters
            req = {"MaxResults": 50, **({"NextToken": token} if token else {})}
            status, _, data = self._moto("DescribeParameters", json.dumps(req).encode())
            if status != 200:
                raise RuntimeError(f"moto DescribeParameters answered {status}")
            page = json.loads(data)
            names.update(p["Name"] for p in page.get("Parameters", [])
                         if p.get("Tier", "Standard") == "Standard")
            token = page.get("NextToken")
            if not token:
                break
        with self.lock:
            self.names = names

    # --- one request ------------------------------------------------------------------------
    def handle(self, headers: dict, body: bytes):
        target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")
        action = target.rpartition(".")[2]
        with self.lock:
            self.calls[action] += 1
            bucket = self.reads if action in READ_ACTIONS else self.puts if action == "PutParameter" else None
        if bucket is not None and not take_all([bucket], [1], self.lock):
            with self.lock:
                self.throttled += 1
            return json_error("ThrottlingException", RATE_EXCEEDED)
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            request = {}
        if not isinstance(request, dict):
            request = {}
        if action == "PutParameter" and self.parameter_limit is not None:
            with self.put_lock:
                return self._put(headers, body, request)
        answer = self._moto(action, body, headers)
        if answer[0] == 200 and action in ("DeleteParameter", "DeleteParameters"):
            with self.lock:
                self.names.difference_update(request.get("Names") or [request.get("Name")])
        return answer

    def _put(self, headers: dict, body: bytes, request: dict):
        name = request.get("Name")
        standard = request.get("Tier", "Standard") == "Standard"
        with self.lock:
            new = name not in self.names
            over = standard and new and len(self.names) >= (self.parameter_limit or 0)
            self.limit_exceeded += over
        if over:
            return json_error("ParameterLimitExceeded", LIMIT_MESSAGE)
        answer = self._moto("PutParameter", body, headers)
        if answer[0] == 200 and isinstance(name, str):
            with self.lock:
                (self.names.add if standard else self.names.discard)(name)
        return answer

    def _moto(self, action: str, body: bytes, headers: dict | None = None):
        h = {k: v for k, v in (headers or {}).items() if k.lower() not in ("host", "content-length")}
        if headers is None:
            h = {"Authorization": MOTO_AUTH, "X-Amz-Target": f"AmazonSSM.{action}",
                 "Content-Type": "application/x-amz-json-1.1"}
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
        try:
            conn.request("POST", "/", body=body, headers=h)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read(16 * MAX_BODY)
        finally:
            conn.close()


def _handler(standin: SsmStandIn):
    class Handler(BoundedHandler):
        def do_POST(self):
            body = self.read_body()
            if body is None:
                return self.answer(*json_error("SerializationException", "Invalid Content-Length"))
            self.answer(*standin.handle(dict(self.headers), body))

    return Handler
