#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# veth_pps.sh: packets per second through a veth pair with no XDP program,
# a bare XDP_PASS program and `sysflow flowmon` on the receiving side.
#
# udpgen in namespace A sends 60-byte UDP frames over FLOWS flows as fast
# as one thread can to namespace B, where nothing listens; we count what
# reached B's IP layer (Ip InReceives in B's /proc/net/snmp), that is what
# got past the veth, its XDP program and the backlog. On veth the receive
# softirq runs on the sender's CPU, so the figure is 1 / (send + receive)
# cost, and the XDP program's share is diluted by both.
# Variants take turns, the order rotating each round; the median and the
# best run are printed, as wall-clock pps and as packets per CPU-second.
#
# Environment: BUILD (default build), ROUNDS (7), SECS (3 per run),
# WARMUP (0.5 s before counting), MODES ("native skb"), GEN_CPU (last
# CPU), FM_CPU (0: where the flowmon daemon sweeps), FLOWS (64).
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SELF_DIR/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SYSFLOW=$BUILD/sysflow
# shellcheck source=tests/netns/lib.sh disable=SC1091
. "$ROOT/tests/netns/lib.sh"
# shellcheck source=bench/lib.sh disable=SC1091
. "$ROOT/bench/lib.sh"

ROUNDS=${ROUNDS:-7}
SECS=${SECS:-3}
WARMUP=${WARMUP:-0.5}
MODES=${MODES:-native skb}
NCPU=$(nproc)
GEN_CPU=${GEN_CPU:-$((NCPU - 1))}
FM_CPU=${FM_CPU:-0}
FLOWS=${FLOWS:-64}
UDPGEN=$BUILD/bench/flowmon/udpgen
XDP_PASS_OBJ=$BUILD/bpf/xdp_pass.bpf.o
PIN_DIR=/sys/fs/bpf/sysflow-bench-$$ # inside B's `ip netns exec` mounts
VARIANTS=(none bare flowmon)

# ---- the receiving side's XDP program ----

xdp_flag() { [ "$1" == native ] && echo xdpdrv || echo xdpgeneric; }

# wait_prog NAME: until B's veth runs the XDP program NAME (10 s at most).
wait_prog() {
	local i
	for ((i = 0; i < 200; i++)); do
		in_ns b ip -d link show dev vb |
			grep -q "prog/xdp id [0-9]* name $1 " && return 0
		kill -0 "${BG_PID[fm]}" 2>/dev/null ||
			fail "sysflow flowmon exited: $(cat "$TMP/fm.err")"
		sleep 0.05
	done
	fail "XDP program $1 not attached to vb after 10 s"
}

variant_up() { # VARIANT MODE
	case $1 in
	bare) in_ns b ip link set dev vb "$(xdp_flag "$2")" \
		obj "$XDP_PASS_OBJ" sec xdp ;;
	flowmon)
		bg_start fm ip netns exec "$(ns b)" taskset -c "$FM_CPU" \
			"$SYSFLOW" flowmon -d vb -m "$2" -q -F "$PIN_DIR"
		wait_prog xdp_flowmon ;;
	esac
}

variant_down() { # VARIANT MODE
	case $1 in
	bare) in_ns b ip link set dev vb "$(xdp_flag "$2")" off ;;
	flowmon) bg_stop fm ;;
	esac
	in_ns b ip link show dev vb | grep -q "prog/xdp" &&
		fail "XDP still on vb after $1"
	return 0
}

# ---- one measurement ----

# CPU time (ns) of the generator and of ksoftirqd on its CPU: without
# CONFIG_IRQ_TIME_ACCOUNTING the receive softirq is charged to whichever
# of the two ran it. Packets per CPU-second do not move when other load
# takes CPU time away from the generator; wall-clock pps do.
gen_cpu_ns() {
	local pid=${BG_PID[gen]} t1 t2
	read -r t1 _ </proc/"$pid"/schedstat
	read -r t2 _ </proc/"$KSOFTIRQD"/schedstat
	echo $((t1 + t2))
}

ip_in_receives() {
	# shellcheck disable=SC2016
	in_ns b awk '/^Ip:/ { if (!h) { for (i = 1; i <= NF; i++)
		if ($i == "InReceives") c = i; h = 1 } else print $c }' /proc/net/snmp
}

run_once() { # VARIANT MODE -> PPS, CPPS (no subshell: it owns processes)
	local c0 c1 t0 t1 g0 g1
	variant_up "$1" "$2"
	bg_start gen ip netns exec "$(ns a)" taskset -c "$GEN_CPU" "$UDPGEN" \
		-s "$FLOWS" -t $((SECS + 30)) 10.77.0.2
	wait_for "$TMP/gen.err" "^udpgen: sending"
	sleep "$WARMUP"
	[ "$(cat /proc/"${BG_PID[gen]}"/comm)" == udpgen ] ||
		fail "pid ${BG_PID[gen]} is not udpgen"
	c0=$(ip_in_receives) t0=$(date +%s%N) g0=$(gen_cpu_ns)
	sleep "$SECS"
	c1=$(ip_in_receives) t1=$(date +%s%N) g1=$(gen_cpu_ns)
	bg_stop gen
	variant_down "$1" "$2"
	PPS=$(((c1 - c0) * 1000000000 / (t1 - t0)))
	CPPS=$(((c1 - c0) * 1000000000 / (g1 - g0)))
}

# ---- report ----

stats() { # VALUES... -> "median max"; contention only ever slows a run
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%d %d\n", m, v[NR] }'
}

ratios() { # MODE WHAT NONE BARE FLOWMON
	awk -v m="$1" -v w="$2" -v n="$3" -v b="$4" -v f="$5" 'BEGIN {
		ok = f / b >= 0.90 ? "met" : "NOT met"
		printf "%-7s %-8s flowmon/bare %.3f (>= 0.90: %s), bare/none" \
			" %.3f\n", m, w, f / b, ok, b / n }'
}

bench_mode() { # MODE
	local mode=$1 r k v med max cmed cmax
	local -A res=() cres=() m=() cm=()
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < ${#VARIANTS[@]}; k++)); do
			v=${VARIANTS[(r + k) % ${#VARIANTS[@]}]}
			run_once "$v" "$mode"
			info "$mode round $((r + 1)) $v: $PPS pps, $CPPS per CPU-s"
			res[$v]="${res[$v]:-} $PPS"
			cres[$v]="${cres[$v]:-} $CPPS"
		done
	done
	printf '%-7s %-8s %9s %9s %11s %9s\n' mode variant pps best \
		pps/CPU-s best
	# shellcheck disable=SC2086
	for v in "${VARIANTS[@]}"; do
		read -r med max <<<"$(stats ${res[$v]})"
		read -r cmed cmax <<<"$(stats ${cres[$v]})"
		printf '%-7s %-8s %9d %9d %11d %9d\n' "$mode" "$v" "$med" "$max" \
			"$cmed" "$cmax"
		m[$v]=$med cm[$v]=$cmed
	done
	ratios "$mode" pps "${m[none]}" "${m[bare]}" "${m[flowmon]}"
	ratios "$mode" per-CPU "${cm[none]}" "${cm[bare]}" "${cm[flowmon]}"
}

main() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	local f
	for f in "$UDPGEN" "$SYSFLOW" "$XDP_PASS_OBJ"; do
		[ -e "$f" ] || fail "$f is missing; run make BUILD=... bench"
	done
	KSOFTIRQD=$(pgrep -x "ksoftirqd/$GEN_CPU") || fail "no ksoftirqd/$GEN_CPU"
	ns_add a
	ns_add b
	veth_pair a va b vb
	on_exit bg_kill_all # runs first: cleanups go in reverse order
	echo "flowmon veth_pps: UDP 60-byte frames, $FLOWS flows, A -> B over veth"
	echo "udpgen: 1 thread on CPU $GEN_CPU (B's softirq runs there too);" \
	     "pps at B's IP layer"
	echo "median and best of $ROUNDS runs x $SECS s, variants interleaved;" \
	     "$NCPU CPUs"
	echo "pps/CPU-s: packets per CPU-second of udpgen + ksoftirqd/$GEN_CPU"
	for mode in $MODES; do
		bench_mode "$mode"
	done
}

main "$@"
