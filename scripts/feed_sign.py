"""The feed's signing keys and signatures, made with `openssl` (3.0+): part of scripts/feed.py.

usign.key (Ed25519) signs opkg's Packages as usign does; apk.key (EC P-256) signs apk's
packages.adb as apk-tools 3 does. Keys are passed to openssl by path, never by content.
"""

import base64
import hashlib
import os
import subprocess
from pathlib import Path

OPENSSL_TIMEOUT = 30
# DER SubjectPublicKeyInfo prefixes: Ed25519 (RFC 8410), EC P-256 uncompressed point (RFC 5480).
SPKI_ED25519 = bytes.fromhex("302a300506032b6570032100")
SPKI_P256 = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


class Error(Exception):
    pass


def openssl(*args: str, data: bytes | None = None) -> bytes:
    try:
        r = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=OPENSSL_TIMEOUT)
    except FileNotFoundError as e:
        raise Error("openssl not found (needed to sign)") from e
    except subprocess.TimeoutExpired as e:
        raise Error(f"openssl {args[0]} did not finish in {OPENSSL_TIMEOUT} s") from e
    if r.returncode != 0:
        raise Error(f"openssl {args[0]} failed: {r.stderr.decode(errors='replace').strip()[:300]}")
    return r.stdout


def private_key(keydir: Path, name: str) -> Path:
    path = keydir / name
    try:
        st = path.stat()
    except OSError as e:
        raise Error(f"{path}: {e.strerror} (make the keys with: scripts/feed.py keygen {keydir})") from e
    if st.st_mode & 0o077:
        raise Error(f"{path}: readable by group or others (mode {st.st_mode & 0o777:o}): chmod 600 it")
    return path


def public_der(key: Path, prefix: bytes, size: int, what: str) -> bytes:
    der = openssl("pkey", "-in", str(key), "-pubout", "-outform", "DER")
    if len(der) != len(prefix) + size or not der.startswith(prefix):
        raise Error(f"{key}: not {what}")
    return der


def keygen(keydir: Path) -> None:
    keydir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in ("usign.key", "apk.key"):
        if (keydir / name).exists():
            raise Error(f"{keydir / name} exists: not overwritten")
    old = os.umask(0o077)
    try:
        openssl("genpkey", "-algorithm", "ed25519", "-out", str(keydir / "usign.key"))
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-pkeyopt", "ec_param_enc:named_curve", "-out", str(keydir / "apk.key"))
    finally:
        os.umask(old)


class Signer:
    def __init__(self, keydir: Path):
        self.usign_key = private_key(keydir, "usign.key")
        self.apk_key = private_key(keydir, "apk.key")
        self.ed_pub = public_der(self.usign_key, SPKI_ED25519, 32, "an Ed25519 key")[-32:]
        # usign keys carry an 8-byte fingerprint (random in `usign -G`); here it is derived
        # from the public key, so the same key always gives the same fingerprint.
        self.fingerprint = hashlib.sha512(self.ed_pub).digest()[:8]
        self.apk_spki = public_der(self.apk_key, SPKI_P256, 65, "an EC P-256 key")
        # apk-tools' key id: the first 16 bytes of the SHA-512 of the raw public key (for EC,
        # the point), as i2d_PublicKey/mbedtls_pk_write_pubkey give it.
        self.apk_id = hashlib.sha512(self.apk_spki[-65:]).digest()[:16]

    def usign_pub(self) -> bytes:
        b64 = b64encode(b"Ed" + self.fingerprint + self.ed_pub)
        return f"untrusted comment: public key {self.fingerprint.hex()}\n{b64}\n".encode()

    def usign_sig(self, msg_path: Path) -> bytes:
        sig = openssl("pkeyutl", "-sign", "-inkey", str(self.usign_key), "-rawin", "-in", str(msg_path))
        if len(sig) != 64:
            raise Error("openssl gave an Ed25519 signature of the wrong size")
        b64 = b64encode(b"Ed" + self.fingerprint + sig)
        return f"untrusted comment: signed by key {self.fingerprint.hex()}\n{b64}\n".encode()

    def apk_pem(self) -> bytes:
        return openssl("pkey", "-pubin", "-inform", "DER", "-pubout", data=self.apk_spki)

    def ecdsa_sha512(self, msg: bytes) -> bytes:
        return openssl("dgst", "-sha512", "-sign", str(self.apk_key), "-binary", data=msg)


def b64encode(b: bytes) -> str:
    return base64.b64encode(b).decode()
