"""A day of realistic traffic through the template's PermanentErrorAlarm (alarm_sim.py), in
simulated time, from the function's real log lines: routers' hourly updates, three routers
booting with a wrong clock (clock_skew, then the corrected request), a key rotation (the
next key probed hourly before it is registered, then accepted), 10,000 anonymous requests
of every kind a stranger can send, and one router that really lost its grant. Exactly one
alarm, and it is that router's refusal that raises it."""

import base64
import json
import random

import pytest
from cfnlint.decode import decode

from alarm_sim import Alarm, episodes, extract, restamp
from stack import Signer, http_request, now_ms
from test_lambda_template import TEMPLATE
from test_last_seen import log_line

MIN = 60_000
HOUR = 60 * MIN
DAY0 = 1_800_000_000_000 // HOUR * HOUR


def line(stack, reply) -> str:
    return json.dumps(log_line(stack, reply.headers["x-request-id"]))


@pytest.fixture(scope="module")
def real(stack):
    """One real log line of each kind the day is made of."""
    router, name = Signer(), stack.new_name()
    stack.register_key(router.key_id, [name])
    body = {"hosts": [{"name": name, "ipv4": "auto"}]}
    out = {"accepted": line(stack, stack.post_update(router, body))}
    skew = stack.post_update(router, body, time_ms=now_ms() - 3 * HOUR)
    assert skew.json()["error"] == "clock_skew", skew
    out["clock_skew"] = line(stack, skew)
    nxt = Signer()  # the next key, not registered yet
    probe = stack.post_update(nxt, body)
    assert probe.json()["error"] == "bad_signature", probe
    out["next_key_probe"] = line(stack, probe)
    lost, lost_name = Signer(), stack.new_name()
    stack.register_key(lost.key_id, [lost_name])
    first = stack.post_update(lost, {"hosts": [{"name": lost_name, "ipv4": "auto"}]})
    assert first.status == 200, first
    stack.register_key(lost.key_id, [stack.new_name()])  # the owner edited its entry away
    gone = stack.post_update(lost, {"hosts": [{"name": lost_name, "ipv4": "auto"}]})
    assert gone.json()["error"] == "name_not_allowed", gone
    out["lost_grant"] = line(stack, gone)
    anon = [
        stack.post_update(Signer(), body),  # any fresh key
        http_request(stack.http_url + "/v2/update", "POST", b"{}"),  # unsigned
        stack.post_update(Signer(), body, time_ms=now_ms() - 3 * HOUR),  # old time, any key
        http_request(f"{stack.http_url}/nic/update?hostname={name}"),  # no credentials
        http_request(f"{stack.http_url}/nic/update?hostname={name}", headers={
            "authorization": "Basic " + base64.b64encode(b"guess:guess").decode()}),
        http_request(f"{stack.http_url}/nic/update", "POST", b"x" * 5000),  # too large
        http_request(stack.http_url + "/", "GET"),
        http_request(stack.http_url + "/v2/update", "PUT", b"{}"),
        http_request(stack.http_url + "/v1/update", "POST", b"{}"),
    ]
    out["anonymous"] = [line(stack, r) for r in anon]
    return out, lost.key_id


def test_a_day_of_traffic_raises_one_alarm_for_the_router_that_lost_its_grant(real):
    lines, lost_key = real
    template, errors = decode(str(TEMPLATE))
    assert not errors
    fn = json.loads(lines["accepted"])["Function"]
    alarm = Alarm.from_template(template, "PermanentErrorAlarm", refs={"Function": fn})
    rnd = random.Random(21)
    day = []  # (time, line)
    for router in range(20):  # hourly updates ("auto" hosts)
        day += [(DAY0 + h * HOUR + router * MIN + 7_000, lines["accepted"]) for h in range(24)]
    for boot in (6 * HOUR, 6 * HOUR + 3 * MIN, 11 * HOUR):  # a wrong clock at boot, corrected
        day += [(DAY0 + boot, lines["clock_skew"]), (DAY0 + boot + 2_000, lines["accepted"])]
    for h in range(9, 14):  # the next key probed hourly until it is registered at 13:30
        day += [(DAY0 + h * HOUR + 10 * MIN, lines["next_key_probe"]),
                (DAY0 + h * HOUR + 10 * MIN + 500, lines["accepted"])]
    day += [(DAY0 + 14 * HOUR + 10 * MIN, lines["accepted"])]
    for i in range(10_000):
        day.append((DAY0 + rnd.randrange(24 * HOUR), lines["anonymous"][i % len(lines["anonymous"])]))
    lost_at = DAY0 + 17 * HOUR + 2 * MIN
    day.append((lost_at, lines["lost_grant"]))
    points, permanent_from = [], []
    for t, text in day:
        got = extract(restamp(text, t))
        points += got
        if any(p.metric == "PermanentError" and p.value > 0 for p in got):
            permanent_from.append((t, json.loads(text).get("principal")))
    assert sum(1 for _, text in day if "UnprovenRefusal\": 1" in text) >= 10_000
    alarms = episodes(alarm, points, DAY0, DAY0 + 25 * HOUR)
    assert len(alarms) == 1, [((a - DAY0) / HOUR, (b - DAY0) / HOUR) for a, b in alarms]
    assert permanent_from == [(lost_at, lost_key)]
    start, end = alarms[0]
    assert lost_at < start <= lost_at + 10 * MIN and end < lost_at + 20 * MIN
