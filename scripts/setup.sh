#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh Debian machine (root, or sudo),
# then proves that each tool works: not that a package is installed, but that the capability
# a test relies on is there (ddclient's HTTPS needs IO::Socket::SSL, which apt's
# --no-install-recommends leaves out; chromium must start headless; each qemu must run).
#
#   scripts/setup.sh           check every capability, install what fixes each failing one,
#                              check again; exit 1 (with the fix commands) if any still fails
#   scripts/setup.sh --check   only check: one line per capability, "ok" or "FAIL" with the
#                              command that fixes it; exit 1 if any fails
#
# Idempotent: a run on a machine where everything works installs nothing. Every check runs
# under a timeout. Pinned Python versions live in tests/system/requirements.txt.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

MODE=install
case "${1:-}" in
  --check) MODE=check ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--check]" >&2; exit 2 ;;
esac

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

REQS=tests/system/requirements.txt
STAMP="${XDG_CACHE_HOME:-$HOME/.cache}/route53-ddns/requirements.sha256"
PIP_FIX="python3 -m pip install -r $REQS"
RUSTUP_FIX="install Rust with rustup (https://rustup.rs), then rerun scripts/setup.sh"

# name | seconds | check (bash) | fix: "apt PKG..", "pip", "rustup ARGS..", "luci", or "manual TEXT"
CAPS=(
  "busybox sh|10|busybox sh -c true|apt busybox"
  "qemu-mipsel-static|10|qemu-mipsel-static --version|apt qemu-user-static"
  "qemu-mips-static|10|qemu-mips-static --version|apt qemu-user-static"
  "qemu-arm-static|10|qemu-arm-static --version|apt qemu-user-static"
  "qemu-aarch64-static|10|qemu-aarch64-static --version|apt qemu-user-static"
  "ddclient|15|ddclient -help >/dev/null|apt ddclient"
  "perl IO::Socket::SSL (ddclient over HTTPS)|10|perl -MIO::Socket::SSL -e1|apt libio-socket-ssl-perl"
  "perl IO::Socket::INET6 (ddclient over IPv6)|10|perl -MIO::Socket::INET6 -e1|apt libio-socket-inet6-perl"
  "inadyn|10|inadyn --version|apt inadyn"
  "socat|10|socat -V|apt socat"
  "ip (network namespaces)|10|ip -V|apt iproute2"
  "xz|10|xz --version|apt xz-utils"
  "file|10|file --version|apt file"
  "jq|10|jq --version|apt jq"
  "openssl 3 (feed signing: Ed25519, EC P-256)|10|openssl genpkey -algorithm ed25519 | openssl pkeyutl -sign -inkey /dev/stdin -rawin -in scripts/setup.sh | wc -c | grep -qx 64|apt openssl"
  "curl|10|curl --version|apt curl"
  "system CA bundle (tests/bundle.rs, bench)|10|grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt | awk '\$1 > 50 {ok=1} END {exit !ok}'|apt ca-certificates"
  "valgrind|20|valgrind --version|apt valgrind"
  "/usr/bin/time|10|/usr/bin/time -f %e true|apt time"
  "make|10|make --version|apt make"
  "objcopy for MIPS|10|objcopy --info | grep -q elf32-tradbigmips|apt binutils-multiarch"
  "shellcheck|10|shellcheck --version|apt shellcheck"
  "chromium headless|90|chromium --headless --no-sandbox --disable-gpu --dump-dom about:blank 2>/dev/null | grep -q '<body>'|apt chromium fonts-dejavu-core"
  "node and npm|10|node --version && npm --version|apt nodejs npm"
  "LuCI test tools (eslint, playwright-core)|30|cd tests/luci && node_modules/.bin/eslint --version && node -e 'require(\"playwright-core\")'|luci"
  "pip|20|python3 -m pip --version|apt python3-pip"
  "python test packages (pytest, moto, boto3)|60|python3 -c 'import pytest, moto.server, boto3, cryptography'|pip"
  "python pins match $REQS|10|[ \"\$(cat '$STAMP' 2>/dev/null)\" = \"\$(sha256sum $REQS | cut -d' ' -f1)\" ]|pip"
  "moto_server|60|moto_server --help >/dev/null|pip"
  "cargo lambda|30|cargo lambda --version|pip"
  "zig (ziglang)|30|python3 -m ziglang version|pip"
  "cfn-lint|60|cfn-lint --version|pip"
  "checkov|120|checkov --version|pip"
  "aws cli|60|aws --version|pip"
  "dyndnsc and noipy (PyPI dyndns2 clients, tests/system/test_clients.py)|30|dyndnsc --version >/dev/null && noipy --help >/dev/null|pip"
  "cargo|20|cargo --version|manual $RUSTUP_FIX"
  "rustfmt|20|cargo fmt --version|rustup component add rustfmt"
  "clippy|20|cargo clippy --version|rustup component add clippy"
  "rust-src|20|test -f \"\$(rustc --print sysroot)/lib/rustlib/src/rust/library/Cargo.lock\"|rustup component add rust-src"
  "rust target x86_64-unknown-linux-musl|20|rustup target list --installed | grep -qx x86_64-unknown-linux-musl|rustup target add x86_64-unknown-linux-musl"
  "rust target aarch64-unknown-linux-musl|20|rustup target list --installed | grep -qx aarch64-unknown-linux-musl|rustup target add aarch64-unknown-linux-musl"
)

fix_text() { # fix spec -> the command a person would run
  local kind="${1%% *}" rest="${1#* }"
  case "$kind" in
    apt) echo "apt-get install -y --no-install-recommends $rest" ;;
    pip) echo "$PIP_FIX" ;;
    rustup) echo "rustup $rest" ;;
    luci) echo "tests/luci/setup.sh" ;;
    manual) echo "$rest" ;;
  esac
}

split() { # entry -> name secs cmd fix (cmd may contain "|"; name, secs and fix may not)
  local rest
  name="${1%%|*}"; rest="${1#*|}"
  secs="${rest%%|*}"; rest="${rest#*|}"
  fix="${rest##*|}"; cmd="${rest%|*}"
}

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
FAILED=()
check_all() { # [quiet] -> prints one line per capability (unless quiet); sets FAILED
  local quiet="${1:-}" entry rc
  FAILED=()
  for entry in "${CAPS[@]}"; do
    split "$entry"
    if timeout --kill-after=5 "$secs" bash -c "$cmd" >"$LOG" 2>&1 </dev/null; then
      [ -n "$quiet" ] || printf '  ok    %s\n' "$name"
    else
      rc=$?
      FAILED+=("$entry")
      [ "$rc" = 124 ] && echo "timed out after ${secs}s" >>"$LOG"
      [ -n "$quiet" ] || printf '  FAIL  %s    fix: %s\n        (%s)\n' "$name" "$(fix_text "$fix")" \
        "$(grep -v '^[[:space:]]*$' "$LOG" | tail -n 1 | cut -c1-160)"
    fi
  done
}

if [ "$MODE" = check ]; then
  say "checking what the tests need"
  check_all
  if [ ${#FAILED[@]} -gt 0 ]; then
    echo "setup check: ${#FAILED[@]} capabilities missing; run the fix commands above, or scripts/setup.sh" >&2
    exit 1
  fi
  say "setup check: all ${#CAPS[@]} capabilities work"
  exit 0
fi

say "checking what the tests need"
check_all quiet
apt_pkgs=() pip=0 luci=0 rustup_cmds=() manual=()
name="" secs="" cmd="" fix=""
for entry in "${FAILED[@]}"; do
  split "$entry"
  case "${fix%% *}" in
    apt) read -ra p <<<"${fix#apt }"; apt_pkgs+=("${p[@]}") ;;
    pip) pip=1 ;;
    luci) luci=1 ;;
    rustup) rustup_cmds+=("${fix#rustup }") ;;
    manual) manual+=("$name: ${fix#manual }") ;;
  esac
done

if [ ${#apt_pkgs[@]} -gt 0 ]; then
  mapfile -t apt_pkgs < <(printf '%s\n' "${apt_pkgs[@]}" | sort -u)
  say "apt: installing ${apt_pkgs[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi
if [ ${#rustup_cmds[@]} -gt 0 ]; then
  if command -v rustup >/dev/null; then
    for c in "${rustup_cmds[@]}"; do
      say "rustup $c"
      read -ra args <<<"$c"
      rustup "${args[@]}" >/dev/null 2>&1 || rustup "${args[@]}"
    done
  else
    manual+=("no rustup to run: ${rustup_cmds[*]}")
  fi
fi
if [ "$pip" = 1 ]; then
  say "python: test and tooling packages ($REQS)"
  python3 -m pip install -q --disable-pip-version-check -r "$REQS" 2>&1 \
    | grep -v -e 'Running pip as the' -e 'notice' || true
  mkdir -p "$(dirname "$STAMP")"
  sha256sum "$REQS" | cut -d' ' -f1 >"$STAMP"
fi
if [ "$luci" = 1 ]; then
  say "npm: LuCI test tools (tests/luci/setup.sh)"
  tests/luci/setup.sh
fi
for m in "${manual[@]}"; do echo "setup: $m" >&2; done

if [ ${#FAILED[@]} -gt 0 ]; then
  say "checking again"
  check_all
  if [ ${#FAILED[@]} -gt 0 ]; then
    echo "setup: ${#FAILED[@]} capabilities still missing (fix commands above)" >&2
    exit 1
  fi
fi
say "setup done: all ${#CAPS[@]} capabilities work"
