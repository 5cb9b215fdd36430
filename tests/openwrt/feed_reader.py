"""An independent reader of the package feed, for the tests: checks every signature and every
package hash the way opkg (with usign) and apk-tools 3 would, and raises AssertionError on
anything they would refuse.

Written from the formats, not from scripts/feed*.py: usign's key and signature files (openwrt/
usign main.c: "untrusted comment" line, then base64 of "Ed" + 8-byte fingerprint + key or
signature); opkg's Packages stanzas (Filename, Size, SHA256sum); apk-tools 3's ADB index
(schema "indx", src/apk_adb.h) and its signature block (src/adb.c, adb_trust_verify_signature:
ECDSA/SHA-512 over schema + signature header + SHA-512 of the ADB block; key id = first 16
bytes of the SHA-512 of the raw public key). Signatures are checked with `cryptography`.
"""

import base64
import binascii
import gzip
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from apk_reader import INFO, _Adb, read_apk
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SCHEMA_INDEX = b"indx"
NDX = {1: "description", 2: "packages", 3: "pkgname-spec"}


def usign_blob(path: Path, size: int) -> bytes:
    """The binary part of a usign key or signature file: "Ed", fingerprint, key/signature."""
    lines = path.read_bytes().split(b"\n")
    assert lines[0].startswith(b"untrusted comment: "), f"{path}: no comment line"
    try:
        raw = base64.b64decode(lines[1], validate=True)
    except binascii.Error:
        raise AssertionError(f"{path}: not base64") from None
    assert len(raw) == size and raw[:2] == b"Ed", f"{path}: not an Ed25519 usign file"
    return raw


def usign_fingerprint(pub: Path) -> str:
    """What `usign -F -p` prints: the name opkg-key gives the key in /etc/opkg/keys/."""
    return usign_blob(pub, 42)[2:10].hex()


def usign_verify(pub: Path, msg: Path, sig: Path) -> None:
    key, s = usign_blob(pub, 42), usign_blob(sig, 74)
    assert s[2:10] == key[2:10], f"{sig}: made by key {s[2:10].hex()}, not {key[2:10].hex()}"
    try:
        Ed25519PublicKey.from_public_bytes(key[10:]).verify(s[10:], msg.read_bytes())
    except InvalidSignature:
        raise AssertionError(f"{sig}: signature does not verify for {msg.name}") from None


def stanzas(text: str) -> list[dict]:
    out = []
    for chunk in text.strip("\n").split("\n\n"):
        fields, last = {}, None
        for line in chunk.split("\n"):
            if line.startswith(" ") and last:
                fields[last] += "\n" + line
            else:
                k, sep, v = line.partition(": ")
                assert sep, f"bad Packages line {line!r}"
                fields[k], last = v, k
        out.append(fields)
    return out


@dataclass
class OpkgDir:
    entries: list[dict]


def read_opkg_dir(d: Path, pub: Path) -> OpkgDir:
    usign_verify(pub, d / "Packages", d / "Packages.sig")
    assert gzip.decompress((d / "Packages.gz").read_bytes()) == (d / "Packages").read_bytes(), "Packages.gz differs"
    entries = stanzas((d / "Packages").read_text())
    for e in entries:
        f = d / e["Filename"]
        assert "/" not in e["Filename"] and f.is_file(), f"{d.name}: {e['Filename']} missing"
        blob = f.read_bytes()
        assert int(e["Size"]) == len(blob), f"{f.name}: Size"
        assert e["SHA256sum"] == hashlib.sha256(blob).hexdigest(), f"{f.name}: SHA256sum"
    listed = {e["Filename"] for e in entries}
    assert {p.name for p in d.glob("*.ipk")} == listed, "packages in the directory but not in Packages"
    return OpkgDir(entries)


def apk_key(pem: Path) -> tuple[ec.EllipticCurvePublicKey, bytes]:
    key = serialization.load_pem_public_key(pem.read_bytes())
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1", f"{pem}: not P-256"
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return key, hashlib.sha512(point).digest()[:16]


def index_blocks(raw: bytes) -> list[tuple[int, bytes]]:
    assert raw[:4] == b"ADB." and raw[4:8] == SCHEMA_INDEX, "not an uncompressed ADB index"
    blocks, pos = [], 8
    while pos < len(raw):
        (word,) = struct.unpack("<I", raw[pos : pos + 4])
        kind, size = word >> 30, word & 0x3FFFFFFF
        assert kind in (0, 1) and size >= 4 and pos + size <= len(raw), f"bad block at {pos}"
        blocks.append((kind, raw[pos + 4 : pos + size]))
        pos += size + (-size % 8)
    assert pos == len(raw), "index does not end on a block boundary"
    assert [k for k, _ in blocks][:1] == [0] and all(k == 1 for k, _ in blocks[1:]), "ADB then SIG blocks"
    return blocks


def apk_verify_index(raw: bytes, pem: Path) -> bytes:
    """The index's ADB block, once one of its signatures verifies with the key."""
    key, key_id = apk_key(pem)
    blocks = index_blocks(raw)
    adb = blocks[0][1]
    for _, sig in blocks[1:]:
        assert sig[0] == 0 and sig[1] == 4, "signature version 0 with SHA-512 expected"
        if sig[2:18] != key_id:
            continue
        msg = SCHEMA_INDEX + sig[:18] + hashlib.sha512(adb).digest()
        try:
            key.verify(sig[18:], msg, ec.ECDSA(hashes.SHA512()))
            return adb
        except InvalidSignature:
            raise AssertionError("packages.adb: signature does not verify") from None
    raise AssertionError("packages.adb: no signature by this key")


def read_apk_dir(d: Path, pem: Path) -> list[dict]:
    """The index's packages (info dicts), each checked against its file: identity (SHA-256 of
    the package's ADB block), file size, and (read_apk) every data block's SHA-256."""
    a = _Adb(apk_verify_index((d / "packages.adb").read_bytes(), pem))
    (root,) = struct.unpack("<I", a.buf[4:8])
    ndx = a.obj(root, NDX)
    out = []
    for v in a.arr(ndx["packages"]):
        raw = a.obj(v, INFO)
        info = {k: (a.int(x) if k in ("installed-size", "file-size") else a.blob(x)) for k, x in raw.items()
                if k not in ("depends", "provides", "replaces", "install-if", "recommends")}
        info["depends"] = [a.blob(a.obj(x, {1: "name"})["name"]).decode() for x in a.arr(raw.get("depends", 0))]
        name, version = info["name"].decode(), info["version"].decode()
        f = d / f"{name}-{version}.apk"
        assert f.is_file(), f"{d.name}: {f.name} missing"
        pkg = read_apk(f)
        assert len(info["hashes"]) == 32 and info["hashes"] == hashlib.sha256(pkg.adb).digest(), f"{f.name}: identity"
        assert info["file-size"] == f.stat().st_size, f"{f.name}: file size"
        assert info["depends"] == pkg.info.get("depends", []), f"{f.name}: depends"
        for k in ("arch", "description", "license", "origin", "maintainer", "url"):
            assert info.get(k, b"").decode() == pkg.info.get(k, ""), f"{f.name}: {k}"
        out.append({**pkg.info, "file": f.name, "identity": info["hashes"].hex()})
    assert {p.name for p in d.glob("*.apk")} == {o["file"] for o in out}, "packages not in the index"
    return out
