#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh Debian machine (root, or sudo).
# Idempotent: a second run only checks. Pinned versions live in tests/system/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

APT_PACKAGES=(
  busybox            # OpenWrt's shell, for the hotplug/init/uci-defaults scripts
  qemu-user-static   # runs the MIPS/ARM router binaries
  ddclient inadyn    # real third-party dyndns2 clients
  socat              # TLS front for the local Lambda
  xz-utils file jq curl valgrind time
  binutils-multiarch # objcopy for MIPS (scripts/build-static.sh drops .pdr)
  chromium           # LuCI page tests (headless)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust with rustup (https://rustup.rs) first" >&2
  exit 1
fi
say "rust: components and targets"
rustup component add rustfmt clippy rust-src >/dev/null 2>&1 || rustup component add rustfmt clippy rust-src
rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl >/dev/null 2>&1 \
  || rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl

say "python: test and tooling packages"
python3 -m pip install -q --disable-pip-version-check -r tests/system/requirements.txt 2>&1 \
  | grep -v -e 'Running pip as the' -e 'notice' || true

if [ -f tests/luci/package.json ] && command -v npm >/dev/null; then
  say "npm: LuCI test tools"
  (cd tests/luci && npm ci --silent --no-audit --no-fund >/dev/null)
fi
say "setup done"
