"""OpenWrt's ddns-scripts, unmodified, in a chroot that looks like a router to it, for
test_ddns_scripts.py. None of OpenWrt's code is in this repository: the test is given it.

What the test needs, and is skipped without (`gate()` says how to get each):

- `R53_DDNS_SCRIPTS`: ddns-scripts' `files/` directory (github.com/openwrt/packages,
  net/ddns-scripts/files): `usr/lib/ddns/dynamic_dns_updater.sh`, its functions, the
  provider files under `usr/share/ddns`;
- `R53_OPENWRT_LIB`: OpenWrt's shell libraries as a router has them in /lib:
  `functions.sh` and `functions/network.sh` (package/base-files/files/lib of
  github.com/openwrt/openwrt) and `config/uci.sh` (package/system/uci/files/lib/config);
- `uci` and `jshn` built from github.com/openwrt/uci and github.com/openwrt/libubox, on PATH
  or named by `R53_UCI` / `R53_JSHN`, with libubox's `jshn.sh` installed beside `jshn`
  (`<prefix>/share/libubox/jshn.sh`, as libubox's `make install` puts it).

The root holds Debian's busybox as /bin/sh with its applets (OpenWrt's shell and tools, as
in tests/openwrt/openwrt_harness.py; `pgrep`, which Debian's busybox lacks, from procps),
Debian's curl (the guide has the user install curl),
the files above at a router's paths, and the guide's /etc/config/ddns and provider file.
The updater is started as procd starts it (`/usr/lib/ddns/dynamic_dns_updater.sh -S
<section>`, procd's PATH), with /proc mounted in a private mount namespace. Three things a
router has are stood in for:

- `/bin/ubus`: netifd's `network.interface.<if> status`, from JSON the test writes. The
  interface's device is `lo`, the device that reaches the endpoint here (ddns-scripts binds
  curl to the WAN's device: `--interface`);
- the router's resolver: busybox's own nslookup (the lookup ddns-scripts falls back to on a
  router without bind-host or knot-host) asks `DnsStandin` through /etc/resolv.conf
  (`nameserver 127.0.0.1:<port>`), which answers A and AAAA from the stack's Route53 records
  as a recursive resolver passes Route53's answers on (NXDOMAIN for a name without records);
- `/bin/sleep`: the test's clock. Each call returns at once and records the seconds asked
  for; the call numbered `stop_after` also sends the updater SIGTERM, as
  `/etc/init.d/ddns stop` (procd) does, so every run ends after a known number of waits.

The system CA bundle of the root (/etc/ssl/certs/ca-certificates.crt, OpenWrt's ca-bundle)
is the stack's test CA, so the guide's `cacert` stays unset, as it tells users to leave it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
from pathlib import Path

import pytest

HOW = ("tests/README.md, 'ddns-scripts': build uci and libubox (jshn) from github.com/openwrt, "
       "then set R53_DDNS_SCRIPTS=<openwrt/packages>/net/ddns-scripts/files and "
       "R53_OPENWRT_LIB=<dir with functions.sh, functions/network.sh, config/uci.sh>")
PROCD_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def gate() -> dict:
    """The third-party pieces, or pytest.skip saying which is missing and how to set it."""
    scripts = os.environ.get("R53_DDNS_SCRIPTS", "")
    lib = os.environ.get("R53_OPENWRT_LIB", "")
    uci = os.environ.get("R53_UCI") or shutil.which("uci") or ""
    jshn = os.environ.get("R53_JSHN") or shutil.which("jshn") or ""
    missing = []
    if not (scripts and Path(scripts, "usr/lib/ddns/dynamic_dns_updater.sh").is_file()):
        missing.append("R53_DDNS_SCRIPTS (ddns-scripts' files/ directory)")
    if not (lib and all(Path(lib, f).is_file()
                        for f in ("functions.sh", "functions/network.sh", "config/uci.sh"))):
        missing.append("R53_OPENWRT_LIB (OpenWrt's /lib shell libraries)")
    if not uci:
        missing.append("uci (on PATH or R53_UCI)")
    jshn_sh = Path(jshn).resolve().parent.parent / "share/libubox/jshn.sh" if jshn else None
    if not (jshn_sh and jshn_sh.is_file()):
        missing.append("jshn with share/libubox/jshn.sh beside it (on PATH or R53_JSHN)")
    for tool in ("busybox", "curl", "pgrep", "unshare", "chroot"):
        if not shutil.which(tool):
            missing.append(tool)
    if missing:
        pytest.skip("ddns-scripts is not at hand: no " + ", ".join(missing) + "; see " + HOW)
    return {"scripts": Path(scripts), "lib": Path(lib), "uci": Path(uci), "jshn": Path(jshn),
            "jshn_sh": jshn_sh}


def _shared_libs(binary: Path) -> list[Path]:
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30).stdout
    return [Path(w) for line in out.splitlines() for w in line.split() if w.startswith("/")]


def _install(root: Path, src: Path, dest: str, mode=0o755) -> None:
    """A binary at `dest` in the root, with the shared libraries it loads at their paths."""
    for lib in _shared_libs(src):
        to = root / str(lib.resolve()).lstrip("/")
        if not to.exists():
            to.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(lib, to)
        alias = root / str(lib).lstrip("/")  # the path ld.so looks for (a symlink on Debian)
        if not alias.exists():
            alias.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(lib, alias)
    shutil.copy2(src, root / dest.lstrip("/"))
    os.chmod(root / dest.lstrip("/"), mode)


UBUS = """#!/bin/sh
# TEST STAND-IN for ubus: netifd's interface status, from /tmp/netifd/<if>.json.
f="/tmp/netifd/${2#network.interface.}.json"
if [ "$1" = call ] && [ "$3" = status ] && [ -f "$f" ]; then exec cat "$f"; fi
echo 'Command failed: Not found' >&2
exit 4
"""

SLEEP = """#!/bin/sh
# TEST STAND-IN for sleep: the test's clock (returns at once, records the seconds); the call
# numbered /tmp/stop-after stops the updater as /etc/init.d/ddns stop does (SIGTERM).
echo "$1" >> /tmp/sleeps
n=$(wc -l < /tmp/sleeps)
[ "$n" -ge "$(cat /tmp/stop-after)" ] && kill -TERM "$PPID"
exit 0
"""


class DnsStandin:
    """A recursive resolver on 127.0.0.1 (UDP) answering from the stack's Route53 records as
    Route53's authoritative servers would have it answer: A and AAAA as the zone has them;
    NXDOMAIN for a name with no records and none below it (RFC 1034 4.3.2, step 3c: an
    authoritative name error), NOERROR without answers for one that has records of other
    types only or whose only records lie below it (its `_r53ddns.` stamp: an empty
    non-terminal exists, RFC 4592 2.2.2, and NXDOMAIN would deny the names below it, RFC 8020
    2);
    NXDOMAIN for names outside the stack's zones (this resolver knows no others)."""

    def __init__(self, stack):
        import dns.flags
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset

        self.stack = stack
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.queries: list[str] = []
        self._stop = False
        self._m = (dns.flags, dns.message, dns.rcode, dns.rdatatype, dns.rrset)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _answer(self, wire: bytes) -> bytes | None:
        flags, message, rcode, rdatatype, rrset = self._m
        try:
            q = message.from_wire(wire)
            question = q.question[0]
        except Exception:  # noqa: BLE001 - garbage gets no answer, as from a real resolver
            return None
        r = message.make_response(q)
        r.flags |= flags.RA
        name = question.name.to_text().rstrip(".").lower()
        rtype = rdatatype.to_text(question.rdtype)
        self.queries.append(f"{rtype} {name}")
        zones = getattr(self.stack, "zone_ids", {})
        if not any(name == z or name.endswith("." + z) for z in zones):
            r.set_rcode(rcode.NXDOMAIN)
            return r.to_wire()
        rec = self.stack.records(name)
        below = self.stack.stamp(name) or self.stack.legacy_stamp(name)
        if not (rec["A"] or rec["AAAA"] or rec["TXT"] or below):
            r.set_rcode(rcode.NXDOMAIN)
        elif rtype in ("A", "AAAA") and rec[rtype]:
            r.answer.append(rrset.from_text_list(question.name, rec["TTL"] or 60, "IN", rtype,
                                                 rec[rtype]))
        return r.to_wire()

    def _serve(self):
        while not self._stop:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            answer = self._answer(wire)
            if answer is not None:
                self.sock.sendto(answer, peer)

    def stop(self):
        self._stop = True
        self.thread.join(timeout=10)
        self.sock.close()


class DdnsRoot:
    """The chroot (see the module docstring)."""

    def __init__(self, path: Path, pieces: dict, ca_file: Path, dns_port: int):
        self.path = p = path
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "lib/functions", "lib/config", "etc/config",
                  "etc/ssl/certs", "usr/share/libubox", "tmp/netifd", "var/run", "var/log",
                  "dev", "proc"):
            (p / d).mkdir(parents=True, exist_ok=True)
        os.chmod(p / "tmp", 0o1777)
        bb = Path(shutil.which("busybox"))
        _install(p, bb, "/bin/busybox")
        applets = subprocess.run([str(bb), "--list"], capture_output=True, text=True, check=True,
                                 timeout=30).stdout.split()
        for a in applets:
            if a != "busybox" and not (p / "bin" / a).exists():
                (p / "bin" / a).symlink_to("busybox")
        _install(p, Path(shutil.which("curl")), "/usr/bin/curl")
        _install(p, Path(shutil.which("pgrep")), "/usr/bin/pgrep")  # OpenWrt's busybox has it
        _install(p, pieces["uci"], "/sbin/uci")
        _install(p, pieces["jshn"], "/usr/bin/jshn")
        shutil.copy2(pieces["jshn_sh"], p / "usr/share/libubox/jshn.sh")
        for f in ("functions.sh", "functions/network.sh", "config/uci.sh"):
            shutil.copy2(pieces["lib"] / f, p / "lib" / f)
        for d in ("usr/lib/ddns", "usr/share/ddns"):
            shutil.copytree(pieces["scripts"] / d, p / d, dirs_exist_ok=True)
        for f in ("dynamic_dns_updater.sh", "dynamic_dns_lucihelper.sh"):
            os.chmod(p / "usr/lib/ddns" / f, 0o755)  # INSTALL_BIN in the package's Makefile
        (p / "usr/share/ddns/custom").mkdir(exist_ok=True)
        for name, text in (("bin/ubus", UBUS), ("bin/sleep", SLEEP)):
            (p / name).unlink(missing_ok=True)
            (p / name).write_text(text)
            os.chmod(p / name, 0o755)
        shutil.copy2(ca_file, p / "etc/ssl/certs/ca-certificates.crt")
        (p / "etc/resolv.conf").write_text(f"nameserver 127.0.0.1:{dns_port}\n")
        os.mknod(p / "dev/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.chmod(p / "dev/null", 0o666)
        # logd: read all the time (a full socket queue would block the updater's `logger`)
        self.syslog_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.syslog_sock.bind(str(p / "dev/log"))
        self.syslog_sock.settimeout(0.2)
        self._syslog: list[str] = []
        self._lock = threading.Lock()
        self._closed = False
        self._logd = threading.Thread(target=self._read_syslog, daemon=True)
        self._logd.start()

    def _read_syslog(self):
        while not self._closed:
            try:
                msg = self.syslog_sock.recv(4096).decode(errors="replace")
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self._syslog.append(msg)

    def file(self, abs_path: str) -> Path:
        return self.path / abs_path.lstrip("/")

    def write(self, abs_path: str, text: str, mode=0o600) -> None:
        f = self.file(abs_path)
        f.write_text(text)
        os.chmod(f, mode)

    def set_iface(self, name: str, status: dict) -> None:
        self.write(f"/tmp/netifd/{name}.json", json.dumps(status, indent="\t"), 0o644)

    def log(self, section: str) -> str:
        f = self.file(f"/var/log/ddns/{section}.log")
        return f.read_text(errors="replace") if f.exists() else ""

    def sleeps(self) -> list[int]:
        f = self.file("/tmp/sleeps")
        return [int(x) for x in f.read_text().split()] if f.exists() else []

    def syslog(self) -> list[str]:
        """What reached logd since the last call."""
        with self._lock:
            out, self._syslog = self._syslog, []
        return out

    def sh(self, script: str, timeout=60) -> subprocess.CompletedProcess:
        """`script` run by the root's /bin/sh (busybox ash) with procd's PATH."""
        return self._run(["/bin/sh", "-c", script], timeout)

    def updater(self, section: str, stop_after: int, timeout=120) -> subprocess.CompletedProcess:
        """The updater as procd starts it for `section`, until its `stop_after`-th wait; its
        log (`log()`) then holds this run only."""
        self.file(f"/var/log/ddns/{section}.log").unlink(missing_ok=True)
        self.file("/tmp/sleeps").unlink(missing_ok=True)
        self.write("/tmp/stop-after", f"{stop_after}\n", 0o644)
        return self._run(["/usr/lib/ddns/dynamic_dns_updater.sh", "-S", section], timeout)

    def _run(self, argv, timeout) -> subprocess.CompletedProcess:
        # /proc of its own (uptime, pgrep), mounted in a private mount namespace: gone with it
        wrapper = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
                   'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"', str(self.path), *argv]
        proc = subprocess.Popen(wrapper, env={"PATH": PROCD_PATH}, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)
            raise
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # whatever it left behind
            except ProcessLookupError:
                pass
        p = subprocess.CompletedProcess(wrapper, proc.returncode, out, err)
        p.out = out + err
        return p

    def close(self):
        self._closed = True
        self._logd.join(timeout=10)
        self.syslog_sock.close()
