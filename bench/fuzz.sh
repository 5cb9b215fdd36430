#!/bin/sh
# Runs each cargo-fuzz target of fuzz/ for N minutes (default 3) and prints, per target,
# the executions libFuzzer reports and whether it found a crash.
#   bench/fuzz.sh [minutes] [target ...]     targets: uci netifd state answer bundle
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). On a stable toolchain
# RUSTC_BOOTSTRAP=1 allows the nightly flags cargo-fuzz passes (sanitizer, coverage).
# Corpora stay in fuzz/corpus/<target> (not committed); crashes in fuzz/artifacts/<target>.
set -eu
cd "$(dirname "$0")/../fuzz"
minutes="${1:-3}"
[ $# -gt 0 ] && shift
targets="${*:-uci netifd state answer bundle}"
export RUSTC_BOOTSTRAP=1
for t in $targets; do
	mkdir -p "corpus/$t"
	log="$(mktemp)"
	status=ok
	nice -n 10 cargo fuzz run "$t" "corpus/$t" -- \
		-max_total_time="$((minutes * 60))" -rss_limit_mb=1024 -max_len=65536 \
		-print_final_stats=1 >"$log" 2>&1 || status=FAILED
	execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
	echo "$t: ${execs:-?} executions in $minutes min: $status"
	[ "$status" = ok ] || tail -40 "$log"
	rm -f "$log"
done
