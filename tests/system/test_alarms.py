"""Alerts (issue 14 item 2): the function's real log lines carry valid embedded-metric-format
members, and run through the template's own alarm definitions (alarm_sim.py) a silent
router raises the silence alarm after SilenceHours, heartbeats keep it OK, and one
permanent error raises the permanent-error alarm."""

import json

import pytest
from cfnlint.decode import decode

from alarm_sim import Alarm, EmfError, extract, restamp
from stack import Signer
from test_lambda_template import TEMPLATE
from test_last_seen import log_line

HOUR_MS = 3_600_000
FORCE_INTERVAL_H = 24  # the router's default force_interval (src/schema.rs)
CHECK_INTERVAL_MS = 10 * 60_000  # its default check_interval: the timer that notices it is due


@pytest.fixture(scope="module")
def template():
    t, errors = decode(str(TEMPLATE))
    assert not errors
    return t


@pytest.fixture(scope="module")
def lines(stack):
    """The function's own log lines: one accepted update, one permanent refusal."""
    signer, name = Signer(), stack.new_name()
    stack.register_key(signer.key_id, [name])
    ok = stack.post_update(signer, {"hosts": [{"name": name, "ipv4": "auto"}]})
    assert ok.status == 200, ok
    stranger = Signer()  # not registered: 401 bad_signature, a permanent error
    bad = stack.post_update(stranger, {"hosts": [{"name": name, "ipv4": "auto"}]})
    assert bad.status == 401, bad
    throttled_like = stack.post_update(signer, b"{not json")  # 400: neither metric
    assert throttled_like.status == 400, throttled_like
    return {k: json.dumps(log_line(stack, r.headers["x-request-id"]))
            for k, r in (("accepted", ok), ("permanent", bad), ("malformed", throttled_like))}


def function_of(line: str) -> str:
    return json.loads(line)["Function"]


def test_the_real_log_line_is_valid_emf_with_the_alarms_metrics(lines, template):
    got = {k: {p.metric: p.value for p in extract(v)} for k, v in lines.items()}
    assert got["accepted"] == {"Accepted": 1.0, "PermanentError": 0.0}
    assert got["permanent"] == {"Accepted": 0.0, "PermanentError": 1.0}
    assert got["malformed"] == {"Accepted": 0.0, "PermanentError": 0.0}
    point = extract(lines["accepted"])[0]
    fn = function_of(lines["accepted"])
    for alarm_id in ("SilenceAlarm", "PermanentErrorAlarm"):
        alarm = Alarm.from_template(template, alarm_id, refs={"Function": fn})
        assert (alarm.namespace, alarm.dimensions) == (point.namespace, point.dimensions), alarm_id
        assert alarm.metric in got["accepted"]
    # The model refuses what CloudWatch refuses, so the checks above could fail.
    doc = json.loads(lines["accepted"])
    doc["Accepted"] = "1"
    with pytest.raises(EmfError):
        extract(json.dumps(doc))


def heartbeats(line: str, start_ms: int, count: int, gap_ms: int) -> list:
    return [p for i in range(count) for p in extract(restamp(line, start_ms + i * gap_ms))]


def test_a_silent_router_raises_the_alarm_after_silence_hours_and_heartbeats_keep_it_ok(lines, template):
    fn = function_of(lines["accepted"])
    alarm = Alarm.from_template(template, "SilenceAlarm", refs={"Function": fn})
    n = alarm.evaluation_periods
    assert n == 26 and alarm.datapoints_to_alarm == n and alarm.period_s == 3600
    start = 1_800_000_000_000 + 59 * 60_000  # late in an hour: the worst alignment
    gap = FORCE_INTERVAL_H * HOUR_MS + CHECK_INTERVAL_MS  # force_interval, noticed by the timer
    points = heartbeats(lines["accepted"], start, 10, gap)
    last = start + 9 * gap
    # Ten days of heartbeats only: OK at every hour (from the first beat on).
    for t in range(start + HOUR_MS, last + HOUR_MS, HOUR_MS // 4):
        assert alarm.state(points, t) == "OK", (t - start) / HOUR_MS
    # Then silence: still OK for SilenceHours, ALARM within the hour after.
    assert alarm.state(points, last + n * HOUR_MS) == "OK"
    assert alarm.state(points, last + (n + 1) * HOUR_MS) == "ALARM"
    assert alarm.state(points, last + 100 * HOUR_MS) == "ALARM"
    # A heartbeat ends it.
    back = points + extract(restamp(lines["accepted"], last + 100 * HOUR_MS))
    assert alarm.state(back, last + 101 * HOUR_MS) == "OK"


def test_refused_requests_are_not_heartbeats(lines, template):
    """A router that only gets refusals is silent: Accepted is 0 in every line."""
    alarm = Alarm.from_template(template, "SilenceAlarm", refs={"Function": function_of(lines["accepted"])})
    start = 1_800_000_000_000
    points = heartbeats(lines["accepted"], start, 1, HOUR_MS)
    points += heartbeats(lines["permanent"], start + HOUR_MS, 40, HOUR_MS)
    assert alarm.state(points, start + (alarm.evaluation_periods + 2) * HOUR_MS) == "ALARM"


def test_silence_hours_must_exceed_force_interval(lines, template):
    """Why the docs say SilenceHours >= force_interval + 2: at force_interval itself the
    heartbeat (due after force_interval, noticed up to check_interval later) is late."""
    fn = function_of(lines["accepted"])
    start = 1_800_000_000_000 + 59 * 60_000
    gap = FORCE_INTERVAL_H * HOUR_MS + CHECK_INTERVAL_MS
    points = heartbeats(lines["accepted"], start, 10, gap)

    def false_alarms(hours):
        alarm = Alarm.from_template(template, "SilenceAlarm", {"SilenceHours": hours}, refs={"Function": fn})
        return sum(alarm.state(points, t) == "ALARM"
                   for t in range(start + HOUR_MS, start + 9 * gap, HOUR_MS // 4))

    assert false_alarms(FORCE_INTERVAL_H) > 0
    assert false_alarms(FORCE_INTERVAL_H + 2) == 0


def test_one_permanent_error_raises_the_permanent_error_alarm(lines, template):
    fn = function_of(lines["accepted"])
    alarm = Alarm.from_template(template, "PermanentErrorAlarm", refs={"Function": fn})
    t0 = 1_800_000_000_000
    quiet = heartbeats(lines["accepted"], t0, 12, 300_000) + heartbeats(lines["malformed"], t0, 12, 300_000)
    assert all(alarm.state(quiet, t) == "OK" for t in range(t0, t0 + HOUR_MS, 60_000))
    one = quiet + extract(restamp(lines["permanent"], t0 + 30 * 60_000))
    assert alarm.state(one, t0 + 35 * 60_000) == "ALARM"
    # No more errors: it returns to OK (TreatMissingData=notBreaching).
    assert alarm.state(one, t0 + 45 * 60_000) == "OK"
