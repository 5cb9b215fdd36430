"""scripts/package.sh: the .ipk files it makes, unpacked and checked.

Every package made from the static binaries in dist/bin is checked: x86_64, mipsel and
armv7 are built here (the targets test_static.py builds in CI too, so cargo does the work
once), aarch64 and mips when scripts/build-static.sh made them. Checked: OpenWrt's ipk
layout, paths and modes (key directory 0700, scripts executable), control fields,
conffiles, the maintainer scripts OpenWrt's build writes, and that the binary inside is
the static build for that architecture (`file`); each one runs (`--version`, under
qemu-user for the foreign CPUs).
"""

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openwrt"))

from openwrt_harness import (  # noqa: E402
    PKG,
    REPO,
    X86_64,
    build_static,
    build_static_x86_64,
    gunzip_size,
    make_packages,
    makefile_prerm,
    read_ipk,
)

FILES = REPO / "openwrt" / PKG / "files"
EPOCH = "1767225600"  # 2026-01-01

# What `file` says of a static binary for each Rust target.
FILE_SAYS = {
    "x86_64-unknown-linux-musl": "ELF 64-bit LSB executable, x86-64",
    "aarch64-unknown-linux-musl": "ELF 64-bit LSB executable, ARM aarch64",
    "armv7-unknown-linux-musleabihf": "ELF 32-bit LSB executable, ARM, EABI5",
    "mipsel-unknown-linux-musl": "ELF 32-bit LSB executable, MIPS, MIPS32 rel2",
    "mips-unknown-linux-musl": "ELF 32-bit MSB executable, MIPS, MIPS32 rel2",
}
# Label -> target, as documented in openwrt/README.md.
LABELS = {
    "x86_64": "x86_64-unknown-linux-musl",
    "aarch64_generic": "aarch64-unknown-linux-musl",
    "aarch64_cortex-a53": "aarch64-unknown-linux-musl",
    "aarch64_cortex-a72": "aarch64-unknown-linux-musl",
    "arm_cortex-a7_neon-vfpv4": "armv7-unknown-linux-musleabihf",
    "arm_cortex-a9_vfpv3-d16": "armv7-unknown-linux-musleabihf",
    "arm_cortex-a15_neon-vfpv4": "armv7-unknown-linux-musleabihf",
    "mipsel_24kc": "mipsel-unknown-linux-musl",
    "mips_24kc": "mips-unknown-linux-musl",
}


def cargo_version() -> str:
    return tomllib.loads((REPO / "Cargo.toml").read_text())["workspace"]["package"]["version"]


def makefile_var(name: str) -> str:
    m = re.search(rf"^\s*{name}:=(.*)$", (REPO / "openwrt" / PKG / "Makefile").read_text(), re.M)
    assert m, name
    return m.group(1).strip()


VERSION = f"{makefile_var('PKG_VERSION')}-r{makefile_var('PKG_RELEASE')}"


def label_of(p: Path) -> str:
    prefix = f"{PKG}_{VERSION}_"
    assert p.name.startswith(prefix) and p.name.endswith(".ipk"), p.name
    return p.name[len(prefix) : -len(".ipk")]


# How each Rust target's binary is run here.
RUN_WITH = {
    "x86_64-unknown-linux-musl": [],
    "aarch64-unknown-linux-musl": ["qemu-aarch64-static"],
    "armv7-unknown-linux-musleabihf": ["qemu-arm-static"],
    "mipsel-unknown-linux-musl": ["qemu-mipsel-static"],
    "mips-unknown-linux-musl": ["qemu-mips-static"],
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """The default set of packages, made under a tight umask (modes must not follow it)."""
    build_static(X86_64, "mipsel-unknown-linux-musl", "armv7-unknown-linux-musleabihf")
    out = tmp_path_factory.mktemp("packages")
    old = os.umask(0o077)
    try:
        r = make_packages(out, "--no-apk", env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    ipks = sorted(out.glob("*.ipk"))
    labels = {label_of(p) for p in ipks}
    expected = {label for label, t in LABELS.items() if (REPO / "dist" / "bin" / t / PKG).is_file()}
    assert labels == expected and "x86_64" in labels, (labels, expected)
    return {label_of(p): read_ipk(p) for p in ipks}


def test_versions_agree():
    assert makefile_var("PKG_VERSION") == cargo_version()


def test_file_names_and_outer_layout(packages):
    for label, ipk in packages.items():
        assert ipk.path.name == f"{PKG}_{VERSION}_{label}.ipk"
        assert ipk.path.read_bytes()[:2] == b"\x1f\x8b"  # gzip'd tar, not Debian's ar
        assert ipk.outer == ["./debian-binary", "./data.tar.gz", "./control.tar.gz"]
        assert ipk.debian_binary == b"2.0\n"


def test_paths_modes_and_owners(packages):
    want_files = {
        f"./usr/sbin/{PKG}": 0o755,
        f"./etc/config/{PKG}": 0o600,
        f"./etc/init.d/{PKG}": 0o755,
        f"./etc/hotplug.d/iface/95-{PKG}": 0o755,
        f"./etc/hotplug.d/ntp/95-{PKG}": 0o755,
        f"./etc/uci-defaults/{PKG}": 0o755,
        f"./lib/upgrade/keep.d/{PKG}": 0o644,
    }
    for label, ipk in packages.items():
        files = {n: stat.S_IMODE(m.mode) for n, m in ipk.data.items() if m.isfile()}
        assert files == want_files, label
        dirs = {n: stat.S_IMODE(m.mode) for n, m in ipk.data.items() if m.isdir()}
        assert dirs.pop(f"./etc/{PKG}") == 0o700  # the key's directory
        assert dirs["."] == 0o755  # opkg would apply the mode of "./" to / on the router
        assert set(dirs.values()) == {0o755}
        assert {"./etc/hotplug.d/iface", "./lib/upgrade/keep.d", "./usr/sbin"} <= set(dirs)
        assert all(m.uid == 0 and m.gid == 0 for m in ipk.data.values())
        assert not [n for n, m in ipk.data.items() if not (m.isfile() or m.isdir())]


def test_shipped_files_are_the_repository_files(packages):
    for ipk in packages.values():
        for rel in (f"etc/config/{PKG}", f"etc/init.d/{PKG}", f"etc/hotplug.d/iface/95-{PKG}",
                    f"etc/hotplug.d/ntp/95-{PKG}", f"etc/uci-defaults/{PKG}"):
            assert ipk.data_files[f"./{rel}"] == (FILES / rel).read_bytes(), rel


def test_control_fields(packages):
    for label, ipk in packages.items():
        f = ipk.control_fields()
        assert f["Package"] == PKG
        assert f["Version"] == VERSION
        assert f["Architecture"] == label
        assert f["Depends"] == "ca-bundle"
        assert f["Installed-Size"] == str(gunzip_size(ipk.data_tar_gz))
        assert f["License"] == "MIT"
        assert f["Section"] == "net"
        assert f["SourceDateEpoch"] == EPOCH
        assert f["Maintainer"] and f["URL"].startswith("https://")
        assert "Route53" in f["Description"] and "\n " in f["Description"]
        assert list(f)[:2] == ["Package", "Version"] and list(f)[-1] == "Description"
        m = ipk.control["./control"]
        assert stat.S_IMODE(m.mode) == 0o644


def test_maintainer_scripts_and_conffiles(packages):
    postinst = (
        "#!/bin/sh\n"
        '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n'
        "[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n"
        ". ${IPKG_INSTROOT}/lib/functions.sh\n"
        "default_postinst $0 $@\n"
    )
    prerm = (
        "#!/bin/sh\n"
        "[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n"
        ". ${IPKG_INSTROOT}/lib/functions.sh\n"
        "default_prerm $0 $@\n"
    )
    for ipk in packages.values():
        assert set(ipk.control_files) == {"./control", "./postinst", "./prerm", "./prerm-pkg", "./conffiles"}
        assert ipk.control_files["./postinst"].decode() == postinst
        assert ipk.control_files["./prerm"].decode() == prerm
        # the Makefile's Package/.../prerm, as the SDK writes it (default_prerm sources it)
        assert ipk.control_files["./prerm-pkg"].decode() == makefile_prerm()
        for s in ("./postinst", "./prerm", "./prerm-pkg"):
            assert stat.S_IMODE(ipk.control[s].mode) == 0o755
        # conffiles resolved against the package (the key is made on the router) ...
        assert ipk.control_files["./conffiles"] == f"/etc/config/{PKG}\n".encode()
        # ... and what is not in the package is kept over sysupgrade through keep.d
        keep = ipk.data_files[f"./lib/upgrade/keep.d/{PKG}"].decode().split("\n")
        assert f"/etc/config/{PKG}" in keep and f"/etc/{PKG}/key" in keep


def test_binary_is_the_static_build_for_its_architecture(packages, tmp_path):
    for label, ipk in packages.items():
        target = LABELS[label]
        inside = ipk.data_files[f"./usr/sbin/{PKG}"]
        built = (REPO / "dist" / "bin" / target / PKG).read_bytes()
        assert hashlib.sha256(inside).digest() == hashlib.sha256(built).digest(), label
        f = tmp_path / label
        f.write_bytes(inside)
        says = subprocess.run(["file", "-b", str(f)], capture_output=True, text=True, check=True).stdout
        assert says.startswith(FILE_SAYS[target]), (label, says)
        assert "statically linked" in says or "static-pie linked" in says, (label, says)


def test_each_packaged_binary_runs(packages, tmp_path):
    for label, ipk in packages.items():
        f = tmp_path / label
        f.write_bytes(ipk.data_files[f"./usr/sbin/{PKG}"])
        f.chmod(0o755)
        r = subprocess.run([*RUN_WITH[LABELS[label]], str(f), "--version"], capture_output=True, text=True, env={})
        assert r.returncode == 0 and cargo_version() in r.stdout, (label, r)


def test_reproducible(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        r = make_packages(out, "--arch", "x86_64", "--no-apk", env=env)
        assert r.returncode == 0, r.stderr
    (pa,), (pb,) = a.glob("*.ipk"), b.glob("*.ipk")
    assert pa.read_bytes() == pb.read_bytes()
    sums = (a / "SHA256SUMS").read_text().split()
    assert sums == [hashlib.sha256(pa.read_bytes()).hexdigest(), pa.name]


def test_any_label_for_a_known_target(tmp_path):
    r = make_packages(tmp_path, "--arch", "x86_64,my_x86=x86_64-unknown-linux-musl", "--no-apk")
    assert r.returncode == 0, r.stderr
    a = read_ipk(tmp_path / f"{PKG}_{VERSION}_x86_64.ipk")
    b = read_ipk(tmp_path / f"{PKG}_{VERSION}_my_x86.ipk")
    assert b.control_fields()["Architecture"] == "my_x86"
    assert a.data_files == b.data_files


def _fake_bin_dir(tmp_path: Path, target: str, binary: Path) -> Path:
    d = tmp_path / "bin"
    (d / target).mkdir(parents=True)
    shutil.copy2(binary, d / target / PKG)
    return d


@pytest.mark.parametrize(
    "args, message",
    [
        (["--arch", "sparc_v9"], "unknown architecture 'sparc_v9'"),
        (["--arch", "mips_24kc", "--bin-dir", "/nonexistent"], "no binary for mips_24kc"),
        (["--arch", "bad/label=x86_64-unknown-linux-musl"], "bad architecture label"),
        (["--bogus"], "unknown argument"),
    ],
)
def test_refuses_bad_requests(tmp_path, args, message):
    r = make_packages(tmp_path / "out", *args, "--no-apk")
    assert r.returncode != 0
    assert message in r.stderr
    assert not list(tmp_path.glob("out/*.ipk"))


def test_refuses_a_dynamic_binary(tmp_path):
    d = _fake_bin_dir(tmp_path, X86_64, Path(shutil.which("busybox")))
    r = make_packages(tmp_path / "out", "--arch", "x86_64", "--bin-dir", str(d), "--no-apk")
    assert r.returncode != 0 and "not statically linked" in r.stderr


def test_refuses_a_binary_for_another_cpu(tmp_path):
    x86 = build_static_x86_64()
    d = _fake_bin_dir(tmp_path, "mipsel-unknown-linux-musl", x86)
    r = make_packages(tmp_path / "out", "--arch", "mipsel_24kc", "--bin-dir", str(d), "--no-apk")
    assert r.returncode != 0 and "not an ELF executable for mipsel-unknown-linux-musl" in r.stderr


# ---------------------------------------------------------------- the feed Makefile


def test_feed_makefile_under_make_installs_what_the_ipk_holds(packages, tmp_path):
    """GNU make evaluates openwrt/route53-ddns/Makefile with stand-ins for the SDK's
    rules.mk, package.mk and rust-package.mk (tests/openwrt/sdk-stub): its variables are
    the feed conventions, Build/Prepare copies a buildable Cargo workspace, and its install
    section makes the same tree, modes included, as the prebuilt .ipk."""
    stub = REPO / "tests" / "openwrt" / "sdk-stub"
    out = tmp_path / "stub"
    r = subprocess.run(
        ["make", "-s", "-C", str(REPO / "openwrt" / PKG), f"TOPDIR={stub}", f"INCLUDE_DIR={stub}/include",
         f"STUB_OUT={out}", f"STUB_BIN={REPO / 'dist' / 'bin' / X86_64 / PKG}"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    v = dict(line.split("=", 1) for line in (out / "vars").read_text().splitlines())
    assert v["PKG_NAME"] == PKG and v["PKG_VERSION"] == cargo_version()
    assert v["PKG_BUILD_DEPENDS"] == "rust/host"
    assert v["RUST_BIN_PACKAGE"] == PKG
    assert v["DEPENDS"].split() == ["@(aarch64||arm||mips||mipsel||x86_64)", "+ca-bundle"]
    assert v["CONFFILES"].split() == [f"/etc/config/{PKG}", f"/etc/{PKG}/key"]
    assert v["PKG_LICENSE"] == "MIT"

    built = out / "build" / f"{PKG}-{v['PKG_VERSION']}"
    for f in ("Cargo.toml", "Cargo.lock", "src/main.rs", "protocol/Cargo.toml", "lambda/Cargo.toml"):
        assert (built / f).is_file(), f
    for d in (".git", "target", "build", "dist", "tests"):
        assert not (built / d).exists(), d

    tree = {}
    for p in sorted((out / "ipkg").rglob("*")):
        rel = "./" + str(p.relative_to(out / "ipkg"))
        tree[rel] = (p.is_dir(), stat.S_IMODE(p.stat().st_mode))
    ipk = packages["x86_64"]
    from_ipk = {n: (m.isdir(), stat.S_IMODE(m.mode)) for n, m in ipk.data.items() if n != "."}
    assert tree == from_ipk
    for rel, content in ipk.data_files.items():
        if rel != f"./lib/upgrade/keep.d/{PKG}":  # the SDK appends the key there too
            assert (out / "ipkg" / rel).read_bytes() == content, rel


# ---------------------------------------------------------------- architecture labels


def test_every_known_label_names_the_openwrt_target_that_produces_it():
    text = (REPO / "scripts" / "package.sh").read_text()
    table = text[text.index("KNOWN_ARCHES=(") : text.index("\n)\n", text.index("KNOWN_ARCHES=("))]
    rows = [line.strip() for line in table.splitlines()[1:] if line.strip()]
    assert len(rows) >= 10
    for row in rows:
        m = re.fullmatch(r"([a-z0-9_.+-]+)=([a-z0-9_-]+)\s+# ([a-z0-9]+(/[a-z0-9_.-]+)?)\b.*", row)
        assert m, f"label without its OpenWrt target: {row}"
        assert m.group(2) in FILE_SAYS, row
    labels = {row.split("=")[0] for row in rows}
    assert set(LABELS) <= labels
    assert "mipsel_1004kc" not in labels  # MT7621 targets are mipsel_24kc (ramips/mt7621: CPU_TYPE:=24kc)


def test_a_label_no_target_produces_is_refused(tmp_path):
    r = make_packages(tmp_path, "--arch", "mipsel_1004kc", "--no-apk")
    assert r.returncode != 0 and "unknown architecture 'mipsel_1004kc'" in r.stderr
