"""The Route53 stand-in (r53_standin.py) is as strict as Route53: each rule attacked with
boto3 through the stand-in, and the zone read back with boto3 directly from moto (the store)
to see that a refused batch left no trace. Needs only moto, not the Lambda. The answers
(shapes, throttling, lost answers) are tested in test_route53_answers.py."""

import threading

import pytest
from botocore.exceptions import ClientError

from r53_world import change, code_of, refused, rrs, stored, world, zone  # noqa: F401 (fixtures)


def test_create_of_an_existing_set_is_refused(world, zone):
    change(world, zone, rrs("CREATE", "x.example.com", "A", ["192.0.2.1"]))
    msg = refused(world, zone, rrs("CREATE", "X.example.com.", "A", ["192.0.2.2"]))
    assert msg == "[Tried to create resource record set [name='x.example.com.', type='A'] but it already exists]"
    assert stored(world, zone) == {("x.example.com.", "A"): (60, ["192.0.2.1"])}


@pytest.mark.parametrize("values,ttl", [(["192.0.2.9"], 60), (["192.0.2.1", "192.0.2.2"], 300),
                                        (["192.0.2.1"], 60), (["192.0.2.1", "192.0.2.2", "192.0.2.3"], 60)])
def test_delete_must_match_ttl_and_every_value(world, zone, values, ttl):
    change(world, zone, rrs("CREATE", "x.example.com", "A", ["192.0.2.1", "192.0.2.2"]))
    msg = refused(world, zone, rrs("DELETE", "x.example.com", "A", values, ttl))
    assert msg == ("[Tried to delete resource record set [name='x.example.com.', type='A'] "
                   "but the values provided do not match the current values]")
    assert stored(world, zone) == {("x.example.com.", "A"): (60, ["192.0.2.1", "192.0.2.2"])}
    # The exact set, in any order and any spelling of the name, is deleted.
    change(world, zone, rrs("DELETE", "X.EXAMPLE.COM.", "A", ["192.0.2.2", "192.0.2.1"]))
    assert stored(world, zone) == {}


def test_txt_values_compare_as_the_quoted_strings(world, zone):
    change(world, zone, rrs("CREATE", "_r53ddns.home.example.com", "TXT", ['"t=1 k=a"']))
    msg = refused(world, zone, rrs("DELETE", "_r53ddns.home.example.com", "TXT", ['"t=1  k=a"']))
    assert "values provided do not match" in msg
    msg = refused(world, zone, rrs("CREATE", "_r53ddns.other.example.com", "TXT", ["t=1 k=a"]))
    assert "Value should be enclosed in quotation marks" in msg
    assert stored(world, zone) == {("_r53ddns.home.example.com.", "TXT"): (60, ['"t=1 k=a"'])}


def test_delete_of_a_missing_set_is_refused(world, zone):
    msg = refused(world, zone, rrs("DELETE", "_r53ddns.home.example.com", "TXT", ['"t=1 k=a"']))
    assert msg == ("[Tried to delete resource record set [name='_r53ddns.home.example.com.', "
                   "type='TXT'] but it was not found]")
    change(world, zone, rrs("CREATE", "home.example.com", "A", ["192.0.2.1"]))
    msg = refused(world, zone, rrs("DELETE", "home.example.com", "AAAA", ["2001:db8::1"]))
    assert "[name='home.example.com.', type='AAAA'] but it was not found" in msg
    assert stored(world, zone) == {("home.example.com.", "A"): (60, ["192.0.2.1"])}


def test_a_bad_batch_is_refused_whole_with_every_message(world, zone):
    change(world, zone, rrs("CREATE", "x.example.com", "A", ["192.0.2.1"]))
    before = stored(world, zone)
    msg = refused(world, zone,
                  rrs("UPSERT", "y.example.com", "A", ["192.0.2.5"]),
                  rrs("DELETE", "x.example.com", "A", ["192.0.2.7"]),
                  rrs("CREATE", "x.example.com", "A", ["192.0.2.8"]),
                  rrs("UPSERT", "z.example.com", "AAAA", ["2001:db8::5"]))
    # Route53's own wording for exactly this pair (a failed DELETE does not remove the set).
    assert msg == ("[Tried to delete resource record set [name='x.example.com.', type='A'] but the values "
                   "provided do not match the current values, Tried to create resource record set "
                   "[name='x.example.com.', type='A'] but it already exists]")
    assert stored(world, zone) == before, "nothing of a refused batch is applied"


def test_delete_then_create_in_one_batch_replaces(world, zone):
    stamp = "_r53ddns.home.example.com"
    change(world, zone, rrs("CREATE", stamp, "TXT", ['"t=1 k=a"']))
    change(world, zone, rrs("DELETE", stamp, "TXT", ['"t=1 k=a"']), rrs("CREATE", stamp, "TXT", ['"t=2 k=a"']),
           rrs("UPSERT", "home.example.com", "A", ["192.0.2.1"]))
    assert stored(world, zone) == {(stamp + ".", "TXT"): (60, ['"t=2 k=a"']),
                                   ("home.example.com.", "A"): (60, ["192.0.2.1"])}
    # The same again with the old value: the DELETE no longer matches.
    msg = refused(world, zone, rrs("DELETE", stamp, "TXT", ['"t=1 k=a"']), rrs("CREATE", stamp, "TXT", ['"t=3 k=b"']))
    assert msg.startswith("[Tried to delete resource record set [name='_r53ddns.home.example.com.', type='TXT'] "
                          "but the values provided do not match")
    # Back to a value moto's journal has seen before: still applied exactly.
    change(world, zone, rrs("DELETE", stamp, "TXT", ['"t=2 k=a"']), rrs("CREATE", stamp, "TXT", ['"t=1 k=a"']))
    assert stored(world, zone)[(stamp + ".", "TXT")] == (60, ['"t=1 k=a"'])


@pytest.mark.parametrize("first,second", [("UPSERT", "UPSERT"), ("CREATE", "DELETE"), ("UPSERT", "DELETE"),
                                          ("CREATE", "CREATE")])
def test_a_batch_naming_a_set_twice_is_invalid(world, zone, first, second):
    change(world, zone, rrs("CREATE", "x.example.com", "A", ["192.0.2.1"]))
    msg = refused(world, zone, rrs(first, "x.example.com", "A", ["192.0.2.1"]),
                  rrs(second, "x.example.com", "A", ["192.0.2.1"]))
    assert msg == "[The request contains an invalid set of changes for a resource record set 'A x.example.com.']"
    assert stored(world, zone) == {("x.example.com.", "A"): (60, ["192.0.2.1"])}


@pytest.mark.parametrize("rtype,value,words", [
    ("A", "192.0.2.256", "ARRDATAIllegalIPv4Address"), ("A", "2001:db8::1", "ARRDATAIllegalIPv4Address"),
    ("AAAA", "192.0.2.1", "AAAARRDATAIllegalIPv6Address"), ("AAAA", "2001:db8::g", "AAAARRDATAIllegalIPv6Address"),
])
def test_values_must_be_addresses(world, zone, rtype, value, words):
    msg = refused(world, zone, rrs("UPSERT", "x.example.com", rtype, [value]))
    assert words in msg and f"encountered with '{value}'" in msg
    assert stored(world, zone) == {}


def test_names_outside_the_zone_and_cname_conflicts(world, zone):
    msg = refused(world, zone, rrs("UPSERT", "x.example.org", "A", ["192.0.2.1"]))
    assert msg == "[RRSet with DNS name x.example.org. is not permitted in zone example.com.]"
    change(world, zone, rrs("CREATE", "c.example.com", "CNAME", ["target.example.net"]))
    msg = refused(world, zone, rrs("UPSERT", "c.example.com", "A", ["192.0.2.1"]))
    assert "conflicting RRSet of type CNAME with the same DNS name already exists" in msg
    change(world, zone, rrs("CREATE", "d.example.com", "A", ["192.0.2.1"]))
    msg = refused(world, zone, rrs("CREATE", "d.example.com", "CNAME", ["target.example.net"]))
    assert "RRSet of type CNAME with DNS name d.example.com. is not permitted" in msg
    assert set(stored(world, zone)) == {("c.example.com.", "CNAME"), ("d.example.com.", "A")}


def test_concurrent_conflicting_batches_exactly_one_wins(world, zone):
    """Each round, 8 writers read the same stamp and replace it (DELETE old + CREATE own):
    applied one at a time, the first wins and the other DELETEs no longer match."""
    stamp = "_r53ddns.race.example.com"
    old = '"t=0 k=start"'
    change(world, zone, rrs("CREATE", stamp, "TXT", [old]))
    for rnd in range(1, 11):
        writers = 8
        gate = threading.Barrier(writers)
        results = [None] * writers

        def write(i):
            mine = f'"t={rnd} k=w{i}"'
            gate.wait()
            try:
                change(world, zone, rrs("DELETE", stamp, "TXT", [old]), rrs("CREATE", stamp, "TXT", [mine]),
                       rrs("UPSERT", "race.example.com", "A", [f"192.0.2.{i + 1}"]))
                results[i] = "ok"
            except ClientError as e:
                results[i] = code_of(e)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(results) == ["InvalidChangeBatch"] * (writers - 1) + ["ok"], (rnd, results)
        winner = results.index("ok")
        now = stored(world, zone)
        assert now[(stamp + ".", "TXT")] == (60, [f'"t={rnd} k=w{winner}"'])
        assert now[("race.example.com.", "A")] == (60, [f"192.0.2.{winner + 1}"]), "the A of the winner"
        old = f'"t={rnd} k=w{winner}"'


def test_fail_injection_answers_like_route53(world, zone):
    world.standin.fail_next, world.standin.fail_code = 2, "PriorRequestNotComplete"
    try:
        for _ in range(2):
            with pytest.raises(ClientError) as e:
                world.r53.list_resource_record_sets(HostedZoneId=zone)
            assert e.value.response["Error"]["Code"] == "PriorRequestNotComplete"
        world.r53.list_resource_record_sets(HostedZoneId=zone)
    finally:
        world.standin.fail_next = 0


# --- ListResourceRecordSets in Route53's order -----------------------------------------------

NAMES = ["z.example.com", "a.example.com", "a-b.example.com", "0.a.example.com", "B.a.example.com",
         "_r53ddns.a.example.com", "a.b.example.com", "-x.a.example.com"]
# Route53: by name with the labels reversed and the trailing dot ("com.example.a."), compared
# as ASCII, then by type. So "a-b" ('-' < '.') sorts before "a"; "-x.a" and "0.a" before
# "_r53ddns.a" before "b.a" (names are lower case).
ORDER = [("example.com.", "NS"), ("example.com.", "SOA"), ("a-b.example.com.", "A"),
         ("a.example.com.", "A"), ("a.example.com.", "AAAA"), ("a.example.com.", "TXT"),
         ("-x.a.example.com.", "A"), ("0.a.example.com.", "A"), ("_r53ddns.a.example.com.", "TXT"),
         ("b.a.example.com.", "A"), ("a.b.example.com.", "A"), ("z.example.com.", "A")]


@pytest.fixture
def listed_zone(world, zone):
    for n in NAMES:
        rtype = "TXT" if n.startswith("_") else "A"
        change(world, zone, rrs("CREATE", n, rtype, ['"t=1"'] if rtype == "TXT" else ["192.0.2.1"]))
    change(world, zone, rrs("CREATE", "a.example.com", "AAAA", ["2001:db8::1"]),
           rrs("CREATE", "a.example.com", "TXT", ['"hello"']))
    return zone


def keys(sets):
    return [(s["Name"], s["Type"]) for s in sets]


def test_the_whole_listing_is_in_route53s_order(world, listed_zone):
    r = world.r53.list_resource_record_sets(HostedZoneId=listed_zone)
    assert keys(r["ResourceRecordSets"]) == ORDER
    assert r["IsTruncated"] is False and "NextRecordName" not in r
    assert r["MaxItems"] == "300"


def test_moto_alone_lists_in_another_order(world, listed_zone):
    """Why the stand-in answers listings itself (if moto ever agrees, this says so)."""
    r = world.direct.list_resource_record_sets(HostedZoneId=listed_zone)
    assert keys(r["ResourceRecordSets"]) != ORDER


def test_name_and_type_start_the_listing_and_maxitems_truncates(world, listed_zone):
    r = world.r53.list_resource_record_sets(HostedZoneId=listed_zone, StartRecordName="A.example.com",
                                            MaxItems="3")
    assert keys(r["ResourceRecordSets"]) == ORDER[3:6]
    assert (r["IsTruncated"], r["NextRecordName"], r["NextRecordType"]) == (True, "-x.a.example.com.", "A")
    r = world.r53.list_resource_record_sets(HostedZoneId=listed_zone, StartRecordName="a.example.com.",
                                            StartRecordType="AAAA", MaxItems="1")
    assert keys(r["ResourceRecordSets"]) == [("a.example.com.", "AAAA")]
    assert (r["NextRecordName"], r["NextRecordType"]) == ("a.example.com.", "TXT")
    # A name that holds nothing starts at the next one in order.
    r = world.r53.list_resource_record_sets(HostedZoneId=listed_zone, StartRecordName="a.a.example.com")
    assert keys(r["ResourceRecordSets"]) == ORDER[9:]


def test_paging_with_next_name_and_type_walks_the_zone_once(world, listed_zone):
    seen, kw = [], {}
    while True:
        r = world.r53.list_resource_record_sets(HostedZoneId=listed_zone, MaxItems="2", **kw)
        seen += keys(r["ResourceRecordSets"])
        if not r["IsTruncated"]:
            break
        kw = {"StartRecordName": r["NextRecordName"], "StartRecordType": r["NextRecordType"]}
    assert seen == ORDER


def test_a_type_without_a_name_is_invalid(world, listed_zone):
    with pytest.raises(ClientError) as e:
        world.r53.list_resource_record_sets(HostedZoneId=listed_zone, StartRecordType="A",
                                            StartRecordName="")
    assert e.value.response["Error"]["Code"] in ("InvalidInput", "ParamValidation")


def test_one_call_reads_a_names_records_and_its_stamp(world, listed_zone):
    """What the Lambda relies on: from name=<name> the name's own sets come first, then its
    children whose first label sorts below '_' (digits, '-'), then `_r53ddns.<name>`."""
    r = world.r53.list_resource_record_sets(HostedZoneId=listed_zone, StartRecordName="a.example.com.",
                                            MaxItems="6")
    assert keys(r["ResourceRecordSets"])[-1] == ("_r53ddns.a.example.com.", "TXT")
    assert world.standin.counters()["lists"] >= 1


def test_a_wildcard_is_stored_as_star_and_listed_as_052(world, zone):
    """Route53: `*.x` and `\\052.x` are one name; it is listed as `\\052.x.` and sorts by the raw
    `*` (42), before digits, `-` and `_`. moto, the store, holds `*.x.`."""
    change(world, zone, rrs("CREATE", "*.Home.example.com", "A", ["192.0.2.1"]),
           rrs("CREATE", "_r53ddns._wildcard.home.example.com", "TXT", ['"t=1 k=a"']),
           rrs("CREATE", "1.home.example.com", "A", ["192.0.2.3"]))
    msg = refused(world, zone, rrs("CREATE", "\\052.home.example.com.", "A", ["192.0.2.2"]))
    assert msg == ("[Tried to create resource record set [name='*.home.example.com.', type='A'] "
                   "but it already exists]")
    assert stored(world, zone)[("*.home.example.com.", "A")] == (60, ["192.0.2.1"])
    r = world.r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName="*.home.example.com")
    assert keys(r["ResourceRecordSets"])[:3] == [
        ("\\052.home.example.com.", "A"), ("1.home.example.com.", "A"),
        ("_r53ddns._wildcard.home.example.com.", "TXT")]
    r2 = world.r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName="\\052.home.example.com.",
                                             MaxItems="1")
    assert keys(r2["ResourceRecordSets"]) == [("\\052.home.example.com.", "A")]
    assert r2["NextRecordName"] == "1.home.example.com."
    # Deleted under its escaped spelling: the same set.
    change(world, zone, rrs("DELETE", "\\052.home.example.com", "A", ["192.0.2.1"]))
    assert ("*.home.example.com.", "A") not in stored(world, zone)
