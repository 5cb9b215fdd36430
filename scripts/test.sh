#!/usr/bin/env bash
# Runs every test: formatting and lints, Rust unit and integration tests, then the system tests
# (moto as Route53, the Lambda under `cargo lambda watch`, the router binary natively and under
# qemu, OpenWrt shell scripts under busybox, ddclient/inadyn, the LuCI page in headless Chromium).
# Installs what it needs first. Ends with one line: "N passed, N failed, N skipped" (tests/README.md).
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

./scripts/setup.sh || exit 1

passed=0 failed=0 skipped=0
step() { # name, command...
  local name=$1; shift
  printf '\n\033[1;34m==> %s\033[0m\n' "$name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings

# Rust tests: every test binary runs whatever fails before it (--no-fail-fast); the counts come
# from each binary's own "test result:" line, and a binary without one (it crashed) is a failure.
rust_log=$(mktemp)
printf '\n\033[1;34m==> cargo test --workspace --no-fail-fast\033[0m\n'
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$rust_log"
rust_rc=${PIPESTATUS[0]}
read -r rp rf ri < <(awk -f scripts/count-rust-tests.awk "$rust_log")
passed=$((passed + rp)); failed=$((failed + rf)); skipped=$((skipped + ri))
# A failure no binary reported (e.g. a build error): one more failure, never a silent pass.
[ "$rust_rc" -ne 0 ] && [ "$rf" -eq 0 ] && failed=$((failed + 1))

# System tests: pytest's JUnit report gives exact counts.
junit=$(mktemp --suffix=.xml)
printf '\n\033[1;34m==> pytest tests/system\033[0m\n'
python3 -m pytest tests/system -q -rfEs --durations=15 --junitxml="$junit"
py_rc=$?
read -r pp pf ps < <(python3 - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1, 0); raise SystemExit
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
s = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - s, f, s)
PY
)
passed=$((passed + pp)); failed=$((failed + pf)); skipped=$((skipped + ps))
# pytest exit 5 = no tests collected: that is a failure of the suite, not a pass.
if [ "$py_rc" -ne 0 ] && [ "$pf" -eq 0 ]; then failed=$((failed + 1)); fi

echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
