"""Per-router silence (issue 14 item 2): the hourly schedule event makes the function list
the registry and the last-seen records and log `SilentRouters`, the number of registered
keys/users without an accepted request for SilenceHours (26 here, the default), naming
them; through the template's SilenceAlarm (alarm_sim.py) one silent router among several
raises the alarm, and so does a check that stops running.

Runs its own stack (own moto, own Lambda) so that the counts are exact whatever other
tests registered."""

import json
import time
import uuid

import pytest
from cfnlint.decode import decode

from alarm_sim import Alarm, extract, restamp
from stack import PREFIX, Signer, Stack, http_request
from test_lambda_template import TEMPLATE
from test_last_seen import log_line

HOUR_MS = 3_600_000
SILENCE_HOURS = 26  # the template's default, and the function's without R53DDNS_SILENCE_HOURS
FORCE_INTERVAL_H = 24  # the router's default force_interval (src/schema.rs)
CHECK_INTERVAL_MS = 10 * 60_000  # its default check_interval


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("silence"))
    try:
        yield s
    finally:
        s.close()


def schedule_event() -> dict:
    """What EventBridge sends for `rate(1 hour)`."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/route53-ddns-SilenceCheck"],
        "detail": {},
    }


def run_check(stack) -> dict:
    """Invokes the function directly (as the schedule does) and returns its log line."""
    r = http_request(f"{stack.http_url}/2015-03-31/functions/bootstrap/invocations", method="POST",
                     body=json.dumps(schedule_event()).encode(),
                     headers={"content-type": "application/json"})
    assert r.status == 200, r
    answer = r.json()
    assert answer["statusCode"] == 200, answer
    request_id = json.loads(answer["body"])["request_id"]
    line = log_line(stack, request_id)
    assert line["route"] == "silence", line
    return line


def set_seen(stack, key_id: str, time_ms: int):
    """A last-seen record as the function writes it, at `time_ms`."""
    stack.ssm.put_parameter(
        Name=f"{PREFIX}/seen/keys/{key_id}", Type="String", Overwrite=True,
        Value=json.dumps({"time_ms": time_ms, "names": [], "result": "updated", "agent": None,
                          "observed": None, "request_id": "set-by-test"}))


@pytest.fixture(scope="module")
def two(own):
    """Keys A and B registered; A had an accepted request just now, B 27 hours ago."""
    a, b = Signer(), Signer()
    for s in (a, b):
        own.register_key(s.key_id, [own.new_name()])
    name = own.new_name()
    own.register_key(a.key_id, [name])
    r = own.post_update(a, {"hosts": [{"name": name, "ipv4": "auto"}]})
    assert r.status == 200, r
    assert own.seen(a.key_id)["result"] == "updated"
    set_seen(own, b.key_id, int(time.time() * 1000) - 27 * HOUR_MS)
    return a, b


def test_the_check_names_the_one_silent_router_and_counts_it(own, two):
    a, b = two
    line = run_check(own)
    assert line["registered"] == 2
    assert line["SilentRouters"] == 1
    assert line["silent_routers"] == [b.key_id]
    assert line["silent_more"] == 0 and line["truncated"] is False
    assert line["silence_hours"] == SILENCE_HOURS
    # The count is an EMF metric of the alarms' namespace and dimension.
    (point,) = extract(json.dumps(line))
    assert (point.metric, point.value) == ("SilentRouters", 1.0)


def test_none_is_silent_when_every_router_is_fresh_over_several_pages(own, two):
    a, b = two
    set_seen(own, b.key_id, int(time.time() * 1000))
    line = run_check(own)
    assert (line["SilentRouters"], line["silent_routers"]) == (0, [])
    # A heartbeat one force_interval (noticed a check_interval late) old is not silence.
    set_seen(own, b.key_id, int(time.time() * 1000) - FORCE_INTERVAL_H * HOUR_MS - CHECK_INTERVAL_MS)
    assert run_check(own)["SilentRouters"] == 0
    # Fourteen more keys (two SSM pages), just registered and never seen: within their grace.
    more = [Signer() for _ in range(14)]
    for s in more:
        own.register_key(s.key_id, [own.new_name()])
    line = run_check(own)
    assert (line["registered"], line["SilentRouters"]) == (16, 0)
    # One of them silent past SilenceHours (its last request 26 h 5 min ago): named.
    set_seen(own, more[-1].key_id, int(time.time() * 1000) - SILENCE_HOURS * HOUR_MS - 300_000)
    line = run_check(own)
    assert (line["SilentRouters"], line["silent_routers"]) == (1, [more[-1].key_id])
    for s in more:
        own.revoke_key(s.key_id)
    set_seen(own, b.key_id, int(time.time() * 1000))


def test_a_function_url_request_is_never_taken_for_the_schedule(own):
    body = json.dumps(schedule_event()).encode()
    for path in ("/", "/v2/update"):
        r = http_request(own.http_url + path, method="POST", body=body,
                         headers={"content-type": "application/json", "source": "aws.events",
                                  "detail-type": "Scheduled Event"})
        assert r.status in (400, 401, 404), r
        line = log_line(own, r.headers["x-request-id"])
        assert line.get("route") != "silence" and "SilentRouters" not in line, line


@pytest.fixture(scope="module")
def lines(own, two):
    """The function's real silence lines: one silent router of two, then none."""
    a, b = two
    set_seen(own, b.key_id, int(time.time() * 1000) - 27 * HOUR_MS)
    silent = run_check(own)
    set_seen(own, b.key_id, int(time.time() * 1000))
    fresh = run_check(own)
    assert (silent["SilentRouters"], fresh["SilentRouters"]) == (1, 0)
    assert silent["registered"] == fresh["registered"] == 2
    return {"silent": json.dumps(silent), "fresh": json.dumps(fresh)}


def hourly(line: str, start_ms: int, hours: int) -> list:
    return [p for i in range(hours) for p in extract(restamp(line, start_ms + i * HOUR_MS))]


def test_one_silent_router_among_several_raises_the_alarm(lines):
    template, errors = decode(str(TEMPLATE))
    assert not errors
    fn = json.loads(lines["silent"])["Function"]
    alarm = Alarm.from_template(template, "SilenceAlarm", refs={"Function": fn})
    point = extract(lines["silent"])[0]
    assert (alarm.namespace, alarm.dimensions, alarm.metric) == (point.namespace, point.dimensions, point.metric)
    start = 1_800_000_000_000 // HOUR_MS * HOUR_MS + 59 * 60_000  # late in an hour: the worst alignment
    fresh = hourly(lines["fresh"], start, 48)
    end = start + 48 * HOUR_MS
    # Two days of hourly checks finding every router fresh: OK throughout.
    for t in range(start + 2 * HOUR_MS, end, HOUR_MS // 4):
        assert alarm.state(fresh, t) == "OK", (t - start) / HOUR_MS
    # Then the checks find one router silent: ALARM within two hours, and it stays.
    silent = fresh + hourly(lines["silent"], end, 5)
    assert alarm.state(silent, end + HOUR_MS) == "OK"
    assert alarm.state(silent, end + 2 * HOUR_MS) == "ALARM"
    assert alarm.state(silent, end + 5 * HOUR_MS) == "ALARM"
    # It sends again: the next checks find none silent, and the alarm clears.
    back = silent + hourly(lines["fresh"], end + 5 * HOUR_MS, 3)
    assert alarm.state(back, end + 7 * HOUR_MS) == "OK"
    # The schedule stops (no line at all): missing data is breaching, so it alarms too.
    assert alarm.state(back, end + 10 * HOUR_MS) == "ALARM"
    # One run landing in the next hour's period (a missing hour between two) is no alarm.
    gap = [p for p in fresh if (p.time_ms - start) // HOUR_MS != 20]
    assert all(alarm.state(gap, t) == "OK" for t in range(start + 2 * HOUR_MS, end, HOUR_MS // 4))
