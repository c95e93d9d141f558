#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tests/fuzz/run.sh TARGET...: run each libFuzzer target (built by
# `make fuzz` as $BUILD/fuzz/fuzz_TARGET, ASan+UBSan) for $FUZZ_SECS seconds
# (default 60), one after the other at nice 10. Starts from the seed corpus
# tests/fuzz/corpus/TARGET and the regressions tests/fuzz/regress/TARGET;
# new inputs go to $BUILD/fuzz/corpus/TARGET, crashes, leaks and timeouts
# to $BUILD/fuzz/crash/TARGET/ (crash-*, leak-*, timeout-*). Prints one
# line per target with its executions; exits 1 when a target failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECS=${FUZZ_SECS:-60}
OUT=$BUILD/fuzz
failed=()

run_target() { # name
	local t=$1 log=$OUT/$1.log execs rc
	mkdir -p "$OUT/corpus/$t" "$OUT/crash/$t"
	[ "$t" = proto ] && "$OUT/seeds" "$OUT/corpus/$t"
	nice -n 10 "$OUT/fuzz_$t" -max_total_time="$SECS" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$OUT/crash/$t/" "$OUT/corpus/$t" \
		tests/fuzz/corpus/"$t" $([ -d tests/fuzz/regress/"$t" ] &&
			echo tests/fuzz/regress/"$t") >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -eq 0 ]; then
		printf 'PASS fuzz/%s: %s executions in %ss\n' "$t" "${execs:-?}" "$SECS"
	else
		failed+=("$t")
		grep -m1 -A15 'ERROR: \|runtime error' "$log"
		printf 'FAIL fuzz/%s (exit %d): %s, log %s\n' "$t" "$rc" \
			"$(ls "$OUT/crash/$t" | tail -1)" "$log"
	fi
}

for t in "$@"; do
	run_target "$t"
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
