"""The package installed in a chroot, for the tests of its OpenWrt scripts
(test_openwrt_hotplug.py, test_openwrt_init.py, test_openwrt_install.py): busybox sh
(OpenWrt's ash) in a chroot holding the package as its .ipk installs it (Root, in
tests/openwrt/openwrt_harness.py), and the fixtures those modules import:

- `binary`, `ipk`: the real static x86_64 binary and its .ipk (one per module);
- `standin_root`: the package with a recording stand-in as the updater, enabled;
- `real_root`: the package as installed, real binary, default config, syslog socket;
- `hotplug()`: netifd's call of the iface hotplug scripts; `INIT`: the init script, and
  `procd_calls()`: what it asks procd for.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openwrt"))

from openwrt_harness import PKG, Root, build_static_x86_64, make_packages  # noqa: E402

INIT = f"/etc/init.d/{PKG}"


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


def procd_calls(root: Root, action: str) -> list[list[str]]:
    log = root.file("/tmp/procd.log")
    if log.exists():
        log.unlink()
    reaped = root.run_reaped(["/sbin/rc-procd", INIT, action], {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert reaped.returned() == 0, reaped.err.read_text()
    reaped.all_exited()  # no resident loop: nothing of the script is left running
    return [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
