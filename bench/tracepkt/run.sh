#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/tracepkt/run.sh: packet rate through a veth pair between two
# namespaces with `sysflow tracepkt` attached, against no tracer, side by
# side. Variants:
#   none     no tracer
#   floor    an empty tp_btf program on each of tracepkt's tracepoints
#            (tp_floor): what the kernel charges for calling BPF at all
#   nothing  tracepkt with a filter that matches no packet
#            ('host 192.0.2.1'), all tracepoints: the cost every packet
#            pays for being looked at (the issue's target: <= 10% loss)
#   lean     the same filter, --hooks net_dev_queue,netif_receive_skb,
#            kfree_skb: fewer tracepoints on the path
#   all-s    every packet traced, --summary (statistics in user space)
#   all-j    every packet traced, JSON lines to /dev/null
#   base-nothing, base-lean
#            nothing and lean with another build, $SYSFLOW_BASE (say, main's):
#            a change measured against its baseline, run by run
# Each round runs every variant once, in an order shuffled per round, so
# drifts of the machine and the effect of the variant run just before
# (which a fixed rotation keeps the same for each variant: it moved
# results by 3-8 points) hit all of them alike. A variant's ratio is the median over
# rounds of its rate divided by the "none" rate of the same round. Two
# rates: pps (received per wall-clock second) and cpu-pps (received per
# second of the sender's CPU time, which includes the receive softirq on
# veth): the second is far less disturbed by other load on the machine.
#
# BPF_STATS=1 also turns kernel.bpf_stats_enabled on while a tracer runs
# (back to its old value at exit) and prints, per tracer variant and
# program, the median over rounds of the in-kernel run time per run and
# the runs per received packet: the tracer's own work, which other load on
# the machine hardly moves (the statistics add about 60 ns to each run).
#
#   BUILD=build ROUNDS=7 SECS=2 [VARIANTS="none nothing"] bench/tracepkt/run.sh
#   SYSFLOW_BASE=/tmp/main-sysflow BPF_STATS=1 \
#	VARIANTS="none nothing base-nothing" bench/tracepkt/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-7}
SECS=${SECS:-2}
SYSFLOW=${SYSFLOW:-$BUILD/sysflow}
SYSFLOW_BASE=${SYSFLOW_BASE:-}
BPF_STATS=${BPF_STATS:-0}
FLOOD=$BUILD/bench/tracepkt/udp_flood
FLOOR=$BUILD/bench/tracepkt/tp_floor
read -r -a VARIANTS <<<"${VARIANTS:-none floor nothing lean all-s all-j}"
[ "${VARIANTS[0]}" = none ] || { echo "bench/tracepkt: VARIANTS must start with none" >&2; exit 2; }
case " ${VARIANTS[*]} " in
*" base-"*) [ -x "$SYSFLOW_BASE" ] || { echo "bench/tracepkt: base-* variants need SYSFLOW_BASE, a sysflow binary" >&2; exit 2; } ;;
esac
NOTHING='host 192.0.2.1'
LEAN=net_dev_queue,netif_receive_skb,kfree_skb
TARGET_LOSS=10

[ "$(id -u)" -eq 0 ] || { echo "bench/tracepkt: needs root" >&2; exit 1; }
for b in "$SYSFLOW" "$FLOOD" "$FLOOR"; do
	[ -x "$b" ] || { echo "bench/tracepkt: $b missing; run 'make BUILD=$BUILD all $FLOOD $FLOOR'" >&2; exit 1; }
done

NS_A="sfbench$$-a" NS_B="sfbench$$-b"
TMP=$(mktemp -d /tmp/sysflow-bench.XXXXXX)
BG=
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	if [ -n "$BG" ]; then kill -KILL "$BG" 2>/dev/null || true; fi
	[ "$BPF_STATS" = 0 ] || sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add veth-a netns "$NS_A" type veth peer name veth-b netns "$NS_B"
ip -n "$NS_A" addr add 10.78.0.1/24 dev veth-a
ip -n "$NS_B" addr add 10.78.0.2/24 dev veth-b
ip -n "$NS_A" link set veth-a up
ip -n "$NS_B" link set veth-b up
ip -n "$NS_A" neigh replace 10.78.0.2 dev veth-a nud permanent \
	lladdr "$(ip netns exec "$NS_B" cat /sys/class/net/veth-b/address)"

# start_bg READY_REGEX CMD...: run CMD in the background (stdout and stderr
# in $TMP/bg.*) and return once READY_REGEX appears in either.
start_bg() {
	local re=$1 i; shift
	: >"$TMP/bg.out"; : >"$TMP/bg.err"
	"$@" >"$TMP/bg.out" 2>"$TMP/bg.err" &
	BG=$!
	for ((i = 0; i < 400; i++)); do
		grep -qs "$re" "$TMP/bg.out" "$TMP/bg.err" && return 0
		kill -0 "$BG" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench/tracepkt: '$*' did not start: $(cat "$TMP/bg.err")" >&2
	exit 1
}

# prog_stats V ROUND RECEIVED: the run time and run count of each BPF
# program the background tracer holds, appended to $TMP/progs as
# "V ROUND NAME NS_PER_RUN RUNS_PER_PACKET".
prog_stats() {
	local v=$1 r=$2 rx=$3 f id ns cnt name
	for f in /proc/"$BG"/fdinfo/*; do
		id=$(awk '$1 == "prog_id:" {print $2}' "$f" 2>/dev/null) || continue
		[ -n "$id" ] || continue
		ns=$(awk '$1 == "run_time_ns:" {print $2}' "$f")
		cnt=$(awk '$1 == "run_cnt:" {print $2}' "$f")
		name=$(bpftool prog show id "$id" -j | jq -r .name)
		[ -n "$cnt" ] && [ "$cnt" -gt 0 ] || continue # links: no counts
		echo "$v $r $name $((ns / cnt)) $(awk -v c="$cnt" -v p="$rx" 'BEGIN {printf "%.2f", c / p}')" >>"$TMP/progs"
	done
}

stop_bg() {
	kill -TERM "$BG"
	wait "$BG" || true
	BG=
}

# run_variant V ROUND: one measurement, appended to $TMP/results as
# "V ROUND pps cpupps lost".
run_variant() {
	local v=$1 r=$2 line lost=-
	case $v in
	floor) start_bg ready "$FLOOR" ;;
	nothing) start_bg "Ctrl-C to end" "$SYSFLOW" tracepkt "$NOTHING" ;;
	lean) start_bg "Ctrl-C to end" "$SYSFLOW" tracepkt "$NOTHING" --hooks "$LEAN" ;;
	base-nothing) start_bg "Ctrl-C to end" "$SYSFLOW_BASE" tracepkt "$NOTHING" ;;
	base-lean) start_bg "Ctrl-C to end" "$SYSFLOW_BASE" tracepkt "$NOTHING" --hooks "$LEAN" ;;
	all-s) start_bg "Ctrl-C to end" "$SYSFLOW" tracepkt -s ;;
	all-j) start_bg "Ctrl-C to end" "$SYSFLOW" tracepkt -j ;;
	esac
	if [ -n "$BG" ] && [ "$v" != floor ] && [ "$BPF_STATS" != 0 ]; then
		sysctl -qw kernel.bpf_stats_enabled=1
	fi
	line=$("$FLOOD" "/run/netns/$NS_A" "/run/netns/$NS_B" 10.78.0.2 9 "$SECS")
	if [ -n "$BG" ] && [ "$v" != floor ] && [ "$BPF_STATS" != 0 ]; then
		sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
		prog_stats "$v" "$r" "$(echo "$line" | awk '{print $4}')"
	fi
	if [ -n "$BG" ]; then
		stop_bg
		lost=$(sed -n 's/.* hops; \([0-9]*\) hop events lost.*/\1/p' "$TMP/bg.err")
	fi
	echo "$v $r $(echo "$line" | awk '{print $8, $12}') ${lost:--}" >>"$TMP/results"
}

echo "tracepkt benchmark: UDP, 60-byte frames, veth pair; $ROUNDS rounds x ${SECS}s per variant"
echo "kernel $(uname -r), $(nproc) CPUs; $("$SYSFLOW" --version)"
for ((r = 0; r < ROUNDS; r++)); do
	for v in $(printf '%s\n' "${VARIANTS[@]}" | shuf); do
		run_variant "$v" "$r"
	done
	printf '  round %d: %s\n' $((r + 1)) \
		"$(awk -v r="$r" '$2 == r {printf "%s %d  ", $1, $3}' "$TMP/results")"
done

# per variant: median pps and cpu-pps, median ratios to "none" per round
awk -v target="$TARGET_LOSS" -v variants="${VARIANTS[*]}" '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ v[NR] = $1; rd[NR] = $2; pps[NR] = $3; cpu[NR] = $4; lost[NR] = $5
  if ($1 == "none") { bp[$2] = $3; bc[$2] = $4 } }
END {
	nv = split(variants, order, " ")
	printf "\n%-8s %10s %10s %8s %8s %9s  %s\n", "variant", "pps",
	       "cpu-pps", "ratio", "cpu", "loss", "lost hop events"
	for (k = 1; k <= nv; k++) {
		name = order[k]; n = 0; lostsum = 0
		for (i = 1; i <= NR; i++) {
			if (v[i] != name) continue
			n++; p[n] = pps[i]; c[n] = cpu[i]
			rp[n] = pps[i] / bp[rd[i]]; rc[n] = cpu[i] / bc[rd[i]]
			if (lost[i] != "-") lostsum += lost[i]
		}
		mp = median(p, n); mc = median(c, n)
		r1 = median(rp, n); r2 = median(rc, n)
		printf "%-8s %10d %10d %8.3f %8.3f %8.1f%%  %s\n", name, mp, mc,
		       r1, r2, (1 - r1) * 100,
		       name ~ /^(none|floor)$/ ? "-" : lostsum
		if (name == "nothing") { loss = (1 - r1) * 100; closs = (1 - r2) * 100 }
	}
	printf "\nratio, cpu: median over rounds of variant / none (same round)\n"
	printf "target: filter matching nothing loses at most %d%% of the packet rate: %s (%.1f%%; %.1f%% by CPU time)\n",
	       target, loss <= target ? "met" : "MISSED", loss, closs
}' "$TMP/results"

[ -s "$TMP/progs" ] || exit 0
# per tracer variant and program: median ns per run, median runs per packet
printf '\n%-14s %-36s %10s %12s\n' variant program "ns/run" "runs/packet"
sort -k1,1 -k3,3 -k4,4n "$TMP/progs" | awk '
function flush(    m) {
	if (!n) return
	m = n % 2 ? ns[(n + 1) / 2] : (ns[n / 2] + ns[n / 2 + 1]) / 2
	printf "%-14s %-36s %10d %12s\n", pv, pn, m, rp
	n = 0
}
{ if ($1 != pv || $3 != pn) { flush(); pv = $1; pn = $3 }
  ns[++n] = $4; rp = $5 }
END { flush() }'
