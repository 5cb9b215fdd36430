"""What the Route53 stand-in's tests share: moto and a stand-in in front of it (`World`, on a
`FakeClock`), the `world`/`zone` fixtures (import them into a test module), and helpers that
send batches with boto3 and read the refusal in either of Route53's InvalidChangeBatch
shapes (botocore parses only the standard one, so the raw body is kept per thread)."""

import subprocess
import threading
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from buckets import FakeClock
from r53_rules import parse_batch_error
from r53_standin import Route53StandIn
from stack import CREDS, REGION, free_port, wait_port

ZONE = "example.com"
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
_last = threading.local()  # the raw body of this thread's last ChangeResourceRecordSets answer


def _keep_body(http_response=None, **_):
    _last.status = getattr(http_response, "status_code", None)
    _last.body = getattr(http_response, "content", b"")


class World:
    def __init__(self, tmp):
        port = free_port()
        log = open(tmp / "moto.log", "wb")
        self.moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(port, self.moto, 60, tmp / "moto.log")
        self.moto_port = port
        self.direct = boto3.client("route53", endpoint_url=f"http://127.0.0.1:{port}",
                                   region_name=REGION, **CREDS)
        self.clock = FakeClock()
        self.standin = Route53StandIn(port, clock=self.clock)
        self.r53 = boto3.client("route53", endpoint_url=f"http://127.0.0.1:{self.standin.port}",
                                region_name=REGION, config=NO_RETRY, **CREDS)
        self.r53.meta.events.register("after-call.route53.ChangeResourceRecordSets", _keep_body)

    def close(self):
        self.standin.stop()
        self.moto.terminate()
        self.moto.wait(timeout=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("standin"))
    yield w
    w.close()


@pytest.fixture
def zone(world):
    """A fresh hosted zone example.com (moto allows several of the same name)."""
    z = world.r53.create_hosted_zone(Name=ZONE, CallerReference=str(uuid.uuid4()))
    zid = z["HostedZone"]["Id"].split("/")[-1]
    yield zid
    assert world.standin.counters()["moto_refused"] == 0, "moto refused a batch the stand-in passed"
    assert_cache_is_moto(world.standin, zid)


def assert_cache_is_moto(standin, zid):
    """The stand-in's copy of the zone is what moto holds."""
    def view(sets):
        return sorted((s.name, s.rtype, s.ttl, tuple(sorted(s.values))) for s in sets)
    if zid in standin.cache:
        assert view(standin.cache[zid]) == view(standin.moto_sets(zid))


def rrs(action, name, rtype, values, ttl=60):
    return {"Action": action, "ResourceRecordSet": {
        "Name": name, "Type": rtype, "TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}}


def change(world, zone, *changes):
    return world.r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": list(changes)})


def code_of(err: ClientError) -> str:
    """The error code of a refused batch, InvalidChangeBatch also in its legacy shape."""
    code = err.response["Error"]["Code"]
    if not code and _last.body:
        parse_batch_error(_last.body)  # raises on a body of neither shape
        return "InvalidChangeBatch"
    return code


def refused(world, zone, *changes) -> str:
    """The batch is refused as Route53 refuses it: HTTP 400, in the stand-in's shape; returns
    the messages joined as the standard shape writes them ("[m1, m2]")."""
    with pytest.raises(ClientError) as e:
        change(world, zone, *changes)
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400 == _last.status
    shape, messages = parse_batch_error(_last.body)
    assert shape == world.standin.batch_shape
    if shape == "standard":
        assert err["Error"]["Code"] == "InvalidChangeBatch" and err["Error"]["Type"] == "Sender"
        return err["Error"]["Message"]
    assert b"<Code>" not in _last.body and b"<RequestId>" in _last.body
    return "[" + ", ".join(messages) + "]"


def stored(world, zone) -> dict:
    """{(name, type): (ttl, sorted values)} read from moto itself, apex NS/SOA left out."""
    out = {}
    for s in world.direct.list_resource_record_sets(HostedZoneId=zone, MaxItems="1000")["ResourceRecordSets"]:
        if s["Type"] in ("NS", "SOA"):
            continue
        key = (s["Name"], s["Type"])
        assert key not in out, f"moto holds two sets {key}"
        out[key] = (s.get("TTL"), sorted(r["Value"] for r in s.get("ResourceRecords", [])))
    return out
