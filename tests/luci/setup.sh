#!/usr/bin/env bash
# Installs what the LuCI page tests need: the pinned npm tools (eslint, playwright-core; see
# package-lock.json) and Debian's chromium for the headless rendering tests. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

if [ ! -x /usr/bin/chromium ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

# npm ci only when the installed tree was not made from this exact lock file
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.route53-ddns-lock 2>/dev/null)" != "$want" ]; then
  npm ci --silent --no-audit --no-fund >/dev/null
  echo "$want" > node_modules/.route53-ddns-lock
fi
