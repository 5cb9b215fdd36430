#!/usr/bin/env python3
"""Writes an apk-tools v3 package (the ADB "pckg" format of OpenWrt 25.12+) from a directory.

    scripts/apkv3.py --info name:route53-ddns --info version:0.1.0-r1 --info arch:mipsel_24kc \
        --info depends:ca-bundle --script post-install:FILE --files DIR --output OUT.apk

The options are those of `apk mkpkg` that OpenWrt's include/package-pack.mk uses, so the
result is what the SDK makes, without apk-tools on the build machine. Written from the
format's public description (apk-tools' doc/apk-v3.5 and apk-package.5, the schema numbers
in src/apk_adb.h); docs/building.md says why this exists and how it was checked against the
real apk-tools.

The file: "ADBd" + raw deflate of { "ADB." + schema "pckg" + an ADB block (the package
object: info, paths with per-file ACL, size, mtime, sha256, scripts) + one DATA block per
non-empty regular file, in path order }. Every block is 8-byte aligned. No signature block:
install with `apk add --allow-untrusted`, as for any unsigned OpenWrt package.

Owners are always root:root (the package is built as a user), mtimes are SOURCE_DATE_EPOCH
(or --mtime), so the same tree gives the same bytes.
"""

import argparse
import hashlib
import os
import re
import stat
import struct
import sys
import zlib

MAGIC = b"ADB."
SCHEMA_PACKAGE = 0x676B6370  # "pckg"
BLOCK_ADB, BLOCK_DATA = 0, 2
MAX_BLOCK = 0x3FFFFFFF - 4  # larger blocks need the extended header, not written here

T_INT, T_INT32, T_INT64 = 0x10000000, 0x20000000, 0x30000000
T_BLOB8, T_BLOB16, T_BLOB32 = 0x80000000, 0x90000000, 0xA0000000
T_ARRAY, T_OBJECT = 0xD0000000, 0xE0000000
NULL = 0

# Slot numbers (src/apk_adb.h).
PKG_INFO, PKG_PATHS, PKG_SCRIPTS = 1, 2, 3
INFO_FIELDS = {  # string fields of the package info
    "name": 1, "version": 2, "description": 4, "arch": 5, "license": 6,
    "origin": 7, "maintainer": 8, "url": 9,
}
INFO_HASHES, INFO_INSTALLED_SIZE = 3, 12
INFO_DEP_FIELDS = {"depends": 15, "provides": 16, "replaces": 17}
SCRIPTS = {
    "trigger": 1, "pre-install": 2, "post-install": 3, "pre-deinstall": 4,
    "post-deinstall": 5, "pre-upgrade": 6, "post-upgrade": 7,
}
DEP_NAME = 1
ACL_MODE, ACL_USER, ACL_GROUP = 1, 2, 3
FI_NAME, FI_ACL, FI_SIZE, FI_MTIME, FI_HASH, FI_TARGET = 1, 2, 3, 4, 5, 6
DI_NAME, DI_ACL, DI_FILES = 1, 2, 3

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
# apk-package(5): number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}
VERSION_RE = re.compile(
    r"[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(~[0-9a-f]+)?(-r[0-9]+)?\Z"
)


class Error(Exception):
    pass


class Adb:
    """The ADB block being built: an append-only buffer of aligned, deduplicated values."""

    def __init__(self):
        self.buf = bytearray(8)  # adb_hdr: compat 0, version 0, reserved, root (set last)
        self.seen = {}

    def _data(self, data: bytes, align: int, dedup: bool = True) -> int:
        if dedup and data in self.seen and self.seen[data] % align == 0:
            return self.seen[data]
        self.buf += b"\0" * (-len(self.buf) % align)
        off = len(self.buf)
        if off > 0x0FFFFFFF:
            raise Error("package metadata too large")
        self.buf += data
        if dedup:
            self.seen.setdefault(data, off)
        return off

    def blob(self, b: bytes, dedup: bool = True) -> int:
        if not b:
            return NULL
        if len(b) <= 0xFF:
            return T_BLOB8 | self._data(struct.pack("<B", len(b)) + b, 1, dedup)
        if len(b) <= 0xFFFF:
            return T_BLOB16 | self._data(struct.pack("<H", len(b)) + b, 2, dedup)
        return T_BLOB32 | self._data(struct.pack("<I", len(b)) + b, 4, dedup)

    def int(self, n: int) -> int:
        if n < 0:
            raise Error("negative integer")
        if n < 0x10000000:
            return T_INT | n
        if n < 0x100000000:
            return T_INT32 | self._data(struct.pack("<I", n), 4)
        return T_INT64 | self._data(struct.pack("<Q", n), 4)

    def _slots(self, kind: int, slots: list) -> int:
        while slots and slots[-1] == NULL:
            slots.pop()
        if not slots:
            return NULL
        words = [len(slots) + 1, *slots]
        return kind | self._data(struct.pack(f"<{len(words)}I", *words), 4)

    def obj(self, fields: dict) -> int:
        """fields: slot number -> value; slot 0 is the slot count."""
        slots = [NULL] * (max(fields, default=0))
        for i, v in fields.items():
            slots[i - 1] = v
        return self._slots(T_OBJECT, slots)

    def arr(self, items: list) -> int:
        return self._slots(T_ARRAY, [v for v in items if v != NULL])

    def finish(self, root: int) -> bytes:
        self.buf[4:8] = struct.pack("<I", root)
        return bytes(self.buf)


def block(kind: int, payload: bytes) -> bytes:
    if len(payload) > MAX_BLOCK:
        raise Error("block too large (the extended block header is not written)")
    raw = struct.pack("<I", (kind << 30) | (4 + len(payload))) + payload
    return raw + b"\0" * (-len(raw) % 8)


def read_bounded(path: str, limit: int) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise Error(f"{path}: larger than {limit} bytes")
    return data


def parse_deps(adb: Adb, text: str) -> int:
    names = sorted(set(text.replace(",", " ").split()), key=str.encode)
    for n in names:
        if not NAME_RE.match(n):
            raise Error(f"dependency '{n}': only plain package names are supported")
    return adb.arr([adb.obj({DEP_NAME: adb.blob(n.encode())}) for n in names])


def scan(top: str):
    """Sorted directories (relative, "" for the root), each with its sorted entries."""
    dirs = []
    for cur, subdirs, files in os.walk(top):
        subdirs.sort()
        rel = os.path.relpath(cur, top)
        rel = "" if rel == "." else rel
        entries = []
        for name in sorted(files + [d for d in subdirs if os.path.islink(os.path.join(cur, d))]):
            st = os.lstat(os.path.join(cur, name))
            if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                entries.append((name, st))
            else:
                raise Error(f"{os.path.join(rel, name)}: only files, directories and symlinks are packed")
        dirs.append((rel, os.lstat(cur), entries))
    dirs.sort(key=lambda d: d[0].encode())
    return dirs


def build(info: dict, scripts: dict, files_dir: str, mtime: int) -> bytes:
    adb = Adb()
    for key in ("name", "version"):
        if key not in info:
            raise Error(f"required info field '{key}' not provided")
    if not NAME_RE.match(info["name"]):
        raise Error(f"package name '{info['name']}' is invalid")
    if not VERSION_RE.match(info["version"]):
        raise Error(f"package version '{info['version']}' is invalid")

    root = adb.blob(b"root")
    paths, data, installed = [], [], 0
    for d_idx, (rel, dst, entries) in enumerate(scan(files_dir), start=1):
        file_vals = []
        for f_idx, (name, st) in enumerate(entries, start=1):
            full = os.path.join(files_dir, rel, name)
            fields = {FI_NAME: adb.blob(name.encode()), FI_SIZE: adb.int(st.st_size), FI_MTIME: adb.int(mtime)}
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(full).encode()
                fields[FI_TARGET] = adb.blob(struct.pack("<H", stat.S_IFLNK) + target)
                fields[FI_SIZE] = adb.int(len(target))
            else:
                content = read_bounded(full, MAX_BLOCK - 8)
                fields[FI_HASH] = adb.blob(hashlib.sha256(content).digest())
                installed += len(content)
                if content:
                    data.append(block(BLOCK_DATA, struct.pack("<II", d_idx, f_idx) + content))
            fields[FI_ACL] = adb.obj({ACL_MODE: adb.int(stat.S_IMODE(st.st_mode)), ACL_USER: root, ACL_GROUP: root})
            file_vals.append(adb.obj(fields))
        acl = adb.obj({ACL_MODE: adb.int(stat.S_IMODE(dst.st_mode)), ACL_USER: root, ACL_GROUP: root})
        paths.append(adb.obj({DI_NAME: adb.blob(rel.encode()), DI_ACL: acl, DI_FILES: adb.arr(file_vals)}))

    pi = {slot: adb.blob(info[k].encode()) for k, slot in INFO_FIELDS.items() if info.get(k)}
    for k, slot in INFO_DEP_FIELDS.items():
        if info.get(k):
            pi[slot] = parse_deps(adb, info[k])
    pi[INFO_INSTALLED_SIZE] = adb.int(max(installed, 1))
    # The package's unique id: a 20-byte blob, filled in with the SHA-256 of the whole ADB
    # block (taken while the blob is still zero) cut to 20 bytes, as apk mkpkg does.
    uid = adb.blob(b"\0" * 20, dedup=False)
    pi[INFO_HASHES] = uid
    pkg = {PKG_INFO: adb.obj(pi), PKG_PATHS: adb.arr(paths)}
    if scripts:
        pkg[PKG_SCRIPTS] = adb.obj({SCRIPTS[k]: adb.blob(v) for k, v in scripts.items()})
    body = bytearray(adb.finish(adb.obj(pkg)))
    off = (uid & 0x0FFFFFFF) + 1
    body[off : off + 20] = hashlib.sha256(bytes(body)).digest()[:20]

    plain = MAGIC + struct.pack("<I", SCHEMA_PACKAGE) + block(BLOCK_ADB, bytes(body)) + b"".join(data)
    z = zlib.compressobj(9, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY)
    return b"ADBd" + z.compress(plain) + z.flush()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--info", "-I", action="append", default=[], metavar="KEY:VALUE")
    p.add_argument("--script", "-s", action="append", default=[], metavar="TYPE:FILE")
    p.add_argument("--files", "-F", required=True, metavar="DIR")
    p.add_argument("--output", "-o", required=True, metavar="FILE")
    p.add_argument("--mtime", type=int, help="file mtimes (default: SOURCE_DATE_EPOCH, else 0)")
    a = p.parse_args(argv)
    try:
        info = {}
        for item in a.info:
            k, sep, v = item.partition(":")
            if not sep or (k not in INFO_FIELDS and k not in INFO_DEP_FIELDS):
                raise Error(f"invalid info field: {item}")
            info[k] = v
        scripts = {}
        for item in a.script:
            k, sep, path = item.partition(":")
            if not sep or k not in SCRIPTS:
                raise Error(f"invalid script type: {item}")
            scripts[k] = read_bounded(path, 0xFFFF)  # 64 KiB: far more than any maintainer script
        mtime = a.mtime if a.mtime is not None else int(os.environ.get("SOURCE_DATE_EPOCH") or 0)
        out = build(info, scripts, a.files, mtime)
    except (Error, OSError) as e:
        print(f"apkv3.py: {e}", file=sys.stderr)
        return 1
    tmp = a.output + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(out)
    os.chmod(tmp, 0o644)
    os.replace(tmp, a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
