#!/usr/bin/env python3
"""Makes the signed package feed: a static directory that routers install from by name.

    scripts/feed.py keygen KEYDIR              # once: the feed owner's two signing keys
    scripts/feed.py build --keys KEYDIR [--packages dist/packages] [--out dist/feed]
    R53_FEED_KEYS=KEYDIR scripts/feed.py build # the same, the key directory from the environment

The output, to serve from any static host (S3 website, GitHub Pages, a NAS):

    route53-ddns-feed.pub      usign public key: `opkg-key add` it (OpenWrt 24.10)
    route53-ddns-feed.pem      ECDSA P-256 public key: copy to /etc/apk/keys/ (25.12+)
    opkg/<arch>/Packages, Packages.gz, Packages.sig, *.ipk
    apk/<arch>/packages.adb, <name>-<version>.apk

One directory per architecture label of the packages; the LuCI page's `_all.ipk` and
`_noarch.apk` go into every one. Packages and Packages.gz are what OpenWrt's
ipkg-make-index writes (each package's control fields plus Filename, Size, SHA256sum);
Packages.sig is a usign (signify-style Ed25519) signature of Packages. packages.adb is an
apk-tools v3 index ("indx"): each package's info with its identity (the SHA-256 of its ADB
block) and file size, signed (ADB signature v0, SHA-512, ECDSA P-256: the key type OpenWrt
makes for apk), so apk installs the unsigned packages it lists without --allow-untrusted.
The directory is replaced whole at the end (written beside it, then renamed).

Modules: feed.py (this: layout, command line), feed_index.py (reading the packages, writing
Packages and packages.adb), feed_sign.py (keys, usign and apk signatures via openssl).

Signing needs only `openssl` (3.0 or later): KEYDIR holds usign.key (Ed25519) and apk.key
(EC P-256), PEM, mode 0600; a key readable by group or others is refused. The keys never
leave KEYDIR and are passed to openssl by path.
"""

import argparse
import gzip
import hashlib
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import apkv3  # noqa: E402
from feed_index import (apk_adb, apk_index, apk_info, control_field, ipk_control,  # noqa: E402
                        packages_entry, read_package)
from feed_sign import Error, Signer, keygen  # noqa: E402

PUB_USIGN, PUB_APK = "route53-ddns-feed.pub", "route53-ddns-feed.pem"


# ---- the feed --------------------------------------------------------------------------

def check_label(arch: str, path: Path) -> str:
    if not apkv3.NAME_RE.match(arch):
        raise Error(f"{path}: bad architecture '{arch}'")
    return arch


def by_arch(items: list, any_arch: str, kind: str) -> dict:
    """arch -> its packages plus the arch-independent ones; one version of each name."""
    groups = {}
    for it in items:
        groups.setdefault(it["arch"], []).append(it)
    arches = sorted(a for a in groups if a != any_arch)
    if items and not arches:
        raise Error(f"only {any_arch} {kind} packages: nothing says which architectures to serve")
    out = {}
    for arch in arches:
        pkgs = sorted(groups[arch] + groups.get(any_arch, []), key=lambda it: it["name"])
        names = [it["name"] for it in pkgs]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise Error(f"{kind} {arch}: more than one package named {', '.join(sorted(dup))}")
        out[arch] = pkgs
    return out


def write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o644)


def read_packages(pkgdir: Path) -> tuple[list, list]:
    """The .ipk and .apk files of pkgdir, each with its name, architecture and index fields."""
    ipks, apks = [], []
    for p in sorted(pkgdir.glob("*.ipk")):
        blob = read_package(p)
        ctl = ipk_control(blob, p)
        ipks.append({"name": control_field(ctl, "Package"), "arch": check_label(control_field(ctl, "Architecture"), p),
                     "file": p.name, "blob": blob, "control": ctl})
    for p in sorted(pkgdir.glob("*.apk")):
        blob = read_package(p)
        adb = apk_adb(blob, p)
        info = apk_info(adb, p)
        apks.append({"name": info["name"], "arch": check_label(info.get("arch", ""), p), "info": info,
                     "file": f"{info['name']}-{info['version']}.apk", "blob": blob,
                     "identity": hashlib.sha256(adb).digest()})
    if not ipks and not apks:
        raise Error(f"no .ipk or .apk files in {pkgdir}")
    return ipks, apks


def write_opkg(d: Path, pkgs: list, signer: Signer) -> None:
    d.mkdir(parents=True)
    for it in pkgs:
        write(d / it["file"], it["blob"])
    index = "\n".join(packages_entry(it["control"], it["file"], it["blob"]) for it in pkgs).encode()
    write(d / "Packages", index)
    write(d / "Packages.gz", gzip.compress(index, 9, mtime=0))
    write(d / "Packages.sig", signer.usign_sig(d / "Packages"))


def write_apk(d: Path, pkgs: list, signer: Signer, arch: str) -> None:
    d.mkdir(parents=True)
    for it in pkgs:
        write(d / it["file"], it["blob"])
    entries = [(it["info"], it["identity"], len(it["blob"])) for it in pkgs]
    write(d / "packages.adb", apk_index(entries, signer, f"route53-ddns feed {arch}"))


def build(pkgdir: Path, out: Path, signer: Signer) -> dict:
    """Writes the whole feed beside `out`, then swaps it in: a failure leaves `out` as it was."""
    ipks, apks = read_packages(pkgdir)
    opkg, apk = by_arch(ipks, "all", "opkg"), by_arch(apks, "noarch", "apk")
    tmp = out.parent / (out.name + ".new")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for arch, pkgs in opkg.items():
            write_opkg(tmp / "opkg" / arch, pkgs, signer)
        for arch, pkgs in apk.items():
            write_apk(tmp / "apk" / arch, pkgs, signer, arch)
        write(tmp / PUB_USIGN, signer.usign_pub())
        write(tmp / PUB_APK, signer.apk_pem())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for dirpath, _, _ in os.walk(tmp):
        os.chmod(dirpath, 0o755)
    old = out.parent / (out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return {"opkg": sorted(opkg), "apk": sorted(apk)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keygen", help="make usign.key and apk.key in KEYDIR (mode 0600; never overwrites)")
    k.add_argument("keydir", type=Path)
    b = sub.add_parser("build", help="make the feed from the packages")
    b.add_argument("--keys", type=Path, default=os.environ.get("R53_FEED_KEYS"),
                   help="the key directory (default: $R53_FEED_KEYS)")
    b.add_argument("--packages", type=Path, default=Path("dist/packages"))
    b.add_argument("--out", type=Path, default=Path("dist/feed"))
    a = p.parse_args(argv)
    try:
        if a.cmd == "keygen":
            keygen(a.keydir)
            signer = Signer(a.keydir)
            print(f"{a.keydir}: usign.key (fingerprint {signer.fingerprint.hex()}) and apk.key; keep them out of "
                  "the repository and back them up: routers trust the feed only while it is signed with these")
            return 0
        if not a.keys:
            raise Error("no key directory: give --keys KEYDIR or set R53_FEED_KEYS")
        made = build(a.packages, a.out, Signer(a.keys))
    except (Error, OSError) as e:
        print(f"feed.py: {e}", file=sys.stderr)
        return 1
    print(f"{a.out}: opkg {' '.join(made['opkg']) or '-'}; apk {' '.join(made['apk']) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
