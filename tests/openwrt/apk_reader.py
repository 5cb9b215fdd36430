"""An independent reader of apk-tools v3 packages (ADB, schema "pckg"), for the tests.

Written from the format's public description (apk-tools doc/apk-v3.5: tags, blocks; doc/
apk-package.5 and src/apk_adb.h: the field numbers), not from scripts/apkv3.py, so that the
tests check the writer against the format rather than against itself. It checks as it reads
and raises AssertionError on anything the format does not allow.
"""

import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

TYPE_NAMES = {0x0: "special", 0x1: "int", 0x2: "int32", 0x3: "int64", 0x8: "blob8", 0x9: "blob16",
              0xA: "blob32", 0xD: "array", 0xE: "object"}
# Field numbers of the objects a package holds (apk-package(5) names, src/apk_adb.h numbers).
PKG = {1: "info", 2: "paths", 3: "scripts", 4: "triggers", 5: "replaces-priority"}
INFO = {1: "name", 2: "version", 3: "hashes", 4: "description", 5: "arch", 6: "license", 7: "origin",
        8: "maintainer", 9: "url", 10: "repo-commit", 11: "build-time", 12: "installed-size",
        13: "file-size", 14: "provider-priority", 15: "depends", 16: "provides", 17: "replaces",
        18: "install-if", 19: "recommends", 20: "layer", 21: "tags"}
INFO_DEPS = {"depends", "provides", "replaces", "install-if", "recommends"}
INFO_INTS = {"build-time", "installed-size", "file-size", "provider-priority", "layer"}
DIR = {1: "name", 2: "acl", 3: "files"}
FILE = {1: "name", 2: "acl", 3: "size", 4: "mtime", 5: "hash", 6: "target"}
ACL = {1: "mode", 2: "user", 3: "group", 4: "xattrs"}
DEP = {1: "name", 2: "version", 3: "match"}
SCRIPTS = {1: "trigger", 2: "pre-install", 3: "post-install", 4: "pre-deinstall", 5: "post-deinstall",
           6: "pre-upgrade", 7: "post-upgrade"}


@dataclass
class Apk:
    compression: str
    schema: bytes
    info: dict
    dirs: list  # [{"name", "mode", "user", "group", "files": [{"name", "mode", ..., "hash"|"target"}]}]
    scripts: dict
    data: dict = field(default_factory=dict)  # "dir/name" -> bytes, from the DATA blocks
    adb: bytes = b""

    def files(self) -> dict:
        """Full path (no leading slash) -> file entry, with "data" for regular files."""
        out = {}
        for d in self.dirs:
            for f in d["files"]:
                path = f"{d['name']}/{f['name']}" if d["name"] else f["name"]
                out[path] = {**f, "data": self.data.get(path, b"" if "hash" in f else None)}
        return out


class _Adb:
    def __init__(self, buf: bytes):
        self.buf = buf

    def _at(self, off: int, n: int) -> bytes:
        assert off + n <= len(self.buf), f"value at {off}+{n} runs past the ADB block ({len(self.buf)})"
        return self.buf[off : off + n]

    def kind(self, v: int) -> str:
        t = v >> 28
        assert t in TYPE_NAMES, f"unknown value type {t:#x}"
        return TYPE_NAMES[t]

    def int(self, v: int) -> int:
        k, off = self.kind(v), v & 0x0FFFFFFF
        if k == "int":
            return off
        if k == "int32":
            assert off % 4 == 0
            return struct.unpack("<I", self._at(off, 4))[0]
        if k == "int64":
            return struct.unpack("<Q", self._at(off, 8))[0]
        raise AssertionError(f"expected an integer, got {k}")

    def blob(self, v: int) -> bytes:
        if v == 0:
            return b""
        k, off = self.kind(v), v & 0x0FFFFFFF
        width = {"blob8": 1, "blob16": 2, "blob32": 4}.get(k)
        assert width, f"expected a blob, got {k}"
        assert off % width == 0, f"{k} at unaligned offset {off}"
        (n,) = struct.unpack({1: "<B", 2: "<H", 4: "<I"}[width], self._at(off, width))
        return self._at(off + width, n)

    def slots(self, v: int, want: str) -> list:
        """The slots of an object or array. The two differ only in what the schema says of
        their items (apk-v3(5)), and apk-tools itself tags some arrays as objects: both
        tags are accepted for both."""
        if v == 0:
            return []
        k, off = self.kind(v), v & 0x0FFFFFFF
        assert k in ("object", "array"), f"expected {want}, got {k}"
        assert off % 4 == 0, f"{k} at unaligned offset {off}"
        (n,) = struct.unpack("<I", self._at(off, 4))
        assert n >= 2, f"{k} with {n} slots (an empty one is written as null)"
        return list(struct.unpack(f"<{n - 1}I", self._at(off + 4, 4 * (n - 1))))

    def obj(self, v: int, names: dict) -> dict:
        vals = self.slots(v, "object")
        assert len(vals) <= len(names), f"object with {len(vals)} fields, schema has {len(names)}"
        assert not vals or vals[-1] != 0, "trailing null slots must be trimmed"
        return {names[i + 1]: x for i, x in enumerate(vals) if x != 0}

    def arr(self, v: int) -> list:
        vals = self.slots(v, "array")
        assert 0 not in vals, "null in an array"
        return vals


def _sorted_unique(keys: list, what: str) -> None:
    assert keys == sorted(keys) and len(set(keys)) == len(keys), f"{what} not sorted/unique: {keys}"


def read_apk(path: Path) -> Apk:
    raw = path.read_bytes()
    assert raw[:3] == b"ADB", f"{path}: no ADB magic"
    if raw[3:4] == b".":
        plain, compression = raw, "none"
    elif raw[3:4] == b"d":
        z = zlib.decompressobj(-15)
        plain, compression = z.decompress(raw[4:]) + z.flush(), "deflate"
        assert z.eof and not z.unused_data, "trailing bytes after the deflate stream"
    else:
        raise AssertionError(f"{path}: compression {raw[3:4]!r} not understood")
    assert plain[:4] == b"ADB.", "no ADB. header inside"
    schema = plain[4:8]

    blocks, pos = [], 8
    while pos < len(plain):
        (word,) = struct.unpack("<I", plain[pos : pos + 4])
        btype, size = word >> 30, word & 0x3FFFFFFF
        assert btype != 3, "extended blocks are not expected in these packages"
        assert size >= 4 and pos + size <= len(plain), f"block at {pos} overruns the file"
        blocks.append((btype, plain[pos + 4 : pos + size]))
        pos += size + (-size % 8)
        assert plain[pos - (-size % 8) : pos] == b"\0" * (-size % 8), "block padding is not zero"
    assert pos == len(plain), "file does not end on a block boundary"
    kinds = [b[0] for b in blocks]
    assert kinds and kinds[0] == 0, "the first block must be the ADB block"
    assert 0 not in kinds[1:], "only one ADB block"
    assert all(k == 2 for k in kinds[1:] if k != 1), "only SIG and DATA blocks after ADB"
    assert kinds[1:] == sorted(kinds[1:]), "SIG blocks come before DATA blocks"

    adb_bytes = blocks[0][1]
    assert adb_bytes[0] == 0, "adb compat version must be 0"
    adb = _Adb(adb_bytes)
    (root,) = struct.unpack("<I", adb_bytes[4:8])
    pkg = adb.obj(root, PKG)

    info = {}
    for k, v in adb.obj(pkg["info"], INFO).items():
        if k in INFO_DEPS:
            deps = [adb.obj(d, DEP) for d in adb.arr(v)]
            info[k] = [adb.blob(d["name"]).decode() for d in deps]
            assert all(set(d) == {"name"} for d in deps), "versioned dependencies not expected"
            _sorted_unique([n.encode() for n in info[k]], k)
        elif k in INFO_INTS:
            info[k] = adb.int(v)
        elif k == "hashes":
            info[k] = adb.blob(v).hex()
        else:
            info[k] = adb.blob(v).decode()

    def acl(v):
        a = adb.obj(v, ACL)
        return {"mode": adb.int(a["mode"]), "user": adb.blob(a.get("user", 0)).decode(),
                "group": adb.blob(a.get("group", 0)).decode()}

    dirs = []
    for dv in adb.arr(pkg.get("paths", 0)):
        d = adb.obj(dv, DIR)
        files = []
        for fv in adb.arr(d.get("files", 0)):
            f = adb.obj(fv, FILE)
            entry = {"name": adb.blob(f["name"]).decode(), **acl(f["acl"]), "size": adb.int(f.get("size", 0)),
                     "mtime": adb.int(f.get("mtime", 0))}
            if "hash" in f:
                entry["hash"] = adb.blob(f["hash"])
            if "target" in f:
                entry["target"] = adb.blob(f["target"])
            assert ("hash" in entry) != ("target" in entry), f"{entry['name']}: exactly one of hash/target"
            files.append(entry)
        _sorted_unique([f["name"].encode() for f in files], "file names")
        dirs.append({"name": adb.blob(d.get("name", 0)).decode(), **acl(d["acl"]), "files": files})
    _sorted_unique([d["name"].encode() for d in dirs], "directory names")

    scripts = {k: adb.blob(v) for k, v in adb.obj(pkg.get("scripts", 0), SCRIPTS).items()} if pkg.get("scripts") else {}

    # DATA blocks: one per non-empty regular file, in path/file order, each with its
    # (path index, file index) header, 1-based, and exactly the file's size and hash.
    expect = [(di, fi, d, f) for di, d in enumerate(dirs, 1) for fi, f in enumerate(d["files"], 1)
              if "hash" in f and f["size"] > 0]
    datas = [b for k, b in blocks if k == 2]
    assert len(datas) == len(expect), f"{len(datas)} data blocks for {len(expect)} non-empty files"
    data = {}
    for blk, (di, fi, d, f) in zip(datas, expect):
        assert struct.unpack("<II", blk[:8]) == (di, fi), "data block for an unexpected file"
        content = blk[8:]
        assert len(content) == f["size"], f"{f['name']}: size"
        assert hashlib.sha256(content).digest() == f["hash"], f"{f['name']}: sha256"
        data[f"{d['name']}/{f['name']}" if d["name"] else f["name"]] = content
    return Apk(compression, schema, info, dirs, scripts, data, adb_bytes)
