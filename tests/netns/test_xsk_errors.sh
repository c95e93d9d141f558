#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_xsk_errors.sh: the AF_XDP error paths through `sysflow echo`: each
# failure exits 1 (2 for a bad option value, or too few chunks for the
# rings) with one message that names the interface, the queue and the
# kernel's reason, and leaves nothing attached.
source "$(dirname "$0")/xsk_lib.sh"

# expect_fail RC REGEX ARGS...: `sysflow echo ARGS` in test1.
expect_fail() {
	local want=$1 re=$2 rc=0
	shift 2
	in_t1 "$SYSFLOW" echo "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "'echo $*' exited $rc, expected $want: $(cat "$TMP/err")"
	grep -qE -- "$re" "$TMP/err" || fail "'echo $*' said: $(cat "$TMP/err")"
	[ ! -s "$TMP/out" ] || fail "'echo $*' wrote to stdout: $(cat "$TMP/out")"
	no_xdp "$T1" "$V1"
}

test_unknown_interface() {
	lab_up
	expect_fail 1 "unknown interface 'nosuch0'" nosuch0
}

test_queue_out_of_range() {
	lab_up
	expect_fail 1 "^sysflow: error: ${V1} queue 3: out of range, ${V1} has 1 queue \(0 to 0\)$" \
		"$V1" --queue 3
	expect_fail 1 "queue 1: out of range" "$V1" --queues 2
}

# A second socket on a queue that has one: the kernel's EBUSY, named; the
# first echo keeps answering.
test_second_socket_same_queue() {
	lab_up
	echo_start
	local rc=0
	in_t1 "$SYSFLOW" echo "$V1" >"$TMP/out" 2>"$TMP/err" || rc=$?
	assert_eq "$rc" 1 "second echo's exit status"
	grep -q "^sysflow: error: $V1 queue 0: the queue already has an AF_XDP socket (Device or resource busy)" \
		"$TMP/err" || fail "second echo said: $(cat "$TMP/err")"
	ip -n "$T1" link show dev "$V1" | grep -q "name xdp_to_xsk" ||
		fail "the first echo's program is gone"
	in_host ip neigh replace 10.0.0.5 lladdr "$(mac_of "$T1" "$V1")" dev "$V0" nud permanent
	assert_eq "$(ping_count -c 3 -i 0.2 10.0.0.5)" 3 "ping replies"
	echo_stop
	assert_stat answered.icmp 3
	no_xdp "$T1" "$V1"
}

# veth is copy mode only: forcing zero-copy gets EOPNOTSUPP, explained.
test_zero_copy_on_veth() {
	lab_up
	expect_fail 1 "$V1 queue 0: zero-copy refused: Operation not supported \(-95\); the veth driver of $V1 has no AF_XDP zero-copy support" \
		"$V1" --zero-copy
	expect_fail 1 "zero-copy refused.*-95" "$V1" -z -m generic
}

test_ring_sizes_not_power_of_two() {
	lab_up
	local o
	for o in rx-size tx-size fill-size comp-size; do
		expect_fail 2 "invalid value '1000' for --$o: not a power of two" \
			"$V1" "--$o" 1000
	done
	expect_fail 2 "invalid value '3000' for --chunk-size: not a power of two" \
		"$V1" --chunk-size 3000
	expect_fail 2 "--copy and --zero-copy exclude each other" "$V1" -c -z
}

# --chunks below what a queue's four rings hold is refused, every size
# named: chunks in flight would leave the fill ring short. Without
# --chunks the echo takes that stock; with smaller rings fewer chunks do.
test_chunks_below_rings() {
	lab_up
	expect_fail 2 "^sysflow echo: --chunks 2048 is fewer than the rings of a queue hold: --fill-size 1024 \+ --rx-size 1024 \+ --tx-size 1024 \+ --comp-size 1024 = 4096; .* Give --chunks 4096 or more, or smaller rings$" \
		"$V1" --chunks 2048
	expect_fail 2 "--fill-size 1024 \+ --rx-size 2048 \+ --tx-size 64 \+ --comp-size 64 = 3200" \
		"$V1" --chunks 3199 --rx-size 2048 --tx-size 64 --comp-size 64
	echo_start --rx-size 2048 --tx-size 64 --comp-size 64
	echo_stop
	assert_stat queues.0.pool_size 3200
	echo_start --chunks 2048 --rx-size 512 --fill-size 512 --tx-size 512 --comp-size 512
	echo_stop
	assert_stat queues.0.pool_size 2048
	echo_start -n 1 --shared-umem
	echo_stop
	assert_stat queues.0.pool_size 4096
	! grep -q "fewer than" "$TMP/echo.err" || fail "warned: $(cat "$TMP/echo.err")"
}

# A bad --ip is a usage error naming the option and the entry.
test_bad_address() {
	lab_up
	expect_fail 2 "^sysflow echo: invalid value '10.0.0' for --ip: not an IPv4 or IPv6 address$" \
		"$V1" --ip 10.0.0.5,10.0.0
	expect_fail 2 "invalid value '' for --ip" "$V1" --ip ""
}

# One XDP program per interface here: a foreign one is named, not touched.
test_foreign_xdp_program() {
	local obj=${BUILD:-build}/bpf/xdp_pass.bpf.o
	[ -f "$obj" ] || skip "$obj missing (build first)"
	lab_up
	ip -n "$T1" link set dev "$V1" xdpgeneric obj "$obj" sec xdp
	local rc=0
	in_t1 "$SYSFLOW" echo "$V1" >"$TMP/out" 2>"$TMP/err" || rc=$?
	assert_eq "$rc" 1 "exit status"
	grep -q "$V1 already has XDP program 'xdp_pass' (id [0-9]*) and there is one XDP program per interface here" \
		"$TMP/err" || fail "echo said: $(cat "$TMP/err")"
	ip -n "$T1" link show dev "$V1" | grep -q "name xdp_pass" ||
		fail "the foreign program was removed"
	ip -n "$T1" link set dev "$V1" xdpgeneric off
}

run_tests "$@"
