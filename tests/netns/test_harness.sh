#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_harness.sh: tests/run itself. An inner run on a suite written here
# (SUITES) shows that a test killed before its clean-up was done, by its
# timeout or by stopping tests/run, leaves no namespace or file it
# registered with on_exit, and is reported failed with the clean-up said.
source "$(dirname "$0")/lib.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
FIXTURE=$TMP/suite/test_fixture.sh
export HARNESS_OUT=$TMP/out

# The fixture's tests make a namespace and a file, both removed on exit,
# say so in $HARNESS_OUT/ready and wait. test_slow_cleanup's clean-up takes
# longer than the 5 s its timeout gives after SIGTERM the first time (an
# agent unloading on a busy machine), so SIGKILL cuts it short;
# test_waits's takes 0.2 s.
write_fixture() {
	mkdir -p "$TMP/suite" "$HARNESS_OUT"
	cat >"$FIXTURE" <<EOF
source '$REPO/tests/netns/lib.sh'
make_things() {
	ns_add a
	ns a >"\$HARNESS_OUT/ns"
	echo "\$TMP" >"\$HARNESS_OUT/tmp"
	touch "\$HARNESS_OUT/made"
	on_exit rm -f "\$HARNESS_OUT/made"
}
test_slow_cleanup() {
	make_things
	on_exit "[ -e '\$HARNESS_OUT/slow' ] || { touch '\$HARNESS_OUT/slow'; sleep 30; }"
	touch "\$HARNESS_OUT/ready"
	sleep 60
}
test_waits() {
	make_things
	on_exit sleep 0.2
	touch "\$HARNESS_OUT/ready"
	sleep 60
}
run_tests "\$@"
EOF
}

# inner_run CMD...: tests/run on the fixture only, logs under $TMP.
inner_run() {
	env -u SF_CLEANUP_DIR BUILD="$TMP/build" SUITES="$FIXTURE" "$@" "$REPO/tests/run"
}

# assert_nothing_left: the namespace, file and $TMP the fixture's test
# made are gone (removed here if not, before failing).
assert_nothing_left() {
	local ns tmp
	ns=$(cat "$HARNESS_OUT/ns") tmp=$(cat "$HARNESS_OUT/tmp")
	[ -n "$ns" ] && [ -n "$tmp" ] || fail "the fixture made no namespace"
	[ ! -e "/run/netns/$ns" ] || { ip netns del "$ns"; fail_later "namespace $ns left"; }
	[ ! -d "$tmp" ] || { rm -rf "$tmp"; fail_later "the test's \$TMP is left"; }
	[ ! -e "$HARNESS_OUT/made" ] || fail_later "the file the test made is left"
	fail_if_any
}

# assert_cleaned_up TEST: nothing the fixture's TEST made is left, and its
# log says what tests/run cleaned up.
assert_cleaned_up() {
	local log=$TMP/build/test-logs/test_fixture.$1.log ns
	ns=$(cat "$HARNESS_OUT/ns")
	assert_nothing_left
	[ ! -e "$TMP/build/test-logs/test_fixture.$1.cleanup" ] ||
		fail "the test's clean-up folder is left"
	grep -q "^clean-up the test left undone, run by tests/run (exit 0): ip netns del $ns$" "$log" ||
		fail "the log does not say the namespace was cleaned up: $(cat "$log")"
}

test_timed_out_test_cleaned_up() {
	write_fixture
	local rc=0
	inner_run PER_TEST_TIMEOUT=2 TESTS=test_fixture/test_slow_cleanup \
		timeout 60 >"$TMP/run.out" 2>&1 || rc=$?
	assert_eq "$rc" 1 "exit status of the inner run"
	grep -q "^FAIL test_fixture/test_slow_cleanup$" "$TMP/run.out" ||
		fail "the killed test is not reported failed: $(cat "$TMP/run.out")"
	grep -q "^0 passed, 1 failed, 0 skipped$" "$TMP/run.out" ||
		fail "bad summary: $(cat "$TMP/run.out")"
	grep -q "^timed out after 2s$" "$TMP/build/test-logs/test_fixture.test_slow_cleanup.log" ||
		fail "the log does not say the test timed out"
	assert_cleaned_up test_slow_cleanup
}

# A test's timeout sends SIGTERM to it and then to its process group, and
# a developer may kill twice: a second SIGTERM must not cut the test's own
# clean-up short (the fixture's first clean-up takes 0.2 s), and each
# command done is taken out of the test's file in SF_CLEANUP_DIR.
test_second_sigterm_during_cleanup() {
	write_fixture
	mkdir "$TMP/cleanups"
	SF_CLEANUP_DIR=$TMP/cleanups bg_start fixture bash "$FIXTURE" test_waits
	wait_until 30 test -e "$HARNESS_OUT/ready"
	local pid
	pid=$(cat "$TMP/fixture.pid")
	kill -TERM "$pid"
	sleep 0.1
	kill -TERM "$pid" 2>/dev/null || true
	bg_wait fixture 10 || true
	assert_nothing_left
	[ -z "$(ls "$TMP/cleanups")" ] ||
		fail "clean-ups left in SF_CLEANUP_DIR: $(cat "$TMP/cleanups"/*)"
}

test_stopped_run_cleaned_up() {
	write_fixture
	bg_start run env -u SF_CLEANUP_DIR BUILD="$TMP/build" SUITES="$FIXTURE" \
		TESTS=test_fixture/test_waits "$REPO/tests/run"
	wait_until 30 test -e "$HARNESS_OUT/ready"
	local rc=0
	bg_stop run TERM || rc=$?
	assert_eq "$rc" 143 "exit status of the inner run after SIGTERM"
	grep -q "^FAIL test_fixture/test_waits$" "$TMP/run.out" ||
		fail "the stopped test is not reported failed: $(cat "$TMP/run.out")"
	grep -q "^stopped: tests/run got SIGTERM$" "$TMP/build/test-logs/test_fixture.test_waits.log" ||
		fail "the log does not say the run was stopped"
	assert_nothing_left
}

run_tests "$@"
