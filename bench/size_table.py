#!/usr/bin/env python3
"""Per-target sizes of the static router binary, and the peak RSS of one update, as markdown.

    python3 bench/size_table.py [--no-build] [--out bench/size_results.md] [target ...]

Builds the targets with scripts/build-static.sh (default: all five; a no-op when fresh), then
reports for each dist/bin/<target>/route53-ddns its stripped size and its `xz -9e` size (what
it costs in a squashfs image or a compressed package), against the 800 KB goal for mipsel.
The peak RSS is measured natively on the x86_64 musl binary: one `update --force` (a real
signed HTTPS POST, TLS 1.3) against a local endpoint, GNU time -v, with the endpoint, CA and
stand-in ubus of bench/router_bench.py.
"""

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "dist" / "bin"
GOAL = 800 * 1000  # bytes, mipsel, stripped, TLS included

TARGETS = [  # OpenWrt arch, Rust target
    ("mipsel_24kc", "mipsel-unknown-linux-musl"),
    ("mips_24kc", "mips-unknown-linux-musl"),
    ("arm_cortex-a7/a9/a15", "armv7-unknown-linux-musleabihf"),
    ("aarch64_*", "aarch64-unknown-linux-musl"),
    ("x86_64", "x86_64-unknown-linux-musl"),
]
SHORT = {"mipsel": 0, "mips": 1, "armv7": 2, "aarch64": 3, "x86_64": 4}


def xz_size(path: Path) -> int:
    out = subprocess.run(["xz", "-9e", "-c", str(path)], capture_output=True, check=True).stdout
    return len(out)


def peak_rss_kib(binary: Path) -> int:
    sys.path.insert(0, str(REPO / "bench"))
    import router_bench as rb  # the router helper's endpoint, PKI and ubus stand-in

    d = Path(tempfile.mkdtemp(prefix="r53size-"))
    try:
        rb.make_pki(d)
        ep = rb.Endpoint(d)
        ubus = rb.tiny_ubus(d)
        cfg = d / "route53-ddns"
        cfg.write_text(
            "config global 'global'\n\toption enabled '1'\n"
            f"\toption endpoint 'https://localhost:{ep.port}'\n\toption key_file '{d / 'key'}'\n"
            f"\toption ca_file '{d / 'ca.pem'}'\n\nconfig host\n\toption name 'home.example.com'\n")
        env = dict(os.environ, ROUTE53_DDNS_UBUS=str(ubus), ROUTE53_DDNS_STATE_DIR=str(d / "state"),
                   ROUTE53_DDNS_SYSLOG_SOCKET=str(d / "nolog"))
        base = [str(binary), "--config", str(cfg)]
        subprocess.run(base + ["keygen"], env=env, check=True, capture_output=True)
        rss, rc = rb.time_v(base + ["update", "--force"], env)
        if rc != 0 or rss is None:
            raise SystemExit(f"update exited {rc}")
        return rss
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-build", action="store_true", help="measure dist/bin as it is")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "size_results.md")
    ap.add_argument("targets", nargs="*", help="short names (mipsel mips armv7 aarch64 x86_64)")
    a = ap.parse_args()
    wanted = [TARGETS[SHORT[t]] for t in a.targets] if a.targets else TARGETS
    if not a.no_build:
        subprocess.run([str(REPO / "scripts" / "build-static.sh"), *[t for _, t in wanted]],
                       cwd=REPO, check=True)
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"# Router binary sizes ({datetime.date.today()})",
        "",
        "Built by `scripts/build-static.sh` (static, stripped; opt-level z, fat LTO, codegen-units 1,",
        "std rebuilt with optimize_for_size, immediate-abort panics, -Zlocation-detail=none,",
        f"-Zfmt-debug=none, no unwind tables; MIPS without .pdr) with {rustc}. Regenerate:",
        "`python3 bench/size_table.py`.",
        "",
        "| OpenWrt arch | Rust target | stripped (bytes) | stripped (KiB) | xz -9e (bytes) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for arch, t in wanted:
        f = DIST / t / "route53-ddns"
        if not f.exists():
            lines.append(f"| {arch} | {t} | not built | | |")
            continue
        size = f.stat().st_size
        lines.append(f"| {arch} | `{t}` | {size:,} | {size / 1024:.0f} | {xz_size(f):,} |")
    mipsel = DIST / TARGETS[0][1] / "route53-ddns"
    if mipsel.exists():
        s = mipsel.stat().st_size
        verdict = f"met, {GOAL - s:,} bytes under" if s <= GOAL else f"{s - GOAL:,} bytes over"
        lines += ["", f"Goal: mipsel <= 800 KB (800,000 bytes) stripped with TLS: {verdict}."]
    x86 = DIST / TARGETS[4][1] / "route53-ddns"
    if x86.exists():
        rss = peak_rss_kib(x86)
        lines += ["", f"Peak RSS of one update (`update --force`, one signed HTTPS POST over TLS 1.3, "
                      f"x86_64 musl binary run natively, GNU time -v): **{rss:,} KiB**."]
    text = "\n".join(lines) + "\n"
    print(text)
    a.out.write_text(text)


if __name__ == "__main__":
    main()
