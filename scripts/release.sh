#!/usr/bin/env bash
# The release: the five static router binaries, each proven under qemu against the local Lambda
# and moto, the OpenWrt packages for every architecture label (.ipk for opkg, .apk for apk-tools
# v3, written by scripts/apkv3.py: no apk-tools needed), the LuCI packages (_all.ipk,
# _noarch.apk), the size table and checksums. CI proves mipsel and armv7 on every run; this
# proves all five.
#
#   scripts/release.sh
#
# Output in dist/: bin/<rust-target>/route53-ddns, packages/*.ipk and *.apk, size_results.md,
# SHA256SUMS.
# Needs what scripts/setup.sh installs (the qemu proof runs the system-test stack).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

say "building the five static binaries"
scripts/build-static.sh all

say "proving each one under qemu: --version, check, a signed HTTPS update, a TLS refusal"
R53_STATIC_TARGETS=all R53_STATIC_PREBUILT=1 python3 -m pytest tests/system/test_static.py -q

say "packaging"
rm -rf dist/packages
scripts/package.sh --out dist/packages
scripts/package.sh --luci --out dist/packages
# package.sh's own list covers only the architecture packages: dist/SHA256SUMS below covers all.
rm -f dist/packages/SHA256SUMS

say "sizes and peak RSS"
python3 bench/size_table.py --no-build --out dist/size_results.md >/dev/null

(cd dist && find bin packages -type f ! -name SIZES.md | sort | xargs sha256sum >sums.tmp && mv sums.tmp SHA256SUMS)
n_ipk="$(find dist/packages -type f -name '*.ipk' | wc -l)"
n_apk="$(find dist/packages -type f -name '*.apk' | wc -l)"
[ "$n_apk" = "$n_ipk" ] || { echo "release.sh: $n_ipk .ipk but $n_apk .apk files" >&2; exit 1; }
say "done: dist/ ($n_ipk .ipk and $n_apk .apk packages)"
cat dist/size_results.md
