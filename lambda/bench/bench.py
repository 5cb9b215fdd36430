#!/usr/bin/env python3
"""Cold start and per-request latency of the release `bootstrap`, natively, against moto.

A minimal Lambda Runtime API (the real protocol: GET .../invocation/next, POST
.../invocation/<id>/response) hands the binary Function URL events one at a time, so the
numbers are the function's own, without `cargo lambda watch` or HTTP front-end overhead.

    cargo build --release -p route53-ddns-lambda
    python3 lambda/bench/bench.py [N]

Prints: cold start (process spawn → first response, a request that needs no AWS call),
first signed update (cold connections to SSM and Route53), then the median/p90 of N signed
updates that each write a change, and the Route53 API calls per update (from the function's
own log line, `route53_calls`) for: a changed address, an unchanged one, two names in one
request, a request that loses one race (the strict Route53 stand-in refuses its first
batch with InvalidChangeBatch as Route53 does when another writer got there first), and the
first write to a name an earlier version stamped with TXT (then that stamp's removal).
Route53 and SSM are the stand-ins of tests/system (r53_standin.py, ssm_standin.py) in
front of moto.
Numbers, not assertions.
"""

import http.server
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "system"))
from r53_standin import Route53StandIn  # noqa: E402
from ssm_standin import SsmStandIn  # noqa: E402
from stack import CREDS, PREFIX, REGION, ZONE, Signer, free_port, wait_port  # noqa: E402

import boto3  # noqa: E402


class RuntimeApi:
    def __init__(self):
        self.events = queue.Queue()
        self.responses = {}
        self.done = threading.Condition()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                rid, event = api.events.get()
                body = json.dumps(event).encode()
                api.responses[rid] = {"sent": time.perf_counter()}
                self.send_response(200)
                self.send_header("lambda-runtime-aws-request-id", rid)
                self.send_header("lambda-runtime-deadline-ms", str(int(time.time() * 1000) + 15000))
                self.send_header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:0:function:bench")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                data = self.rfile.read(n)
                rid = self.path.split("/")[-2]
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()
                with api.done:
                    api.responses.setdefault(rid, {}).update(got=time.perf_counter(), body=data)
                    api.done.notify_all()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event, timeout=30):
        rid = str(uuid.uuid4())
        self.events.put((rid, event))
        with self.done:
            self.done.wait_for(lambda: "got" in self.responses.get(rid, {}), timeout)
        r = self.responses[rid]
        return r, json.loads(r["body"])


HOST = "bench.lambda-url.us-east-1.on.aws"


def event(path, method="GET", headers=None, body=None, query=""):
    return {
        "version": "2.0", "rawPath": path, "rawQueryString": query, "headers": headers or {},
        "requestContext": {"requestId": "x", "domainName": HOST,
                           "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"}},
        "body": body, "isBase64Encoded": False,
    }


def log_lines(path: Path) -> dict:
    """The function's log lines by request id."""
    out = {}
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if "request_id" in j:
                out[j["request_id"]] = j
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    binary = REPO / "target" / "release" / "bootstrap"
    assert binary.exists(), "cargo build --release -p route53-ddns-lambda first"
    port = free_port()
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc = None
    try:
        wait_port(port, moto, 60)
        kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION, **CREDS)
        zone = boto3.client("route53", **kw).create_hosted_zone(
            Name=ZONE, CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"].split("/")[-1]
        signer = Signer()
        name, name2, name3 = "bench." + ZONE, "bench2." + ZONE, "bench3." + ZONE
        boto3.client("ssm", **kw).put_parameter(
            Name=f"{PREFIX}/keys/{signer.key_id}", Value=json.dumps({"names": [name, name2, name3]}),
            Type="String")
        standin = Route53StandIn(port)
        ssm_standin = SsmStandIn(port)
        api = RuntimeApi()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "R53DDNS_"))}
        env.update(
            AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api.port}", AWS_LAMBDA_FUNCTION_NAME="bench",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
            AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=REGION,
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
            AWS_ENDPOINT_URL_ROUTE53=f"http://127.0.0.1:{standin.port}",
            AWS_ENDPOINT_URL_SSM=f"http://127.0.0.1:{ssm_standin.port}",
            R53DDNS_ZONE_ID=zone, R53DDNS_ZONE_NAME=ZONE,
            R53DDNS_ALLOW_DOCUMENTATION_ADDRESSES="true",
        )
        first = event("/healthz")
        rid = "cold"
        api.events.put((rid, first))
        t0 = time.perf_counter()
        log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-lambda-{os.getpid()}.log"
        log_file = open(log_path, "wb")
        proc = subprocess.Popen([str(binary)], env=env, stdout=log_file)
        with api.done:
            api.done.wait_for(lambda: "got" in api.responses.get(rid, {}), 30)
        cold = api.responses[rid]["got"] - t0
        print(f"cold start (spawn -> first response, no AWS call): {cold * 1000:.1f} ms")

        clock = [int(time.time() * 1000)]

        def send(hosts, expect):
            clock[0] = max(clock[0] + 1, int(time.time() * 1000))
            body = json.dumps({"hosts": hosts})
            h = signer.headers(body.encode(), clock[0], host=HOST)
            r, resp = api.invoke(event("/v2/update", "POST", h, body))
            answer = json.loads(resp["body"])
            # "throttled": an unchanged request inside its names' quiet period (429, nothing written).
            got = answer.get("result") if resp["statusCode"] == 200 else answer.get("error")
            assert got == expect, resp
            return (r["got"] - r["sent"]) * 1000, answer["request_id"]

        def update(i):
            return send([{"name": name, "ipv4": f"192.0.2.{i % 250 + 1}"}], "updated")[0]

        print(f"first signed update (cold connections): {update(0):.1f} ms")
        times = [update(i) for i in range(1, n + 1)]
        times.sort()
        print(f"signed update, {n} requests, each a Route53 write: median {statistics.median(times):.1f} ms,"
              f" p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms")

        cases = {}
        _, cases["changed address, one name"] = send([{"name": name, "ipv4": "198.51.100.1"}], "updated")
        _, cases["unchanged, one name, inside its quiet period"] = send(
            [{"name": name, "ipv4": "198.51.100.1"}], "throttled")
        _, cases["changed, two names in one request"] = send(
            [{"name": name, "ipv4": "198.51.100.2"}, {"name": name2, "ipv4": "198.51.100.2"}], "updated")
        with standin.lock:
            standin.fail_next, standin.fail_code, standin.fail_changes_only = 1, "InvalidChangeBatch", True
        _, cases["changed, loses one race"] = send([{"name": name, "ipv4": "198.51.100.3"}], "updated")
        # A name stamped by an earlier version (TXT): the write, then that stamp's removal.
        boto3.client("route53", **{**kw, "endpoint_url": f"http://127.0.0.1:{standin.port}"}).change_resource_record_sets(
            HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
                "Name": "_r53ddns." + name3, "Type": "TXT", "TTL": 60,
                "ResourceRecords": [{"Value": f'"t=1 k={signer.key_id}"'}]}}]})
        _, cases["changed, first write over an earlier TXT stamp"] = send(
            [{"name": name3, "ipv4": "198.51.100.4"}], "updated")
        time.sleep(0.5)
        logs = log_lines(log_path)
        print("Route53 calls per update (ListResourceRecordSets + ChangeResourceRecordSets):")
        for what, rid in cases.items():
            line = logs.get(rid, {})
            legacy = f", earlier TXT stamps: {line['legacy_stamps']}" if line.get("legacy_stamps") else ""
            print(f"  {what}: {line.get('route53_calls')} calls, {line.get('conflicts')} lost races{legacy}")
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
        moto.terminate()
        moto.wait(10)
        if "standin" in locals():
            standin.stop()
        if "ssm_standin" in locals():
            ssm_standin.stop()


if __name__ == "__main__":
    main()
