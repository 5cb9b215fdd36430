"""The OpenWrt hotplug scripts, run as on a router (see openwrt_root.py), with the
environment netifd (iface) or ntpd-hotplug (ntp) gives hotplug-call for each event, as
modelled by `hotplug_env` (tests/openwrt/openwrt_harness.py).

- iface (/etc/hotplug.d/iface/95-route53-ddns): which events start exactly one
  detached updater run and which none; that it returns while the updater still hangs;
  that it never exits the calling shell and never evaluates config values.
- ntp (/etc/hotplug.d/ntp/95-route53-ddns): a sync starts one `--clock-synced` run,
  other events and a disabled service none.

Stand-ins (tests/openwrt/): `uci` (Debian has no uci), hotplug-call with the names of
/lib/functions.sh it sources, and rc.common's procd part (they belong to OpenWrt's base
system), and, only where the behaviour under test is the shell's own, a recording updater.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openwrt"))

from openwrt_harness import PKG, Root, hotplug_env  # noqa: E402
from openwrt_root import INIT, binary, hotplug, ipk, procd_calls, standin_root  # noqa: E402,F401 (fixtures)

if os.geteuid() != 0:  # CI and the developers' machines run as root
    pytest.skip("needs root for chroot", allow_module_level=True)

HOTPLUG = f"/etc/hotplug.d/iface/95-{PKG}"


# ---------------------------------------------------------------- hotplug


def test_ifup_starts_one_detached_run_and_returns_while_it_hangs(standin_root):
    root = standin_root
    root.make_release_fifo()  # every stand-in run now hangs until released
    reaped = hotplug(root, hotplug_env("ifup", "wan", "eth1"))
    assert reaped.returned() == 0
    # hotplug-call has returned; the updater it started is still running (hanging):
    (run,) = root.wait_runs(1)
    assert not run["done"]
    assert run["args"] == ["update", "--interface", "wan"]
    assert root.release(at_least=1) == 1
    reaped.all_exited()
    (run,) = root.runs()
    assert run["done"]
    # it got netifd's event environment as hotplug-call passes it on, nothing from the
    # test runner
    env = run["env"]
    assert env["ACTION"] == "ifup"
    assert env["INTERFACE"] == "wan"
    assert "PYTEST_CURRENT_TEST" not in env
    assert (env["HOTPLUG_TYPE"], env["LOGNAME"], env["USER"]) == ("iface", "root", "root")
    assert (env["HOME"], env["TERM"], env["DEVICENAME"]) == ("/", "linux", "")


@pytest.mark.parametrize(
    "env, interface",
    [
        (hotplug_env("ifup", "wan6", "eth1"), "wan6"),
        (hotplug_env("ifupdate", "wan", "eth1", addresses="1"), "wan"),
        (hotplug_env("ifupdate", "wan6", "eth1", prefixes="1"), "wan6"),
        (hotplug_env("ifupdate", "wan", "pppoe-wan", addresses="1", routes="1", data="1"), "wan"),
        (hotplug_env("ifup", "lan", "br-lan"), "lan"),
        (hotplug_env("ifup", "wan"), "wan"),  # no l3 device: netifd sets no DEVICE
        # PPPoE with `ipv6 auto`: netifd's dynamic wan_6 counts while ipv6_interface is wan6
        (hotplug_env("ifup", "wan_6", "pppoe-wan"), "wan_6"),
        (hotplug_env("ifupdate", "wan_6", "pppoe-wan", prefixes="1"), "wan_6"),
    ],
    ids=["ifup-wan6", "ifupdate-addresses", "ifupdate-prefixes", "ifupdate-all", "ifup-lan", "no-device",
         "ifup-wan_6", "ifupdate-wan_6-prefixes"],
)
def test_events_that_start_exactly_one_run(standin_root, env, interface):
    reaped = hotplug(standin_root, env)
    assert reaped.returned() == 0
    reaped.all_exited()
    runs = standin_root.runs()
    assert len(runs) == 1
    assert runs[0]["args"] == ["update", "--interface", interface]
    assert runs[0]["done"]


@pytest.mark.parametrize(
    "env",
    [
        hotplug_env("ifdown", "wan"),
        hotplug_env("ifdown", "wan6"),
        hotplug_env("ifup-failed", "wan"),
        hotplug_env("ifupdate", "wan", "eth1"),
        hotplug_env("ifupdate", "wan", "eth1", routes="1"),
        hotplug_env("ifupdate", "wan6", "eth1", routes="1", data="1"),
        hotplug_env("ifup", "guest", "br-guest"),
        hotplug_env("ifup", "loopback", "lo"),
        hotplug_env("ifup", ""),
        {"INTERFACE": "wan"},
        hotplug_env("ifup", "wan6_6", "pppoe-wan"),
    ],
    ids=[
        "ifdown-wan",
        "ifdown-wan6",
        "ifup-failed",
        "ifupdate-nothing",
        "ifupdate-routes",
        "ifupdate-routes-data",
        "other-interface",
        "loopback",
        "empty-interface",
        "no-action",
        "not-the-dynamic-child",
    ],
)
def test_events_that_start_no_run(standin_root, env):
    reaped = hotplug(standin_root, env)
    assert reaped.returned() == 0
    reaped.all_exited()  # everything the event started has ended ...
    assert standin_root.runs() == []  # ... and no updater was among it


@pytest.mark.parametrize(
    "options",
    [{"enabled": "0"}, {"enabled": "off"}, {"enabled": ""}, {"enabled": "maybe"}],
    ids=["0", "off", "empty", "garbage"],
)
def test_disabled_in_uci_starts_nothing(standin_root, options):
    standin_root.set_options(**options)
    for env in (hotplug_env("ifup", "wan", "eth1"), hotplug_env("ifupdate", "wan6", "eth1", prefixes="1")):
        reaped = hotplug(standin_root, env)
        assert reaped.returned() == 0
        reaped.all_exited()
    assert standin_root.runs() == []


def test_no_config_starts_nothing(standin_root):
    standin_root.file(f"/etc/config/{PKG}").unlink()
    reaped = hotplug(standin_root, hotplug_env("ifup", "wan", "eth1"))
    assert reaped.returned() == 0
    reaped.all_exited()
    assert standin_root.runs() == []


def test_disabled_at_boot_starts_nothing_until_enabled_again(standin_root):
    root = standin_root
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    assert root.run(["/sbin/rc-procd", INIT, "disable"], env).returncode == 0
    reaped = hotplug(root, hotplug_env("ifup", "wan", "eth1"))
    assert reaped.returned() == 0
    reaped.all_exited()
    assert root.runs() == []
    assert root.run(["/sbin/rc-procd", INIT, "enable"], env).returncode == 0
    reaped = hotplug(root, hotplug_env("ifup", "wan", "eth1"))
    assert reaped.returned() == 0
    reaped.all_exited()
    assert len(root.runs()) == 1


def test_configured_interface_names(standin_root):
    root = standin_root
    root.set_options(ipv4_interface="wwan", ipv6_interface="wan_6", lan_interface="br_iot")
    events = {
        "wwan": hotplug_env("ifup", "wwan", "wlan0"),
        "wan_6": hotplug_env("ifupdate", "wan_6", "pppoe-wan", addresses="1"),
        "br_iot": hotplug_env("ifupdate", "br_iot", "br-iot", prefixes="1"),
    }
    ignored = [hotplug_env("ifup", "wan", "eth1"), hotplug_env("ifup", "wan6", "eth1"), hotplug_env("ifup", "lan")]
    for env in [*events.values(), *ignored]:
        reaped = hotplug(root, env)
        assert reaped.returned() == 0
        reaped.all_exited()
    assert sorted(r["args"][2] for r in root.runs()) == ["br_iot", "wan_6", "wwan"]


def test_the_dynamic_ipv6_child_counts_only_while_ipv6_interface_is_wan6(standin_root):
    """`<ipv4_interface>_6` (PPPoE's wan_6) is searched only while ipv6_interface is wan6."""
    root = standin_root
    root.set_options(ipv4_interface="dsl")
    for env in (hotplug_env("ifup", "dsl_6", "pppoe-dsl"), hotplug_env("ifup", "wan_6", "pppoe-wan")):
        reaped = hotplug(root, env)
        assert reaped.returned() == 0
        reaped.all_exited()
    assert [r["args"][2] for r in root.runs()] == ["dsl_6"]
    root.set_options(ipv6_interface="he6")
    for env in (hotplug_env("ifup", "dsl_6", "pppoe-dsl"), hotplug_env("ifup", "he6")):
        reaped = hotplug(root, env)
        assert reaped.returned() == 0
        reaped.all_exited()
    assert sorted(r["args"][2] for r in root.runs()) == ["dsl_6", "he6"]


def test_empty_interface_options_mean_the_defaults(standin_root):
    """uci drops empty options (an empty value is no value), so '' is the default."""
    root = standin_root
    root.set_options(ipv4_interface="", ipv6_interface="", lan_interface="")
    for env in (hotplug_env("ifup", "wan", "eth1"), hotplug_env("ifup", "wan6", "eth1"),
                hotplug_env("ifup", "lan", "br-lan"), hotplug_env("ifup", "guest")):
        reaped = hotplug(root, env)
        assert reaped.returned() == 0
        reaped.all_exited()
    assert sorted(r["args"][2] for r in root.runs()) == ["lan", "wan", "wan6"]


def test_anonymous_global_section(standin_root):
    """The binary accepts `config global` without a name; so do the scripts."""
    root = standin_root
    cfg = root.file(f"/etc/config/{PKG}")
    cfg.write_text(cfg.read_text().replace("config global 'global'", "config global"))
    root.set_options(ipv4_interface="wwan", check_interval="5")
    reaped = hotplug(root, hotplug_env("ifup", "wwan", "wlan0"))
    assert reaped.returned() == 0
    reaped.all_exited()
    assert [r["args"] for r in root.runs()] == [["update", "--interface", "wwan"]]
    assert ["procd_set_param", "respawn", "0", "300", "0"] in procd_calls(root, "start")


def test_config_values_are_never_evaluated(standin_root):
    root = standin_root
    evil = "$(touch /tmp/pwned1)`touch /tmp/pwned2`;touch /tmp/pwned3"
    root.set_options(ipv4_interface=evil, ipv6_interface="*", lan_interface="wan6 -o x")
    for env in (
        hotplug_env("ifup", "wan", "eth1"),
        hotplug_env("ifup", "wan6", "eth1"),
        hotplug_env("ifup", "x", "eth1"),
        hotplug_env("ifup", evil),
    ):
        reaped = hotplug(root, env)
        assert reaped.returned() == 0
        reaped.all_exited()
    for n in (1, 2, 3):
        assert not root.file(f"/tmp/pwned{n}").exists()
    # Only the event whose INTERFACE is literally the configured value ran, and the
    # value reached the updater as one argument, unchanged.
    (run,) = root.runs()
    assert run["args"] == ["update", "--interface", evil]


def test_sourcing_never_exits_the_calling_shell(standin_root):
    """hotplug-call sources each script; a script must return, never `exit`."""
    root = standin_root
    script = f'. {HOTPLUG}; echo "after:$?"'
    for env in (hotplug_env("ifup", "wan", "eth1"), hotplug_env("ifdown", "wan"), hotplug_env("ifup", "guest")):
        env = {**env, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        reaped = root.run_reaped(["/bin/sh", "-c", script], env)
        assert reaped.returned() == 0
        reaped.all_exited()
        assert reaped.out.read_text() == "after:0\n"
    assert len(root.runs()) == 1


def test_later_hotplug_scripts_still_run(standin_root):
    root = standin_root
    marker = root.file("/etc/hotplug.d/iface/99-marker")
    marker.write_text('echo "$ACTION $INTERFACE" >> /tmp/marker\n')
    for env in (hotplug_env("ifup", "wan", "eth1"), hotplug_env("ifdown", "wan")):
        reaped = hotplug(root, env)
        assert reaped.returned() == 0
        reaped.all_exited()
    assert root.file("/tmp/marker").read_text() == "ifup wan\nifdown wan\n"


# ---------------------------------------------------------------- NTP hotplug

NTP_HOTPLUG = f"/etc/hotplug.d/ntp/95-{PKG}"


def ntp_env(action: str, stratum: str | None = "2") -> dict[str, str]:
    """What OpenWrt's /usr/sbin/ntpd-hotplug hands `/sbin/hotplug-call ntp`: busybox
    ntpd's ACTION (stratum, unsync, step, periodic) and its variables."""
    env = {"ACTION": action, "freq_drift_ppm": "-12.345", "offset": "-3.802417", "poll_interval": "64"}
    if stratum is not None:
        env["stratum"] = stratum
    return env


def ntp(root: Root, env: dict):
    return root.run_reaped(["/sbin/hotplug-call", "ntp"], env)


def test_ntp_sync_starts_one_detached_clock_synced_run(standin_root):
    root = standin_root
    assert root.file(NTP_HOTPLUG).is_file()
    root.make_release_fifo()
    reaped = ntp(root, ntp_env("stratum", "2"))
    assert reaped.returned() == 0
    (run,) = root.wait_runs(1)
    assert not run["done"], "hotplug-call returned while the run goes on"
    assert run["args"] == ["update", "--clock-synced"]
    assert run["env"]["ACTION"] == "stratum"
    assert root.release(at_least=1) == 1
    reaped.all_exited()


@pytest.mark.parametrize(
    "env",
    [
        ntp_env("unsync", "16"),
        ntp_env("periodic", "2"),
        ntp_env("step", "2"),
        ntp_env("stratum", "16"),
        ntp_env("stratum", "0"),
        ntp_env("stratum", ""),
        ntp_env("stratum", None),
        ntp_env("stratum", "2; reboot"),
    ],
    ids=["unsync", "periodic", "step", "stratum-16", "stratum-0", "stratum-empty", "no-stratum", "garbage"],
)
def test_ntp_events_that_start_no_run(standin_root, env):
    reaped = ntp(standin_root, env)
    assert reaped.returned() == 0
    reaped.all_exited()
    assert standin_root.runs() == []


def test_ntp_sync_starts_nothing_when_disabled(standin_root):
    root = standin_root
    root.set_options(enabled="0")
    reaped = ntp(root, ntp_env("stratum", "3"))
    assert reaped.returned() == 0
    reaped.all_exited()
    assert root.runs() == []
    root.set_options(enabled="1")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    assert root.run(["/sbin/rc-procd", INIT, "disable"], env).returncode == 0
    reaped = ntp(root, ntp_env("stratum", "3"))
    assert reaped.returned() == 0
    reaped.all_exited()
    assert root.runs() == []
