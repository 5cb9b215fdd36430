#!/usr/bin/env bash
# What is big in the router binary, per crate and per function, for one target (default mipsel):
# `cargo bloat` for the build-std + zig route. Builds an unstripped copy with the same flags as
# scripts/build-static.sh (into build/bloat/, dist/bin is left alone) and reads its symbol table.
#
#   bench/size-bloat.sh [target] [number of functions to list, default 30]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${1:-mipsel}"
TOP="${2:-30}"
OUT="${R53_BUILD_DIR:-$ROOT/build}/bloat"

CARGO_PROFILE_RELEASE_STRIP=false R53_DIST_DIR="$OUT" "$ROOT/scripts/build-static.sh" "$TARGET" >"$OUT.log" 2>&1 \
  || { tail -20 "$OUT.log" >&2; exit 1; }
bin=$(ls "$OUT"/*/route53-ddns)
echo "## $(basename "$(dirname "$bin")") (unstripped copy: $bin)"
echo
echo '```'
size -A "$bin" | awk '$1 ~ /^\.(text|rodata|data|bss|eh_frame|eh_frame_hdr|data\.rel\.ro)$/'
echo '```'
# shellcheck disable=SC2016  # the Python program is meant to be literal
nm -S --size-sort "$bin" | python3 -c '
import collections, re, subprocess, sys
top = int(sys.argv[1])
rows, seen = [], set()
for line in sys.stdin:
    p = line.split(None, 3)
    if len(p) < 4 or p[2].lower() not in "trd" or p[0] in seen:
        continue
    seen.add(p[0])  # aliases share an address: count once
    rows.append((int(p[1], 16), p[3].strip()))
names = subprocess.run(["c++filt"], input="\n".join(n for _, n in rows), capture_output=True,
                       text=True).stdout.splitlines()
names = [re.sub(r"\[[0-9a-f]+\]", "", n) for n in names]  # v0 mangling: crate[hash]
per = collections.Counter()
ring_c = re.compile(r"ring_core|^fiat_|nistz|^ecp_|^fe_|^ge_|x25519|^aes_|gcm_|^sha|^poly1305|^Chacha")
for (size, _), name in zip(rows, names):
    m = re.match(r"<*(?:&mut |&|dyn )?([A-Za-z_][A-Za-z0-9_]*)::", name)
    per[m.group(1) if m else ("ring (C)" if ring_c.search(name) else "libc, compiler-rt (zig)")] += size
print("\n| crate | bytes (functions + data with symbols) |\n| --- | ---: |")
for k, v in per.most_common(25):
    print(f"| {k} | {v:,} |")
print(f"\nLargest {top} functions:\n")
print("| bytes | function |\n| ---: | --- |")
for (size, _), name in sorted(zip(rows, names), key=lambda r: r[0][0])[-top:][::-1]:
    print(f"| {size:,} | `{name[:140]}` |")
' "$TOP"
