"""Reading the packages and writing the two signed indexes: part of scripts/feed.py.

opkg: Packages as OpenWrt's ipkg-make-index writes it. apk: packages.adb, an apk-tools v3
index (schema "indx") holding each package's info, identity and file size, with an ADB
signature block (apk-tools src/adb.c: adb_trust_write_signatures).
"""

import hashlib
import io
import struct
import tarfile
import zlib
from pathlib import Path

import apkv3
from feed_sign import Error, Signer

MAX_PACKAGE = 64 << 20  # far above any package here; a larger file is refused
MAX_CONTROL = 64 << 10
SCHEMA_INDEX = 0x78646E69  # "indx"
NDX_DESCRIPTION, NDX_PACKAGES = 1, 2
INFO_FILE_SIZE = 13
SIGN_VER, HASH_SHA512 = 0, 4
BLOCK_SIG = 1


def read_package(path: Path) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(MAX_PACKAGE + 1)
    if len(data) > MAX_PACKAGE:
        raise Error(f"{path}: larger than {MAX_PACKAGE} bytes")
    return data


def ipk_control(blob: bytes, path: Path) -> str:
    def member(tgz: bytes, name: str, limit: int) -> bytes:
        with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
            for m in tar:
                if m.name in (name, "./" + name) and m.isfile():
                    if m.size > limit:
                        raise Error(f"{path}: {name} too large")
                    return tar.extractfile(m).read()
        raise Error(f"{path}: no {name}")
    try:
        control = member(member(blob, "control.tar.gz", MAX_PACKAGE), "control", MAX_CONTROL).decode()
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as e:
        raise Error(f"{path}: not an ipk ({e})") from e
    if not control.startswith("Package: ") or "\nDescription:" not in control:
        raise Error(f"{path}: control file without Package/Description")
    return control.rstrip("\n") + "\n"


def apk_adb(blob: bytes, path: Path) -> bytes:
    """The ADB block (the package's metadata) of an apk v3 package."""
    if blob[:4] == b"ADBd":
        z = zlib.decompressobj(-15)
        try:
            plain = z.decompress(blob[4:], MAX_PACKAGE)
        except zlib.error as e:
            raise Error(f"{path}: bad deflate stream ({e})") from e
        if z.unconsumed_tail:
            raise Error(f"{path}: larger than {MAX_PACKAGE} bytes unpacked")
    elif blob[:4] == b"ADB.":
        plain = blob
    else:
        raise Error(f"{path}: not an apk v3 package")
    if plain[:8] != apkv3.MAGIC + struct.pack("<I", apkv3.SCHEMA_PACKAGE) or len(plain) < 12:
        raise Error(f"{path}: not an ADB package")
    (word,) = struct.unpack("<I", plain[8:12])
    kind, size = word >> 30, word & 0x3FFFFFFF
    if kind != apkv3.BLOCK_ADB or size < 12 or 8 + size > len(plain):
        raise Error(f"{path}: the first block is not a whole ADB block")
    return plain[12 : 8 + size]


class AdbReader:
    def __init__(self, buf: bytes, path: Path):
        self.buf, self.path = buf, path

    def _at(self, off: int, n: int) -> bytes:
        if off + n > len(self.buf):
            raise Error(f"{self.path}: value runs past the ADB block")
        return self.buf[off : off + n]

    def slots(self, v: int) -> list:
        if v == 0:
            return []
        if v >> 28 not in (0xD, 0xE):
            raise Error(f"{self.path}: expected an object or array")
        off = v & 0x0FFFFFFF
        (n,) = struct.unpack("<I", self._at(off, 4))
        if n < 1 or n > len(self.buf) // 4:
            raise Error(f"{self.path}: bad slot count")
        return list(struct.unpack(f"<{n - 1}I", self._at(off + 4, 4 * (n - 1))))

    def blob(self, v: int) -> bytes:
        width = {0x8: 1, 0x9: 2, 0xA: 4}.get(v >> 28)
        if not width:
            raise Error(f"{self.path}: expected a blob")
        off = v & 0x0FFFFFFF
        (n,) = struct.unpack({1: "<B", 2: "<H", 4: "<I"}[width], self._at(off, width))
        return self._at(off + width, n)

    def int(self, v: int) -> int:
        t, off = v >> 28, v & 0x0FFFFFFF
        if t == 0x1:
            return off
        if t in (0x2, 0x3):
            return struct.unpack("<I" if t == 0x2 else "<Q", self._at(off, 4 if t == 0x2 else 8))[0]
        raise Error(f"{self.path}: expected an integer")


def apk_info(adb: bytes, path: Path) -> dict:
    """name, version, ... and depends (names) of a package, from its ADB block."""
    r = AdbReader(adb, path)
    if len(adb) < 8 or adb[0] != 0:
        raise Error(f"{path}: ADB header")
    root = r.slots(struct.unpack("<I", adb[4:8])[0])
    if len(root) < apkv3.PKG_INFO or not root[apkv3.PKG_INFO - 1]:
        raise Error(f"{path}: no package info")
    slots = r.slots(root[apkv3.PKG_INFO - 1])
    info = {}
    for key, slot in apkv3.INFO_FIELDS.items():
        if slot <= len(slots) and slots[slot - 1]:
            info[key] = r.blob(slots[slot - 1]).decode()
    for key, slot in apkv3.INFO_DEP_FIELDS.items():
        if slot <= len(slots) and slots[slot - 1]:
            info[key] = " ".join(r.blob(r.slots(d)[apkv3.DEP_NAME - 1]).decode() for d in r.slots(slots[slot - 1]))
    if apkv3.INFO_INSTALLED_SIZE <= len(slots) and slots[apkv3.INFO_INSTALLED_SIZE - 1]:
        info["installed-size"] = r.int(slots[apkv3.INFO_INSTALLED_SIZE - 1])
    if not apkv3.NAME_RE.match(info.get("name", "")) or not apkv3.VERSION_RE.match(info.get("version", "")):
        raise Error(f"{path}: bad package name or version")
    return info


def apk_index(entries: list, signer: Signer, description: str) -> bytes:
    """packages.adb: entries are (info, identity, file size), one per package."""
    adb = apkv3.Adb()
    pkgs = []
    for info, identity, size in sorted(entries, key=lambda e: e[0]["name"].encode()):
        pi = {slot: adb.blob(info[k].encode()) for k, slot in apkv3.INFO_FIELDS.items() if info.get(k)}
        for k, slot in apkv3.INFO_DEP_FIELDS.items():
            if info.get(k):
                pi[slot] = apkv3.parse_deps(adb, info[k])
        pi[apkv3.INFO_HASHES] = adb.blob(identity)
        if info.get("installed-size"):
            pi[apkv3.INFO_INSTALLED_SIZE] = adb.int(info["installed-size"])
        pi[INFO_FILE_SIZE] = adb.int(size)
        pkgs.append(adb.obj(pi))
    body = adb.finish(adb.obj({NDX_DESCRIPTION: adb.blob(description.encode()), NDX_PACKAGES: adb.arr(pkgs)}))
    # What apk-tools signs (adb.c, adb_digest_v0_signature): the schema, the signature
    # header (version 0, hash SHA-512, key id), the SHA-512 of the ADB block.
    head = struct.pack("<BB", SIGN_VER, HASH_SHA512) + signer.apk_id
    sig = signer.ecdsa_sha512(struct.pack("<I", SCHEMA_INDEX) + head + hashlib.sha512(body).digest())
    return (apkv3.MAGIC + struct.pack("<I", SCHEMA_INDEX) + apkv3.block(apkv3.BLOCK_ADB, body)
            + apkv3.block(BLOCK_SIG, head + sig))


def control_field(control: str, name: str) -> str:
    for line in control.splitlines():
        if line.startswith(name + ": "):
            return line[len(name) + 2 :].strip()
    return ""


def packages_entry(control: str, filename: str, blob: bytes) -> str:
    """As ipkg-make-index: the control fields, with Filename, Size, SHA256sum before Description."""
    head, desc = control.split("\nDescription:", 1)
    return (f"{head}\nFilename: {filename}\nSize: {len(blob)}\nSHA256sum: {hashlib.sha256(blob).hexdigest()}\n"
            f"Description:{desc}")


