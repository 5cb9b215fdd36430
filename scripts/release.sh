#!/usr/bin/env bash
# The release: the five static router binaries, each proven under qemu against the local Lambda
# and moto, the OpenWrt packages for every architecture label (.ipk for opkg, .apk for apk-tools
# v3, written by scripts/apkv3.py: no apk-tools needed), the LuCI packages (_all.ipk,
# _noarch.apk), the signed package feed, the Lambda's arm64 zip with a template that points at
# it (deployable with only the AWS CLI), the size table and checksums. CI proves mipsel and
# armv7 on every run; this proves all five.
#
#   scripts/release.sh                      # everything
#   scripts/release.sh --lambda-only        # only dist/lambda/
#   scripts/release.sh --lambda-only --lambda-zip FILE [--lambda-out DIR]
#                                           # the same from an already built zip (into DIR)
#
# Output in dist/: bin/<rust-target>/route53-ddns, packages/*.ipk and *.apk, feed/ (when
# R53_FEED_KEYS names the feed owner's key directory, see scripts/feed.py; without it the
# feed is skipped with a note), lambda/ (route53-ddns-lambda-arm64.zip, template.yaml,
# deploy.sh, SHA256SUMS: copy the directory anywhere and run its deploy.sh), size_results.md,
# SHA256SUMS.
# Needs what scripts/setup.sh installs (the qemu proof runs the system-test stack; the Lambda
# is built with cargo-lambda and zig).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'release.sh: %s\n' "$*" >&2; exit 1; }
LAMBDA_ONLY=0 LAMBDA_ZIP="" LAMBDA_OUT=dist/lambda
while [ $# -gt 0 ]; do
  case "$1" in
    --lambda-only) LAMBDA_ONLY=1; shift ;;
    --lambda-zip) LAMBDA_ZIP="$(realpath -m "${2:?--lambda-zip needs a file}")"; shift 2 ;;
    --lambda-out) LAMBDA_OUT="$(realpath -m "${2:?--lambda-out needs a directory}")"; shift 2 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
cd "$ROOT"

lambda_release() { # -> dist/lambda/
  local zip="$LAMBDA_ZIP" out="$LAMBDA_OUT" n
  if [ -z "$zip" ]; then
    say "building the Lambda (arm64)"
    cargo lambda build --release --arm64 --output-format zip -p route53-ddns-lambda
    zip=target/lambda/bootstrap/bootstrap.zip
  fi
  [ -f "$zip" ] || die "no Lambda zip at $zip"
  python3 -c 'import sys, zipfile; sys.exit("bootstrap" not in zipfile.ZipFile(sys.argv[1]).namelist())' "$zip" \
    2>/dev/null || die "$zip is not a zip with a bootstrap"
  rm -rf "$out"
  mkdir -p "$out"
  cp "$zip" "$out/route53-ddns-lambda-arm64.zip"
  # The template, pointing at the zip beside it instead of the build tree.
  n="$(grep -c '^      CodeUri: \.\./target/lambda/bootstrap/bootstrap\.zip$' lambda/template.yaml || true)"
  [ "$n" = 1 ] || die "lambda/template.yaml: expected one CodeUri of the built zip, found $n"
  sed 's#^      CodeUri: \.\./target/lambda/bootstrap/bootstrap\.zip$#      CodeUri: route53-ddns-lambda-arm64.zip#' \
    lambda/template.yaml >"$out/template.yaml"
  cp lambda/deploy.sh "$out/deploy.sh"
  chmod 0755 "$out/deploy.sh"
  chmod 0644 "$out/template.yaml" "$out/route53-ddns-lambda-arm64.zip"
  (cd "$out" && sha256sum deploy.sh route53-ddns-lambda-arm64.zip template.yaml >SHA256SUMS)
  say "$out: $(wc -c <"$out/route53-ddns-lambda-arm64.zip") byte zip, template.yaml, deploy.sh"
}

if [ "$LAMBDA_ONLY" = 1 ]; then
  lambda_release
  exit 0
fi

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

if [ -n "${R53_FEED_KEYS:-}" ]; then
  say "the signed feed (keys: R53_FEED_KEYS)"
  python3 scripts/feed.py build --packages dist/packages --out dist/feed
else
  rm -rf dist/feed
  say "no feed: set R53_FEED_KEYS to the feed's key directory (scripts/feed.py keygen DIR makes one)"
fi

lambda_release

say "sizes and peak RSS"
python3 bench/size_table.py --no-build --out dist/size_results.md >/dev/null

(cd dist && find bin packages lambda -type f ! -name SIZES.md ! -name SHA256SUMS | sort | xargs sha256sum >sums.tmp &&
  mv sums.tmp SHA256SUMS)
n_ipk="$(find dist/packages -type f -name '*.ipk' | wc -l)"
n_apk="$(find dist/packages -type f -name '*.apk' | wc -l)"
[ "$n_apk" = "$n_ipk" ] || { echo "release.sh: $n_ipk .ipk but $n_apk .apk files" >&2; exit 1; }
say "done: dist/ ($n_ipk .ipk and $n_apk .apk packages)"
cat dist/size_results.md
