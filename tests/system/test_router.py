"""The router binary end to end: the real Lambda (`cargo lambda watch`) behind the HTTPS
front, moto as Route53 and SSM, and a stand-in `ubus` that prints netifd-shaped status
JSON. The binary is run the way the hotplug script runs it.
"""

import json
import subprocess
from pathlib import Path

import pytest
from router_files import RouterFiles

REPO = Path(__file__).resolve().parents[2]
OBSERVED = "203.0.113.50"


def calls(stack, key_id):
    """Requests the Lambda logged for this router's key (one JSON line per request)."""
    return sum(1 for line in stack.lambda_log().splitlines() if f'"principal":"{key_id}"' in line)


@pytest.fixture(scope="session")
def router_bin():
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", "route53-ddns", "--bin", "route53-ddns"],
        cwd=REPO, check=True,
    )
    path = REPO / "target" / "debug" / "route53-ddns"
    assert path.exists()
    return path


def wan_status(addr):
    return {
        "up": True, "pending": False, "available": True, "autostart": True, "dynamic": False,
        "uptime": 42, "l3_device": "eth1", "proto": "dhcp", "device": "eth1",
        "ipv4-address": [{"address": addr, "mask": 24}], "ipv6-address": [],
        "ipv6-prefix": [], "ipv6-prefix-assignment": [], "route": [], "dns-server": [],
        "dns-search": [], "neighbors": [], "inactive": {}, "data": {"leasetime": 86400},
    }


def wan6_status(addr, prefix):
    return {
        "up": True, "pending": False, "available": True, "autostart": True, "dynamic": False,
        "uptime": 40, "l3_device": "eth1", "proto": "dhcpv6", "device": "eth1",
        "ipv4-address": [],
        "ipv6-address": [
            {"address": addr, "mask": 128, "preferred": 3600, "valid": 7200},
            {"address": "fd00:1::2", "mask": 64, "preferred": 3600, "valid": 7200},
        ],
        "ipv6-prefix": [{"address": prefix + "00::", "mask": 56, "preferred": 3600, "valid": 7200,
                         "class": "wan6", "assigned": {"lan": {"address": prefix + "10::", "mask": 64}}}],
        "ipv6-prefix-assignment": [], "route": [], "dns-server": [], "dns-search": [],
        "neighbors": [], "inactive": {}, "data": {},
    }


def lan_status(prefix):
    return {
        "up": True, "pending": False, "available": True, "autostart": True, "dynamic": False,
        "uptime": 50, "l3_device": "br-lan", "proto": "static", "device": "br-lan",
        "ipv4-address": [{"address": "192.168.1.1", "mask": 24}], "ipv6-address": [],
        "ipv6-prefix": [],
        "ipv6-prefix-assignment": [{"address": prefix + "10::", "mask": 64, "preferred": 3600,
                                    "valid": 7200, "local-address": {"address": prefix + "10::1", "mask": 64}}],
        "route": [], "dns-server": [], "dns-search": [], "neighbors": [], "inactive": {}, "data": {},
    }


class Router(RouterFiles):
    """One simulated OpenWrt router (native build) with its key made and read."""

    def __init__(self, binary, stack, tmp: Path, hosts: str):
        super().__init__([str(binary)], tmp, stack.https_url, stack.ca_file, hosts)
        out = self.run("keygen")
        assert out.returncode == 0, out.stderr
        self.key_id = out.stdout.splitlines()[0]

    def hotplug(self, interface="wan", action="ifup"):
        """What /etc/hotplug.d/iface runs: ACTION and INTERFACE from netifd."""
        return self.run("update", "--interface", interface,
                        env={"ACTION": action, "INTERFACE": interface, "DEVICE": "eth1"})

    def status(self):
        out = self.run("status", "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)


@pytest.fixture
def router(router_bin, stack, tmp_path, name):
    r = Router(router_bin, stack, tmp_path, f"\nconfig host\n\toption name '{name}'\n")
    r.set_iface("wan", wan_status("192.0.2.10"))
    r.set_iface("wan6", wan6_status("2001:db8:1::10", "2001:db8:aa"))
    r.set_iface("lan", lan_status("2001:db8:aa"))
    yield r
    r.log.close()


def test_hotplug_run_publishes_then_a_second_run_sends_nothing(stack, router, name):
    stack.register_key(router.key_id, [name])
    out = router.hotplug("wan")
    assert out.returncode == 0, out.stderr + str(router.log_lines())
    rec = stack.records(name)
    assert rec["A"] == ["192.0.2.10"]
    assert rec["AAAA"] == ["2001:db8:1::10"]
    changes = stack.change_count()
    assert calls(stack, router.key_id) == 1

    again = router.hotplug("wan6", action="ifupdate")
    assert again.returncode == 3, again.stderr
    assert stack.change_count() == changes
    assert calls(stack, router.key_id) == 1, "the endpoint was not called at all"

    st = router.status()
    h = st["hosts"][0]
    assert (h["name"], h["ipv4"], h["ipv6"], h["result"]) == (name, "192.0.2.10", "2001:db8:1::10", "updated")
    assert h["request_id"]
    assert h["nat"] == "none" and h["diagnosis"] is None and h["error"] is None
    assert st["key_id"] == router.key_id
    assert any(h["request_id"] in line for line in router.log_lines())


def test_a_new_lease_updates_a_and_aaaa_together(stack, router, name):
    stack.register_key(router.key_id, [name])
    assert router.hotplug("wan").returncode == 0
    stamp = stack.stamp(name)
    changes, lists = stack.change_count(), stack.list_count()

    router.set_iface("wan", wan_status("192.0.2.20"))
    router.set_iface("wan6", wan6_status("2001:db8:2::20", "2001:db8:bb"))
    out = router.hotplug("wan", action="ifupdate")
    assert out.returncode == 0, out.stderr
    rec = stack.records(name)
    assert rec["A"] == ["192.0.2.20"]
    assert rec["AAAA"] == ["2001:db8:2::20"]
    assert stack.change_count() == changes + 1, "one change batch for both families"
    assert stack.stamp(name) != stamp
    # The router sent what the first answer told it (`last`): the write needed no read.
    assert stack.list_count() == lists, "one Route53 call for the whole update"
    line = [json.loads(l) for l in stack.lambda_log().splitlines()
            if f'"principal":"{router.key_id}"' in l][-1]
    assert (line["guess"], line["route53_calls"], line["result"]) == ("written", 1, "updated")


def test_behind_cgnat_the_observed_address_is_published_and_diagnosed(stack, router, name):
    stack.register_key(router.key_id, [name])
    router.set_iface("wan", wan_status("100.64.1.2"))
    out = router.hotplug("wan")
    assert out.returncode == 0, out.stderr
    assert stack.records(name)["A"] == [OBSERVED]
    h = router.status()["hosts"][0]
    assert h["ipv4"] == OBSERVED
    assert h["wan_ipv4"] == "100.64.1.2"
    assert h["observed"] == OBSERVED
    assert h["nat"] == "cgnat"
    want = f"WAN address 100.64.1.2, public address {OBSERVED}: you are behind carrier-grade NAT"
    assert want in h["diagnosis"]
    lines = router.log_lines()
    assert any(want in line for line in lines), lines
    # The same CGNAT address again: nothing sent.
    assert router.hotplug("wan").returncode == 3


def test_lan_host_gets_the_delegated_prefix_and_its_suffix(router_bin, stack, tmp_path, name):
    nas = stack.new_name("nas")
    r = Router(router_bin, stack, tmp_path,
               f"\nconfig host\n\toption name '{name}'\n\nconfig host\n\toption name '{nas}'\n"
               "\toption ipv4 '0'\n\toption ipv6_suffix '::1234'\n")
    r.set_iface("wan", wan_status("192.0.2.30"))
    r.set_iface("wan6", wan6_status("2001:db8:3::30", "2001:db8:cc"))
    r.set_iface("lan", lan_status("2001:db8:cc"))
    stack.register_key(r.key_id, [name, nas])
    out = r.hotplug("wan6")
    assert out.returncode == 0, out.stderr
    assert stack.records(nas) == {**stack.records(nas), "A": [], "AAAA": ["2001:db8:cc10::1234"]}
    assert stack.records(name)["A"] == ["192.0.2.30"]
    r.log.close()


def test_an_unregistered_key_is_refused_permanently_and_not_retried(stack, router, name):
    out = router.hotplug("wan")
    assert out.returncode == 5, out.stderr
    h = router.status()["hosts"][0]
    assert h["result"] == "error"
    assert h["error"]["code"] == "bad_signature"
    assert h["error"]["permanent"] is True
    assert "pubkey" in h["error"]["advice"]
    assert calls(stack, router.key_id) == 1
    again = router.hotplug("wan")
    assert again.returncode == 5
    assert calls(stack, router.key_id) == 1, "not sent again until config or key change"
    assert stack.records(name)["A"] == []
    # Registering the key and forcing a run fixes it.
    stack.register_key(router.key_id, [name])
    assert router.run("update", "--force").returncode == 0
    assert stack.records(name)["A"] == ["192.0.2.10"]
