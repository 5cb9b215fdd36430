"""Last seen (issue 14 item 1): every accepted request leaves its time, names, result,
User-Agent and observed address in SSM <prefix>/seen/…, best-effort; the admin command
lists the registered routers and users with their names, last seen and last result."""

import base64
import json
import os
import subprocess
import time
from pathlib import Path

from stack import CREDS, OBSERVED, PREFIX, REGION, http_request

REPO = Path(__file__).resolve().parents[2]
ADMIN = REPO / "lambda" / "admin" / "route53-ddns-admin"


def log_line(stack, request_id: str, timeout=10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        for line in stack.lambda_log().splitlines():
            if request_id in line and line.lstrip().startswith("{"):
                try:
                    obj = json.loads(line[line.index("{"):])
                except ValueError:
                    continue
                if obj.get("request_id") == request_id:
                    return obj
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line for {request_id}")
        time.sleep(0.2)


def dyndns2(stack, user, token, query, agent="ddclient/3.11.2"):
    auth = base64.b64encode(f"{user}:{token}".encode()).decode()
    return http_request(stack.http_url + "/nic/update?" + query,
                        headers={"authorization": f"Basic {auth}", "user-agent": agent})


def test_an_accepted_signed_request_is_recorded_with_the_router_version(stack, registered, name):
    before = int(time.time() * 1000)
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "auto"}]},
                          headers={"user-agent": "route53-ddns/9.8.7"})
    assert r.status == 200, r
    seen = stack.seen(registered.key_id)
    assert seen is not None, log_line(stack, r.headers["x-request-id"])
    assert seen["names"] == [name]
    assert seen["result"] == "updated"
    assert seen["agent"] == "route53-ddns/9.8.7"
    assert seen["observed"] == OBSERVED
    assert seen["request_id"] == r.headers["x-request-id"]
    assert before - 5000 <= seen["time_ms"] <= int(time.time() * 1000) + 5000
    # The same request again is unchanged, and the record says so.
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "auto"}]})
    assert r.status == 200, r
    assert stack.seen(registered.key_id)["result"] == "unchanged"
    assert log_line(stack, r.headers["x-request-id"])["seen"] == "written"


def test_a_refused_request_leaves_no_record(stack, registered, name):
    other = stack.new_name()
    r = stack.post_update(registered, {"hosts": [{"name": other, "ipv4": "auto"}]})
    assert r.status == 403, r
    assert stack.seen(registered.key_id) is None


def test_a_dyndns2_user_is_recorded_with_its_user_agent(stack, name):
    user, token = f"u{os.getpid()}{time.monotonic_ns() % 10**6}", "s3cret-token-value"
    stack.register_token(user, token, [name])
    r = dyndns2(stack, user, token, f"hostname={name}&myip=192.0.2.44")
    assert r.status == 200 and r.text.startswith("good"), r
    seen = stack.seen(f"dyndns2:{user}")
    assert seen["names"] == [name] and seen["result"] == "updated"
    assert seen["agent"] == "ddclient/3.11.2"
    assert token not in json.dumps(seen)


def test_a_failed_last_seen_write_never_fails_the_update(stack, registered, name):
    # Make PutParameter fail for real: 100 versions whose oldest carries a label, so SSM
    # refuses a 101st with ParameterMaxVersionLimitExceeded.
    parameter = stack.seen_parameter(registered.key_id)
    for i in range(100):
        stack.ssm.put_parameter(Name=parameter, Value=json.dumps({"v": i}), Type="String",
                                Overwrite=True)
    stack.ssm.label_parameter_version(Name=parameter, ParameterVersion=1, Labels=["pinned"])
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "203.0.113.9"}]})
    assert r.status == 200, r
    assert stack.records(name)["A"] == ["203.0.113.9"]
    line = log_line(stack, r.headers["x-request-id"])
    assert line["seen"].startswith("failed") and "ParameterMaxVersionLimitExceeded" in line["seen"], line
    assert line["accepted"] is True
    assert stack.seen(registered.key_id) == {"v": 99}


def test_lengths_stored_are_bounded(stack, registered, name):
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "auto"}]},
                          headers={"user-agent": "x" * 3000})
    assert r.status == 200, r
    assert len(stack.seen(registered.key_id)["agent"]) == 100


def admin(stack, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=CREDS["aws_access_key_id"],
               AWS_SECRET_ACCESS_KEY=CREDS["aws_secret_access_key"],
               AWS_DEFAULT_REGION=REGION, AWS_ENDPOINT_URL=stack.moto_url)
    return subprocess.run([str(ADMIN), "--prefix", PREFIX, *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_the_admin_command_lists_routers_and_users_with_last_seen(stack, signer, name):
    quiet = stack.new_name()
    from stack import Signer
    silent = Signer()
    stack.register_key(signer.key_id, [name])
    stack.register_key(silent.key_id, [quiet])
    user = f"adm{time.monotonic_ns() % 10**8}"
    stack.register_token(user, "tok-" + user, [{"name": name, "ttl": 300}])
    r = stack.post_update(signer, {"hosts": [{"name": name, "ipv4": "auto"}]},
                          headers={"user-agent": "route53-ddns/1.2.3"})
    assert r.status == 200, r
    p = admin(stack, "--json")
    assert p.returncode == 0, p.stderr
    rows = {row["id"]: row for row in json.loads(p.stdout)}
    assert rows[signer.key_id]["kind"] == "key"
    assert rows[signer.key_id]["names"] == [name]
    assert rows[signer.key_id]["last_seen"]["result"] == "updated"
    assert rows[signer.key_id]["last_seen"]["agent"] == "route53-ddns/1.2.3"
    assert rows[silent.key_id]["last_seen"] is None
    assert rows[user]["kind"] == "user" and rows[user]["names"] == [name]
    assert "sha256" not in p.stdout
    # The table for people, and the exit status for cron: who has been silent for an hour.
    p = admin(stack)
    assert p.returncode == 0, p.stderr
    line = next(line for line in p.stdout.splitlines() if signer.key_id in line)
    assert name in line and "updated" in line and "route53-ddns/1.2.3" in line
    assert "never" in next(line for line in p.stdout.splitlines() if silent.key_id in line)
    p = admin(stack, "--silent-hours", "1")
    assert p.returncode == 3, p.stdout + p.stderr
    assert silent.key_id in p.stderr and signer.key_id not in p.stderr
