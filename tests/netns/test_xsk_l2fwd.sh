#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# test_xsk_l2fwd.sh: examples/l2fwd, built here against the sanitizer
# build of libsysflow, joins test1 and test2 of the lab through the host
# (one shared UMEM across both interfaces, then private UMEMs with a copy);
# and scripts/lab is idempotent.
source "$(dirname "$0")/xsk_lib.sh"

BUILD_DIR=$REPO/${BUILD:-build}
case ${BUILD:-build} in /*) BUILD_DIR=$BUILD ;; esac

build_l2fwd() {
	[ -f "$BUILD_DIR/libsysflow-san.a" ] || skip "$BUILD_DIR/libsysflow-san.a missing (make test-build)"
	# shellcheck disable=SC2046
	gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
		-fno-omit-frame-pointer -I"$REPO/include" "$REPO/examples/l2fwd.c" \
		"$BUILD_DIR/libsysflow-san.a" -o "$TMP/l2fwd" \
		$(pkg-config --libs libbpf libxdp jansson libpcap) -lelf -lz -lm ||
		fail "examples/l2fwd.c does not build against libsysflow"
}

# forward ARGS...: l2fwd ARGS between the host's veth0 and veth2; test1
# and test2 ping each other over IPv4 and IPv6, counted exactly.
forward() {
	build_l2fwd
	lab_up
	bg_start l2fwd ip netns exec "$H" "$TMP/l2fwd" "$@" "$V0" "$V2"
	wait_for "$TMP/l2fwd.err" "Ctrl-C to end|error" 30
	grep -q "Ctrl-C to end" "$TMP/l2fwd.err" || fail "l2fwd: $(cat "$TMP/l2fwd.err")"
	assert_eq "$(in_t1 ping -q -c 5 -i 0.2 -W 2 10.0.0.7 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')" 5 "test1 -> test2 ping"
	assert_eq "$(in_t2 ping -q -6 -c 5 -i 0.2 -W 2 fd00::5 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')" 5 "test2 -> test1 ping -6"
	bg_stop l2fwd INT || fail "l2fwd exited $?: $(cat "$TMP/l2fwd.err")"
	# ARP/NDP plus 10 requests one way, 10 replies the other.
	local fa fb
	fa=$(sed -n "s/^$V0: forwarded \([0-9]*\), dropped 0;.*/\1/p" "$TMP/l2fwd.out")
	fb=$(sed -n "s/^$V2: forwarded \([0-9]*\), dropped 0;.*/\1/p" "$TMP/l2fwd.out")
	[ "${fa:-0}" -ge 10 ] && [ "${fb:-0}" -ge 10 ] ||
		fail "forwarded counts: $(cat "$TMP/l2fwd.out")"
	no_xdp "$H" "$V0"
	no_xdp "$H" "$V2"
}

test_l2fwd_shared_umem() {
	forward
	grep -q "one shared UMEM" "$TMP/l2fwd.err" || fail "not shared"
	# Both ports report the same pool: the four rings of two sockets
	# (8192 chunks), two fill rings out.
	assert_eq "$(grep -c 'pool 6144 of 8192 free' "$TMP/l2fwd.out")" 2 "pool after the run"
}

test_l2fwd_copy_generic() {
	forward -p -m generic
	assert_eq "$(grep -c 'pool 3072 of 4096 free' "$TMP/l2fwd.out")" 2 "pools after the run"
}

# The host side goes into a namespace too: the current one may hold a
# user's lab with the same addresses and routes.
test_lab_idempotent() {
	export LAB_PREFIX="y$$" LAB_HOST_NS="y$$host"
	on_exit "LAB_PREFIX=$LAB_PREFIX LAB_HOST_NS=$LAB_HOST_NS '$LAB' down"
	"$LAB" up >/dev/null
	"$LAB" up >/dev/null
	"$LAB" status >"$TMP/status"
	grep -q "${LAB_PREFIX}veth1@.* UP .*10.0.0.5/24 fd00::5/64" "$TMP/status" ||
		fail "status: $(cat "$TMP/status")"
	ip netns exec "${LAB_PREFIX}test1" ping -q -c 1 -W 2 10.0.0.4 >/dev/null ||
		fail "test1 cannot reach the host"
	ip netns exec "$LAB_HOST_NS" ping -q -6 -c 1 -W 2 fd00::7 >/dev/null ||
		fail "the host cannot reach test2"
	"$LAB" down >/dev/null
	"$LAB" down >/dev/null
	local n
	for n in test1 test2 host; do
		[ ! -e "/run/netns/${LAB_PREFIX}$n" ] || fail "$n left behind"
	done
	local rc=0
	"$LAB" sideways >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 2 "exit status of a bad subcommand"
}

run_tests "$@"
