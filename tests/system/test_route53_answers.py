"""The Route53 stand-in answers as Route53 does: InvalidChangeBatch in both of Route53's
shapes, Throttling from the documented token buckets (on the world's FakeClock, never the
wall clock), PriorRequestNotComplete for a zone still busy with a batch, and the two lost
answers (reset before applying, applied then reset). Raw HTTP is used where the bytes on the
wire are the point. Needs only moto, not the Lambda."""

import http.client
import threading
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from r53_rules import NS
from r53_standin import MOTO_AUTH
from r53_world import change, refused, rrs, stored, world, zone  # noqa: F401 (fixtures)

DEL_MISSING = "Tried to delete resource record set [name='gone.example.com.', type='TXT'] but it was not found"
CREATE_EXISTING = "Tried to create resource record set [name='x.example.com.', type='A'] but it already exists"


def batch_xml(*changes) -> bytes:
    """A ChangeResourceRecordSetsRequest body: changes are (action, name, type, [values])."""
    out = []
    for action, name, rtype, values in changes:
        recs = "".join(f"<ResourceRecord><Value>{v}</Value></ResourceRecord>" for v in values)
        out.append(f"<Change><Action>{action}</Action><ResourceRecordSet><Name>{name}</Name>"
                   f"<Type>{rtype}</Type><TTL>60</TTL><ResourceRecords>{recs}</ResourceRecords>"
                   "</ResourceRecordSet></Change>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="{NS}">'
            f"<ChangeBatch><Changes>{''.join(out)}</Changes></ChangeBatch>"
            "</ChangeResourceRecordSetsRequest>").encode()


def raw(world, method, path, body=b""):
    """(status, body) from the stand-in; raises on a connection closed with no answer."""
    conn = http.client.HTTPConnection("127.0.0.1", world.standin.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"content-type": "text/xml", "authorization": MOTO_AUTH})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def post_batch(world, zone, *changes):
    return raw(world, "POST", f"/2013-04-01/hostedzone/{zone}/rrset/", batch_xml(*changes))


def error_of(body: bytes) -> tuple[str, str]:
    """(Code, Message) of a standard ErrorResponse."""
    root = ET.fromstring(body)
    assert root.tag == f"{{{NS}}}ErrorResponse"
    err = root.find(f"{{{NS}}}Error")
    assert err.findtext(f"{{{NS}}}Type") == "Sender"
    assert root.findtext(f"{{{NS}}}RequestId")
    return err.findtext(f"{{{NS}}}Code"), err.findtext(f"{{{NS}}}Message")


@pytest.fixture
def shape(world):
    yield world.standin
    world.standin.batch_shape = "legacy"


# --- InvalidChangeBatch: both shapes ------------------------------------------------------------

def test_invalid_change_batch_in_the_legacy_shape_has_one_message_per_error(world, zone):
    change(world, zone, rrs("CREATE", "x.example.com", "A", ["192.0.2.1"]))
    status, body = post_batch(world, zone, ("DELETE", "gone.example.com", "TXT", ['"a"']),
                              ("CREATE", "x.example.com", "A", ["192.0.2.2"]))
    assert status == 400
    root = ET.fromstring(body)
    assert root.tag == f"{{{NS}}}InvalidChangeBatch"
    assert [c.tag for c in root] == [f"{{{NS}}}Messages", f"{{{NS}}}RequestId"]
    assert [m.text for m in root.find(f"{{{NS}}}Messages")] == [DEL_MISSING, CREATE_EXISTING]
    assert root.findtext(f"{{{NS}}}RequestId")
    assert stored(world, zone) == {("x.example.com.", "A"): (60, ["192.0.2.1"])}


def test_invalid_change_batch_in_the_standard_shape_joins_the_messages(world, zone, shape):
    shape.batch_shape = "standard"
    change(world, zone, rrs("CREATE", "x.example.com", "A", ["192.0.2.1"]))
    status, body = post_batch(world, zone, ("DELETE", "gone.example.com", "TXT", ['"a"']),
                              ("CREATE", "x.example.com", "A", ["192.0.2.2"]))
    assert status == 400
    assert error_of(body) == ("InvalidChangeBatch", f"[{DEL_MISSING}, {CREATE_EXISTING}]")
    # boto3 reads the standard shape; the legacy one it cannot (see r53_world.refused).
    assert refused(world, zone, rrs("DELETE", "gone.example.com", "TXT", ['"a"'])) == f"[{DEL_MISSING}]"


def test_an_injected_invalid_change_batch_takes_the_configured_shape(world, zone, shape):
    for want in ("legacy", "standard"):
        shape.batch_shape = want
        world.standin.fail_next, world.standin.fail_code = 1, "InvalidChangeBatch"
        status, body = post_batch(world, zone, ("UPSERT", "x.example.com", "A", ["192.0.2.1"]))
        assert status == 400
        tag = ET.fromstring(body).tag
        assert tag == f"{{{NS}}}{'InvalidChangeBatch' if want == 'legacy' else 'ErrorResponse'}"
    assert stored(world, zone) == {}


# --- Throttling: the documented buckets ---------------------------------------------------------

def lists(world, zone, n) -> list:
    out = []
    for _ in range(n):
        status, body = raw(world, "GET", f"/2013-04-01/hostedzone/{zone}/rrset")
        out.append("ok" if status == 200 else (status, *error_of(body)))
    return out


@pytest.fixture
def throttled(world):
    yield world.standin
    world.standin.set_throttling(False)


def test_the_request_buckets_hold_50_and_refill_10_a_second(world, zone, throttled):
    assert lists(world, zone, 60) == ["ok"] * 60, "off by default"
    throttled.set_throttling()
    assert lists(world, zone, 50) == ["ok"] * 50, "a full bucket takes a burst of 50"
    assert lists(world, zone, 2) == [(400, "Throttling", "Rate exceeded")] * 2
    world.clock.advance(0.5)
    assert lists(world, zone, 6) == ["ok"] * 5 + [(400, "Throttling", "Rate exceeded")]
    world.clock.advance(3600)
    assert lists(world, zone, 51).count("ok") == 50, "refilled up to the capacity, no further"


def test_each_action_has_its_own_bucket_beside_the_account_bucket(world, zone, throttled):
    throttled.set_throttling(per_action=(2, 1))
    assert lists(world, zone, 3) == ["ok", "ok", (400, "Throttling", "Rate exceeded")]
    status, _ = raw(world, "GET", f"/2013-04-01/hostedzone/{zone}")
    assert status == 200, "GetHostedZone draws on its own bucket"
    throttled.set_throttling(account=(3, 1))
    assert lists(world, zone, 3) == ["ok"] * 3
    status, body = raw(world, "GET", f"/2013-04-01/hostedzone/{zone}")
    assert (status, *error_of(body)) == (400, "Throttling", "Rate exceeded"), "the account bucket is shared"


def test_record_changes_draw_on_the_change_bucket_upsert_twice(world, zone, throttled):
    throttled.set_throttling(changes=(4, 1))
    assert post_batch(world, zone, ("UPSERT", "a.example.com", "A", ["192.0.2.1"]),
                      ("UPSERT", "b.example.com", "A", ["192.0.2.2"]))[0] == 200
    status, body = post_batch(world, zone, ("CREATE", "c.example.com", "A", ["192.0.2.3"]))
    assert (status, *error_of(body)) == (400, "Throttling", "Rate exceeded")
    assert ("c.example.com.", "A") not in stored(world, zone), "a throttled batch changes nothing"
    world.clock.advance(1)
    assert post_batch(world, zone, ("CREATE", "c.example.com", "A", ["192.0.2.3"]))[0] == 200
    assert throttled.counters()["throttled"] >= 1


# --- PriorRequestNotComplete --------------------------------------------------------------------

def test_a_batch_for_a_zone_still_applying_another_is_refused_as_busy(world, zone):
    world.standin.busy_zone = True
    first: list = []
    world.standin.zone_lock.acquire()  # the first batch is held while being applied
    try:
        t = threading.Thread(target=lambda: first.append(
            post_batch(world, zone, ("UPSERT", "a.example.com", "A", ["192.0.2.1"]))))
        t.start()
        for _ in range(1000):
            with world.standin.lock:
                if world.standin.applying[zone]:
                    break
            threading.Event().wait(0.01)
        status, body = post_batch(world, zone, ("UPSERT", "b.example.com", "A", ["192.0.2.2"]))
        assert (status, *error_of(body)) == (400, "PriorRequestNotComplete", "The request was rejected "
                                             "because Route 53 was still processing a prior request.")
    finally:
        world.standin.zone_lock.release()
        world.standin.busy_zone = False
    t.join(timeout=30)
    assert first and first[0][0] == 200
    assert set(stored(world, zone)) == {("a.example.com.", "A")}
    assert world.standin.counters()["busy"] >= 1


# --- lost answers -------------------------------------------------------------------------------

def test_a_reset_before_applying_applies_nothing(world, zone):
    before = world.standin.counters()
    world.standin.lose_answers(reset_before_apply=1)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        post_batch(world, zone, ("UPSERT", "a.example.com", "A", ["192.0.2.1"]))
    after = world.standin.counters()
    assert after["resets_before_apply"] == before["resets_before_apply"] + 1
    assert after["changes"] == before["changes"] and stored(world, zone) == {}
    assert post_batch(world, zone, ("UPSERT", "a.example.com", "A", ["192.0.2.1"]))[0] == 200, "once only"


def test_an_answer_dropped_after_applying_leaves_the_batch_applied(world, zone):
    before = world.standin.counters()
    world.standin.lose_answers(drop_after_apply=1)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        post_batch(world, zone, ("UPSERT", "a.example.com", "A", ["192.0.2.1"]))
    after = world.standin.counters()
    assert after["dropped_after_apply"] == before["dropped_after_apply"] + 1
    assert after["changes"] == before["changes"] + 1
    assert stored(world, zone) == {("a.example.com.", "A"): (60, ["192.0.2.1"])}
    with pytest.raises(ClientError):  # and Route53's rules see the applied batch
        change(world, zone, rrs("CREATE", "a.example.com", "A", ["192.0.2.1"]))
