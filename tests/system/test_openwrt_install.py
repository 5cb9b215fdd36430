"""Installing the package on a router (see openwrt_root.py), as its .ipk installs it.

- uci-defaults: the first run creates a 0600 key (real binary) and logs the public key
  to syslog (or, at first boot of an image, before logd runs, leaves it for the service's
  first start to log); a second run changes nothing.
- the default config: accepted by the real binary's `check`, disabled, in line with
  `route53-ddns schema`.
- end to end: install, register the logged key, enable, and the next ifup publishes
  through the real Lambda.

The real static binary is used for keygen, pubkey and check.
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

from openwrt_harness import PKG, Root, hotplug_env  # noqa: E402
from openwrt_root import binary, hotplug, ipk, procd_calls, real_root  # noqa: E402,F401 (fixtures)

if os.geteuid() != 0:  # CI and the developers' machines run as root
    pytest.skip("needs root for chroot", allow_module_level=True)


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
    root.set_options(key_file=f"/etc/{PKG}/keys/router.key")
    assert first_boot(root).stdout.strip() == "rc=0"
    key = root.file(f"/etc/{PKG}/keys/router.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(root.file(f"/etc/{PKG}/keys").stat().st_mode) == 0o700
    assert not root.file(f"/etc/{PKG}/key").exists()


@pytest.mark.parametrize("elsewhere", ["/etc/r53/router.key", f"/etc/{PKG}/../r53/router.key"])
def test_a_key_file_outside_the_package_directory_is_not_used(real_root, elsewhere):
    """A LuCI user may write the config: a key_file elsewhere (an uploaded file, say) is
    neither created nor used; the key stays in /etc/route53-ddns/, and `update` refuses
    the config."""
    root = real_root
    root.set_options(key_file=elsewhere)
    assert first_boot(root).stdout.strip() == "rc=0"
    assert not root.file("/etc/r53").exists()
    assert stat.S_IMODE(root.file(f"/etc/{PKG}/key").stat().st_mode) == 0o600
    assert len(pubkey(root)) == 43
    r = root.run([f"/usr/sbin/{PKG}", "check"], {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert r.returncode != 0 and f"key_file must name a file inside /etc/{PKG}/" in r.stdout, r


def test_first_boot_before_logd_leaves_the_key_for_the_first_service_start(real_root):
    """In a firmware image, uci-defaults run from S10boot and logd starts at S12log: a
    line logged then reaches nobody. The service's first start (S95) logs the key id,
    once."""
    root = real_root
    root.file("/dev/log").unlink()  # no logd yet
    assert first_boot(root).stdout.strip() == "rc=0"
    key_id = pubkey(root)
    root.listen_syslog()  # logd is up
    procd_calls(root, "boot")
    logged = [m for m in root.syslog() if f"router public key: {key_id}" in m]
    assert len(logged) == 1, logged
    procd_calls(root, "start")
    assert not any(key_id in m for m in root.syslog())


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
