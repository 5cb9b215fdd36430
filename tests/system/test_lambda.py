"""The signed endpoint (POST /v2/update) against moto, through the real Lambda runtime loop.
Every case reads Route53 back with boto3 to check what was (not) written."""

import json
import ssl
import time

import pytest

from stack import OBSERVED, Signer, http_request, now_ms, read_stamp, stamp_id, stamp_of

EMPTY = {"A": [], "AAAA": [], "TTL": None, "TXT": []}



def test_signed_update_publishes_a_and_aaaa_in_one_change(stack, registered, name):
    before = stack.change_count()
    body = {"hosts": [{"name": name, "ipv4": "192.0.2.10", "ipv6": "2001:db8::10"}]}
    r = stack.post_update(registered, body)
    assert r.status == 200, r
    j = r.json()
    assert j["result"] == "updated"
    assert j["hosts"] == [{"name": name, "a": ["192.0.2.10"], "aaaa": ["2001:db8::10"], "ttl": 60}]
    assert j["observed"] == OBSERVED
    assert j["request_id"] == r.headers["x-request-id"]
    assert abs(j["server_time"] - now_ms()) < 60_000
    assert j["change_id"]
    assert stack.change_count() == before + 1, "A, AAAA and the stamp go in one ChangeBatch"
    rec = stack.records(name)
    assert (rec["A"], rec["AAAA"], rec["TTL"]) == (["192.0.2.10"], ["2001:db8::10"], 60)
    assert read_stamp(stack.stamp(name))[1] == stamp_id("k=" + registered.key_id)
    assert stack.legacy_stamp(name) is None, "no TXT is written"
    assert registered.key_id not in stack.stamp(name), "public DNS names no key id"


def test_update_over_https_with_the_test_ca(stack, registered, name):
    body = json.dumps({"hosts": [{"name": name, "ipv4": "192.0.2.11"}]}).encode()
    ctx = ssl.create_default_context(cafile=str(stack.ca_file))
    r = http_request(stack.https_url + "/v2/update", "POST", body, registered.headers(body), ctx)
    assert r.status == 200, r
    assert stack.records(name)["A"] == ["192.0.2.11"]
    with pytest.raises(OSError):  # the system CAs do not know the test CA
        http_request(stack.https_url + "/v2/update", "POST", body, registered.headers(body),
                     ssl.create_default_context())


def test_unchanged_writes_only_the_stamp(stack, registered, name):
    body = {"hosts": [{"name": name, "ipv4": "192.0.2.12", "ipv6": "2001:db8::12"}]}
    assert stack.post_update(registered, body).status == 200
    stack.age_stamp(name, 11 * 60)  # past the 10-minute quiet period
    records, count = stack.records(name), stack.change_count()
    t = now_ms() + 5
    r = stack.post_update(registered, body, time_ms=t)
    assert r.status == 200, r
    j = r.json()
    assert j["result"] == "unchanged"
    assert j["hosts"][0]["a"] == ["192.0.2.12"]
    assert stack.change_count() == count + 1, "one batch: the stamp alone"
    assert stack.stamp(name) == stamp_of(t, f"k={registered.key_id}")
    assert {k: v for k, v in stack.records(name).items() if k != "TXT"} == {
        k: v for k, v in records.items() if k != "TXT"}


def test_unchanged_inside_the_quiet_period_is_refused_and_writes_nothing(stack, registered, name):
    """lambda/src/quiet.rs: an unchanged signed request within 10 minutes of its names' last
    write is 429 `throttled` with the rest of the period as retry_after, and writes nothing."""
    body = {"hosts": [{"name": name, "ipv4": "192.0.2.15"}]}
    assert stack.post_update(registered, body).status == 200
    stack.age_stamp(name, 4 * 60)
    stamp, count = stack.stamp(name), stack.change_count()
    r = stack.post_update(registered, body, time_ms=now_ms() + 5)
    assert r.status == 429, r
    j = r.json()
    assert j["error"] == "throttled" and "changes no address" in j["message"], j
    assert 355 <= j["retry_after"] <= 360, j
    assert stack.change_count() == count and stack.stamp(name) == stamp, "nothing written"
    # A change is never held back; nor is an "auto" request (a copy from elsewhere would
    # otherwise publish another address).
    changed = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.16"}]})
    assert changed.status == 200 and changed.json()["result"] == "updated", changed
    auto = {"hosts": [{"name": name, "ipv4": "auto"}]}
    first = stack.post_update(registered, auto, time_ms=now_ms() + 10)
    assert first.status == 200, first
    again = stack.post_update(registered, auto, time_ms=now_ms() + 20)
    assert again.status == 200 and again.json()["result"] == "unchanged", again


def test_family_left_out_is_left_alone(stack, registered, name):
    stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.13", "ipv6": "2001:db8::13"}]})
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.14"}]}, time_ms=now_ms() + 5)
    assert r.status == 200, r
    assert r.json()["hosts"][0]["aaaa"] == ["2001:db8::13"]
    rec = stack.records(name)
    assert (rec["A"], rec["AAAA"]) == (["192.0.2.14"], ["2001:db8::13"])


def test_auto_publishes_the_observed_address(stack, registered, name):
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "auto"}]})
    assert r.status == 200, r
    assert stack.records(name)["A"] == [OBSERVED]
    # The request came over IPv4, so "auto" cannot mean an IPv6 address.
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv6": "auto"}]}, time_ms=now_ms() + 5)
    assert r.status == 400 and r.json()["error"] == "malformed", r
    assert r.json()["observed"] == OBSERVED
    assert stack.records(name)["AAAA"] == []


def test_ttl_comes_from_the_registry(stack, signer, name):
    stack.register_key(signer.key_id, [{"name": name, "ttl": 300}])
    r = stack.post_update(signer, {"hosts": [{"name": name, "ipv4": "192.0.2.15"}]})
    assert r.status == 200, r
    assert r.json()["hosts"][0]["ttl"] == 300
    assert stack.records(name)["TTL"] == 300


def test_replay_is_refused_and_an_older_request_cannot_undo_a_newer_one(stack, registered, name):
    t1 = now_ms()
    old = json.dumps({"hosts": [{"name": name, "ipv4": "192.0.2.20"}]}).encode()
    old_headers = registered.headers(old, t1)
    url = stack.http_url + "/v2/update"
    assert http_request(url, "POST", old, old_headers).status == 200
    count = stack.change_count()
    again = http_request(url, "POST", old, old_headers)
    assert again.status == 409 and again.json()["error"] == "replayed", again
    assert stack.change_count() == count

    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.21"}]}, time_ms=t1 + 1000)
    assert r.status == 200, r
    stale = http_request(url, "POST", old, old_headers)
    assert stale.status == 409 and stale.json()["error"] == "superseded", stale
    assert stack.records(name)["A"] == ["192.0.2.21"]
    # An older, never-seen request (signed earlier, delivered late) is refused too.
    late = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.22"}]}, time_ms=t1 + 500)
    assert late.status == 409 and late.json()["error"] == "superseded", late
    assert stack.records(name)["A"] == ["192.0.2.21"]


@pytest.mark.parametrize("offset_s", [-301, 301])
def test_stale_and_future_times_carry_the_server_time(stack, registered, name, offset_s):
    body = {"hosts": [{"name": name, "ipv4": "192.0.2.23"}]}
    r = stack.post_update(registered, body, time_ms=now_ms() + offset_s * 1000)
    assert r.status == 401, r
    j = r.json()
    assert j["error"] == "clock_skew"
    assert abs(j["server_time"] - now_ms()) < 60_000
    assert stack.records(name) == EMPTY
    # A router corrects its clock by server_time and sends once more.
    r = stack.post_update(registered, body, time_ms=j["server_time"] + 1)
    assert r.status == 200, r
    assert stack.records(name)["A"] == ["192.0.2.23"]


def test_wrong_or_unknown_keys_are_refused(stack, registered, name):
    body = json.dumps({"hosts": [{"name": name, "ipv4": "192.0.2.24"}]}).encode()
    url = stack.http_url + "/v2/update"
    stranger = Signer()
    r = http_request(url, "POST", body, stranger.headers(body))
    assert r.status == 401 and r.json()["error"] == "bad_signature", r
    # A registered key id with another key's signature.
    forged = stranger.headers(body)
    forged["x-r53ddns-key"] = registered.key_id
    assert http_request(url, "POST", body, forged).status == 401
    # The body changed after signing.
    h = registered.headers(body)
    tampered = body.replace(b"192.0.2.24", b"192.0.2.25")
    assert http_request(url, "POST", tampered, h).status == 401
    # No signature headers at all.
    assert http_request(url, "POST", body, {"content-type": "application/json"}).status == 401
    assert stack.records(name) == EMPTY
    # Revoked: the same key that worked a moment ago is refused.
    assert stack.post_update(registered, json.loads(body)).status == 200
    stack.revoke_key(registered.key_id)
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.26"}]}, time_ms=now_ms() + 5)
    assert r.status == 401, r
    assert stack.records(name)["A"] == ["192.0.2.24"]


def test_a_key_cannot_touch_another_routers_name(stack, registered, name):
    other = stack.new_name("other")
    owner = Signer()
    stack.register_key(owner.key_id, [other])
    assert stack.post_update(owner, {"hosts": [{"name": other, "ipv4": "192.0.2.30"}]}).status == 200
    r = stack.post_update(registered, {"hosts": [{"name": other, "ipv4": "192.0.2.31"}]})
    assert r.status == 403 and r.json()["error"] == "name_not_allowed", r
    # Mixed with an allowed name: the whole request is refused, nothing is written.
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.32"},
                                                 {"name": other, "ipv4": "192.0.2.31"}]})
    assert r.status == 403, r
    assert stack.records(other)["A"] == ["192.0.2.30"]
    assert stack.records(name) == EMPTY


def test_names_outside_the_zone_are_refused_even_if_registered(stack, signer):
    outside = "home.example.org"
    stack.register_key(signer.key_id, [outside, "example.com.evil.net"])
    for n in (outside, "example.com.evil.net"):
        r = stack.post_update(signer, {"hosts": [{"name": n, "ipv4": "192.0.2.33"}]})
        assert r.status == 403, r


def test_name_tricks_are_canonicalised(stack, registered, name):
    shouty = name.upper() + "."
    r = stack.post_update(registered, {"hosts": [{"name": shouty, "ipv4": "192.0.2.40"}]})
    assert r.status == 200, r
    assert r.json()["hosts"][0]["name"] == name
    assert stack.records(name)["A"] == ["192.0.2.40"]


def test_idn_names_become_punycode(stack, signer):
    label = f"bücher-{int(time.time() * 1000) % 100000}"
    unicode_name = f"{label}.example.com"
    stack.register_key(signer.key_id, [unicode_name])
    r = stack.post_update(signer, {"hosts": [{"name": unicode_name.upper(), "ipv4": "192.0.2.41"}]})
    assert r.status == 200, r
    puny = r.json()["hosts"][0]["name"]
    assert puny.startswith("xn--") and puny.endswith(".example.com")
    assert stack.records(puny)["A"] == ["192.0.2.41"]
    # The punycode spelling is the same name.
    stack.age_stamp(puny)
    r = stack.post_update(signer, {"hosts": [{"name": puny, "ipv4": "192.0.2.41"}]}, time_ms=now_ms() + 5)
    assert r.status == 200 and r.json()["result"] == "unchanged", r


@pytest.mark.parametrize("bad", ["a.*.example.com", "*x.example.com", "_r53ddns.{name}", "a b.example.com", "{name}..",
                                 "xn--a.example.com", "example"])
def test_wildcards_stamps_and_bad_syntax_are_malformed(stack, registered, name, bad):
    r = stack.post_update(registered, {"hosts": [{"name": bad.format(name=name), "ipv4": "192.0.2.42"}]})
    assert r.status == 400 and r.json()["error"] == "malformed", r
    assert stack.records(name) == EMPTY
    assert stack.stamp(name) is None


@pytest.mark.parametrize("host", [
    {"type": "TXT"}, {"zone": "Z123"}, {"ttl": 1}, {"cname": "evil.example.net"},
    {"ipv4": "2001:db8::1"}, {"ipv6": "192.0.2.1"}, {"ipv4": "192.0.2.1 "}, {},
])
def test_only_a_and_aaaa_can_be_asked_for(stack, registered, name, host):
    r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.43", **host}]})
    if host == {}:
        assert r.status == 200, r  # the control case: same shape, nothing extra
        return
    assert r.status == 400 and r.json()["error"] == "malformed", r
    assert stack.records(name) == EMPTY


@pytest.mark.parametrize("field,addr", [
    ("ipv4", "10.1.2.3"), ("ipv4", "192.168.1.1"), ("ipv4", "100.64.0.1"), ("ipv4", "127.0.0.1"),
    ("ipv4", "169.254.1.1"), ("ipv4", "0.0.0.0"), ("ipv4", "224.0.0.1"),
    ("ipv6", "::ffff:192.0.2.1"), ("ipv6", "fd00::1"), ("ipv6", "fe80::1"), ("ipv6", "::1"),
    ("ipv6", "64:ff9b::c000:201"),
])
def test_addresses_that_are_not_global_unicast_are_refused(stack, registered, name, field, addr):
    r = stack.post_update(registered, {"hosts": [{"name": name, field: addr}]})
    assert r.status == 400 and r.json()["error"] == "malformed", r
    assert addr.split("%")[0] in r.json()["message"] or "cannot be published" in r.json()["message"]
    assert stack.records(name) == EMPTY


@pytest.mark.parametrize("body", [b'{"hosts":', b"", b"[]", b'{"hosts":[]}',
                                  b'{"hosts":[{"name":"x.example.com","ipv4":"192.0.2.1"}],"extra":1}'])
def test_malformed_bodies(stack, registered, name, body):
    r = stack.post_update(registered, body)
    assert r.status == 400 and r.json()["error"] == "malformed", r
    assert stack.records(name) == EMPTY


def test_too_many_hosts(stack, signer):
    names = [stack.new_name("many") for _ in range(21)]
    stack.register_key(signer.key_id, names)
    r = stack.post_update(signer, {"hosts": [{"name": n, "ipv4": "192.0.2.44"} for n in names]})
    assert r.status == 400, r
    assert all(stack.records(n) == EMPTY for n in names[:3])


def test_oversized_body_is_413_and_writes_nothing(stack, registered, name):
    pad = "x" * 5000
    body = json.dumps({"hosts": [{"name": name, "ipv4": "192.0.2.45"}], "pad": pad}).encode()
    r = stack.post_update(registered, body)
    assert r.status == 413 and r.json()["error"] == "too_large", r
    assert stack.records(name) == EMPTY


def test_a_throttled_write_is_retried_inside_the_lambda(stack, registered, name):
    """The read it was planned on is spent: a throttled ChangeBatch is tried again."""
    stack.throttle(2, changes_only=True)
    try:
        r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.50"}]})
    finally:
        stack.throttle(0)
    assert r.status == 200, r
    assert stack.records(name)["A"] == ["192.0.2.50"]


def test_a_throttled_read_is_answered_at_once_with_a_wait(stack, registered, name):
    """Route53's rate is the account's: a throttled read is not retried inside the Lambda
    (lambda/src/pace.rs); the router is told when to come back, and nothing is written."""
    lists, changes = stack.list_count(), stack.change_count()
    stack.throttle(1)
    try:
        r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.49"}]})
    finally:
        stack.throttle(0)
    assert r.status == 429 and r.json()["error"] == "throttled", r
    assert 1 <= r.json()["retry_after"] <= 60, r
    assert int(r.headers["retry-after"]) == r.json()["retry_after"]
    assert stack.list_count() == lists + 1, "one read, not retried"
    assert stack.change_count() == changes
    assert stack.records(name) == EMPTY


@pytest.mark.parametrize("code,status,error", [("Throttling", 429, "throttled"),
                                               ("PriorRequestNotComplete", 503, "unavailable")])
def test_route53_that_keeps_refusing_gives_retry_after(stack, registered, name, code, status, error):
    count = stack.change_count()
    stack.throttle(1000, code)
    try:
        r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.51"}]})
    finally:
        stack.throttle(0)
    assert r.status == status and r.json()["error"] == error, r
    assert int(r.headers["retry-after"]) == r.json()["retry_after"] > 0
    assert stack.change_count() == count
    assert stack.records(name) == EMPTY


def test_a_conflicting_writer_makes_the_lambda_read_again(stack, registered, name):
    """Route53 refuses a batch whose stamp DELETE no longer matches (another writer won the
    race); the Lambda re-reads and decides again. moto cannot race, so the stand-in refuses
    the first change the way Route53 would (InvalidChangeBatch)."""
    count = stack.change_count()
    stack.throttle(1, "InvalidChangeBatch", changes_only=True)
    try:
        r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.52"}]})
    finally:
        stack.throttle(0)
    assert r.status == 200 and r.json()["result"] == "updated", r
    assert stack.change_count() == count + 1
    assert stack.records(name)["A"] == ["192.0.2.52"]
    # Lost again and again: the Lambda keeps reading and writing until it wins.
    stack.throttle(3, "InvalidChangeBatch", changes_only=True)
    try:
        r = stack.post_update(registered, {"hosts": [{"name": name, "ipv4": "192.0.2.53"}]},
                              time_ms=now_ms() + 5)
    finally:
        stack.throttle(0)
    assert r.status == 200 and r.json()["result"] == "updated", r
    assert stack.records(name)["A"] == ["192.0.2.53"]


def test_wrong_paths_and_methods(stack, registered):
    r = http_request(stack.http_url + "/v2/update", "GET")
    assert r.status == 405 and r.json()["error"] == "method_not_allowed", r
    r = http_request(stack.http_url + "/v3/update", "POST", b"{}")
    assert r.status == 404 and r.json()["error"] == "not_found", r
    r = http_request(stack.http_url + "/v1/update", "POST", b"{}")
    assert r.status == 410 and r.json()["error"] == "upgrade_required", r


def test_one_log_line_per_request_without_secrets(stack, registered, name):
    body = json.dumps({"hosts": [{"name": name, "ipv4": "192.0.2.60"}]}).encode()
    headers = registered.headers(body)
    r = http_request(stack.http_url + "/v2/update", "POST", body, headers)
    assert r.status == 200, r
    rid = r.json()["request_id"]
    deadline = time.monotonic() + 10
    while rid not in stack.lambda_log() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = stack.lambda_log()
    lines = [json.loads(line) for line in log.splitlines() if rid in line and line.startswith("{")]
    assert len(lines) == 1
    line = lines[0]
    assert line["principal"] == registered.key_id
    assert line["names"] == [name]
    assert line["result"] == "updated" and line["status"] == 200
    assert line["change_id"] == r.json()["change_id"]
    assert isinstance(line["latency_ms"], int)
    assert headers["x-r53ddns-signature"] not in log
