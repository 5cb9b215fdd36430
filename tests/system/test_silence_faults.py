"""Last seen without false alarms: 5 % of last-seen writes fail for real (one router in 20
per round: its parameter holds 100 versions, the oldest labelled, so SSM refuses every
further PutParameter with ParameterMaxVersionLimitExceeded), each failing router's last good
record 27 hours old (its previous heartbeat), past SilenceHours (26). The real hourly check
finds none of them silent, because the stamp its update wrote in Route53 vouches for it
(lambda/src/alive.rs); its lines, run through the template's SilenceAlarm over the rounds
as days, raise no alarm. A router that really stopped is still found.

Runs its own stack so that the counts are exact."""

import json
import time

import pytest
from cfnlint.decode import decode

from alarm_sim import Alarm, episodes, extract, restamp
from stack import Signer, Stack
from test_lambda_template import TEMPLATE
from test_last_seen import log_line
from test_silence import HOUR_MS, run_check, set_seen

ROUTERS = 20
ROUNDS = 3


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    shared_host = Signer.host  # a Stack points every Signer at itself; give it back after
    s = Stack(tmp_path_factory.mktemp("silence-faults"))
    try:
        yield s
    finally:
        s.close()
        Signer.host = shared_host


def fail_writes(stack, key_id: str, last_good_ms: int):
    """Every further PutParameter of the key's record fails; its value is `last_good_ms`."""
    parameter = stack.seen_parameter(key_id)
    try:
        stack.ssm.delete_parameter(Name=parameter)  # its versions start again at 1
    except stack.ssm.exceptions.ParameterNotFound:
        pass
    for _ in range(99):
        stack.ssm.put_parameter(Name=parameter, Value="{}", Type="String", Overwrite=True)
    set_seen(stack, key_id, last_good_ms)  # the 100th version
    stack.ssm.label_parameter_version(Name=parameter, ParameterVersion=1, Labels=["pinned"])


@pytest.fixture(scope="module")
def rounds(own):
    routers = [(Signer(), own.new_name()) for _ in range(ROUTERS)]
    for s, n in routers:
        own.register_key(s.key_id, [n])
    lines, failed = [], 0
    for day in range(ROUNDS):
        failing, _ = routers[day]
        fail_writes(own, failing.key_id, int(time.time() * 1000) - 27 * HOUR_MS)
        for i, (s, n) in enumerate(routers):
            r = own.post_update(s, {"hosts": [{"name": n, "ipv4": f"198.51.100.{day + 1}"}]})
            assert r.status == 200, r
            seen = log_line(own, r.headers["x-request-id"])["seen"]
            failed += seen.startswith("failed")
            assert seen.startswith("failed") == (i <= day), (i, day, seen)
        lines.append(run_check(own))
    return routers, lines, failed


def test_failed_last_seen_writes_make_no_router_silent(rounds):
    routers, lines, failed = rounds
    assert failed == sum(range(1, ROUNDS + 1)), "the writes really failed"
    for day, line in enumerate(lines):
        assert line["registered"] == ROUTERS
        assert (line["SilentRouters"], line["vouched_by_stamps"]) == (0, day + 1), line


def test_their_checks_raise_no_silence_alarm(rounds):
    _, lines, _ = rounds
    template, errors = decode(str(TEMPLATE))
    assert not errors
    alarm = Alarm.from_template(template, "SilenceAlarm", refs={"Function": lines[0]["Function"]})
    start = 1_800_000_000_000 // HOUR_MS * HOUR_MS
    points = [p for day, line in enumerate(lines) for h in range(24)
              for p in extract(restamp(json.dumps(line), start + (24 * day + h) * HOUR_MS + 30_000))]
    assert episodes(alarm, points, start + 2 * HOUR_MS, start + 24 * ROUNDS * HOUR_MS) == []


def test_a_router_that_really_stopped_is_still_silent(own, rounds):
    routers, _, _ = rounds
    quiet = Signer()
    own.register_key(quiet.key_id, [own.new_name()])
    set_seen(own, quiet.key_id, int(time.time() * 1000) - 27 * HOUR_MS)
    line = run_check(own)
    assert (line["SilentRouters"], line["silent_routers"]) == (1, [quiet.key_id]), line
    own.revoke_key(quiet.key_id)
