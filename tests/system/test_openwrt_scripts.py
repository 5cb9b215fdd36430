"""The OpenWrt integration scripts, run as on a router: busybox sh (OpenWrt's ash) in a
chroot holding the package as its .ipk installs it, with exactly the environment netifd
gives hotplug-call for each event.

- hotplug (/etc/hotplug.d/iface/95-route53-ddns): which events start exactly one
  detached updater run and which none; that it returns while the updater still hangs;
  that it never exits the calling shell and never evaluates config values.
- init script (/etc/init.d/route53-ddns): the procd calls of start/reload, enabled=0.
- uci-defaults: the first run creates a 0600 key (real binary) and logs the public key
  to syslog; a second run changes nothing.
- the default config: accepted by the real binary's `check`, disabled, in line with
  `route53-ddns schema`.

Stand-ins (tests/openwrt/): `uci` (Debian has no uci), hotplug-call and rc.common's procd
part (they belong to OpenWrt's base system), and, only where the behaviour under test is
the shell's own, a recording updater. The real static binary is used for keygen, pubkey
and check.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openwrt"))

from openwrt_harness import PKG, Root, build_static_x86_64, hotplug_env, make_packages  # noqa: E402

if os.geteuid() != 0:  # CI and the developers' machines run as root
    pytest.skip("needs root for chroot", allow_module_level=True)

INIT = f"/etc/init.d/{PKG}"
HOTPLUG = f"/etc/hotplug.d/iface/95-{PKG}"


@pytest.fixture(scope="module")
def binary():
    return build_static_x86_64()


@pytest.fixture(scope="module")
def ipk(binary, tmp_path_factory):
    out = tmp_path_factory.mktemp("ipk")
    r = make_packages(out, "--arch", "x86_64", "--no-apk")
    assert r.returncode == 0, r.stderr
    (pkg,) = out.glob("*_x86_64.ipk")
    return pkg


def _root(tmp_path, ipk, **kw) -> Root:
    return Root.create(tmp_path / "root", ipk, **kw)


@pytest.fixture
def standin_root(tmp_path, ipk):
    """The package with the recording stand-in as /usr/sbin/route53-ddns, enabled."""
    r = _root(tmp_path, ipk, standin=True)
    r.set_options(enabled="1", endpoint="https://ddns.example.com")
    yield r
    r.cleanup()


@pytest.fixture
def real_root(tmp_path, ipk, binary):
    """The package as installed, with the real binary, default config, syslog socket."""
    r = _root(tmp_path, ipk)
    r.listen_syslog()
    yield r
    r.cleanup()


def hotplug(root: Root, env: dict):
    """netifd's way: `/sbin/hotplug-call iface` with only the event's variables."""
    return root.run_reaped(["/sbin/hotplug-call", "iface"], env)


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
    # it got netifd's event environment, nothing from the test runner
    assert run["env"]["ACTION"] == "ifup"
    assert run["env"]["INTERFACE"] == "wan"
    assert "PYTEST_CURRENT_TEST" not in run["env"]


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


# ---------------------------------------------------------------- init script


def procd_calls(root: Root, action: str) -> list[list[str]]:
    log = root.file("/tmp/procd.log")
    if log.exists():
        log.unlink()
    reaped = root.run_reaped(["/sbin/rc-procd", INIT, action], {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert reaped.returned() == 0, reaped.err.read_text()
    reaped.all_exited()  # no resident loop: nothing of the script is left running
    return [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []


def test_start_registers_one_periodic_updater_and_the_reload_trigger(standin_root):
    standin_root.set_options(check_interval="15")
    for action in ("boot", "start", "reload"):
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


@pytest.mark.parametrize("enabled", ["0", "", "no"])
def test_disabled_registers_no_instance_but_keeps_the_reload_trigger(standin_root, enabled):
    """With no instance in `service set`, procd stops a running one; the trigger stays so
    that enabling it again (uci commit, LuCI) starts it."""
    standin_root.set_options(enabled=enabled)
    for action in ("start", "reload"):
        assert procd_calls(standin_root, action) == [
            ["procd_open_service", PKG, INIT],
            ["procd_add_reload_trigger", PKG],
            ["procd_close_service"],
        ]


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


# ---------------------------------------------------------------- uci-defaults


def first_boot(root: Root) -> subprocess.CompletedProcess:
    """What /etc/init.d/boot (and default_postinst) do with a uci-defaults file: source
    it in a subshell from its directory, delete it when it returned 0."""
    return root.run(
        ["/bin/sh", "-c", f"cd /etc/uci-defaults && ( . ./{PKG} ) && rm -f ./{PKG}; echo rc=$?"],
        {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )


def pubkey(root: Root) -> str:
    r = root.run([f"/usr/sbin/{PKG}", "pubkey"], {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()[0].strip()


def test_first_boot_creates_a_private_key_and_logs_the_public_key(real_root):
    root = real_root
    key = root.file(f"/etc/{PKG}/key")
    assert not key.exists()
    assert stat.S_IMODE(root.file(f"/etc/{PKG}").stat().st_mode) == 0o700  # from the package
    r = first_boot(root)
    assert r.stdout.strip() == "rc=0", r
    assert not root.file(f"/etc/uci-defaults/{PKG}").exists()  # done: boot deleted it
    st = key.stat()
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_size > 0
    assert stat.S_IMODE(root.file(f"/etc/{PKG}").stat().st_mode) == 0o700
    key_id = pubkey(root)
    logs = [m for m in root.syslog() if f"{PKG}:" in m]
    assert any(key_id in m for m in logs), logs
    assert not any(key.read_bytes().hex() in m for m in logs)


def test_second_run_changes_nothing(real_root):
    root = real_root
    script = root.file(f"/etc/uci-defaults/{PKG}").read_bytes()
    assert first_boot(root).stdout.strip() == "rc=0"
    key = root.file(f"/etc/{PKG}/key")
    before = (key.read_bytes(), key.stat().st_mtime_ns, key.stat().st_mode, key.stat().st_ino)
    key_id = pubkey(root)
    root.syslog()
    # e.g. the package is installed again: its uci-defaults file runs once more
    root.file(f"/etc/uci-defaults/{PKG}").write_bytes(script)
    assert first_boot(root).stdout.strip() == "rc=0"
    after = (key.read_bytes(), key.stat().st_mtime_ns, key.stat().st_mode, key.stat().st_ino)
    assert after == before
    assert pubkey(root) == key_id
    assert any(key_id in m for m in root.syslog())


def test_key_file_from_the_config(real_root):
    root = real_root
    root.set_options(key_file="/etc/r53/router.key")
    assert first_boot(root).stdout.strip() == "rc=0"
    key = root.file("/etc/r53/router.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(root.file("/etc/r53").stat().st_mode) == 0o700
    assert not root.file(f"/etc/{PKG}/key").exists()


def test_failure_keeps_the_file_for_the_next_boot_and_logs_why(real_root):
    root = real_root
    root.file(f"/etc/{PKG}").rmdir()
    root.file(f"/etc/{PKG}").write_text("not a directory\n")  # the key cannot be created
    r = first_boot(root)
    assert r.stdout.strip() == "rc=1", r
    assert root.file(f"/etc/uci-defaults/{PKG}").exists()
    assert any("could not create the key" in m for m in root.syslog())


# ---------------------------------------------------------------- default config


def test_default_config_passes_check_and_asks_only_for_endpoint_and_host(real_root):
    """`route53-ddns check` on the router right after installation (key made by the
    uci-defaults file): the shipped config is valid as it is (disabled, nothing set up yet),
    and what check asks for is only what the owner alone can know, the endpoint and the
    names. Enabled without them, it is an error; with them set, check passes."""
    root = real_root
    assert first_boot(root).stdout.strip() == "rc=0"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    r = root.run([f"/usr/sbin/{PKG}", "check"], env)
    assert r.returncode == 0, r
    notes = [line for line in r.stdout.splitlines() if "not set up yet" in line]
    assert len(notes) == 2, r
    assert "no endpoint (required)" in notes[0] and "no host sections" in notes[1], r
    assert not [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("error")]
    root.set_options(enabled="1")
    r = root.run([f"/usr/sbin/{PKG}", "check"], env)
    assert r.returncode == 4, r
    assert "error:" in r.stdout and "no endpoint (required)" in r.stdout, r
    root.set_options(enabled="0")
    root.set_options(endpoint="https://ddns.example.com")
    cfg = root.file(f"/etc/config/{PKG}")
    cfg.write_text(cfg.read_text() + "\nconfig host\n\toption name 'home.example.com'\n")
    r = root.run([f"/usr/sbin/{PKG}", "check"], env)
    assert r.returncode == 0, r.stdout + r.stderr


def test_default_config_is_disabled_and_sends_nothing(binary, tmp_path):
    cfg = Path(__file__).resolve().parents[2] / "openwrt" / PKG / "files" / "etc" / "config" / PKG
    env = {"PATH": os.environ["PATH"], "ROUTE53_DDNS_STATE_DIR": str(tmp_path / "state")}
    for args in (["update"], ["update", "--interface", "wan"]):
        r = subprocess.run([str(binary), "--config", str(cfg), *args], capture_output=True, text=True, env=env)
        assert r.returncode == 3, r.stdout + r.stderr  # 3 = nothing to do, no request sent


def test_default_config_matches_the_schema(binary):
    """Every option the default config sets exists in `route53-ddns schema`, with the
    schema's default value: the file documents the defaults, it does not change them."""
    cfg = Path(__file__).resolve().parents[2] / "openwrt" / PKG / "files" / "etc" / "config" / PKG
    schema = json.loads(subprocess.run([str(binary), "schema"], capture_output=True, text=True, check=True).stdout)
    (glob,) = [s for s in schema["sections"] if s["type"] == "global"]
    defaults = {o["name"]: o.get("default") for o in glob["options"]}
    seen = {}
    for line in cfg.read_text().splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "option":
            seen[words[1]] = words[2].strip("'")
    assert seen, "no options in the default config"
    for k, v in seen.items():
        assert k in defaults, f"{k} is not in the schema"
        assert v == defaults[k], f"{k}: config says {v!r}, schema default {defaults[k]!r}"


# ---------------------------------------------------------------- end to end


def _iface(up_v4=None, v6=None):
    return {
        "up": True, "pending": False, "available": True, "autostart": True, "dynamic": False,
        "uptime": 42, "l3_device": "eth1", "proto": "dhcp" if up_v4 else "dhcpv6", "device": "eth1",
        "ipv4-address": [{"address": up_v4, "mask": 24}] if up_v4 else [],
        "ipv6-address": [{"address": v6, "mask": 128, "preferred": 3600, "valid": 7200}] if v6 else [],
        "ipv6-prefix": [], "ipv6-prefix-assignment": [], "route": [], "dns-server": [],
        "dns-search": [], "neighbors": [], "inactive": {}, "data": {},
    }


def test_install_register_enable_and_the_next_ifup_publishes(stack, name, tmp_path, ipk, binary):
    """What the router owner does (issue: "install the ipk, see the key in syslog, and get
    updates on the next ifup"), against the real Lambda (moto as Route53) over HTTPS."""
    root = Root.create(tmp_path / "root", ipk, binary=binary)
    root.listen_syslog()
    try:
        # opkg install: default_postinst runs the package's uci-defaults file
        assert first_boot(root).stdout.strip() == "rc=0"
        logged = [m for m in root.syslog() if "router public key:" in m]
        assert len(logged) == 1, logged
        key_id = re.search(r"router public key: (\S+)", logged[0]).group(1)
        assert key_id == pubkey(root)
        stack.register_key(key_id, [name])

        # the owner configures and enables it
        shutil.copy2(stack.ca_file, root.file(f"/etc/{PKG}/ca.pem"))
        root.set_options(enabled="1", endpoint=stack.https_url, ca_file=f"/etc/{PKG}/ca.pem")
        cfg = root.file(f"/etc/config/{PKG}")
        cfg.write_text(cfg.read_text() + f"\nconfig host\n\toption name '{name}'\n")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        check = root.run([f"/usr/sbin/{PKG}", "check"], env)
        assert check.returncode == 0, check.stdout + check.stderr

        # netifd brings the WAN up
        shutil.copy2(Path(__file__).resolve().parents[1] / "openwrt" / "ubus", root.file("/bin/ubus"))
        netifd = root.file("/tmp/netifd")
        netifd.mkdir()
        (netifd / "wan.json").write_text(json.dumps(_iface(up_v4="192.0.2.10")))
        (netifd / "wan6.json").write_text(json.dumps(_iface(v6="2001:db8:1::10")))
        assert stack.records(name)["A"] == []
        reaped = hotplug(root, hotplug_env("ifup", "wan", "eth1"))
        assert reaped.returned() == 0
        reaped.all_exited()  # the detached update has finished
        rec = stack.records(name)
        assert rec["A"] == ["192.0.2.10"], (rec, root.syslog())
        assert rec["AAAA"] == ["2001:db8:1::10"]
        assert any(PKG in m for m in root.syslog())  # the run logged to syslog

        # wan6 comes up a moment later: nothing changed, nothing is sent
        changes = stack.change_count()
        reaped = hotplug(root, hotplug_env("ifup", "wan6", "eth1"))
        assert reaped.returned() == 0
        reaped.all_exited()
        assert stack.change_count() == changes
    finally:
        root.cleanup()


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
