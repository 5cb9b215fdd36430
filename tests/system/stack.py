"""The local cloud side for system tests: moto as Route53 and SSM, the Lambda in the real
runtime loop (`cargo lambda watch`), an HTTPS front with a throwaway CA, and two stand-ins
in front of moto that answer as AWS does: Route53 (r53_standin.py: Route53's ChangeBatch
rules, one batch at a time, Route53's listing order and error shapes, documented throttling,
lost answers) and SSM (ssm_standin.py: SSM's documented limits). Their rules and sources
are listed in tests/system/README.md.

    moto  <-- SSM ----- SsmStandIn (counts, limits) ------------+
      ^                                                          |
      +-- Route53 -- Route53StandIn (strict, counts, throttles) <-- Lambda (cargo lambda watch)
                                                                 ^            ^
                                                  http_url ------+            |
                                                  https_url -- TlsFront ------+

Everything listens on 127.0.0.1 only. Used through the session fixture `stack` in
conftest.py; see the `Stack` docstring for what tests can call. The pieces: the signing
client (v2_client.py: Signer, http_request), the HTTPS front (tls_front.py), the Function
URL front (url_front.py), the Route53 stand-in (r53_standin.py; its rules r53_rules.py, its
throttling r53_throttle.py), the SSM stand-in (ssm_standin.py), their token buckets
(buckets.py) and the relays (gate.py); the names tests import from here stay importable
from here.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import boto3

from gate import Gate
from r53_standin import Route53StandIn
from ssm_standin import SsmStandIn
from tls_front import TlsFront, make_ca
from url_front import FunctionUrlFront
# b64url, now_ms, stamp_id and stamp_of are not used here: tests import them from stack.
from v2_client import (  # noqa: F401
    Reply, Signer, b64url, http_request, now_ms, read_stamp, stamp_id, stamp_name, stamp_of, url_authority,
)

REPO = Path(__file__).resolve().parents[2]
ZONE = "example.com"
PREFIX = "/route53-ddns"
OBSERVED = "203.0.113.50"
CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None, timeout: float, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"process exited with {proc.returncode} before listening:\n{tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


class Stack:
    """What tests use:

    http_url, https_url   the endpoint (append /v2/update or /nic/update): the emulator's own HTTP
                          endpoint, and the same through a TLS relay
    function_url          the endpoint as a Function URL builds the event (url_front.py): repeated
                          headers comma-joined, domainName its own, x-forwarded-*, x-amzn-tls-*, 6 MB
    ca_file               PEM of the CA that signed the HTTPS front's certificate
    zone_id, zone         the hosted zone in moto (the first one, with `zones=`)
    lambda_env            Stack(..., lambda_env={...}): further settings of the Lambda (R53DDNS_FRONT)
    zone_ids              {zone name: zone id} of every zone (Stack(..., zones=[...]) serves several
                          through R53DDNS_ZONES; records()/stamp() read a name's longest-suffix zone)
    register_key(key_id, names) / revoke_key(key_id)
    register_token(user, token, names) / revoke_token(user)
    records(name)         {"A": [...], "AAAA": [...], "TTL": int|None, "TXT": [...]} via boto3
    stamp(name)           the AAAA stamp value of _r53ddns.<name>, or None (read_stamp: (time, id))
    legacy_stamp(name)    an earlier version's TXT stamp there, or None
    change_count()        ChangeResourceRecordSets batches the stand-in applied so far
    list_count()          ListResourceRecordSets calls so far (diff around a request)
    route53_counts()      all Route53 stand-in counters: calls, lists, change_calls, changes, rejected
                          (InvalidChangeBatch), throttled, busy, resets_before_apply,
                          dropped_after_apply, moto_refused
    throttle(n, code, changes_only=False)  make the next n Route53 calls fail with `code`
    route53_throttling(on=True, changes=None)  Route53's documented token buckets (off by default)
    lose_route53_answers(reset_before_apply=0, drop_after_apply=0)  reset the connection of the
                          next n batches before applying them / after applying them
    proxy.batch_shape     "legacy" (default) or "standard" InvalidChangeBatch body
    ssm_counts()          SSM stand-in counters: calls per action, throttled, limit_exceeded
    ssm_limits(reads=False, puts=False, parameter_limit=None)  SSM's documented limits (all
                          off by default; no arguments switches them off)
    set_records(...)      write a set through the stand-in (Route53's rules apply)
    new_name()            a fresh host name in the zone
    post_update(signer, body, time_ms=None, url=None, headers=None, host=, time_text=, key_text=)
                          POST /v2/update signed for the authority of `url` (default http_url)
    lambda_log()          the Lambda's stdout/stderr so far
    seen(principal)       the last-seen record (dict) of a key id or "dyndns2:<user>", or None
    notifications()       change notifications published since the last call (SNS → SQS in moto)
    sns_gate.stall        True: SNS (behind a relay) accepts connections and never answers
    """

    def __init__(self, workdir: Path, concurrency: int | None = None, zones: list[str] | None = None,
                 lambda_env: dict | None = None):
        self.workdir = workdir
        self.lambda_env = lambda_env or {}
        self.concurrency = concurrency
        self.zone_names = zones
        self.procs: list[subprocess.Popen] = []
        self.tls = self.proxy = self.ssm_proxy = self.sns_gate = self.url_front = None
        try:
            self._up()
        except BaseException:
            self.close()
            raise

    def _up(self):
        workdir = self.workdir
        self.moto_port = free_port()
        moto_log = workdir / "moto.log"
        self._start(
            ["moto_server", "-H", "127.0.0.1", "-p", str(self.moto_port)], moto_log, os.environ.copy()
        )
        wait_port(self.moto_port, self.procs[-1], 60, moto_log)
        self.moto_url = f"http://127.0.0.1:{self.moto_port}"
        kw = dict(endpoint_url=self.moto_url, region_name=REGION, **CREDS)
        self.r53 = boto3.client("route53", **kw)
        self.ssm = boto3.client("ssm", **kw)
        self.zone_ids = {}
        for z in self.zone_names or [ZONE]:
            made = self.r53.create_hosted_zone(Name=z, CallerReference=str(uuid.uuid4()))
            self.zone_ids[z] = made["HostedZone"]["Id"].split("/")[-1]
        self.zone = next(iter(self.zone_ids))
        self.zone_id = self.zone_ids[self.zone]
        self.proxy = Route53StandIn(self.moto_port)
        self.ssm_proxy = SsmStandIn(self.moto_port)
        # Change notifications: an SNS topic in moto with an SQS queue subscribed, behind a
        # relay that can stall (a hung endpoint).
        self.sns = boto3.client("sns", **kw)
        self.sqs = boto3.client("sqs", **kw)
        self.topic_arn = self.sns.create_topic(Name="route53-ddns-changes")["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName="changes")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        self.sns_gate = Gate(self.moto_port)
        self.r53_strict = boto3.client(
            "route53", endpoint_url=f"http://127.0.0.1:{self.proxy.port}", region_name=REGION, **CREDS
        )

        # Build first, so a compile error shows here and the first request is not a build.
        subprocess.run(
            ["cargo", "build", "-p", "route53-ddns-lambda"], cwd=REPO, check=True,
            stdout=subprocess.DEVNULL,
        )
        self.lambda_port = free_port()
        # The HTTPS front first, so the Lambda can be told every host routers sign for:
        # `cargo lambda watch` reports the domain name "localhost" whatever the Host header,
        # so the local endpoint lists its real hosts as a deployment lists its custom domain.
        self.ca_file, cert, key = make_ca(workdir)
        self.tls = TlsFront(cert, key, self.lambda_port)
        self.https_url = f"https://127.0.0.1:{self.tls.port}"
        hosts = [f"{h}:{p}" for h in ("127.0.0.1", "localhost") for p in (self.lambda_port, self.tls.port)]
        env = os.environ.copy()
        for k in list(env):
            if k.startswith(("AWS_", "R53DDNS_")):
                del env[k]
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_SESSION_TOKEN="testing-session",
            AWS_REGION=REGION,
            AWS_ENDPOINT_URL_ROUTE53=f"http://127.0.0.1:{self.proxy.port}",
            AWS_ENDPOINT_URL_SSM=f"http://127.0.0.1:{self.ssm_proxy.port}",
            AWS_ENDPOINT_URL_SNS=f"http://127.0.0.1:{self.sns_gate.port}",
            R53DDNS_CHANGE_TOPIC_ARN=self.topic_arn,
            R53DDNS_REGISTRY_PREFIX=PREFIX,
            R53DDNS_DEFAULT_TTL="60",
            R53DDNS_ALLOW_DOCUMENTATION_ADDRESSES="true",
            R53DDNS_OBSERVED_IP_OVERRIDE=OBSERVED,
            R53DDNS_ENDPOINT_HOSTS=",".join(hosts),
        )
        env.update(self.lambda_env)
        if self.zone_names:
            env["R53DDNS_ZONES"] = ",".join(f"{i}={z}" for z, i in self.zone_ids.items())
        else:
            env.update(R53DDNS_ZONE_ID=self.zone_id, R53DDNS_ZONE_NAME=ZONE)
        self.lambda_log_file = workdir / "lambda.log"
        self._start(
            [
                "cargo", "lambda", "watch", "-p", "route53-ddns-lambda", "--ignore-changes",
                "-A", "127.0.0.1", "-P", str(self.lambda_port),
                *(["--concurrency", str(self.concurrency)] if self.concurrency else []),
            ],
            self.lambda_log_file,
            env,
        )
        wait_port(self.lambda_port, self.procs[-1], 120, self.lambda_log_file)
        self.http_url = f"http://127.0.0.1:{self.lambda_port}"
        # The Function URL as AWS builds its event (url_front.py), through the emulator's Invoke API.
        self.url_front = FunctionUrlFront(cert, key, self.lambda_port)
        self.function_url = f"https://{self.url_front.domain}"
        # The function process starts on the first request: wait for a real answer.
        deadline = time.monotonic() + 180
        while True:
            try:
                r = http_request(self.http_url + "/healthz", timeout=10)
                if r.status == 404 and b"not_found" in r.body:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the Lambda never answered:\n" + self.lambda_log()[-3000:])
            time.sleep(0.5)

        Signer.host = f"127.0.0.1:{self.lambda_port}"

    def _start(self, argv, log: Path, env):
        out = open(log, "wb")
        self.procs.append(
            subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        )

    def close(self):
        if self.sns_gate:
            self.sns_gate.stop()
        if self.tls:
            self.tls.stop()
        if self.url_front:
            self.url_front.stop()
        if self.proxy:
            self.proxy.stop()
        if self.ssm_proxy:
            self.ssm_proxy.stop()
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()

    # --- registry -------------------------------------------------------------------------
    def _put(self, name, value):
        self.ssm.put_parameter(Name=name, Value=json.dumps(value), Type="String", Overwrite=True)

    def register_key(self, key_id: str, names: list):
        self._put(f"{PREFIX}/keys/{key_id}", {"names": names})

    def revoke_key(self, key_id: str):
        self.ssm.delete_parameter(Name=f"{PREFIX}/keys/{key_id}")

    def register_token(self, user: str, token: str, names: list):
        digest = hashlib.sha256(token.encode()).hexdigest()
        self._put(f"{PREFIX}/tokens/{user}", {"sha256": digest, "names": names})

    def revoke_token(self, user: str):
        self.ssm.delete_parameter(Name=f"{PREFIX}/tokens/{user}")

    # --- last seen and notifications, read independently ---------------------------------
    def seen_parameter(self, principal: str) -> str:
        if principal.startswith("dyndns2:"):
            return f"{PREFIX}/seen/tokens/{principal[len('dyndns2:'):]}"
        return f"{PREFIX}/seen/keys/{principal}"

    def seen(self, principal: str):
        try:
            p = self.ssm.get_parameter(Name=self.seen_parameter(principal))["Parameter"]
        except self.ssm.exceptions.ParameterNotFound:
            return None
        return json.loads(p["Value"])

    def notifications(self, wait_s: float = 0) -> list[dict]:
        """SNS messages delivered to the queue, as {"Subject", "Message" (parsed JSON)}."""
        out, deadline = [], time.monotonic() + wait_s
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", [])
            for m in got:
                envelope = json.loads(m["Body"])
                out.append({"Subject": envelope.get("Subject"),
                            "Message": json.loads(envelope["Message"])})
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
            if got:
                continue
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(0.2)

    # --- Route53 state, read independently ------------------------------------------------
    def zone_id_of(self, name: str) -> str:
        """The id of the zone `name` lies in; of several, the longest (as the Lambda picks)."""
        n = name.rstrip(".").lower()
        inside = [z for z in self.zone_ids if n == z or n.endswith("." + z)]
        return self.zone_ids[max(inside, key=len)] if inside else self.zone_id

    def _sets(self, name: str):
        zone_id = self.zone_id_of(name)
        name = name.rstrip(".").lower() + "."
        out = self.r53.list_resource_record_sets(
            HostedZoneId=zone_id, StartRecordName=name, MaxItems="100"
        )["ResourceRecordSets"]
        return [s for s in out if s["Name"].lower() == name]

    def records(self, name: str) -> dict:
        rec = {"A": [], "AAAA": [], "TTL": None, "TXT": []}
        for s in self._sets(name):
            if s["Type"] in rec:
                rec[s["Type"]] = sorted(r["Value"] for r in s.get("ResourceRecords", []))
                if s["Type"] in ("A", "AAAA"):
                    rec["TTL"] = s.get("TTL")
        return rec

    def stamp(self, name: str):
        """The AAAA stamp value of `name` (docs/protocol.md §3: at `_r53ddns.<name>`, a
        wildcard's `*` as `_wildcard`), or None; `read_stamp` gives its (time, id)."""
        aaaa = self.records(stamp_name(name))["AAAA"]
        return aaaa[0] if aaaa else None

    def legacy_stamp(self, name: str):
        """An earlier version's TXT stamp of `name`, or None."""
        txt = self.records(stamp_name(name))["TXT"]
        return txt[0] if txt else None

    def age_stamp(self, name: str, seconds: int = 3600):
        """Moves the stamp of `name` `seconds` into the past, as if its last write were that
        old: the quiet period (lambda/src/quiet.rs) then lets an unchanged request write again."""
        old = self.stamp(name)
        assert read_stamp(old), old
        bits = int(ipaddress.IPv6Address(old)) - (seconds * 1000 << 48)
        self.set_records(stamp_name(name), "AAAA", [str(ipaddress.IPv6Address(bits))])

    def change_count(self) -> int:
        return self.proxy.counters()["changes"]

    def list_count(self) -> int:
        return self.proxy.counters()["lists"]

    def route53_counts(self) -> dict:
        return self.proxy.counters()

    def route53_throttling(self, on: bool = True, changes: tuple[float, float] | None = None):
        """Route53's documented request buckets (50, 10/s; account and per action), and a
        change-throughput bucket of `changes` = (capacity, per second) if given."""
        self.proxy.set_throttling(on, changes)

    def lose_route53_answers(self, reset_before_apply: int = 0, drop_after_apply: int = 0):
        """The next batches lose their answer: reset before applying, or applied then reset."""
        self.proxy.lose_answers(reset_before_apply, drop_after_apply)

    def ssm_counts(self) -> dict:
        return self.ssm_proxy.counters()

    def ssm_limits(self, reads: bool = False, puts: bool = False, parameter_limit: int | None = None):
        self.ssm_proxy.set_limits(reads, puts, parameter_limit)

    def throttle(self, n: int, code: str = "Throttling", changes_only: bool = False):
        """The next n Route53 calls (or only ChangeResourceRecordSets calls) fail with `code`."""
        with self.proxy.lock:
            self.proxy.fail_next = n
            self.proxy.fail_code = code
            self.proxy.fail_changes_only = changes_only

    def set_records(self, name: str, rtype: str, values: list, ttl=60):
        self.r53_strict.change_resource_record_sets(
            HostedZoneId=self.zone_id_of(name),
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                "Name": name, "Type": rtype, "TTL": ttl,
                "ResourceRecords": [{"Value": v} for v in values]}}]},
        )

    def new_name(self, label="host") -> str:
        return f"{label}-{uuid.uuid4().hex[:10]}.{ZONE}"

    # --- calling the endpoint ---------------------------------------------------------------
    def post_update(self, signer: Signer, body, time_ms=None, url=None, headers=None, *,
                    host: str | None = None, time_text: str | None = None,
                    key_text: str | None = None) -> Reply:
        """POST /v2/update to `url` (default http_url), signed for the authority actually
        connected to (`127.0.0.1:<port>`) unless `host` names another (the wrong-endpoint
        attack); `time_text`/`key_text` send and sign other header texts; `headers` replace
        headers after signing. An https `url` is trusted through the test CA."""
        if not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body, separators=(",", ":")).encode()
        base = (url or self.http_url).rstrip("/")
        signed_host = url_authority(base) if host is None else host
        h = signer.headers(body, time_ms, host=signed_host, time_text=time_text, key_text=key_text)
        h.update(headers or {})
        ctx = ssl.create_default_context(cafile=str(self.ca_file)) if base.startswith("https:") else None
        return http_request(base + "/v2/update", "POST", body, h, context=ctx)

    def lambda_log(self) -> str:
        return self.lambda_log_file.read_text(errors="replace")
