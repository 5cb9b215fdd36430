"""The write protocol attacked as an attacker would (issue: ordering, endpoint binding,
canonical headers, special-purpose addresses, weak keys, operator errors), on the strict
Route53 stand-in. Each test reads the whole zone before and after with boto3 straight from
moto, so a refused request provably wrote nothing anywhere."""

import hashlib
import json

import boto3
import pytest

from stack import Signer, b64url, http_request, now_ms, read_stamp, stamp_id, stamp_name, stamp_of

PATH = "/v2/update"



def zone(stack) -> list:
    """Every record set of the zone, as moto holds it (an independent client)."""
    r53 = boto3.client("route53", endpoint_url=stack.moto_url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    sets, kw = [], {"HostedZoneId": stack.zone_id}
    while True:
        page = r53.list_resource_record_sets(**kw)
        for s in page["ResourceRecordSets"]:
            sets.append((s["Name"], s["Type"], s.get("TTL"),
                         tuple(sorted(v["Value"] for v in s.get("ResourceRecords", [])))))
        if not page.get("IsTruncated"):
            return sorted(sets)
        kw = {"HostedZoneId": stack.zone_id, "StartRecordName": page["NextRecordName"],
              "StartRecordType": page["NextRecordType"]}


def host_of(url: str) -> str:
    return url.split("://", 1)[1].rstrip("/")


def send(stack, signer: Signer, body, time_text=None, host=None, headers=None, sign_time=None,
         sign_host=None):
    """A v2 request with every part under the test's control: the header texts sent and,
    separately, the texts signed."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    t = time_text if time_text is not None else str(now_ms())
    h = host if host is not None else host_of(stack.http_url)
    msg = b"\n".join([b"route53-ddns-v2", b"POST", PATH.encode(), (sign_host or h).encode(),
                      (sign_time or t).encode(), signer.key_id.encode(), raw])
    hdrs = {"content-type": "application/json", "x-r53ddns-key": signer.key_id,
            "x-r53ddns-host": h, "x-r53ddns-time": t,
            "x-r53ddns-signature": b64url(signer.key.sign(msg))}
    hdrs.update(headers or {})
    return http_request(stack.http_url + PATH, "POST", raw, hdrs)


def a_of(stack, name):
    return stack.records(name)["A"]


def test_a_late_older_request_cannot_undo_a_newer_one_that_changed_nothing(stack, registered, name):
    t0 = now_ms()
    assert send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.60"}]},
                str(t0)).status == 200
    stack.age_stamp(name, 11 * 60)  # R_new falls outside the quiet period: it is written
    t0 -= 11 * 60 * 1000
    # R_old is signed at t1 (address Y) and held back; R_new at t2 > t1 repeats X: unchanged.
    t1, t2 = now_ms() + 10, now_ms() + 20
    r_new = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.60"}]}, str(t2))
    assert r_new.status == 200 and r_new.json()["result"] == "unchanged", r_new
    before = zone(stack)
    late = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.61"}]}, str(t1))
    assert late.status == 409 and late.json()["error"] == "superseded", late
    assert zone(stack) == before
    assert a_of(stack, name) == ["192.0.2.60"]
    assert stack.stamp(name) == stamp_of(t2, f"k={registered.key_id}")


def test_an_auto_request_that_changed_nothing_cannot_be_replayed(stack, registered, name):
    body = {"hosts": [{"name": name, "ipv4": "auto"}]}
    t = str(now_ms())
    first = send(stack, registered, body, t)
    assert first.status == 200 and first.json()["hosts"][0]["a"] == ["203.0.113.50"], first
    again = send(stack, registered, body, str(int(t) + 5))
    assert again.status == 200 and again.json()["result"] == "unchanged", again
    before = zone(stack)
    # The captured unchanged request, replayed byte for byte (from wherever: the source
    # address is never consulted before the stamp refuses it).
    replay = send(stack, registered, body, str(int(t) + 5))
    assert replay.status == 409 and replay.json()["error"] == "replayed", replay
    assert zone(stack) == before


def test_a_request_harvested_through_a_retargeted_endpoint_is_refused(stack, registered, name):
    before = zone(stack)
    # Signed for the host the attacker pointed the router at, delivered to the real one,
    # with the real Host (or the attacker's) in X-R53DDNS-Host.
    r = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.62"}]},
             host="ddns.attacker.example")
    assert r.status == 401 and r.json()["error"] == "wrong_endpoint", r
    assert "ddns.attacker.example" in r.json()["message"]
    r = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.62"}]},
             sign_host="ddns.attacker.example")
    assert r.status == 401 and r.json()["error"] == "bad_signature", r
    assert zone(stack) == before


def test_a_stamp_names_no_sender(stack, registered, name):
    """The public stamp is one AAAA carrying the time and a hash, never the key id; no TXT."""
    t = now_ms()
    assert send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.70"}]},
                str(t)).status == 200
    assert registered.key_id not in stack.stamp(name)
    assert stack.stamp(name) == stamp_of(t, f"k={registered.key_id}")
    assert read_stamp(stack.stamp(name)) == (t, stamp_id(f"k={registered.key_id}"))
    assert stack.legacy_stamp(name) is None and stack.records(name)["TXT"] == []


def sha_id16(who: str) -> str:
    """The previous version's 96-bit id (`h=` and 16 characters)."""
    return "h=" + b64url(hashlib.sha256(b"route53-ddns stamp v1\n" + who.encode()).digest())[:16]


@pytest.mark.parametrize("form", ["h", "k"])
def test_an_earlier_txt_stamp_orders_and_is_removed_after_the_first_write(stack, registered, name, form):
    """A name stamped by an earlier version (TXT "t=<ms> h=<16>" or "t=<ms> k=<key id>", no
    AAAA stamp): an older request is superseded, its own replay refused, a later one written
    with the AAAA stamp, and then the TXT stamp deleted in a batch of DELETEs alone."""
    who = f"k={registered.key_id}"
    t = now_ms()
    stack.set_records(name, "A", ["192.0.2.69"])
    legacy = f'"t={t} {sha_id16(who) if form == "h" else who}"'
    stack.set_records(stamp_name(name), "TXT", [legacy])
    before = zone(stack)
    older = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.71"}]}, str(t - 1))
    assert older.status == 409 and older.json()["error"] == "superseded", older
    again = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.71"}]}, str(t))
    assert again.status == 409 and again.json()["error"] == "replayed", again
    assert zone(stack) == before
    mark = len(stack.proxy.history)
    later = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.71"}]}, str(t + 1))
    assert later.status == 200 and later.json()["result"] == "updated", later
    assert stack.stamp(name) == stamp_of(t + 1, who)
    assert stack.legacy_stamp(name) is None and stack.records(name)["A"] == ["192.0.2.71"]
    batches = [changes for _, changes in list(stack.proxy.history)[mark:]]
    stamp = stamp_name(name) + "."
    assert [(a, n, rt) for a, n, rt, _, _ in batches[-1]] == [("DELETE", stamp, "TXT")], batches
    assert all(rt != "TXT" for b in batches[:-1] for _, _, rt, _, _ in b), batches
    # From now on only the AAAA stamp moves, by compare-and-swap.
    mark = len(stack.proxy.history)
    assert send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.72"}]},
                str(t + 2)).status == 200
    (only,) = [changes for _, changes in list(stack.proxy.history)[mark:]]
    assert [(a, n, rt) for a, n, rt, _, _ in only if n == stamp] == [("DELETE", stamp, "AAAA"),
                                                                   ("CREATE", stamp, "AAAA")]


def test_an_earlier_txt_stamp_newer_than_the_aaaa_one_still_counts(stack, registered, name):
    """Both stamps at a name (a removal that failed): the newer one orders."""
    who = f"k={registered.key_id}"
    t = now_ms()
    assert send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.73"}]}, str(t)).status == 200
    stack.set_records(stamp_name(name), "TXT", [f'"t={t + 5} {who}"'])
    r = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.74"}]}, str(t + 3))
    assert r.status == 409 and r.json()["error"] == "superseded", r
    assert stack.records(name)["A"] == ["192.0.2.73"]
    assert send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.74"}]},
                str(t + 6)).status == 200
    assert stack.stamp(name) == stamp_of(t + 6, who) and stack.legacy_stamp(name) is None


def test_protocol_v1_is_told_to_upgrade(stack, registered, name):
    r = http_request(stack.http_url + "/v1/update", "POST", b"{}", {"content-type": "application/json"})
    assert r.status == 410 and r.json()["error"] == "upgrade_required", r
    assert "upgrade route53-ddns" in r.json()["message"]


@pytest.mark.parametrize("sent,signed", [
    ("000{t}", "{t}"),     # leading zeros, signature over the short form
    ("0{t}", "0{t}"),      # a client that signs the padded text literally
    ("+{t}", "+{t}"),
    ("{t} 1", "{t} 1"),    # (spaces around a value are HTTP's, stripped before the function)
    ("{t},{t}", "{t},{t}"),  # a duplicated header, as a Function URL joins it
])
def test_only_canonical_time_headers_are_accepted(stack, registered, name, sent, signed):
    before = zone(stack)
    t = str(now_ms())
    r = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.63"}]},
             sent.format(t=t), sign_time=signed.format(t=t))
    assert r.status == 401 and r.json()["error"] == "bad_signature", r
    assert "x-r53ddns-time" in r.json()["message"], r
    assert zone(stack) == before


def test_duplicated_key_and_signature_headers_are_named(stack, registered, name):
    for header in ["x-r53ddns-key", "x-r53ddns-signature", "x-r53ddns-host"]:
        body = {"hosts": [{"name": name, "ipv4": "192.0.2.64"}]}
        r = send(stack, registered, body, headers={header: f"{registered.key_id},{registered.key_id}"})
        assert r.status == 401 and header in r.json()["message"], (header, r)


SPECIAL = [
    ("ipv6", "2001::1"), ("ipv6", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff"),  # Teredo
    ("ipv6", "2001:2::1"), ("ipv6", "2001:2:0:ffff::1"),                    # benchmarking
    ("ipv6", "2001:10::1"), ("ipv6", "2001:20::1"),                         # ORCHID, ORCHIDv2
    ("ipv6", "100::1"), ("ipv6", "5f00::1"), ("ipv6", "64:ff9b:1::1"),
    ("ipv4", "192.88.99.1"), ("ipv4", "192.88.99.255"),                     # 6to4 relay anycast
    ("ipv4", "192.0.0.8"), ("ipv4", "198.18.0.1"), ("ipv4", "240.0.0.1"),
]


@pytest.mark.parametrize("field,addr", SPECIAL)
def test_special_purpose_addresses_are_never_published(stack, registered, name, field, addr):
    before = zone(stack)
    r = send(stack, registered, {"hosts": [{"name": name, field: addr}]})
    assert r.status == 400 and r.json()["error"] == "malformed", r
    assert addr.split("::")[0] in r.json()["message"]
    assert zone(stack) == before


def test_globally_reachable_exceptions_are_published(stack, registered, name):
    r = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.0.9", "ipv6": "2001:3::9"}]})
    assert r.status == 200, r
    assert stack.records(name)["A"] == ["192.0.0.9"]


def test_a_small_order_key_is_no_key_even_when_registered(stack, name):
    identity = bytes([1]) + bytes(31)        # the neutral point: every signature "verifies"
    key_id = b64url(identity)
    stack.register_key(key_id, [name])
    before = zone(stack)
    t = str(now_ms())
    hdrs = {"content-type": "application/json", "x-r53ddns-key": key_id,
            "x-r53ddns-host": host_of(stack.http_url), "x-r53ddns-time": t,
            "x-r53ddns-signature": b64url(identity + bytes(32))}
    body = json.dumps({"hosts": [{"name": name, "ipv4": "192.0.2.65"}]}).encode()
    r = http_request(stack.http_url + PATH, "POST", body, hdrs)
    assert r.status == 401 and r.json()["error"] == "bad_signature", r
    assert "small-order" in r.json()["message"]
    assert zone(stack) == before


def test_a_malformed_registry_entry_is_named_and_permanent(stack, signer, name):
    stack._put(f"/route53-ddns/keys/{signer.key_id}", json.dumps({"names": [name, "bad..name"]}))
    before = zone(stack)
    r = send(stack, signer, {"hosts": [{"name": name, "ipv4": "192.0.2.66"}]})
    assert r.status == 403 and r.json()["error"] == "registry_invalid", r
    assert f"/route53-ddns/keys/{signer.key_id}" in r.json()["message"]
    assert "bad..name" in r.json()["message"]
    assert zone(stack) == before


def test_names_outside_the_deployments_patterns_are_not_permitted_without_aws_text(stack, registered, name):
    before = zone(stack)
    stack.throttle(1, "AccessDenied", changes_only=True)
    r = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.67"}]})
    assert r.status == 403 and r.json()["error"] == "not_permitted", r
    assert "arn:" not in r.text and "AccessDenied" not in r.text
    assert zone(stack) == before
    assert "AccessDenied" in stack.lambda_log()  # the operator sees it in the log line


def test_a_request_costs_one_read_and_one_write_per_batch(stack, registered, name):
    other = stack.new_name()
    stack.register_key(registered.key_id, [name, other])
    lists, changes = stack.list_count(), stack.change_count()
    r = send(stack, registered, {"hosts": [{"name": name, "ipv4": "192.0.2.68"},
                                           {"name": other, "ipv4": "192.0.2.69"}]})
    assert r.status == 200, r
    assert stack.change_count() - changes == 1
    assert stack.list_count() - lists <= 2, "at most one read per name"
