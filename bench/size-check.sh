#!/usr/bin/env bash
# Size regression check for the router binary (the same check runs in CI as
# tests/system/test_static.py::test_mipsel_size_stays_within_5_percent_of_the_baseline).
#
#   bench/size-check.sh            # build mipsel (no-op when fresh), fail if > 5 % over bench/size-baseline
#                                  # or over the 900,000 B budget
#   bench/size-check.sh --record   # write the sizes of every binary in dist/bin to bench/size-baseline
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASELINE="$ROOT/bench/size-baseline"
DIST="$ROOT/dist/bin"
T=mipsel-unknown-linux-musl

if [ "${1:-}" = --record ]; then
  {
    echo "# Stripped size in bytes of dist/bin/<target>/route53-ddns, from scripts/build-static.sh."
    echo "# CI fails when the mipsel binary grows more than 5 % over its line. Re-record deliberately:"
    echo "# bench/size-check.sh --record (after building the targets you want recorded)."
    for f in "$DIST"/*/route53-ddns; do
      echo "$(basename "$(dirname "$f")") $(stat -c %s "$f")"
    done
  } >"$BASELINE"
  cat "$BASELINE"
  exit 0
fi

"$ROOT/scripts/build-static.sh" mipsel >/dev/null
size=$(stat -c %s "$DIST/$T/route53-ddns")
recorded=$(awk -v t="$T" '$1 == t { print $2 }' "$BASELINE")
[ -n "$recorded" ] || { echo "no $T line in $BASELINE" >&2; exit 1; }
limit=$(( recorded * 105 / 100 ))
pct=$(awk -v s="$size" -v r="$recorded" 'BEGIN { printf "%+.1f", (s - r) * 100 / r }')
echo "mipsel: $size B, recorded $recorded B ($pct %), limit $limit B"
[ "$size" -le "$limit" ] || { echo "FAIL: more than 5 % over the recorded size" >&2; exit 1; }
# The budget itself: 900 KB stripped with ureq, syslog and TLS 1.2 + 1.3 (docs/building.md).
[ "$size" -le 900000 ] || { echo "FAIL: over the 900,000 B budget" >&2; exit 1; }
