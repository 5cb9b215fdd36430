"""Several hosted zones and wildcard names (docs/protocol.md §4 and "Several zones"), against
moto through the strict Route53 stand-in and the real Lambda runtime loop. One deployment
serves example.com and sub.example.com (R53DDNS_ZONES); every case reads both zones back with
boto3 straight from moto, so a name written to the wrong zone, or a refusal that wrote
something, shows."""

import base64
import urllib.parse
import uuid

import boto3
import pytest

from stack import CREDS, OBSERVED, REGION, Signer, Stack, http_request, now_ms, read_stamp, stamp_id, stamp_of

ZONES = ["example.com", "sub.example.com"]


@pytest.fixture(scope="module")
def zstack(tmp_path_factory):
    host = Signer.host  # a Stack sets the default signed host: give the session stack's back
    s = Stack(tmp_path_factory.mktemp("zones"), zones=ZONES)
    try:
        yield s
    finally:
        s.close()
        Signer.host = host



def label(prefix="h") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def zone_sets(stack, zone: str) -> list:
    """Every record set of `zone` as moto holds it (an independent client), NS/SOA left out."""
    r53 = boto3.client("route53", endpoint_url=stack.moto_url, region_name=REGION, **CREDS)
    sets, kw = [], {"HostedZoneId": stack.zone_ids[zone]}
    while True:
        page = r53.list_resource_record_sets(**kw)
        for s in page["ResourceRecordSets"]:
            if s["Type"] not in ("NS", "SOA"):
                sets.append((s["Name"], s["Type"], tuple(sorted(v["Value"] for v in s.get("ResourceRecords", [])))))
        if not page.get("IsTruncated"):
            return sorted(sets)
        kw = {"HostedZoneId": stack.zone_ids[zone], "StartRecordName": page["NextRecordName"],
              "StartRecordType": page["NextRecordType"]}


def names_in(stack, zone: str) -> set:
    return {n for n, _, _ in zone_sets(stack, zone)}


def everything(stack) -> dict:
    return {z: zone_sets(stack, z) for z in ZONES}


def nic_update(stack, user, token, **params):
    url = stack.http_url + "/nic/update?" + urllib.parse.urlencode(params)
    cred = base64.b64encode(f"{user}:{token}".encode()).decode()
    return http_request(url, headers={"Authorization": f"Basic {cred}", "User-Agent": "route53-ddns-tests/1"})


def test_each_name_goes_to_the_zone_that_is_its_longest_suffix(zstack):
    signer = Signer()
    top, sub, apex = f"{label()}.example.com", f"{label()}.sub.example.com", "sub.example.com"
    zstack.register_key(signer.key_id, [top, sub, apex])
    body = {"hosts": [{"name": sub, "ipv4": "192.0.2.21"}, {"name": top, "ipv4": "192.0.2.20"},
                      {"name": apex, "ipv4": "192.0.2.22"}]}
    r = zstack.post_update(signer, body)
    assert r.status == 200, r
    j = r.json()
    assert [h["name"] for h in j["hosts"]] == [sub, top, apex], "answer in request order"
    assert [h["a"] for h in j["hosts"]] == [["192.0.2.21"], ["192.0.2.20"], ["192.0.2.22"]]
    assert len(j["change_id"].split(",")) == 2, "one ChangeBatch per zone"
    in_top, in_sub = names_in(zstack, "example.com"), names_in(zstack, "sub.example.com")
    assert {top + ".", f"_r53ddns.{top}."} <= in_top
    assert {sub + ".", f"_r53ddns.{sub}.", apex + ".", f"_r53ddns.{apex}."} <= in_sub
    assert not {sub + ".", f"_r53ddns.{sub}.", apex + ".", f"_r53ddns.{apex}."} & in_top, \
        "a sub.example.com name is never written to example.com"
    assert top + "." not in in_sub
    assert zstack.records(sub)["A"] == ["192.0.2.21"]
    t = zstack.stamp(top)
    assert t == zstack.stamp(sub) == zstack.stamp(apex)
    assert read_stamp(t)[1] == stamp_id("k=" + signer.key_id)
    # The same request again is a replay in both zones; a later one is unchanged in both.
    again = zstack.post_update(signer, body, time_ms=read_stamp(t)[0])
    assert again.status == 409 and again.json()["error"] == "replayed", again
    for n in (top, sub, apex):
        zstack.age_stamp(n)
    later = zstack.post_update(signer, body)
    assert later.status == 200 and later.json()["result"] == "unchanged", later


def test_a_name_in_none_of_the_zones_is_refused_and_nothing_is_written(zstack):
    signer = Signer()
    inside, outside = f"{label()}.example.com", f"{label()}.example.net"
    zstack.register_key(signer.key_id, [inside, outside])
    before = everything(zstack)
    r = zstack.post_update(signer, {"hosts": [{"name": inside, "ipv4": "192.0.2.30"},
                                              {"name": outside, "ipv4": "192.0.2.31"}]})
    assert r.status == 403, r
    j = r.json()
    assert j["error"] == "name_not_allowed"
    assert j["message"] == (f"{outside} is in none of the zones this endpoint serves "
                            "(example.com, sub.example.com)")
    assert everything(zstack) == before, "the signed door is all or nothing"
    # dyndns2 answers per name: the name in a zone is written, the other is nohost.
    user, token = "u" + uuid.uuid4().hex[:8], uuid.uuid4().hex
    zstack.register_token(user, token, [inside, outside])
    r = nic_update(zstack, user, token, hostname=f"{inside},{outside}", myip="192.0.2.32")
    assert r.status == 200 and r.text.splitlines() == ["good 192.0.2.32", "nohost"], r
    assert zstack.records(inside)["A"] == ["192.0.2.32"]


def test_a_wildcard_grant_is_written_as_star_and_listed_as_052(zstack):
    signer = Signer()
    base = f"{label('w')}.sub.example.com"
    wild = f"*.{base}"
    zstack.register_key(signer.key_id, [wild.upper()])
    r = zstack.post_update(signer, {"hosts": [{"name": f"*.{base.upper()}.", "ipv4": "auto"}]})
    assert r.status == 200, r
    j = r.json()
    assert j["result"] == "updated"
    assert j["hosts"] == [{"name": wild, "a": [OBSERVED], "aaaa": [], "ttl": 60}]
    # moto (the store) holds the record under '*' and the stamp under the fixed label.
    sets = zone_sets(zstack, "sub.example.com")
    assert (wild + ".", "A", (OBSERVED,)) in sets
    stamp = [v for n, t, v in sets if n == f"_r53ddns._wildcard.{base}." and t == "AAAA"]
    assert len(stamp) == 1 and read_stamp(stamp[0][0])[1] == stamp_id("k=" + signer.key_id)
    assert not [n for n, _, _ in sets if n.startswith("_r53ddns.*")], "the stamp is no wildcard"
    assert not [n for n in names_in(zstack, "example.com") if base in n]
    # Route53 (the stand-in) lists it as \052, as real Route53 does.
    listed = zstack.r53_strict.list_resource_record_sets(
        HostedZoneId=zstack.zone_ids["sub.example.com"], StartRecordName=wild, MaxItems="5")
    first = listed["ResourceRecordSets"][0]
    assert (first["Name"], first["Type"]) == (f"\\052.{base}.", "A")
    # The Lambda reads that listing back: the same addresses again are "unchanged" (a
    # misread \052 would be "updated"), and an older request is superseded by the stamp.
    zstack.age_stamp(wild)
    t = now_ms()
    again = zstack.post_update(signer, {"hosts": [{"name": wild, "ipv4": OBSERVED}]}, time_ms=t)
    assert again.status == 200 and again.json()["result"] == "unchanged", again
    assert zstack.stamp(wild) == stamp_of(t, f"k={signer.key_id}")
    old = zstack.post_update(signer, {"hosts": [{"name": wild, "ipv4": "192.0.2.40"}]}, time_ms=t - 10)
    assert old.status == 409 and old.json()["error"] == "superseded", old
    assert zstack.records(wild)["A"] == [OBSERVED]


def test_a_wildcard_grant_covers_only_the_wildcard_record(zstack):
    signer = Signer()
    base = f"{label('w')}.example.com"
    zstack.register_key(signer.key_id, [f"*.{base}"])
    before = everything(zstack)
    for name in (f"www.{base}", base):
        r = zstack.post_update(signer, {"hosts": [{"name": name, "ipv4": "192.0.2.50"}]})
        assert r.status == 403 and r.json()["error"] == "name_not_allowed", (name, r)
    # And a plain grant does not cover the wildcard below it.
    plain = Signer()
    zstack.register_key(plain.key_id, [base])
    r = zstack.post_update(plain, {"hosts": [{"name": f"*.{base}", "ipv4": "192.0.2.51"}]})
    assert r.status == 403 and r.json()["error"] == "name_not_allowed", r
    assert everything(zstack) == before


@pytest.mark.parametrize("name", ["a.*.example.com", "*x.example.com", "x*.example.com",
                                  "*.*.example.com", "*", "\\052.example.com", "_r53ddns._wildcard.example.com"])
def test_a_star_anywhere_but_the_whole_first_label_is_refused(zstack, name):
    signer = Signer()
    zstack.register_key(signer.key_id, [f"*.{label()}.example.com"])
    before = everything(zstack)
    r = zstack.post_update(signer, {"hosts": [{"name": name, "ipv4": "192.0.2.60"}]})
    assert r.status == 400 and r.json()["error"] == "malformed", r
    assert everything(zstack) == before
    # In a registry entry, such a name makes the entry invalid (not a narrower grant).
    zstack.register_key(signer.key_id, [name])
    r = zstack.post_update(signer, {"hosts": [{"name": "x.example.com", "ipv4": "192.0.2.60"}]})
    assert r.status == 403 and r.json()["error"] == "registry_invalid", r


def test_dyndns2_can_update_a_wildcard(zstack):
    user, token = "u" + uuid.uuid4().hex[:8], uuid.uuid4().hex
    wild = f"*.{label('d')}.example.com"
    zstack.register_token(user, token, [wild])
    r = nic_update(zstack, user, token, hostname=wild, myip="192.0.2.70")
    assert r.status == 200 and r.text == "good 192.0.2.70", r
    assert zstack.records(wild)["A"] == ["192.0.2.70"]
    assert read_stamp(zstack.stamp(wild))[1] == stamp_id("u=" + user)


def test_a_refusal_in_a_later_zone_leaves_the_earlier_zones_written_and_says_so(zstack):
    """docs/protocol.md §3 and §4 "Several zones": the order is checked per zone; a request
    refused in its second zone has its first zone written, and the answer names both."""
    signer = Signer()
    top, sub = f"{label()}.example.com", f"{label()}.sub.example.com"
    zstack.register_key(signer.key_id, [top, sub])
    t = now_ms()
    newer = zstack.post_update(signer, {"hosts": [{"name": sub, "ipv4": "192.0.2.40"}]},
                               time_ms=t + 10_000)
    assert newer.status == 200, newer
    body = {"hosts": [{"name": top, "ipv4": "192.0.2.41"}, {"name": sub, "ipv4": "192.0.2.42"}]}
    r = zstack.post_update(signer, body, time_ms=t)
    assert r.status == 409 and r.json()["error"] == "superseded", r
    assert r.json()["message"].endswith(
        "(in the zone sub.example.com; the names in example.com were written)"), r.json()
    assert zstack.records(top)["A"] == ["192.0.2.41"], "the earlier zone stays written"
    assert zstack.records(sub)["A"] == ["192.0.2.40"], "the refusing zone is untouched"
    assert read_stamp(zstack.stamp(top))[0] == t and read_stamp(zstack.stamp(sub))[0] == t + 10_000
