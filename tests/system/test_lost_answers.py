"""The Lambda through both stand-ins: its Route53 and SSM calls pass through them, and a
ChangeResourceRecordSets answer lost on the way back (the stand-in resets the connection
before applying the batch, or after applying it) still ends in the router's records set,
answered `updated`, notified once and recorded as last seen `updated`."""

import pytest

from test_last_seen import log_line


def mine(stack, name):
    return [n for n in stack.notifications(wait_s=3)
            if any(c["name"] == name for c in n["Message"]["changes"])]


def test_the_lambdas_calls_pass_through_both_stand_ins(stack, registered, name):
    r53, ssm = stack.route53_counts(), stack.ssm_counts()["calls"]
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.60"}]})
    assert r.status == 200 and r.json()["result"] == "updated", r
    after = stack.ssm_counts()["calls"]
    assert after.get("GetParameter", 0) > ssm.get("GetParameter", 0), "the registry read"
    assert after.get("PutParameter", 0) > ssm.get("PutParameter", 0), "the last-seen write"
    now = stack.route53_counts()
    assert now["changes"] == r53["changes"] + 1
    assert now["lists"] == r53["lists"] + 1, "one read when nothing is lost"


@pytest.mark.parametrize("lost", ["reset_before_apply", "drop_after_apply"])
def test_a_lost_answer_still_ends_updated_and_notified_once(stack, registered, name, lost):
    stack.notifications()  # drain what earlier tests caused
    assert stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.61"}]}).status == 200
    assert len(mine(stack, name)) == 1
    before = stack.route53_counts()
    stack.lose_route53_answers(**{lost: 1})
    try:
        r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.62"}]})
    finally:
        stack.lose_route53_answers()
    after = stack.route53_counts()
    counter = {"reset_before_apply": "resets_before_apply", "drop_after_apply": "dropped_after_apply"}[lost]
    assert after[counter] == before[counter] + 1, "the answer was lost"
    assert after["changes"] == before["changes"] + 1, "the batch landed exactly once"
    assert after["change_calls"] - before["change_calls"] >= 2, "the Lambda saw the loss and tried again"
    assert r.status == 200 and r.json()["result"] == "updated", r
    assert stack.records(name)["A"] == ["192.0.2.62"]
    changes = [c for n in mine(stack, name) for c in n["Message"]["changes"] if c["name"] == name]
    assert changes == [{"name": name, "old_a": ["192.0.2.61"], "old_aaaa": [],
                        "new_a": ["192.0.2.62"], "new_aaaa": []}], "notified once, old -> new"
    assert stack.seen(registered.key_id)["result"] == "updated"


@pytest.mark.parametrize("shape", ["legacy", "standard"])
def test_a_lost_race_is_read_again_in_either_refusal_shape(stack, registered, name, shape):
    """Route53 refuses the batch of a writer that lost a race with InvalidChangeBatch, in
    either of its shapes (r53_rules.BATCH_SHAPES); the Lambda reads again and wins."""
    before = stack.route53_counts()
    stack.proxy.batch_shape = shape
    stack.throttle(1, "InvalidChangeBatch", changes_only=True)
    try:
        r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.63"}]})
    finally:
        stack.throttle(0)
        stack.proxy.batch_shape = "legacy"
    assert r.status == 200 and r.json()["result"] == "updated", r
    after = stack.route53_counts()
    assert after["change_calls"] == before["change_calls"] + 2, "refused once, then applied"
    assert after["changes"] == before["changes"] + 1
    assert stack.records(name)["A"] == ["192.0.2.63"]
    assert log_line(stack, r.headers["x-request-id"])["conflicts"] == 1, "read as a lost race"
