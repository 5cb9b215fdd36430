"""Helpers for the OpenWrt tests (tests/system/test_openwrt_*.py).

- the static x86_64 router binary, built by scripts/build-static.sh (a no-op when fresh);
- the .ipk files, made by scripts/package.sh, and a reader for them;
- `Root`: a minimal OpenWrt-like root to chroot into: busybox (OpenWrt's shell) as
  /bin/sh with its applets, the package installed from its .ipk, the stand-ins of this
  directory for what Debian lacks (uci, hotplug-call, rc.common with procd), and a
  syslog socket at /dev/log read by the test. Scripts run there exactly as on a router:
  same absolute paths, no test hooks in them, and only the environment the test gives.
"""

from __future__ import annotations

import gzip
import io
import os
import selectors
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
X86_64 = "x86_64-unknown-linux-musl"
PKG = "route53-ddns"

# What netifd's hotplug-call exports besides the event's own variables.
HOTPLUG_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def build_static(*targets: str) -> None:
    """Static musl binaries into dist/bin/<target>/ (scripts/build-static.sh: cargo makes
    it a no-op when the sources did not change)."""
    r = subprocess.run(
        [str(REPO / "scripts" / "build-static.sh"), *targets],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert r.returncode == 0, f"build-static.sh failed:\n{r.stdout[-4000:]}"


def build_static_x86_64() -> Path:
    build_static(X86_64)
    path = REPO / "dist" / "bin" / X86_64 / PKG
    assert path.is_file(), path
    return path


def make_packages(out: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO / "scripts" / "package.sh"), "--out", str(out), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@dataclass
class Ipk:
    path: Path
    outer: list[str]
    debian_binary: bytes
    control: dict[str, tarfile.TarInfo]
    control_files: dict[str, bytes]
    data: dict[str, tarfile.TarInfo]
    data_files: dict[str, bytes]
    data_tar_gz: bytes

    def control_fields(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        last = None
        for line in self.control_files["./control"].decode().splitlines():
            if line.startswith(" ") and last:
                fields[last] += "\n" + line
            else:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
                last = k
        return fields


def _read_tar_gz(blob: bytes):
    members: dict[str, tarfile.TarInfo] = {}
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as t:
        for m in t.getmembers():
            members[m.name] = m
            if m.isfile():
                f = t.extractfile(m)
                assert f is not None
                files[m.name] = f.read()
    return members, files


def read_ipk(path: Path) -> Ipk:
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b", f"{path} is not gzip'd (an OpenWrt .ipk is a tar.gz)"
    outer: dict[str, bytes] = {}
    names: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as t:
        for m in t.getmembers():
            names.append(m.name)
            f = t.extractfile(m)
            assert f is not None
            outer[m.name] = f.read()
    control, control_files = _read_tar_gz(outer["./control.tar.gz"])
    data, data_files = _read_tar_gz(outer["./data.tar.gz"])
    return Ipk(
        path=path,
        outer=names,
        debian_binary=outer["./debian-binary"],
        control=control,
        control_files=control_files,
        data=data,
        data_files=data_files,
        data_tar_gz=outer["./data.tar.gz"],
    )


def _busybox() -> Path:
    bb = shutil.which("busybox")
    assert bb, "busybox is not installed (scripts/setup.sh installs it)"
    return Path(bb)


def _shared_libs(binary: Path) -> list[Path]:
    r = subprocess.run(["ldd", str(binary)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    libs = []
    for line in r.stdout.splitlines():
        for word in line.split():
            if word.startswith("/"):
                libs.append(Path(word))
    return libs


class Reaped:
    """A command run under subreaper.py: `returned()` when the command itself exited,
    `all_exited()` when every process it left behind has ended too."""

    def __init__(self, proc: subprocess.Popen, out: Path, err: Path):
        self.proc = proc
        self.out = out
        self.err = err
        self._sel = selectors.DefaultSelector()
        assert proc.stdout is not None
        self._sel.register(proc.stdout, selectors.EVENT_READ)

    def _line(self, deadline_s: float) -> str:
        # The deadline only turns a hang into a failure; no test asserts on durations.
        end = time.monotonic() + deadline_s
        assert self.proc.stdout is not None
        while time.monotonic() < end:
            if self._sel.select(timeout=0.5):
                line = self.proc.stdout.readline()
                if not line:
                    raise AssertionError(f"subreaper ended early; stderr: {self.err.read_text()!r}")
                return line.strip()
        raise AssertionError("the command or what it left behind did not end")

    def returned(self, deadline_s: float = 30) -> int:
        line = self._line(deadline_s)
        assert line.startswith("returned "), line
        return int(line.split()[1])

    def all_exited(self, deadline_s: float = 60) -> None:
        assert self._line(deadline_s) == "all-exited"
        self.proc.wait(timeout=deadline_s)


class Root:
    """A minimal OpenWrt-like root directory (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = path
        self.log_socket: socket.socket | None = None
        self._reaped: list[Reaped] = []

    @classmethod
    def create(
        cls,
        path: Path,
        ipk: Path,
        *,
        binary: Path | None = None,
        standin: bool = False,
        enabled_at_boot: bool = True,
    ) -> "Root":
        r = cls(path)
        p = path
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc/rc.d", "tmp", "var/run", "dev", "lib", "proc"):
            (p / d).mkdir(parents=True, exist_ok=True)
        os.chmod(p / "tmp", 0o1777)
        # busybox as OpenWrt has it: /bin/busybox and one link per applet.
        bb = _busybox()
        shutil.copy2(bb, p / "bin" / "busybox")
        for lib in _shared_libs(bb):
            dest = p / lib.relative_to("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(lib, dest)
        applets = subprocess.run([str(bb), "--list"], stdout=subprocess.PIPE, text=True, check=True).stdout.split()
        for a in applets:
            for d in ("bin",):
                link = p / d / a
                if not link.exists() and a != "busybox":
                    link.symlink_to("busybox")
        os.mknod(p / "dev" / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.chmod(p / "dev" / "null", 0o666)
        # The package, installed from its .ipk (as opkg would unpack data.tar.gz).
        data = read_ipk(ipk).data_tar_gz
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            t.extractall(p, filter="fully_trusted")
        # The package's dependency ca-bundle: OpenWrt's /etc/ssl/certs/ca-certificates.crt.
        bundle = Path("/etc/ssl/certs/ca-certificates.crt")
        assert bundle.is_file(), "Debian's ca-certificates is not installed"
        (p / "etc" / "ssl" / "certs").mkdir(parents=True, exist_ok=True)
        shutil.copy2(bundle, p / "etc" / "ssl" / "certs" / "ca-certificates.crt")
        # Stand-ins for what Debian does not have.
        real_uci = os.environ.get("R53_TEST_UCI")  # a real uci build, to check the stand-in
        if real_uci:
            shutil.copy2(real_uci, p / "sbin" / "uci")
            for lib in _shared_libs(Path(real_uci)):
                shutil.copy2(lib, p / "lib" / lib.name)
        else:
            shutil.copy2(HERE / "uci", p / "sbin" / "uci")
        shutil.copy2(HERE / "hotplug-call", p / "sbin" / "hotplug-call")
        shutil.copy2(HERE / "functions.sh", p / "lib" / "functions.sh")
        shutil.copy2(HERE / "rc-procd", p / "sbin" / "rc-procd")
        if standin:
            shutil.copy2(HERE / "route53-ddns-standin", p / "usr" / "sbin" / PKG)
        elif binary is not None:
            shutil.copy2(binary, p / "usr" / "sbin" / PKG)
        if enabled_at_boot:
            (p / "etc" / "rc.d" / f"S95{PKG}").symlink_to(f"../init.d/{PKG}")
        return r

    # ---- files
    def file(self, abs_path: str) -> Path:
        return self.path / abs_path.lstrip("/")

    def write_config(self, text: str) -> None:
        f = self.file(f"/etc/config/{PKG}")
        f.write_text(text)
        os.chmod(f, 0o600)

    def set_options(self, **opts: str) -> None:
        """Rewrites `option <k> '<v>'` lines of the global section (adds missing ones)."""
        lines = self.file(f"/etc/config/{PKG}").read_text().splitlines()
        out = []
        seen = set()
        in_global = False
        for line in lines:
            s = line.strip()
            if s.startswith("config "):
                if in_global:
                    out.extend(f"\toption {k} '{v}'" for k, v in opts.items() if k not in seen)
                    seen.update(opts)
                in_global = s.startswith("config global")
            if in_global and s.startswith("option "):
                k = s.split()[1]
                if k in opts:
                    out.append(f"\toption {k} '{opts[k]}'")
                    seen.add(k)
                    continue
            out.append(line)
        if in_global:
            out.extend(f"\toption {k} '{v}'" for k, v in opts.items() if k not in seen)
        self.write_config("\n".join(out) + "\n")

    # ---- syslog
    def listen_syslog(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        path = self.file("/dev/log")
        if path.exists():
            path.unlink()
        s.bind(str(path))
        s.setblocking(False)
        self.log_socket = s

    def syslog(self) -> list[str]:
        assert self.log_socket is not None
        msgs = []
        while True:
            try:
                msgs.append(self.log_socket.recv(4096).decode(errors="replace"))
            except BlockingIOError:
                return msgs

    # ---- running things inside
    def _argv(self, argv: list[str]) -> list[str]:
        chroot = shutil.which("chroot") or "/usr/sbin/chroot"
        return [chroot, str(self.path), *argv]

    def run(self, argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._argv(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )

    def run_reaped(self, argv: list[str], env: dict[str, str]) -> Reaped:
        out = self.path.parent / f"reaped{len(self._reaped)}.out"
        err = self.path.parent / f"reaped{len(self._reaped)}.err"
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "subreaper.py"), str(out), str(err), *self._argv(argv)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        r = Reaped(proc, out, err)
        self._reaped.append(r)
        return r

    # ---- the updater stand-in's records
    def make_release_fifo(self) -> None:
        d = self.file("/tmp/standin")
        d.mkdir(parents=True, exist_ok=True)
        os.mkfifo(d / "release")

    def runs(self) -> list[dict]:
        d = self.file("/tmp/standin")
        out = []
        for f in sorted(d.glob("run.*")) if d.is_dir() else []:
            rec: dict = {"args": [], "env": {}}
            for line in f.read_text().splitlines():
                k, _, v = line.partition("=")
                if k == "arg":
                    rec["args"].append(v)
                elif k == "env":
                    ek, _, ev = v.partition("=")
                    rec["env"][ek] = ev
                else:
                    rec[k] = v
            rec["done"] = (d / f"done.{rec['pid']}").exists()
            out.append(rec)
        return out

    def wait_runs(self, n: int, deadline_s: float = 30) -> list[dict]:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            runs = self.runs()
            if len(runs) >= n:
                return runs
            time.sleep(0.02)
        raise AssertionError(f"expected {n} updater run(s), saw {len(self.runs())}")

    def release(self, at_least: int = 0, deadline_s: float = 30) -> int:
        """Lets every stand-in run that waits on the FIFO go on; returns how many openings
        of the FIFO found a reader. A run that has written its record may not have opened
        the FIFO yet: with `at_least`, wait for that many readers first."""
        fifo = self.file("/tmp/standin/release")
        end = time.monotonic() + deadline_s
        n = 0
        while True:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                if n >= at_least or time.monotonic() > end:
                    return n
                time.sleep(0.02)
                continue
            try:
                os.write(fd, b"go\n")
            finally:
                os.close(fd)
            n += 1
            time.sleep(0.05)

    def cleanup(self) -> None:
        """Ends what a failed test may have left: releases hanging stand-ins, then kills,
        by pid, the subreapers this Root started and the stand-in runs it recorded."""
        try:
            if self.file("/tmp/standin/release").exists():
                self.release()
        except OSError:
            pass
        for r in self._reaped:
            if r.proc.poll() is None:
                try:
                    r.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    for rec in self.runs():
                        try:
                            os.kill(int(rec["pid"]), 9)
                        except (OSError, ValueError):
                            pass
                    r.proc.kill()
                    r.proc.wait(timeout=5)
        if self.log_socket is not None:
            self.log_socket.close()


# What netifd's own environment carries into its hotplug calls: procd starts it with the
# kernel's HOME and TERM and procd's PATH.
NETIFD_ENV = {"HOME": "/", "TERM": "linux", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def hotplug_env(action: str, interface: str, device: str | None = None, **ifupdate: str) -> dict[str, str]:
    """The environment netifd gives /sbin/hotplug-call for an interface event, as read in
    netifd's source and seen under a real netifd (a model of it, not a recording): its own
    HOME, TERM and PATH, then ACTION, INTERFACE, DEVICE (only when the interface has an l3
    device) and, for ifupdate, IFUPDATE_ADDRESSES/ROUTES/PREFIXES/DATA=1 for what changed.
    A DHCPv6-PD renewal sends ifupdate with IFUPDATE_PREFIXES=1 at every renewal, the
    prefix changed or not."""
    env = dict(NETIFD_ENV, ACTION=action, INTERFACE=interface)
    if device:
        env["DEVICE"] = device
    for k, v in ifupdate.items():
        env[f"IFUPDATE_{k.upper()}"] = v
    return env


def gunzip_size(blob: bytes) -> int:
    return len(gzip.decompress(blob))


def makefile_prerm() -> str:
    """`Package/route53-ddns/prerm` of the feed Makefile as GNU make expands it (what the
    SDK writes to prerm-pkg), read by make itself rather than by scripts/package.sh."""
    text = (REPO / "openwrt" / PKG / "Makefile").read_text()
    start = text.index(f"define Package/{PKG}/prerm\n")
    block = text[start:text.index("\nendef\n", start) + len("\nendef\n")]
    mk = block + f"$(file >/dev/stdout,$(Package/{PKG}/prerm))\nall: ;\n"
    r = subprocess.run(["make", "-s", "-f", "-"], input=mk, capture_output=True, text=True, check=True)
    return r.stdout
