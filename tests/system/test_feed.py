"""The signed package feed (scripts/feed.py), read back by an independent reader
(tests/openwrt/feed_reader.py) that checks every signature and every package hash as opkg with
usign and apk-tools 3 would; tampering with any of them is caught; the feed owner's keys stay
private. Real opkg/usign/apk-tools runs are by hand (docs/building.md): none is in Debian.
"""

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openwrt"))
from feed_reader import read_apk_dir, read_opkg_dir, usign_fingerprint  # noqa: E402
from openwrt_harness import PKG, REPO, build_static_x86_64, make_packages, read_ipk  # noqa: E402

FEED = REPO / "scripts" / "feed.py"
LUCI = "luci-app-route53-ddns"
# Two labels served by the one x86_64 binary: enough to show one directory per architecture,
# each with the arch-independent LuCI package too.
ARCHES = ["x86_64", "x86_64_second"]


def feed_py(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(FEED), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def keygen(d: Path) -> Path:
    r = feed_py("keygen", str(d))
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    build_static_x86_64()
    out = tmp_path_factory.mktemp("packages")
    for args in (["--arch", "x86_64,x86_64_second=x86_64-unknown-linux-musl"], ["--luci"]):
        r = make_packages(out, *args)
        assert r.returncode == 0, r.stderr
    (out / "SHA256SUMS").unlink()
    return out


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return keygen(tmp_path_factory.mktemp("owner") / "keys")


@pytest.fixture(scope="module")
def feed(packages, keys, tmp_path_factory):
    out = tmp_path_factory.mktemp("served") / "feed"
    r = feed_py("build", "--packages", str(packages), "--out", str(out), env={"R53_FEED_KEYS": str(keys)})
    assert r.returncode == 0, r.stderr
    return out


def versions(packages: Path) -> dict:
    return {read_ipk(p).control_fields()["Package"]: read_ipk(p).control_fields()["Version"]
            for p in packages.glob("*.ipk")}


def test_layout_one_directory_per_architecture_with_both_indexes_and_keys(feed, packages):
    v = versions(packages)
    for arch in ARCHES:
        assert sorted(p.name for p in (feed / "opkg" / arch).iterdir()) == sorted(
            ["Packages", "Packages.gz", "Packages.sig", f"{PKG}_{v[PKG]}_{arch}.ipk", f"{LUCI}_{v[LUCI]}_all.ipk"])
        assert sorted(p.name for p in (feed / "apk" / arch).iterdir()) == sorted(
            ["packages.adb", f"{PKG}-{v[PKG]}.apk", f"{LUCI}-{v[LUCI]}.apk"])
    assert sorted(p.name for p in feed.iterdir()) == ["apk", "opkg", "route53-ddns-feed.pem", "route53-ddns-feed.pub"]
    assert sorted(p.name for p in (feed / "opkg").iterdir()) == ARCHES


@pytest.mark.parametrize("arch", ARCHES)
def test_opkg_index_signed_and_every_package_hash_matches(feed, packages, arch):
    d = feed / "opkg" / arch
    entries = read_opkg_dir(d, feed / "route53-ddns-feed.pub")
    assert [e["Package"] for e in entries.entries] == [LUCI, PKG]
    for e in entries.entries:
        ipk = read_ipk(d / e["Filename"])
        fields = ipk.control_fields()
        # The stanza is the package's own control file plus where and what the file is.
        assert {k: v.strip() for k, v in e.items() if k not in ("Filename", "Size", "SHA256sum")} == fields
        assert (d / e["Filename"]).read_bytes() == (packages / e["Filename"]).read_bytes()


@pytest.mark.parametrize("arch", ARCHES)
def test_apk_index_signed_and_every_package_identity_and_data_hash_matches(feed, packages, arch):
    pkgs = read_apk_dir(feed / "apk" / arch, feed / "route53-ddns-feed.pem")
    assert [(p["name"], p["arch"]) for p in pkgs] == [(LUCI, "noarch"), (PKG, arch)]
    assert pkgs[1]["depends"] == ["ca-bundle"] and pkgs[0]["depends"] == ["luci-base", PKG]


def flip(path: Path, offset: int) -> None:
    b = bytearray(path.read_bytes())
    b[offset] ^= 0x01
    path.write_bytes(bytes(b))


def flip_inside_apk(path: Path, needle: bytes) -> None:
    """Change one byte of an apk's uncompressed content (found by `needle`), then pack it
    again, so only the check of that content can catch it (not a broken deflate stream)."""
    z = zlib.decompressobj(-15)
    plain = bytearray(z.decompress(path.read_bytes()[4:]) + z.flush())
    i = plain.index(needle)
    plain[i] ^= 0x01
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    path.write_bytes(b"ADBd" + c.compress(bytes(plain)) + c.flush())


# What is changed, and the check that must catch it (the reader's message).
TAMPER = {
    "Packages": "Packages.sig: signature does not verify",
    "ipk": "SHA256sum",
    "Packages.sig": "Packages.sig: signature does not verify",
    "packages.adb": "packages.adb: signature does not verify",
    "apk data": "sha256",
    "apk metadata": "identity",
}


@pytest.mark.parametrize("what", list(TAMPER))
def test_tampering_is_caught(feed, tmp_path, what):
    copy = tmp_path / "feed"
    shutil.copytree(feed, copy)
    o, a = copy / "opkg" / "x86_64", copy / "apk" / "x86_64"
    apk = next(a.glob(f"{PKG}-*.apk"))
    if what == "apk data":
        flip_inside_apk(apk, b"config global 'global'")  # the default config: a DATA block
    elif what == "apk metadata":
        flip_inside_apk(apk, b"default_postinst")  # the post-install script, in the ADB block
    elif what == "Packages.sig":
        lines = (o / "Packages.sig").read_bytes().split(b"\n")
        sig = bytearray(base64.b64decode(lines[1]))
        sig[-5] ^= 0x01  # a byte of the Ed25519 signature itself
        (o / "Packages.sig").write_bytes(b"\n".join([lines[0], base64.b64encode(sig), *lines[2:]]))
    elif what == "packages.adb":
        index = a / "packages.adb"
        flip(index, index.read_bytes().index(b"route53-ddns feed") + 3)  # the index's description
    else:
        target, offset = {
            "Packages": (o / "Packages", 20),             # a byte of the first stanza
            "ipk": (next(o.glob(f"{PKG}_*.ipk")), -100),  # a byte of the package
        }[what]
        flip(target, offset if offset >= 0 else target.stat().st_size + offset)
    with pytest.raises(AssertionError, match=TAMPER[what]):
        if what in ("Packages", "ipk", "Packages.sig"):
            read_opkg_dir(o, copy / "route53-ddns-feed.pub")
        else:
            read_apk_dir(a, copy / "route53-ddns-feed.pem")


def test_a_feed_signed_by_another_key_is_refused(packages, feed, tmp_path):
    other = tmp_path / "other"
    r = feed_py("build", "--keys", str(keygen(tmp_path / "k2")), "--packages", str(packages), "--out", str(other))
    assert r.returncode == 0, r.stderr
    with pytest.raises(AssertionError, match="made by key"):
        read_opkg_dir(other / "opkg" / "x86_64", feed / "route53-ddns-feed.pub")
    with pytest.raises(AssertionError, match="no signature by this key"):
        read_apk_dir(other / "apk" / "x86_64", feed / "route53-ddns-feed.pem")
    assert usign_fingerprint(other / "route53-ddns-feed.pub") != usign_fingerprint(feed / "route53-ddns-feed.pub")
    # The fingerprint (the key's name in /etc/opkg/keys/) is derived from the key, as documented.
    pub = base64.b64decode((feed / "route53-ddns-feed.pub").read_text().split("\n")[1])
    assert usign_fingerprint(feed / "route53-ddns-feed.pub") == hashlib.sha512(pub[10:]).digest()[:8].hex()


def test_keys_are_private_never_overwritten_and_never_in_the_feed(keys, feed, packages, tmp_path):
    assert keys.stat().st_mode & 0o777 == 0o700
    for k in ("usign.key", "apk.key"):
        assert (keys / k).stat().st_mode & 0o777 == 0o600
    before = (keys / "usign.key").read_bytes()
    r = feed_py("keygen", str(keys))
    assert r.returncode != 0 and "not overwritten" in r.stderr
    assert (keys / "usign.key").read_bytes() == before
    secrets = []
    for k in ("usign.key", "apk.key"):
        key = serialization.load_pem_private_key((keys / k).read_bytes(), None)
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        secrets.append(der[-32:])  # the raw Ed25519 seed / the tail of the EC key structure
    secrets.append(key.private_numbers().private_value.to_bytes(32, "big"))
    for f in feed.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"PRIVATE KEY" not in data and not any(s in data for s in secrets), f
            assert f.stat().st_mode & 0o777 == 0o644


def test_a_key_others_can_read_is_refused_and_the_served_feed_is_left_alone(packages, keys, tmp_path):
    loose = keygen(tmp_path / "loose")
    out = tmp_path / "feed"
    assert feed_py("build", "--keys", str(loose), "--packages", str(packages), "--out", str(out)).returncode == 0
    served = (out / "opkg" / "x86_64" / "Packages.sig").read_bytes()
    (loose / "apk.key").chmod(0o640)
    r = feed_py("build", "--keys", str(loose), "--packages", str(packages), "--out", str(out))
    assert r.returncode != 0 and "readable by group or others" in r.stderr
    assert (out / "opkg" / "x86_64" / "Packages.sig").read_bytes() == served


def test_a_failure_while_signing_leaves_the_served_feed_alone(packages, keys, feed, tmp_path):
    """openssl fails on the apk index's signature, after the opkg directories are written."""
    out = tmp_path / "feed"
    shutil.copytree(feed, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "openssl").write_text(f'#!/bin/sh\n[ "$1" = dgst ] && exit 1\nexec {shutil.which("openssl")} "$@"\n')
    (bin_dir / "openssl").chmod(0o755)
    r = feed_py("build", "--keys", str(keys), "--packages", str(packages), "--out", str(out),
                env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert r.returncode != 0 and "openssl dgst failed" in r.stderr
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "feed"]


def test_wrong_key_type_or_no_keys_is_refused(packages, keys, tmp_path):
    swapped = tmp_path / "swapped"
    swapped.mkdir(mode=0o700)
    for a, b in (("usign.key", "apk.key"), ("apk.key", "usign.key")):
        (swapped / a).write_bytes((keys / b).read_bytes())
        (swapped / a).chmod(0o600)
    r = feed_py("build", "--keys", str(swapped), "--packages", str(packages), "--out", str(tmp_path / "f"))
    assert r.returncode != 0 and "not an Ed25519 key" in r.stderr
    env = {k: v for k, v in os.environ.items() if k != "R53_FEED_KEYS"}
    r = subprocess.run([sys.executable, str(FEED), "build", "--packages", str(packages), "--out", str(tmp_path / "f")],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode != 0 and "R53_FEED_KEYS" in r.stderr
    assert not (tmp_path / "f").exists()
