"""Alerts (issue 14 item 2): the function's real log lines carry valid embedded-metric-format
members, and run through the template's own alarm definitions (alarm_sim.py) one permanent
error raises the permanent-error alarm. The per-router silence alarm (SilentRouters, from
the hourly check) is simulated in test_silence.py."""

import json

import pytest
from cfnlint.decode import decode

from alarm_sim import Alarm, EmfError, extract, restamp
from stack import Signer
from test_lambda_template import TEMPLATE
from test_last_seen import log_line

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def template():
    t, errors = decode(str(TEMPLATE))
    assert not errors
    return t


@pytest.fixture(scope="module")
def lines(stack):
    """The function's own log lines: one accepted update, one permanent refusal of a proven
    sender (a registered key asking for a name it is not granted), a stranger's refusal."""
    signer, name = Signer(), stack.new_name()
    stack.register_key(signer.key_id, [name])
    ok = stack.post_update(signer, {"hosts": [{"name": name, "ipv4": "auto"}]})
    assert ok.status == 200, ok
    bad = stack.post_update(signer, {"hosts": [{"name": stack.new_name(), "ipv4": "auto"}]})
    assert bad.status == 403, bad
    stranger = Signer()  # not registered: 401 bad_signature, not the owner's business
    unproven = stack.post_update(stranger, {"hosts": [{"name": name, "ipv4": "auto"}]})
    assert unproven.status == 401, unproven
    throttled_like = stack.post_update(signer, b"{not json")  # 400 before the registry: unproven
    assert throttled_like.status == 400, throttled_like
    return {k: json.dumps(log_line(stack, r.headers["x-request-id"]))
            for k, r in (("accepted", ok), ("permanent", bad), ("stranger", unproven),
                         ("malformed", throttled_like))}


def function_of(line: str) -> str:
    return json.loads(line)["Function"]


def test_the_real_log_line_is_valid_emf_with_the_alarms_metrics(lines, template):
    got = {k: {p.metric: p.value for p in extract(v)} for k, v in lines.items()}
    assert got["accepted"] == {"Accepted": 1.0, "PermanentError": 0.0, "UnprovenRefusal": 0.0}
    assert got["permanent"] == {"Accepted": 0.0, "PermanentError": 1.0, "UnprovenRefusal": 0.0}
    assert got["stranger"] == {"Accepted": 0.0, "PermanentError": 0.0, "UnprovenRefusal": 1.0}
    assert got["malformed"] == {"Accepted": 0.0, "PermanentError": 0.0, "UnprovenRefusal": 1.0}
    point = extract(lines["accepted"])[0]
    fn = function_of(lines["accepted"])
    alarm = Alarm.from_template(template, "PermanentErrorAlarm", refs={"Function": fn})
    assert (alarm.namespace, alarm.dimensions) == (point.namespace, point.dimensions)
    assert alarm.metric in got["accepted"]
    # The silence alarm watches the hourly check's count, not the requests' Accepted: with
    # several routers, one silent router must be enough (test_silence.py).
    silence = Alarm.from_template(template, "SilenceAlarm", refs={"Function": fn})
    assert (silence.namespace, silence.dimensions) == (point.namespace, point.dimensions)
    assert silence.metric == "SilentRouters" and silence.metric not in got["accepted"]
    # The model refuses what CloudWatch refuses, so the checks above could fail.
    doc = json.loads(lines["accepted"])
    doc["Accepted"] = "1"
    with pytest.raises(EmfError):
        extract(json.dumps(doc))


def heartbeats(line: str, start_ms: int, count: int, gap_ms: int) -> list:
    return [p for i in range(count) for p in extract(restamp(line, start_ms + i * gap_ms))]


def test_one_permanent_error_raises_the_permanent_error_alarm(lines, template):
    fn = function_of(lines["accepted"])
    alarm = Alarm.from_template(template, "PermanentErrorAlarm", refs={"Function": fn})
    t0 = 1_800_000_000_000
    quiet = [p for k in ("accepted", "malformed", "stranger") for p in heartbeats(lines[k], t0, 12, 300_000)]
    assert all(alarm.state(quiet, t) == "OK" for t in range(t0, t0 + HOUR_MS, 60_000))
    one = quiet + extract(restamp(lines["permanent"], t0 + 30 * 60_000))
    assert alarm.state(one, t0 + 35 * 60_000) == "ALARM"
    # No more errors: it returns to OK (TreatMissingData=notBreaching).
    assert alarm.state(one, t0 + 45 * 60_000) == "OK"
