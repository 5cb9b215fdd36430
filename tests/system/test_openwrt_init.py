"""The OpenWrt init script (/etc/init.d/route53-ddns), run as on a router (see
openwrt_root.py): the procd calls of boot/start/reload, enabled=0, check_interval.

Stand-ins (tests/openwrt/): `uci` (Debian has no uci), hotplug-call and rc.common's procd
part (they belong to OpenWrt's base system), and, only where the behaviour under test is
the shell's own, a recording updater.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openwrt"))

from openwrt_harness import PKG  # noqa: E402
from openwrt_root import INIT, binary, ipk, procd_calls, standin_root  # noqa: E402,F401 (fixtures)

if os.geteuid() != 0:  # CI and the developers' machines run as root
    pytest.skip("needs root for chroot", allow_module_level=True)


# ---------------------------------------------------------------- init script


def test_start_registers_one_periodic_updater_and_the_reload_trigger(standin_root):
    standin_root.set_options(check_interval="15")
    for action in ("boot", "start"):  # reload: test_reload_registers_again_only_...
        assert procd_calls(standin_root, action) == [
            ["procd_open_service", PKG, INIT],
            ["procd_open_instance", "updater"],
            ["procd_set_param", "command", f"/usr/sbin/{PKG}", "update"],
            ["procd_set_param", "respawn", "0", "900", "0"],
            ["procd_set_param", "file", f"/etc/config/{PKG}"],
            ["procd_set_param", "stdout", "1"],
            ["procd_set_param", "stderr", "1"],
            ["procd_close_instance"],
            ["procd_add_reload_trigger", PKG],
            ["procd_close_service"],
        ]
    assert standin_root.runs() == []  # procd, not the script, runs the updater


REGISTERED = [
    ["procd_open_service", PKG, INIT],
    ["procd_open_instance", "updater"],
    ["procd_set_param", "command", f"/usr/sbin/{PKG}", "update"],
    ["procd_set_param", "respawn", "0", "600", "0"],
    ["procd_set_param", "file", f"/etc/config/{PKG}"],
    ["procd_set_param", "stdout", "1"],
    ["procd_set_param", "stderr", "1"],
    ["procd_close_instance"],
    ["procd_add_reload_trigger", PKG],
    ["procd_close_service"],
]


@pytest.mark.parametrize("enabled", ["0", "", "no"])
def test_disabled_still_registers_the_timer_so_uci_commit_alone_is_enough(standin_root, enabled):
    """`uci commit` triggers nothing: the instance registered at boot must already be
    there when the owner enables the service from the shell. A disabled run exits 3 at
    once without sending anything (the binary checks `enabled` itself)."""
    standin_root.set_options(enabled=enabled)
    assert procd_calls(standin_root, "boot") == REGISTERED


def test_reload_registers_again_only_for_a_changed_config(standin_root):
    """procd starts a waiting instance at once on every `service set` (instance_update in
    procd's service/instance.c), changed or not: a reload with the config unchanged must
    not send one, a reload after a change must, and a stop forgets what was registered."""
    assert procd_calls(standin_root, "boot") == REGISTERED
    assert procd_calls(standin_root, "reload") == []
    standin_root.set_options(check_interval="10", log_level="debug")
    assert procd_calls(standin_root, "reload") == REGISTERED
    assert procd_calls(standin_root, "reload") == []
    assert procd_calls(standin_root, "stop") == [["procd_kill", PKG]]
    assert procd_calls(standin_root, "reload") == REGISTERED


@pytest.mark.parametrize(
    "value, seconds",
    [("1", 60), ("10", 600), ("1440", 86400), ("007", 420), ("0", 600), ("1441", 600),
     ("", 600), ("abc", 600), ("5; reboot", 600), ("99999999999999999999", 600), (None, 600)],
)
def test_check_interval(standin_root, value, seconds):
    if value is None:
        lines = standin_root.file(f"/etc/config/{PKG}").read_text().splitlines()
        standin_root.write_config("\n".join(x for x in lines if "check_interval" not in x) + "\n")
    else:
        standin_root.set_options(check_interval=value)
    calls = procd_calls(standin_root, "start")
    assert ["procd_set_param", "respawn", "0", str(seconds), "0"] in calls
