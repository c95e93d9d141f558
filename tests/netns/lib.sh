# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tests/netns/lib.sh: helpers for integration tests that run against the
# real kernel in network namespaces the test creates and removes itself.
# A suite sources this file, defines test_* functions and ends with
# `run_tests "$@"`. Exit 0 = pass, 249 = skipped, anything else = fail.
set -euo pipefail

SYSFLOW=${SYSFLOW:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/sysflow-san}
SKIP_RC=249
NS_PREFIX="sft$$"

# Clean-ups: on_exit CMD... registers one; they run last-registered first
# when the script exits, also on SIGTERM (bash's own handling runs the EXIT
# trap at once, even while a command runs: a TERM trap would wait for that
# command), SIGINT (bash would go on if the running command survived it)
# and SIGHUP (bash would skip the EXIT trap). tests/run names a folder in
# SF_CLEANUP_DIR: each clean-up is also written to a file there and taken
# out once run, and tests/run runs what a test killed before the end of
# its clean-up left (docs/testing.md). So a clean-up must stand on its
# own in a new shell (`bash SUITE --cleanup CMD`): values expanded when
# registered, functions only with arguments.
declare -a CLEANUPS=()
CLEANUP_FILE=${SF_CLEANUP_DIR:+$SF_CLEANUP_DIR/$$}

on_exit() {
	CLEANUPS+=("$*")
	[ -z "$CLEANUP_FILE" ] || printf '%q\n' "$*" >>"$CLEANUP_FILE"
}
# keep_cleanups N: only the first N clean-ups are left to run.
keep_cleanups() {
	[ -n "$CLEANUP_FILE" ] || return 0
	if [ "$1" -eq 0 ]; then
		rm -f "$CLEANUP_FILE"
	else
		printf '%q\n' "${CLEANUPS[@]:0:$1}" >"$CLEANUP_FILE.new"
		mv -f "$CLEANUP_FILE.new" "$CLEANUP_FILE"
	fi
}
# A second signal must not cut the clean-up short: timeout sends SIGTERM
# to the test and then to its whole process group, the test included.
cleanup() {
	local i
	trap '' TERM INT HUP
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUPS[i]}" >/dev/null 2>&1 || true
		keep_cleanups "$i"
	done
	CLEANUPS=()
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT

TMP=$(mktemp -d /tmp/sysflow-test.XXXXXX)
on_exit rm -rf "$TMP"

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit $SKIP_RC; }
info() { echo "# $*" >&2; }

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() {
	[ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"
}

# Namespaces are named $NS_PREFIX-<name> and removed on exit.
ns() { echo "$NS_PREFIX-$1"; }
ns_add() {
	ip netns add "$(ns "$1")"
	on_exit ip netns del "$(ns "$1")"
	ip -n "$(ns "$1")" link set lo up
}
in_ns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

# ns_path NAME: the namespace's file, for `nsenter --net=` (bg_start can
# only run programs, not shell functions such as in_ns).
ns_path() { echo "/run/netns/$(ns "$1")"; }

# in_ns_net NAME CMD...: run CMD in the network namespace only. `ip netns
# exec` (in_ns) also gives each command a private mount namespace with a
# fresh /sys, so BPF objects a program pins under /sys/fs/bpf live in a
# private bpffs that vanishes with it. Here the caller's mounts stay: pins
# survive the program (restarts, kill -9) and the test can see and remove
# them. Background form: bg_start NAME nsenter --net="$(ns_path NAME)" CMD.
in_ns_net() { local n=$1; shift; nsenter --net="$(ns_path "$n")" "$@"; }

# ns_no_ipv6 NAME IF: no IPv6 on IF, so the kernel sends no router
# solicitations or MLD reports: for tests that count every packet.
ns_no_ipv6() { in_ns "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"; }

# veth_pair NS_A IF_A NS_B IF_B: a veth between two namespaces, with
# 10.77.0.1/24 + fd77::1/64 on A and .2/::2 on B, and static neighbours so
# ARP/ND never delay or add packets.
veth_pair() {
	local a=$1 ia=$2 b=$3 ib=$4
	ip link add "$ia" netns "$(ns "$a")" type veth peer name "$ib" netns "$(ns "$b")"
	in_ns "$a" ip addr add 10.77.0.1/24 dev "$ia"
	in_ns "$b" ip addr add 10.77.0.2/24 dev "$ib"
	in_ns "$a" ip -6 addr add fd77::1/64 dev "$ia" nodad
	in_ns "$b" ip -6 addr add fd77::2/64 dev "$ib" nodad
	in_ns "$a" ip link set "$ia" up
	in_ns "$b" ip link set "$ib" up
	local ma mb
	ma=$(in_ns "$a" cat /sys/class/net/"$ia"/address)
	mb=$(in_ns "$b" cat /sys/class/net/"$ib"/address)
	in_ns "$a" ip neigh replace 10.77.0.2 lladdr "$mb" dev "$ia" nud permanent
	in_ns "$b" ip neigh replace 10.77.0.1 lladdr "$ma" dev "$ib" nud permanent
	in_ns "$a" ip -6 neigh replace fd77::2 lladdr "$mb" dev "$ia" nud permanent
	in_ns "$b" ip -6 neigh replace fd77::1 lladdr "$ma" dev "$ib" nud permanent
}

# full_tmpfs DIR: a 64 KiB tmpfs at DIR, filled up, unmounted on exit:
# the full disk of output error tests.
full_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=64k sysflow-test "$1"
	on_exit umount "$1"
	dd if=/dev/zero of="$1/fill" bs=4k count=64 2>/dev/null || true
}

# wait_for FILE REGEX [SECONDS]: readiness by output, never by sleeping.
wait_for() {
	local file=$1 re=$2 secs=${3:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -qE "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "timed out waiting for /$re/ in $file: $(tail -n 5 "$file" 2>/dev/null)"
}

# wait_until SECONDS CMD...: poll CMD (bounded, a program or a shell
# function) until it succeeds.
wait_until() {
	local secs=$1 i; shift
	for ((i = 0; i < secs * 20; i++)); do
		"$@" >/dev/null && return 0
		sleep 0.05
	done
	fail "timed out after ${secs}s waiting for: $*"
}

# fail_later MSG: record a failure and go on checking the rest;
# fail_if_any then ends the test with every failure recorded.
FAILURES=()
fail_later() { echo "FAIL: $*" >&2; FAILURES+=("$*"); }
fail_if_any() {
	local f firsts=()
	[ ${#FAILURES[@]} -gt 0 ] || return 0
	for f in "${FAILURES[@]}"; do firsts+=("${f%%$'\n'*}"); done
	local IFS=';'
	fail "${#FAILURES[@]} check(s) failed: ${firsts[*]}"
}

# bg_start NAME CMD...: run CMD in the background, output in $TMP/NAME.out,
# killed on exit; its pid is in $TMP/NAME.pid.
bg_start() {
	local name=$1; shift
	# empty them here: the child's redirections happen after the fork, and
	# a wait_for on a file left by an earlier run must not see old lines
	: >"$TMP/$name.out"
	: >"$TMP/$name.err"
	setsid "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	echo $! >"$TMP/$name.pid"
	on_exit "kill -KILL -- -$! 2>/dev/null"
}
# bg_stop NAME [SIGNAL]: signal and wait (bounded) for a background command.
bg_stop() {
	local pid i
	pid=$(cat "$TMP/$1.pid")
	kill -"${2:-INT}" "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 did not exit after SIG${2:-INT}"
	wait "$pid" 2>/dev/null && return 0 || return $?
}

# bg_wait NAME [SECONDS]: wait (bounded) for a background command to end
# by itself; returns its exit status.
bg_wait() {
	local pid i
	pid=$(cat "$TMP/$1.pid")
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 still running after ${2:-10}s"
	wait "$pid" 2>/dev/null && return 0 || return $?
}

# A suite that uses something of the whole host (fixed ports on the host's
# loopback, a tracer that sees every namespace) sets HOST_LOCK=NAME before
# run_tests: each of its tests then runs holding the lock file below, so
# two runs of the suite at once (two worktrees, two users on one machine)
# take turns instead of seeing each other's traffic or ports. flock -o
# keeps the lock in flock's own process: nothing the test starts inherits
# it, so a stray child cannot hold it after the test.
HOST_LOCK_WAIT=${HOST_LOCK_WAIT:-120}
run_locked() {
	local lock=/run/lock/sysflow-test-$HOST_LOCK.lock rc=0
	mkdir -p /run/lock
	flock -n "$lock" true ||
		info "another test run holds $lock; waiting up to ${HOST_LOCK_WAIT}s"
	SF_HOST_LOCKED=1 flock -w "$HOST_LOCK_WAIT" -E 250 -o "$lock" \
		bash "$0" "$1" || rc=$?
	[ "$rc" -ne 250 ] || fail "$lock still held after ${HOST_LOCK_WAIT}s"
	exit "$rc"
}

run_tests() {
	if [ "${1:-}" == "--list" ]; then
		declare -F | awk '{print $3}' | grep '^test_'
		exit 0
	fi
	[ -n "${1:-}" ] || { echo "usage: $0 --list | TEST | --cleanup CMD" >&2; exit 2; }
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	if [ "$1" == "--cleanup" ]; then # one left by a killed test (tests/run)
		eval "${2:?--cleanup needs a command}"
		exit
	fi
	[ -z "${HOST_LOCK:-}" ] || [ -n "${SF_HOST_LOCKED:-}" ] || run_locked "$1"
	"$1"
}
