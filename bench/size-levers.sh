#!/usr/bin/env bash
# Measures what each size lever buys on one target (default mipsel), by building the router binary
# once per variant through scripts/build-static.sh. Prints a markdown table (and writes it to
# build/levers/<target>.md). Each variant rebuilds std: ~1-7 min each on 2 cores.
#
#   bench/size-levers.sh [target]
#   R53_MANIFEST=path/Cargo.toml bench/size-levers.sh    # measure another crate (a scratch copy)
#   R53_LEVERS="base optsize"  bench/size-levers.sh      # only some variants
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${1:-mipsel}"
OUT="${R53_BUILD_DIR:-$ROOT/build}/levers"
mkdir -p "$OUT"

# name | description | environment for build-static.sh
VARIANTS=(
  "base|opt-level z, fat LTO, codegen-units 1, panic=abort, strip (the trial's settings), .pdr kept|R53_STRIP_PDR=0 R53_BUILD_STD_FEATURES= R53_PANIC=abort R53_LOCATION_DETAIL=file,line,column R53_FMT_DEBUG=full R53_UNWIND_TABLES=yes"
  "nopdr|+ MIPS .pdr section dropped (objcopy)|R53_BUILD_STD_FEATURES= R53_PANIC=abort R53_LOCATION_DETAIL=file,line,column R53_FMT_DEBUG=full R53_UNWIND_TABLES=yes"
  "optsize|+ -Zbuild-std-features=optimize_for_size|R53_PANIC=abort R53_LOCATION_DETAIL=file,line,column R53_FMT_DEBUG=full R53_UNWIND_TABLES=yes"
  "immabort|+ -Zunstable-options -Cpanic=immediate-abort|R53_LOCATION_DETAIL=file,line,column R53_FMT_DEBUG=full R53_UNWIND_TABLES=yes"
  "noloc|+ -Zlocation-detail=none|R53_FMT_DEBUG=full R53_UNWIND_TABLES=yes"
  "fmtnone|+ -Zfmt-debug=none (no Debug output at all; src/tls.rs words TLS errors)|R53_UNWIND_TABLES=yes"
  "nounwind|+ -Cforce-unwind-tables=no (= build-static.sh defaults)|"
  "fmtshallow|defaults with -Zfmt-debug=shallow instead of none|R53_FMT_DEBUG=shallow"
  "opts|defaults with opt-level s instead of z|CARGO_PROFILE_RELEASE_OPT_LEVEL=s"
)
want="${R53_LEVERS:-}"

table="$OUT/$TARGET.md"
{
  echo "| variant | what | stripped (bytes) | xz -9e (bytes) | build (s) |"
  echo "| --- | --- | ---: | ---: | ---: |"
} >"$table"
for v in "${VARIANTS[@]}"; do
  IFS='|' read -r name what envs <<<"$v"
  if [ -n "$want" ] && [[ " $want " != *" $name "* ]]; then continue; fi
  start=$(date +%s)
  # shellcheck disable=SC2086
  env $envs R53_DIST_DIR="$OUT/$name" "$ROOT/scripts/build-static.sh" "$TARGET" >"$OUT/$name.log" 2>&1 \
    || { echo "variant $name failed, see $OUT/$name.log" >&2; tail -20 "$OUT/$name.log" >&2; continue; }
  secs=$(( $(date +%s) - start ))
  f=$(ls "$OUT/$name"/*/route53-ddns)
  echo "| $name | $what | $(stat -c %s "$f") | $(xz -9e -c "$f" | wc -c) | $secs |" | tee -a "$table"
done
cat "$table"
