"""scripts/package.sh --luci: the prebuilt LuCI page packages (.ipk for opkg, .apk for apk),
unpacked and checked, and the .ipk's maintainer scripts run as opkg runs them on a live router
(busybox chroot)."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openwrt"))

from apk_reader import read_apk  # noqa: E402
from openwrt_harness import REPO, _busybox, _shared_libs, make_packages, read_ipk  # noqa: E402

APP = REPO / "openwrt" / "luci-app-route53-ddns"
NAME = "luci-app-route53-ddns"
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"


def luci_var(name: str) -> str:
    for line in (APP / "Makefile").read_text().splitlines():
        if line.startswith(f"{name}:="):
            return line.split(":=", 1)[1].strip()
    raise AssertionError(name)


VERSION = f"{luci_var('PKG_VERSION')}-r{luci_var('PKG_RELEASE')}"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("luci")
    old = os.umask(0o077)  # modes in the package must not follow the caller's umask
    try:
        r = make_packages(out, "--luci")
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"{NAME}-{VERSION}_noarch.apk", f"{NAME}_{VERSION}_all.ipk"]
    return out


@pytest.fixture(scope="module")
def ipk(out):
    return read_ipk(out / f"{NAME}_{VERSION}_all.ipk")


def expected_files() -> dict[str, bytes]:
    """What luci.mk installs: htdocs/ under /www, root/ under /."""
    files = {}
    for base, prefix in ((APP / "htdocs", "./www/"), (APP / "root", "./")):
        for p in base.rglob("*"):
            if p.is_file():
                files[prefix + str(p.relative_to(base))] = p.read_bytes()
    return files


def test_layout_and_files_are_the_app_as_luci_mk_installs_it(ipk):
    assert ipk.outer == ["./debian-binary", "./data.tar.gz", "./control.tar.gz"]
    want = expected_files()
    assert "./www/luci-static/resources/view/route53-ddns/status.js" in want
    for module in ("status", "key", "checks"):  # the views' own modules, where luci.js loads them
        assert f"./www/luci-static/resources/route53-ddns/{module}.js" in want
    assert "./usr/share/rpcd/acl.d/luci-app-route53-ddns.json" in want
    got = {n: b for n, b in ipk.data_files.items() if ipk.data[n].isfile()}
    assert got == want
    for name, info in ipk.data.items():
        assert (info.uid, info.gid) == (0, 0), name
        want_mode = 0o755 if info.isdir() else 0o644
        assert stat.S_IMODE(info.mode) == want_mode, (name, oct(info.mode))


def test_control_fields(ipk):
    fields = ipk.control_fields()
    assert fields["Package"] == NAME
    assert fields["Architecture"] == "all"
    # the page's own version, URL and maintainer (its Makefile), not the binary package's
    assert fields["Version"] == VERSION
    assert fields["URL"] == luci_var("LUCI_URL") and fields["URL"].endswith("/openwrt/luci-app-route53-ddns")
    assert fields["Maintainer"] == luci_var("LUCI_MAINTAINER")
    deps = [d.strip() for d in fields["Depends"].split(",")]
    assert deps == ["luci-base", "route53-ddns"]
    assert fields["Section"] == "luci"
    assert "public key" in fields["Description"]
    assert "./conffiles" not in ipk.control_files  # nothing to keep: the page has no config


def test_apk_is_noarch_with_the_same_files_and_luci_mk_postinst(out, ipk):
    a = read_apk(out / f"{NAME}-{VERSION}_noarch.apk")
    assert (a.info["name"], a.info["version"], a.info["arch"]) == (NAME, VERSION, "noarch")
    assert a.info["depends"] == ["luci-base", "route53-ddns"]
    assert a.info["url"] == luci_var("LUCI_URL") and a.info["maintainer"] == luci_var("LUCI_MAINTAINER")
    files = {p: f for p, f in a.files().items() if not p.startswith("lib/apk/packages/")}
    assert {"./" + p: f["data"] for p, f in files.items()} == {n: b for n, b in ipk.data_files.items()}
    assert all(f["mode"] == 0o644 for f in files.values())
    assert {p for p in a.files() if p.startswith("lib/apk/packages/")} == {f"lib/apk/packages/{NAME}.list"}
    post = a.scripts["post-install"].decode()
    assert post.startswith("#!/bin/sh\n") and "default_postinst\n" in post
    assert post.endswith(ipk.control_files["./postinst-pkg"].decode())  # luci.mk's cache clean-up, rpcd reload
    assert "export PKG_UPGRADE=1\n" in a.scripts["post-upgrade"].decode()


def _chroot(tmp_path: Path, ipk) -> Path:
    """A busybox root with the package's control scripts and a stand-in functions.sh and
    rpcd init script that record what they were asked to do."""
    root = tmp_path / "root"
    for d in ("bin", "lib", "dev", "etc/init.d", "tmp/luci-modulecache"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.mknod(root / "dev" / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    bb = _busybox()
    shutil.copy2(bb, root / "bin" / "busybox")
    for lib in _shared_libs(bb):  # Debian's busybox is dynamically linked
        dest = root / str(lib).lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(lib, dest)
    for applet in ("sh", "rm", "echo"):
        (root / "bin" / applet).symlink_to("busybox")
    # default_postinst sources the package's postinst-pkg (lib/functions.sh, trimmed to that)
    (root / "lib" / "functions.sh").write_text(
        'default_postinst() { [ -f "${0%/*}/postinst-pkg" ] && . "${0%/*}/postinst-pkg"; return 0; }\n'
    )
    (root / "etc" / "init.d" / "rpcd").write_text("#!/bin/sh\necho \"rpcd $1\" >> /tmp/rpcd.log\n")
    (root / "etc" / "init.d" / "rpcd").chmod(0o755)
    (root / "tmp" / "luci-indexcache.1").write_text("stale")
    (root / "tmp" / "luci-modulecache" / "x").write_text("stale")
    ctl = root / "ctl"
    ctl.mkdir()
    for name in ("./postinst", "./postinst-pkg"):
        f = ctl / name[2:]
        f.write_bytes(ipk.control_files[name])
        f.chmod(0o755)
    return root


def test_postinst_on_a_live_router_clears_luci_caches_and_reloads_rpcd(ipk, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root for chroot")
    root = _chroot(tmp_path, ipk)
    r = subprocess.run([CHROOT, str(root), "/bin/sh", "/ctl/postinst"], env={"PATH": "/bin"},
                       capture_output=True, text=True)
    assert r.returncode == 0, r
    assert not (root / "tmp" / "luci-indexcache.1").exists()
    assert not (root / "tmp" / "luci-modulecache").exists()
    assert (root / "tmp" / "rpcd.log").read_text() == "rpcd reload\n"


def test_postinst_in_an_image_build_touches_nothing(ipk, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root for chroot")
    root = _chroot(tmp_path, ipk)
    r = subprocess.run([CHROOT, str(root), "/bin/sh", "/ctl/postinst"],
                       env={"PATH": "/bin", "IPKG_INSTROOT": "/"}, capture_output=True, text=True)
    assert r.returncode == 0, r
    assert (root / "tmp" / "luci-indexcache.1").exists()
    assert not (root / "tmp" / "rpcd.log").exists()
