"""OpenWrt's ddns-scripts, its real `dynamic_dns_updater.sh` under busybox sh, set up exactly
as docs/clients.md says (provider file, /etc/config/ddns and the first-address command read
from the guide; only the placeholders are replaced) and run against the local endpoint.
Skipped unless ddns-scripts, OpenWrt's shell libraries, uci and jshn are at hand
(ddns_scripts_root.py says what each is and how to point the test at it).

Each run is the updater as procd starts it, for one section, stopped at a known wait (its
`sleep` is the test's clock: see ddns_scripts_root.py). What the guide promises is checked:
a name that does not resolve is never sent; after the first address by hand, the updater
sends when the WAN address changes (`good`) and nothing while the name resolves to it; a
forced update every `force_interval` is answered `nochg` without a Route53 write inside the
quiet period; `badauth` and `911` are logged as "IP update not accepted by DDNS Provider"
and sent again after `check_interval`. Requests that reached the endpoint are counted in
the Lambda's log, Route53 changes by the stand-in."""

import copy
import ipaddress

import pytest

from clients_doc import block, endpoint, fill, new_account, requests_from
from ddns_scripts_root import DdnsRoot, DnsStandin, gate
from router_files import iface

FAMILIES = {"v4": ("0", "A", "192.0.2.120", "192.0.2.121"),
            "v6": ("1", "AAAA", "2001:db8::120", "2001:db8::121")}
CHECK = 600  # check_interval's default (10 minutes), as the guide says
RETRY = 60   # retry_interval's default
FORCE = 72 * 3600  # force_interval's default (72 hours), as the guide says


@pytest.fixture(scope="module", autouse=True)
def pieces():
    return gate()  # first: skipped before the stack starts


@pytest.fixture(scope="module")
def dns(stack, pieces):
    d = DnsStandin(stack)
    yield d
    d.stop()


@pytest.fixture
def router(pieces, stack, dns, tmp_path):
    r = DdnsRoot(tmp_path / "root", pieces, stack.ca_file, dns.port)
    yield r
    r.close()


def section_of(family: str) -> str:
    """The guide's service section for `family` (its `use_ipv6`)."""
    names, current = {}, None
    for line in block("ddns-scripts.uci").splitlines():
        words = line.split()
        if words[:1] == ["config"] and words[1] == "service":
            current = words[2].strip("'")
        elif words[:2] == ["option", "use_ipv6"] and current:
            names[words[2].strip("'")] = current
    return names[FAMILIES[family][0]]


def wan(v4=None, v6=None):
    """netifd's status of an interface whose device reaches the endpoint (loopback here)."""
    s = copy.deepcopy(iface(v4=v4, v6=v6))
    s["l3_device"] = s["device"] = "lo"
    return s


def set_up(router, stack, acct, v4="192.0.2.120", v6="2001:db8::120"):
    """The guide's provider file and /etc/config/ddns; WAN (v4) and WAN6 (v6) addresses."""
    router.write("/usr/share/ddns/custom/route53-ddns.json",
                 fill(block("ddns-scripts.json"), endpoint(stack), *acct), 0o644)
    router.write("/etc/config/ddns", fill(block("ddns-scripts.uci"), endpoint(stack), *acct))
    router.set_iface("wan", wan(v4=v4))
    router.set_iface("wan6", wan(v6=v6))


def updater(router, family, waits=2):
    """One run of the family's section, stopped at its `waits`-th wait; its log."""
    section = section_of(family)
    p = router.updater(section, waits)
    log = router.log(section)
    assert len(router.sleeps()) == waits, p.out[-2000:] + log[-3000:]
    assert "terminated by 'SIGTERM'" in log, p.out[-2000:] + log[-3000:]
    return log


@pytest.mark.parametrize("family", FAMILIES)
def test_a_name_that_does_not_resolve_is_never_sent(stack, router, family):
    user, token, name = acct = new_account(stack)
    set_up(router, stack, acct)
    log = updater(router, family, waits=3)
    assert "BusyBox nslookup error: '1'" in log, log[-3000:]
    assert f"Get registered/public IP for '{name}' failed - retry 3/0 in 60 seconds" in log
    assert router.sleeps() == [RETRY] * 3
    assert requests_from(stack, user) == 0 and "curl" not in log


@pytest.mark.parametrize("family", FAMILIES)
def test_first_address_by_hand_then_updates_when_the_wan_address_changes(stack, router, family):
    _, rtype, first, moved = FAMILIES[family]
    user, token, name = acct = new_account(stack)
    set_up(router, stack, acct)
    p = router.sh(fill(block("ddns-scripts.first"), endpoint(stack), *acct))
    assert p.out.strip() == "good 192.0.2.120" and p.returncode == 0, p.out
    assert stack.records(name)["A"] == ["192.0.2.120"]
    changes, sent = stack.change_count(), requests_from(stack, user)
    if family == "v4":
        # the name resolves to the WAN address, but the first start since boot sends anyway
        log = updater(router, family)
        assert f"Forced Update - L: '{first}' == R: '{first}'" in log, log[-3000:]
        assert f"DDNS Provider answered:\nnochg {first}\n" in log
        sent += 1
        assert (stack.change_count(), requests_from(stack, user)) == (changes, sent)
        log = updater(router, family)  # started again: nothing to send
        assert f"Registered IP '{first}' detected" in log, log[-3000:]
        assert "Update needed" not in log and "DDNS Provider answered" not in log
        assert (stack.change_count(), requests_from(stack, user)) == (changes, sent)
        set_up(router, stack, acct, v4=moved)
    else:  # the name has no AAAA yet: the v6 section sends its address at once
        moved = first
    log = updater(router, family)
    assert f"DDNS Provider answered:\ngood {moved}\n" in log, log[-3000:]
    assert f"Update successful - IP '{ipaddress.ip_address(moved).exploded}' send" in log
    assert stack.records(name)[rtype] == [moved]
    assert (stack.change_count(), requests_from(stack, user)) == (changes + 1, sent + 1)
    # the next check (10 minutes on) finds the name resolving to it: no retry, nothing sent
    assert router.sleeps() == [CHECK, CHECK] and "starting retry" not in log, log[-3000:]
    log = updater(router, family)
    assert "Update needed" not in log and "DDNS Provider answered" not in log, log[-3000:]
    assert (stack.change_count(), requests_from(stack, user)) == (changes + 1, sent + 1)


@pytest.mark.parametrize("family", FAMILIES)
def test_forced_update_every_force_interval_gets_nochg(stack, router, family):
    _, rtype, address, _ = FAMILIES[family]
    user, token, name = acct = new_account(stack)
    set_up(router, stack, acct)
    other = ("AAAA", "2001:db8::1") if family == "v4" else ("A", "192.0.2.1")
    stack.set_records(name, other[0], [other[1]])  # the name resolves; not to this family
    updater(router, family)
    assert stack.records(name)[rtype] == [address]
    changes, sent = stack.change_count(), requests_from(stack, user)
    # Time passes for ddns-scripts: its .update file holds the uptime of its last update;
    # 72 hours before boot makes the force due whatever this machine's uptime is.
    router.write(f"/var/run/ddns/{section_of(family)}.update", f"-{FORCE}\n", 0o644)
    log = updater(router, family)
    assert f"force interval: {FORCE} seconds" in log, log[-3000:]
    assert "Forced Update - L:" in log and f"DDNS Provider answered:\nnochg {address}\n" in log, log
    assert "Forced update successful" in log and "not accepted" not in log
    assert (stack.change_count(), requests_from(stack, user)) == (changes, sent + 1)
    # 72 hours after the last write, the name's stamp is written (one Route53 change)
    stack.age_stamp(name, 72 * 3600)
    changes = stack.change_count()  # age_stamp wrote the stamp
    router.write(f"/var/run/ddns/{section_of(family)}.update", f"-{FORCE}\n", 0o644)
    log = updater(router, family)
    assert f"DDNS Provider answered:\nnochg {address}\n" in log, log[-3000:]
    assert (stack.change_count(), requests_from(stack, user)) == (changes + 1, sent + 2)


@pytest.mark.parametrize("trouble", ["badauth", "911"])
@pytest.mark.parametrize("family", FAMILIES)
def test_refusals_are_not_accepted_and_sent_again_after_check_interval(
        stack, router, family, trouble):
    _, rtype, address, _ = FAMILIES[family]
    user, token, name = new_account(stack)
    acct = (user, "not-the-token" if trouble == "badauth" else token, name)
    set_up(router, stack, acct)
    old = "192.0.2.1" if family == "v4" else "2001:db8::1"
    stack.set_records(name, rtype, [old])
    before, changes = stack.records(name), stack.change_count()
    router.syslog()
    stack.throttle(1000 if trouble == "911" else 0)
    try:
        log = updater(router, family)
    finally:
        stack.throttle(0)
    assert log.count(f"DDNS Provider answered:\n{trouble}\n") == 2, log[-3000:]
    assert log.count("IP update not accepted by DDNS Provider") == 2
    assert "Updating IP at DDNS provider failed - starting retry 1/0" in log
    assert router.sleeps() == [CHECK, CHECK]
    assert requests_from(stack, user) == 2
    assert stack.records(name) == before and stack.change_count() == changes
    syslog = [m for m in router.syslog() if "ddns-scripts" in m]
    assert any(m.startswith("<11>") and "IP update not accepted by DDNS Provider" in m
               for m in syslog), syslog  # user.err
    if trouble == "911":  # once Route53 answers again, the next run gets through
        log = updater(router, family)
        assert f"DDNS Provider answered:\ngood {address}\n" in log, log[-3000:]
        assert stack.records(name)[rtype] == [address]
