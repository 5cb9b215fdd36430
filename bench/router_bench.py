#!/usr/bin/env python3
"""Router binary vs curl: one HTTPS update to the same local endpoint, side by side.

    python3 bench/router_bench.py [--runs N] [--binary PATH] [--out bench/router_results.md]

Measures, for the static x86_64 musl release binary (built here with cargo-zigbuild unless
--binary is given):
  * one update (`update --force`, a real signed POST over TLS 1.3): peak RSS (wait4 rusage,
    via /usr/bin/time -v), wall time (median of N runs), instructions (valgrind callgrind);
  * curl sending the very same request (headers and body captured from the router's
    request) to the same endpoint with the same CA file: same three numbers;
  * the no-change run (`update` with unchanged addresses: exit 3, nothing sent): wall time
    (median of N), peak RSS, instructions.
Each update is measured twice: trusting one CA file (the bench CA), and trusting the
machine's system bundle (/etc/ssl/certs/ca-certificates.crt, ~140 roots) with the bench CA
appended last, i.e. what a router with OpenWrt's ca-bundle does (curl gets the same file).
The state directory persists between runs as /var/run does on a router, so those runs read
the root where the CA hint (src/roots/hint.rs) says; the "first run after boot" row removes
the hint before each run, so the whole bundle is scanned.

The endpoint is a local Python TLS server answering a fixed UpdateResponse. The stand-in
`ubus` is a tiny static C program (compiled with zig cc) printing a netifd status, so its
own memory does not inflate the router's peak RSS (wait4 reports the max over the child's
descendants). Everything listens on 127.0.0.1 only.
"""

import argparse
import datetime
import http.server
import json
import os
import re
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[1]
TARGET = "x86_64-unknown-linux-musl"

WAN = {
    "up": True, "pending": False, "available": True, "autostart": True, "dynamic": False,
    "uptime": 42, "l3_device": "eth1", "proto": "dhcp", "device": "eth1",
    "ipv4-address": [{"address": "192.0.2.10", "mask": 24}],
    "ipv6-address": [{"address": "2001:db8:1::10", "mask": 128, "preferred": 3600, "valid": 7200}],
    "ipv6-prefix": [], "ipv6-prefix-assignment": [], "route": [], "dns-server": [],
    "dns-search": [], "neighbors": [], "inactive": {}, "data": {},
}


def make_pki(d: Path):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


class Endpoint:
    def __init__(self, d: Path):
        self.last = None
        ep = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                ep.last = (dict(self.headers), body, self.path)
                out = json.dumps({
                    "result": "updated",
                    "hosts": [{"name": "home.example.com", "a": ["192.0.2.10"],
                               "aaaa": ["2001:db8:1::10"], "ttl": 60}],
                    "observed": "127.0.0.1", "request_id": "bench-1",
                    "server_time": int(time.time() * 1000),
                }).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.send_header("connection", "close")
                self.end_headers()
                self.wfile.write(out)

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(d / "server.pem", d / "server.key")
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()


def build_binary() -> Path:
    subprocess.run(["cargo", "zigbuild", "--release", "--target", TARGET, "-p", "route53-ddns",
                    "--bin", "route53-ddns"], cwd=REPO, check=True)
    return REPO / "target" / TARGET / "release" / "route53-ddns"


def tiny_ubus(d: Path) -> Path:
    """A static C stand-in for `ubus call network.interface.X status`."""
    wan = json.dumps(WAN).replace("\\", "\\\\").replace('"', '\\"')
    src = d / "ubus.c"
    src.write_text(
        "#include <string.h>\n#include <unistd.h>\n"
        f'static const char wan[] = "{wan}";\n'
        "int main(int c, char **v) {\n"
        "  if (c == 4 && (!strcmp(v[2], \"network.interface.wan\") || !strcmp(v[2], \"network.interface.wan6\"))) {\n"
        "    write(1, wan, sizeof wan - 1); return 0; }\n"
        "  write(2, \"Command failed: Not found\\n\", 26); return 4; }\n")
    out = d / "ubus"
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "x86_64-linux-musl", "-static",
                    "-Os", "-s", "-o", str(out), str(src)], check=True)
    return out


def time_v(argv, env, pre):
    """Peak RSS (KiB) and exit code via GNU time -v."""
    pre()
    p = subprocess.run(["/usr/bin/time", "-v", *argv], env=env, capture_output=True, text=True)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return int(m.group(1)) if m else None, p.returncode


def wall(argv, env, runs, expect, pre):
    """Median and best wall time, and median CPU time (user+sys, children), in ms.
    CPU time is what a busy machine does not distort."""
    times, cpu = [], []
    for _ in range(runs):
        pre()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(argv, env=env, capture_output=True)
        times.append((time.perf_counter() - t) * 1000)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000)
        if p.returncode != expect:
            raise SystemExit(f"{argv} exited {p.returncode}: {p.stderr.decode()[-500:]}")
    return statistics.median(times), min(times), statistics.median(cpu)


def instructions(argv, env, d: Path, tag, pre):
    pre()
    out = d / f"callgrind.{tag}"
    p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
                       env=env, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", p.stderr)
    return int(m.group(1)) if m else None


def rss_split(argv, env):
    """RssAnon and RssFile (KiB) of the router process as it calls exit_group: strace holds
    it there (a delayed syscall entry) while /proc/PID/status is read. Anon is the memory
    the run itself takes; File is the binary's pages mapped from the page cache (shared
    and reclaimable), which the kernel maps 64 KiB around each fault."""
    if not shutil.which("strace"):
        return None
    p = subprocess.Popen(["strace", "-o", "/dev/null", "-e", "trace=exit_group",
                          "-e", "inject=exit_group:delay_enter=2000000", *argv],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            kids = Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()
            for kid in kids:
                try:
                    if Path(f"/proc/{kid}/syscall").read_text().split()[0] == "231":
                        st = Path(f"/proc/{kid}/status").read_text()
                        get = lambda k: int(re.search(rf"{k}:\s+(\d+)", st).group(1))
                        return get("RssAnon"), get("RssFile")
                except (OSError, IndexError):
                    pass
            time.sleep(0.01)
        return None
    finally:
        p.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--binary", type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "router_results.md")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (callgrind.<n> files for callgrind_annotate)")
    a = ap.parse_args()
    binary = a.binary or build_binary()
    d = Path(tempfile.mkdtemp(prefix="r53bench-"))
    try:
        make_pki(d)
        ep = Endpoint(d)
        ubus = tiny_ubus(d)
        key = d / "key"
        bundle = d / "bundle.pem"
        bundle.write_bytes(Path("/etc/ssl/certs/ca-certificates.crt").read_bytes()
                           + (d / "ca.pem").read_bytes())

        def config(ca):
            cfg = d / f"route53-ddns.{ca.stem}"
            cfg.write_text(
                "config global 'global'\n\toption enabled '1'\n"
                f"\toption endpoint 'https://localhost:{ep.port}'\n\toption key_file '{key}'\n"
                f"\toption ca_file '{ca}'\n\n"
                "config host\n\toption name 'home.example.com'\n")
            return cfg
        cfg = config(d / "ca.pem")
        env = dict(os.environ, ROUTE53_DDNS_UBUS=str(ubus), ROUTE53_DDNS_STATE_DIR=str(d / "state"),
                   ROUTE53_DDNS_SYSLOG_SOCKET=str(d / "nolog"))
        base = [str(binary), "--config", str(cfg)]
        subprocess.run(base + ["keygen"], env=env, check=True, capture_output=True)
        update = base + ["update", "--force"]
        nochange = base + ["update"]

        # Warm up, and capture the request for curl.
        subprocess.run(update, env=env, check=True, capture_output=True)
        headers, body, path = ep.last
        (d / "body.json").write_bytes(body)
        curl = ["curl", "-sS", "-o", "/dev/null", "-X", "POST",
                "--data-binary", f"@{d / 'body.json'}"]
        for k in ("content-type", "x-r53ddns-key", "x-r53ddns-host", "x-r53ddns-time",
                  "x-r53ddns-signature"):
            v = next((v for hk, v in headers.items() if hk.lower() == k), None)
            if v:
                curl += ["-H", f"{k}: {v}"]
        curl.append(f"https://localhost:{ep.port}{path}")
        update_bundle = [str(binary), "--config", str(config(bundle)), "update", "--force"]

        def keep():
            pass

        def no_hint():
            (d / "state" / "ca-hint").unlink(missing_ok=True)

        rows = []
        for label, argv, expect, pre in (
                ("route53-ddns update, one CA file", update, 0, keep),
                ("curl, same POST, one CA file", curl + ["--cacert", str(d / "ca.pem")], 0, keep),
                ("route53-ddns update, system bundle", update_bundle, 0, keep),
                ("route53-ddns update, system bundle, first run after boot (no CA hint)",
                 update_bundle, 0, no_hint),
                ("curl, same POST, system bundle", curl + ["--cacert", str(bundle)], 0, keep),
                ("route53-ddns no-change run", nochange, 3, keep)):
            if expect == 3:
                subprocess.run(base + ["update", "--force"], env=env, check=True, capture_output=True)
            else:
                # The run before leaves the CA hint for this trust file.
                subprocess.run(argv, env=env, capture_output=True)
            rss, rc = time_v(argv, env, pre)
            med, best, cpu = wall(argv, env, a.runs, expect, pre)
            ins = instructions(argv, env, d, str(len(rows)), pre)
            split = None
            if argv[0] == str(binary):
                pre()
                split = rss_split(argv, env)
            rows.append((label, rss, med, best, cpu, ins, split))

        size = binary.stat().st_size
        lines = [
            f"# Router benchmark ({datetime.date.today()})",
            "",
            f"Binary: `{binary.relative_to(REPO) if binary.is_relative_to(REPO) else binary}`, "
            f"{size} bytes ({TARGET}). Endpoint: local TLS 1.3 server (Python ssl), "
            f"127.0.0.1. Wall time: median (best) of {a.runs} runs. "
            "Peak RSS: GNU time -v. Instructions: valgrind --tool=callgrind, whole process.",
            "",
            "RSS at exit: RssAnon + RssFile (KiB) from /proc as the process calls exit_group.",
            "",
            "| run | peak RSS (KiB) | RSS at exit: anon + file (KiB) | wall median (ms) | "
            "wall best (ms) | CPU median (ms) | instructions |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for label, rss, med, best, cpu, ins, split in rows:
            at_exit = f"{split[0]} + {split[1]}" if split else "—"
            lines.append(f"| {label} | {rss} | {at_exit} | {med:.2f} | {best:.2f} | {cpu:.2f} | "
                         f"{ins:,} |")
        text = "\n".join(lines) + "\n"
        print(text)
        a.out.write_text(text)
    finally:
        if a.keep:
            print(f"kept {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
