"""The SSM stand-in (ssm_standin.py) forwards to moto, counts calls per action and, when
switched on, applies SSM's documented limits in SSM's JSON error shape: the shared read
throughput (40/s), PutParameter's (3/s) and the 10,000 standard parameters per account and
Region. Buckets run on a FakeClock: no assertion reads the wall clock. Needs only moto."""

import http.client
import json
import subprocess
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from buckets import FakeClock
from ssm_standin import MAX_BODY, MOTO_AUTH, STANDARD_PARAMETER_LIMIT, SsmStandIn
from stack import CREDS, REGION, free_port, wait_port

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
RATE = {"__type": "ThrottlingException", "message": "Rate exceeded"}


class World:
    def __init__(self, tmp):
        port = free_port()
        log = open(tmp / "moto.log", "wb")
        self.moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(port, self.moto, 60, tmp / "moto.log")
        self.direct = boto3.client("ssm", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION, **CREDS)
        self.clock = FakeClock()
        self.standin = SsmStandIn(port, clock=self.clock)
        self.ssm = boto3.client("ssm", endpoint_url=f"http://127.0.0.1:{self.standin.port}",
                                region_name=REGION, config=NO_RETRY, **CREDS)

    def close(self):
        self.standin.stop()
        self.moto.terminate()
        self.moto.wait(timeout=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("ssm"))
    yield w
    w.close()


@pytest.fixture
def limits(world):
    yield world.standin
    world.standin.set_limits()


def raw(world, action: str, request: dict, headers: dict | None = None):
    """(status, parsed JSON body) of one call to the stand-in."""
    conn = http.client.HTTPConnection("127.0.0.1", world.standin.port, timeout=30)
    try:
        h = {"X-Amz-Target": f"AmazonSSM.{action}", "Content-Type": "application/x-amz-json-1.1",
             "Authorization": MOTO_AUTH, **(headers or {})}
        conn.request("POST", "/", body=json.dumps(request).encode(), headers=h)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


def prefix() -> str:
    return f"/t-{uuid.uuid4().hex[:8]}"


def gets(world, name, n) -> list:
    out = []
    for i in range(n):
        call = [("GetParameter", {"Name": name}), ("GetParameters", {"Names": [name]}),
                ("GetParametersByPath", {"Path": name.rsplit("/", 1)[0]})][i % 3]
        status, body = raw(world, *call)
        out.append("ok" if status == 200 else (status, body))
    return out


def test_calls_are_forwarded_and_counted_per_action(world):
    name = prefix() + "/a"
    before = world.standin.counters()["calls"]
    world.ssm.put_parameter(Name=name, Value="v1", Type="String")
    assert world.ssm.get_parameter(Name=name)["Parameter"]["Value"] == "v1"
    assert world.direct.get_parameter(Name=name)["Parameter"]["Value"] == "v1", "moto is the store"
    with pytest.raises(world.ssm.exceptions.ParameterNotFound):
        world.ssm.get_parameter(Name=name + "-missing")
    calls = world.standin.counters()["calls"]
    assert calls["PutParameter"] == before.get("PutParameter", 0) + 1
    assert calls["GetParameter"] == before.get("GetParameter", 0) + 2


def test_reads_share_a_throughput_of_40_a_second(world, limits):
    name = prefix() + "/r"
    world.direct.put_parameter(Name=name, Value="v", Type="String")
    assert gets(world, name, 45) == ["ok"] * 45, "off by default"
    limits.set_limits(reads=True)
    assert gets(world, name, 40) == ["ok"] * 40
    assert gets(world, name, 2) == [(400, RATE)] * 2
    assert raw(world, "PutParameter", {"Name": name, "Value": "w", "Type": "String", "Overwrite": True})[0] == 200, \
        "writes are not reads"
    world.clock.advance(0.25)
    assert gets(world, name, 11) == ["ok"] * 10 + [(400, RATE)]
    with pytest.raises(ClientError) as e:  # as botocore sees it
        world.ssm.get_parameter(Name=name)
    assert e.value.response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert limits.counters()["throttled"] >= 4


def test_put_parameter_throughput_is_3_a_second(world, limits):
    base = prefix()
    limits.set_limits(puts=True)

    def put(i):
        return raw(world, "PutParameter", {"Name": f"{base}/{i}", "Value": "v", "Type": "String"})

    assert [put(i)[0] for i in range(3)] == [200] * 3
    assert put(3) == (400, RATE)
    assert raw(world, "GetParameter", {"Name": f"{base}/0"})[0] == 200, "reads are not writes"
    world.clock.advance(1 / 3)
    assert put(4)[0] == 200 and put(5) == (400, RATE)


def test_standard_parameters_are_limited_per_account_and_region(world, limits):
    assert STANDARD_PARAMETER_LIMIT == 10_000
    base = prefix()
    world.direct.put_parameter(Name=f"{base}/old", Value="v", Type="String")
    limits.set_limits(parameter_limit=STANDARD_PARAMETER_LIMIT)  # counts what moto holds
    assert f"{base}/old" in limits.names
    limits.parameter_limit = len(limits.names) + 1  # one short of full, without 10,000 puts

    def put(leaf, **kw):
        return raw(world, "PutParameter", {"Name": f"{base}/{leaf}", "Value": "v", "Type": "String", **kw})

    assert put("new1")[0] == 200
    status, body = put("new2")
    assert (status, body) == (400, {"__type": "ParameterLimitExceeded", "message": (
        "You have exceeded the number of parameters for this Amazon Web Services account. "
        "Delete one or more parameters and try again.")})
    with pytest.raises(world.direct.exceptions.ParameterNotFound):
        world.direct.get_parameter(Name=f"{base}/new2")
    assert put("old", Overwrite=True)[0] == 200, "overwriting an existing parameter is not a new one"
    assert put("adv", Tier="Advanced")[0] == 200, "advanced parameters have their own limit"
    assert raw(world, "DeleteParameter", {"Name": f"{base}/new1"})[0] == 200
    assert put("new2")[0] == 200, "a delete makes room"
    assert limits.counters()["limit_exceeded"] == 1


@pytest.mark.parametrize("length", [str(MAX_BODY + 1), "12x", "-1"])
def test_a_body_over_the_bound_or_a_bad_length_is_refused_unread(world, length):
    conn = http.client.HTTPConnection("127.0.0.1", world.standin.port, timeout=30)
    try:
        conn.putrequest("POST", "/")
        conn.putheader("X-Amz-Target", "AmazonSSM.GetParameter")
        conn.putheader("Content-Length", length)
        conn.endheaders()
        r = conn.getresponse()
        assert r.status == 400 and json.loads(r.read())["__type"] == "SerializationException"
    finally:
        conn.close()
