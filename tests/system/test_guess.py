"""A write without a read (lambda/src/guess.rs, docs/protocol.md §3): a signed request that
carries each name's `last` (the stamp and records its previous answer told) is written in
one Route53 call, as a ChangeBatch whose DELETEs make Route53 check the guess. A guess that
is stale, false or a lie is refuted by Route53 in either of its refusal shapes and the names
are read as always: the answer, the records, the notification and the ordering are exactly
what the read would have given."""

import pytest

from stack import Signer, now_ms, read_stamp
from test_last_seen import log_line


def last_of(answer: dict, name: str) -> dict:
    """What a router keeps from a 200 answer for one name and sends back as `last`."""
    host = next(h for h in answer["hosts"] if h["name"] == name)
    last = {"stamp": answer["stamp"], "ttl": host["ttl"]}
    last.update({k: host[k] for k in ("a", "aaaa") if host.get(k)})
    return last


def update(stack, signer, name, ipv4, last=None, time_ms=None):
    host = {"name": name, "ipv4": ipv4}
    if last is not None:
        host["last"] = last
    r = stack.post_update(signer, {"hosts": [host]}, time_ms=time_ms)
    return r, (log_line(stack, r.headers["x-request-id"]) if "x-request-id" in r.headers else None)


def mine(stack, name):
    return [c for n in stack.notifications(wait_s=3) for c in n["Message"]["changes"]
            if c["name"] == name]


def test_an_answer_carries_the_stamp_and_sending_it_back_costs_one_call(stack, registered, name):
    stack.notifications()
    t = now_ms()
    first, _ = update(stack, registered, name, "192.0.2.70", time_ms=t)
    assert first.status == 200, first
    assert first.json()["stamp"] == t, "the stamp is the request's own time"
    before = stack.route53_counts()
    r, line = update(stack, registered, name, "192.0.2.71", last_of(first.json(), name))
    after = stack.route53_counts()
    assert r.status == 200 and r.json()["result"] == "updated", r
    assert (after["lists"] - before["lists"], after["change_calls"] - before["change_calls"]) == (0, 1)
    assert (line["guess"], line["route53_calls"], line["conflicts"]) == ("written", 1, 0)
    assert stack.records(name)["A"] == ["192.0.2.71"]
    assert read_stamp(stack.stamp(name))[0] == r.json()["stamp"]
    assert mine(stack, name)[-1] == {"name": name, "old_a": ["192.0.2.70"], "old_aaaa": [],
                                     "new_a": ["192.0.2.71"], "new_aaaa": []}
    # "auto" is written even when unchanged (the write budget's exception): on a right
    # guess, one call, told unchanged, nobody notified.
    auto, _ = update(stack, registered, name, "auto", last_of(r.json(), name))
    assert auto.status == 200 and auto.json()["result"] == "updated", auto
    mine(stack, name)
    same, line = update(stack, registered, name, "auto", last_of(auto.json(), name))
    assert same.status == 200 and same.json()["result"] == "unchanged", same
    assert (line["guess"], line["route53_calls"]) == ("written", 1)
    assert mine(stack, name) == []
    # Unchanged and not "auto" inside the quiet period: refused on a read, never on a guess.
    quiet, line = update(stack, registered, name, same.json()["observed"], last_of(same.json(), name))
    assert quiet.status == 429 and quiet.json()["error"] == "throttled", quiet
    assert (line["guess"], line["route53_calls"]) == ("unused", 1)


@pytest.mark.parametrize("shape", ["legacy", "standard"])
def test_a_stale_last_is_refuted_and_read_in_either_refusal_shape(stack, registered, name, shape):
    """Another writer changed the name after this router's last answer: Route53 refuses the
    guessed batch, the Lambda reads, and the answer is told against what was really there."""
    other = Signer()
    stack.register_key(other.key_id, [name])
    first, _ = update(stack, registered, name, "192.0.2.72")
    assert update(stack, other, name, "192.0.2.73")[0].status == 200
    stack.notifications()
    stack.proxy.batch_shape = shape
    before = stack.route53_counts()
    try:
        r, line = update(stack, registered, name, "192.0.2.74", last_of(first.json(), name))
    finally:
        stack.proxy.batch_shape = "legacy"
    after = stack.route53_counts()
    assert r.status == 200 and r.json()["result"] == "updated", r
    assert (after["change_calls"] - before["change_calls"], after["changes"] - before["changes"]) == (2, 1)
    assert after["lists"] - before["lists"] == 1
    assert (line["guess"], line["conflicts"]) == ("refuted", 0), "a refuted guess is no lost race"
    assert stack.records(name)["A"] == ["192.0.2.74"]
    assert mine(stack, name) == [{"name": name, "old_a": ["192.0.2.73"], "old_aaaa": [],
                                  "new_a": ["192.0.2.74"], "new_aaaa": []}]


def test_a_guess_never_answers_superseded_or_replayed_on_its_own(stack, registered, name):
    """A `last` whose stamp is newer than the request (a lie, or a router clock stepped
    back) is no reason to refuse: the names are read, and the real stamp decides."""
    t = now_ms()
    first, _ = update(stack, registered, name, "192.0.2.75", time_ms=t - 5000)
    lie = dict(last_of(first.json(), name), stamp=t + 60_000)
    r, line = update(stack, registered, name, "192.0.2.76", lie, time_ms=t)
    assert r.status == 200 and r.json()["result"] == "updated", r
    assert line["guess"] == "unused"
    assert stack.records(name)["A"] == ["192.0.2.76"]
    # And a real replay is still refused, on the read.
    again, line = update(stack, registered, name, "192.0.2.76", lie, time_ms=t)
    assert again.status == 409 and again.json()["error"] == "replayed", again
    assert stack.records(name)["A"] == ["192.0.2.76"]


def test_records_changed_by_hand_are_not_hidden_by_a_guess(stack, registered, name):
    """The owner edited the A record in the console after the router's last answer, to the
    very address the router now asks for. The guess says it changes; Route53 refutes the
    DELETE of the old value; on the read the request changes nothing and falls in the
    write budget's quiet period, as it would have without a guess: nothing written, no one
    notified of a change the router did not make."""
    first, _ = update(stack, registered, name, "192.0.2.77")
    stack.set_records(name, "A", ["192.0.2.78"])
    stack.notifications()
    before = stack.route53_counts()
    r, line = update(stack, registered, name, "192.0.2.78", last_of(first.json(), name))
    assert r.status == 429 and "changes no address" in r.json()["message"], r
    assert line["guess"] == "refuted"
    after = stack.route53_counts()
    assert (after["change_calls"] - before["change_calls"], after["changes"] - before["changes"]) == (1, 0)
    assert mine(stack, name) == []
    # The other way round: edited away from what the router keeps asking for.
    stack.set_records(name, "A", ["192.0.2.79"])
    r2, line = update(stack, registered, name, "192.0.2.78", last_of(first.json(), name))
    assert r2.status == 200 and r2.json()["result"] == "updated", r2
    assert line["guess"] == "refuted"
    assert stack.records(name)["A"] == ["192.0.2.78"]


def test_a_family_the_guess_says_is_absent_is_created_only_if_it_is(stack, registered, name):
    first, _ = update(stack, registered, name, "192.0.2.80")
    stack.set_records(name, "AAAA", ["2001:db8::80"])
    last = last_of(first.json(), name)
    host = {"name": name, "ipv4": "192.0.2.80", "ipv6": "2001:db8::81", "last": last}
    r = stack.post_update(registered, {"hosts": [host]})
    assert r.status == 200 and r.json()["result"] == "updated", r
    assert log_line(stack, r.headers["x-request-id"])["guess"] == "refuted"
    assert stack.records(name)["AAAA"] == ["2001:db8::81"]


def test_a_guessed_write_whose_answer_is_lost_is_settled_by_the_stamps(stack, registered, name):
    first, _ = update(stack, registered, name, "192.0.2.82")
    stack.notifications()
    before = stack.route53_counts()
    stack.lose_route53_answers(drop_after_apply=1)
    try:
        r, line = update(stack, registered, name, "192.0.2.83", last_of(first.json(), name))
    finally:
        stack.lose_route53_answers()
    after = stack.route53_counts()
    assert after["dropped_after_apply"] == before["dropped_after_apply"] + 1
    assert after["changes"] == before["changes"] + 1, "applied once"
    assert r.status == 200 and r.json()["result"] == "updated", r
    assert stack.records(name)["A"] == ["192.0.2.83"]
    assert mine(stack, name) == [{"name": name, "old_a": ["192.0.2.82"], "old_aaaa": [],
                                  "new_a": ["192.0.2.83"], "new_aaaa": []}]


def test_a_last_out_of_range_is_no_guess_and_no_error(stack, registered, name):
    first, _ = update(stack, registered, name, "192.0.2.84")
    for bad in [dict(last_of(first.json(), name), ttl=0),
                dict(last_of(first.json(), name), stamp=2**48),
                dict(last_of(first.json(), name), a=["192.0.2.84"] * 9)]:
        r, line = update(stack, registered, name, "192.0.2.84", bad)
        assert r.status in (200, 429), r  # 429: the quiet period of an unchanged request
        assert line.get("guess") is None, "not a guess at all"
    junk = dict(last_of(first.json(), name), extra=1)
    r, _ = update(stack, registered, name, "192.0.2.85", junk)
    assert r.status == 400 and r.json()["error"] == "malformed", r
