"""The OpenWrt 25.12+ packages: scripts/package.sh's .apk files (written by scripts/apkv3.py),
read back with an independent reader of the apk v3 format (tests/openwrt/apk_reader.py:
magic, schema, blocks, alignment, sorted paths, data blocks against their sha256) and
compared with the .ipk made from the same tree. With real apk-tools v3 at hand
(R53_APK_TOOL=/path/to/apk), it also dumps and installs them."""

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openwrt"))

from apk_reader import read_apk  # noqa: E402
from openwrt_harness import PKG, REPO, X86_64, build_static, make_packages, makefile_prerm, read_ipk  # noqa: E402

EPOCH = 1767225600
LABELS = {"x86_64": X86_64, "mipsel_24kc": "mipsel-unknown-linux-musl"}


def makefile_var(name: str) -> str:
    for line in (REPO / "openwrt" / PKG / "Makefile").read_text().splitlines():
        if line.strip().startswith(f"{name}:="):
            return line.split(":=", 1)[1].strip()
    raise AssertionError(name)


VERSION = f"{makefile_var('PKG_VERSION')}-r{makefile_var('PKG_RELEASE')}"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    build_static(*LABELS.values())
    d = tmp_path_factory.mktemp("apk")
    old = os.umask(0o077)  # modes in the package must not follow the caller's umask
    try:
        r = make_packages(d, "--arch", ",".join(LABELS), env={**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)})
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture(scope="module")
def apks(out):
    return {label: read_apk(out / f"{PKG}-{VERSION}_{label}.apk") for label in LABELS}


def test_one_apk_per_architecture_named_as_documented(out):
    names = sorted(p.name for p in out.iterdir())
    want = sorted([f"{PKG}-{VERSION}_{label}.apk" for label in LABELS]
                  + [f"{PKG}_{VERSION}_{label}.ipk" for label in LABELS] + ["SHA256SUMS"])
    assert names == want
    sums = dict(reversed(line.split()) for line in (out / "SHA256SUMS").read_text().splitlines())
    for label in LABELS:
        p = out / f"{PKG}-{VERSION}_{label}.apk"
        assert sums[p.name] == hashlib.sha256(p.read_bytes()).hexdigest()
    # README and openwrt/README.md name the files exactly so (openwrt/README.md also names
    # the SDK's own file, which has no _<arch>)
    for doc in ("README.md", "openwrt/README.md"):
        assert f"{PKG}-{VERSION}_mipsel_24kc.apk" in (REPO / doc).read_text(), doc
    assert f"{PKG}-{VERSION}.apk" not in (REPO / "README.md").read_text()


def test_magic_schema_and_package_info(apks):
    for label, a in apks.items():
        assert a.compression == "deflate" and a.schema == b"pckg"
        i = a.info
        assert (i["name"], i["version"], i["arch"]) == (PKG, VERSION, label)
        assert i["depends"] == ["ca-bundle"]
        assert i["license"] == "MIT" and i["origin"] == f"openwrt/{PKG}"
        assert i["url"].startswith("https://") and i["maintainer"]
        assert "Route53" in i["description"] and "\n" not in i["description"]
        regular = [f for f in a.files().values() if "hash" in f]
        assert i["installed-size"] == sum(f["size"] for f in regular)
        # the unique id: SHA-256 of the ADB block with the id zeroed, cut to 20 bytes
        uid = bytes.fromhex(i["hashes"])
        assert len(uid) == 20
        zeroed = a.adb.replace(uid, b"\0" * 20, 1)
        assert hashlib.sha256(zeroed).digest()[:20] == uid


def test_same_tree_modes_and_contents_as_the_ipk(out, apks):
    for label, a in apks.items():
        ipk = read_ipk(out / f"{PKG}_{VERSION}_{label}.ipk")
        files = a.files()
        meta = {p for p in files if p.startswith("lib/apk/packages/")}
        assert meta == {f"lib/apk/packages/{PKG}.{x}" for x in ("list", "conffiles", "conffiles_static")}
        want = {n[2:]: (stat.S_IMODE(m.mode), ipk.data_files[n]) for n, m in ipk.data.items() if m.isfile()}
        got = {p: (f["mode"], f["data"]) for p, f in files.items() if p not in meta}
        assert got == want, label
        dirs = {d["name"]: d["mode"] for d in a.dirs}
        want_dirs = {("" if n == "." else n[2:]): stat.S_IMODE(m.mode) for n, m in ipk.data.items() if m.isdir()}
        assert {k: v for k, v in dirs.items() if not k.startswith("lib/apk")} == want_dirs
        assert dirs[f"etc/{PKG}"] == 0o700 and dirs[""] == 0o755
        assert files[f"etc/config/{PKG}"]["mode"] == 0o600
        for d in a.dirs:
            assert (d["user"], d["group"]) == ("root", "root")
            for f in d["files"]:
                assert (f["user"], f["group"], f["mtime"]) == ("root", "root", EPOCH), f["name"]
        assert files[f"usr/sbin/{PKG}"]["data"] == (REPO / "dist" / "bin" / LABELS[label] / PKG).read_bytes()


def test_conffiles_and_file_list(apks):
    for a in apks.values():
        files = a.files()
        conf = files[f"lib/apk/packages/{PKG}.conffiles"]["data"].decode().split()
        assert conf == [f"/etc/config/{PKG}", f"/etc/{PKG}/key"]
        static = files[f"lib/apk/packages/{PKG}.conffiles_static"]["data"].decode().split()
        assert static == [f"/etc/config/{PKG}", hashlib.sha256(files[f"etc/config/{PKG}"]["data"]).hexdigest()]
        listed = files[f"lib/apk/packages/{PKG}.list"]["data"].decode().split()
        # every file of the package (what default_postinst scans for init scripts and
        # uci-defaults), the metadata directory itself aside
        assert listed == sorted("/" + p for p in files if not p.startswith("lib/apk/packages/"))


def test_maintainer_scripts(apks):
    head = ('#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n'
            '. ${IPKG_INSTROOT}/lib/functions.sh\nexport root="${IPKG_INSTROOT}"\n'
            f'export pkgname="{PKG}"\nadd_group_and_user\ndefault_postinst\n')
    for a in apks.values():
        assert set(a.scripts) == {"post-install", "post-upgrade", "pre-deinstall"}
        assert a.scripts["post-install"].decode() == head
        assert a.scripts["post-upgrade"].decode() == head.replace("#!/bin/sh\n", "#!/bin/sh\nexport PKG_UPGRADE=1\n", 1)
        # default_prerm, then the Makefile's prerm body without its #! line (package-pack.mk)
        body = "".join(line for line in makefile_prerm().splitlines(True) if not line.lstrip().startswith("#!"))
        assert a.scripts["pre-deinstall"].decode().endswith(f'export pkgname="{PKG}"\ndefault_prerm\n' + body)


def test_reproducible(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
    runs = []
    for d in (tmp_path / "a", tmp_path / "b"):
        assert make_packages(d, "--arch", "x86_64", env=env).returncode == 0
        runs.append((d / f"{PKG}-{VERSION}_x86_64.apk").read_bytes())
    assert runs[0] == runs[1]


def test_the_reader_catches_a_corrupted_data_block(out, tmp_path):
    import zlib

    raw = (out / f"{PKG}-{VERSION}_x86_64.apk").read_bytes()
    plain = zlib.decompress(raw[4:], -15)
    i = plain.rfind(b"\x7fELF")  # inside the binary's data block
    bad = plain[:i + 100] + bytes([plain[i + 100] ^ 1]) + plain[i + 101:]
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    (tmp_path / "bad.apk").write_bytes(b"ADBd" + z.compress(bad) + z.flush())
    with pytest.raises(AssertionError, match="sha256"):
        read_apk(tmp_path / "bad.apk")


@pytest.mark.parametrize("info, message", [
    (["version:0.1.0-1"], "package version '0.1.0-1' is invalid"),
    (["version:0.1.0-r1", "name:-x"], "package name '-x' is invalid"),
    (["version:0.1.0-r1", "depends:ca-bundle>=1"], "only plain package names"),
])
def test_writer_refuses_what_apk_would_refuse(tmp_path, info, message):
    (tmp_path / "files").mkdir()
    args = [a for kv in [["--info", "name:x"]] + [["--info", v] for v in info] for a in kv]
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "apkv3.py"), *args, "--files", str(tmp_path / "files"),
                        "--output", str(tmp_path / "x.apk")], capture_output=True, text=True)
    assert r.returncode == 1 and message in r.stderr, r.stderr
    assert not (tmp_path / "x.apk").exists()


APK_TOOL = os.environ.get("R53_APK_TOOL", "")


@pytest.mark.skipif(not APK_TOOL, reason="set R53_APK_TOOL to an apk-tools v3 binary (not in Debian)")
def test_real_apk_tools_dumps_and_installs(out, tmp_path):
    apk = out / f"{PKG}-{VERSION}_x86_64.apk"
    dump = subprocess.run([APK_TOOL, "adbdump", str(apk)], capture_output=True, text=True, timeout=60)
    assert dump.returncode == 0 and f"name: {PKG}" in dump.stdout, dump.stderr
    ca = tmp_path / "ca"
    (ca / "etc").mkdir(parents=True)
    (ca / "etc" / "ca").write_text("x")
    subprocess.run([APK_TOOL, "mkpkg", "--info", "name:ca-bundle", "--info", "version:1-r0", "--info", "arch:noarch",
                    "--files", str(ca), "--output", str(tmp_path / "ca.apk")], check=True, timeout=60)
    root = tmp_path / "root"
    r = subprocess.run([APK_TOOL, "--root", str(root), "--initdb", "add", "--allow-untrusted", "--no-scripts",
                        str(tmp_path / "ca.apk"), str(apk)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert stat.S_IMODE((root / "etc" / PKG).stat().st_mode) == 0o700
    assert (root / "usr" / "sbin" / PKG).read_bytes() == (REPO / "dist" / "bin" / X86_64 / PKG).read_bytes()
