#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/xsk/run.sh: packets per second of the echo of `sysflow echo` on
# AF_XDP (copy mode, native XDP on a veth), against the same echo logic
# (sf_echo_frame()) on an AF_PACKET socket (bench/xsk/afp_echo.c), the
# baseline a user would otherwise pick. Side by side in one run.
#
#   namespace G: xdpgen on CPU GEN_CPU      namespace E: the echo on ECHO_CPU
#   vg ---- 60-byte UDP to port 7 -------->  ve
#      <----------- echoes ----------------
#
# xdpgen (bench/xsk/xdpgen.c) sends one frame again and again in XDP
# live-frames mode (no socket, no skb on its side) and counts the echoes
# that reach vg. On a veth the sender's CPU pays for the receiver, and the
# echo's CPU should pay for the echo only: the frames carry a source MAC
# that is not vg's, so G's stack drops the echoes on arrival, and that
# receive runs on GEN_CPU, as a NIC and a wire would take it off the echo's
# CPU. How (SINK):
#   napi (default): vg gets a NAPI of its own (GRO on), threaded, its
#     kthread on GEN_CPU at SCHED_FIFO so the generator cannot starve it;
#     TSO off on ve makes veth queue every echo there (a ptr_ring, as a
#     NIC's tx ring) instead of handing it to netif_rx(). The echo's CPU
#     pays for the transmit only.
#   rps: vg's receive in the backlog of GEN_CPU by RPS. Each echo then
#     costs the echo's CPU an inter-processor interrupt (a VM exit here:
#     15% of that CPU at 490k echoes/s), a cost of the veth lab, not of
#     the echo.
#   local: the kernel's default, vg's receive in softirq on the echo's CPU.
# The sink must never limit the echo: DIAG=1 shows tx_device_dropped
# (echoes vg's queue refused) and vg's rx against the echo's tx.
#
# The generator and the sink share cache lines with the echo (the socket's
# send-buffer count, the generator's page pool). On this VM a cache line
# takes about 80 ns from one vCPU to the other and back when the hypervisor
# has placed them on cores that share a cache, about 450 ns when not, for
# minutes at a time, and the AF_XDP echo's rate follows (about 1 million
# against 600,000 echoes/s; AF_PACKET's hardly moves). bench/xsk/cpu_rtt
# measures it before each round and after the last; a run that saw both
# states also prints the ratio of each state's rounds on its own.
#
# Both echoes get the same CPU and about the same queue depth: rx and fill
# rings of RING entries for AF_XDP, an 8 MiB socket buffer for AF_PACKET
# (about 4000 frames of this size). The AF_PACKET echo needs ve's XDP
# path for xdp_frames to arrive, so ve gets a bare XDP_PASS program
# (bpf/xdp_pass.bpf.c), which then builds the skb AF_PACKET reads.
# Variants take turns, the order rotating each round; medians are printed
# with min and max, then the ratio. "per CPU-s" divides the echoes by the
# CPU time the echo's threads (the echo and its NAPI kthread) used in the
# window, which discounts time other load on the machine took from them.
#
# Where the echo side's receive work runs matters on a veth: by default it
# would run in softirq on the sender's CPU, coupling the generator's rate
# to the variant's receive cost. Here ve's NAPI is made threaded and its
# kthread pinned to the echo's CPU: one CPU does all the echo's work
# (receive, process, send), the other only generates. NAPI_CPU=softirq
# keeps the kernel's default instead.
#
# Environment: BUILD (default build), ROUNDS (5), SECS (3 per run), WARMUP
# (0.5 s), GEN_CPU (0), ECHO_CPU (last CPU), NAPI_CPU (ECHO_CPU), RING
# (4096), ECHO_ARGS (more options for sysflow echo, e.g. --busy-poll),
# ECHO_WRAP (a command both echoes run under, e.g. "chrt -f 10"),
# SINK (napi), VARIANTS ("af_xdp af_packet": one of them alone prints no
# ratio), DIAG (0; 1 prints, per run, the counters of both veths that
# moved and the echo's statistics: where the frames that were not echoed
# went). Results and how to read them: docs/performance.md.
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SELF_DIR/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
# shellcheck source=tests/netns/lib.sh disable=SC1091
. "$ROOT/tests/netns/lib.sh"
# shellcheck source=bench/lib.sh disable=SC1091
. "$ROOT/bench/lib.sh"

ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
WARMUP=${WARMUP:-0.5}
NCPU=$(nproc)
GEN_CPU=${GEN_CPU:-0}
ECHO_CPU=${ECHO_CPU:-$((NCPU - 1))}
NAPI_CPU=${NAPI_CPU:-$ECHO_CPU}
ECHO_ARGS=${ECHO_ARGS:-} # more options for sysflow echo
ECHO_WRAP=${ECHO_WRAP:-} # a command the echoes run under, e.g. "chrt -f 10"
SINK=${SINK:-napi}
DIAG=${DIAG:-0}
RING=${RING:-4096}
TARGET=3
SYSFLOW=$BUILD/sysflow
XDPGEN=$BUILD/bench/xsk/xdpgen
AFP_ECHO=$BUILD/bench/xsk/afp_echo
CPU_RTT=$BUILD/bench/xsk/cpu_rtt
RTT_NEAR=200 # ns: below, the two CPUs share a cache (bench/xsk/cpu_rtt.c)
XDP_PASS_OBJ=$BUILD/bpf/xdp_pass.bpf.o
MAC_G=02:00:00:00:07:01
MAC_E=02:00:00:00:07:02
VG=vg$$ # unique: the NAPI kthread is found by the device's name
VE=ve$$
IP_G=10.99.0.1
IP_E=10.99.0.2
read -r -a VARIANTS <<<"${VARIANTS:-af_xdp af_packet}"

# ---- the two echoes ----

variant_up() {
	case $1 in
	af_xdp)
		bg_start echo ip netns exec "$(ns e)" $ECHO_WRAP taskset -c "$ECHO_CPU" \
			"$SYSFLOW" echo "$VE" --ip "$IP_E" -m native -c -j \
			--rx-size "$RING" --fill-size "$RING" \
			--tx-size "$RING" --comp-size "$RING" --chunks $((RING * 4)) \
			$ECHO_ARGS # unquoted: several words
		wait_for "$TMP/echo.err" "Ctrl-C to end|error" 30 ;;
	af_packet)
		in_ns e ip link set dev "$VE" xdpdrv obj "$XDP_PASS_OBJ" sec xdp
		bg_start echo ip netns exec "$(ns e)" $ECHO_WRAP taskset -c "$ECHO_CPU" \
			"$AFP_ECHO" "$VE" "$IP_E"
		wait_for "$TMP/echo.err" "ready|error|Usage" 30 ;;
	esac
	grep -qiE "error|usage" "$TMP/echo.err" && fail "$1: $(cat "$TMP/echo.err")"
	napi_pin
}

# The echo side's receive work runs in ve's NAPI: threaded (a kthread,
# possible once XDP gave ve a NAPI) and pinned to NAPI_CPU. WORKERS gets
# the threads doing the echo's work: the echo, and its NAPI kthread.
napi_pin() {
	local p pids
	WORKERS=${BG_PID[echo]}
	[ "$NAPI_CPU" == softirq ] && return 0
	pids=$(napi_threaded e "$VE" "$NAPI_CPU") ||
		fail "cannot make $VE's NAPI threaded"
	for p in $pids; do
		WORKERS+=",$p"
	done
}

# napi_threaded NS DEV CPU: DEV's NAPI polled by kthreads pinned to CPU;
# prints their pids (kthreads are named after the device: DEV's only).
napi_threaded() {
	local p
	in_ns "$1" sh -c "echo 1 > /sys/class/net/$2/threaded" || return 1
	for p in $(pgrep "^napi/$2-"); do
		[ -e "/proc/$p" ] && taskset -pc "$3" "$p" >/dev/null && echo "$p"
	done
	return 0
}

variant_down() {
	bg_stop echo
	[ "$1" == af_packet ] && in_ns e ip link set dev "$VE" xdpdrv off
	in_ns e ip link show dev "$VE" | grep -q "prog/xdp" && fail "XDP left on $VE after $1"
	return 0
}

# DIAG=1: where the frames go. Counters of both veths (ethtool -S) over
# the run, and the echo's own statistics (XDP_STATISTICS for af_xdp).
diag_snap() { # before|after
	{ in_ns g ethtool -S "$VG" | sed 's/^ */vg./'
	  in_ns e ethtool -S "$VE" | sed 's/^ */ve./'
	} >"$TMP/diag.$1"
}

diag_print() { # VARIANT
	awk -v v="$1" 'NR == FNR { b[$1] = $2; next }
		$2 - b[$1] != 0 && $1 !~ /ifindex/ {
			printf "#   %s %s %d\n", v, $1, $2 - b[$1] }' \
		"$TMP/diag.before" "$TMP/diag.after" >&2
	sed 's/^/#   echo: /' "$TMP/echo.out" >&2
}

# run_once VARIANT -> PPS, PER_CPU_S, OFFERED (no subshell: it owns
# processes). Echoes per CPU-second need all the echo's work in WORKERS,
# so only with a pinned NAPI.
run_once() {
	local pids=()
	variant_up "$1"
	[ "$NAPI_CPU" == softirq ] || pids=(-p "$WORKERS")
	[ "$DIAG" == 1 ] && diag_snap before
	in_ns g taskset -c "$GEN_CPU" "$XDPGEN" -i "$VG" -d "$MAC_E" -s "$IP_G" \
		-D "$IP_E" -t "$SECS" -w "$WARMUP" "${pids[@]}" >"$TMP/gen.out" \
		2>"$TMP/gen.err" || fail "xdpgen: $(cat "$TMP/gen.err")"
	[ "$DIAG" == 1 ] && diag_snap after
	variant_down "$1"
	[ "$DIAG" == 1 ] && diag_print "$1"
	PPS=$(sed -n 's/.*: \([0-9]*\) pps echoed.*/\1/p' "$TMP/gen.out")
	PER_CPU_S=$(sed -n 's/.*: \([0-9]*\) per CPU-s/\1/p' "$TMP/gen.out")
	PER_CPU_S=${PER_CPU_S:-0}
	OFFERED=$(awk '{ printf "%d", $2 / $6 }' "$TMP/gen.out")
	[ -n "$PPS" ] || fail "xdpgen printed: $(cat "$TMP/gen.out")"
}

stats() { # VALUES... -> "median min max"
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%d %d %d\n", m, v[1], v[NR] }'
}

# cpu_rtt -> ns for a cache line from GEN_CPU to ECHO_CPU and back.
cpu_rtt() { "$CPU_RTT" -a "$GEN_CPU" -b "$ECHO_CPU"; }

# rtt_report: the round trips measured before each round and after the
# last, and what they mean: the generator and the sink share cache lines
# with the echo.
rtt_report() {
	local r far=0
	for r in "${RTTS[@]}"; do
		[ "$r" -lt "$RTT_NEAR" ] || far=1
	done
	echo "cache line CPU $GEN_CPU <-> $ECHO_CPU, ns, before each round" \
	     "and after the last: ${RTTS[*]}"
	if [ "$far" = 1 ]; then
		echo "  (>= $RTT_NEAR ns: the CPUs did not share a cache; the lab's" \
		     "cross-CPU traffic then slows AF_XDP most, docs/performance.md)"
	else
		echo "  (all < $RTT_NEAR ns: the CPUs shared a cache throughout)"
	fi
}

# by_state: when the run saw both placements, the ratio of the rounds
# whose round trip before and after was under RTT_NEAR (a shared cache)
# and of the others, each on its own: a run can hold both states.
by_state() {
	local r v state x p
	declare -A pps=() count=()
	for ((r = 0; r < ROUNDS; r++)); do
		state=apart
		[ "${RTTS[r]}" -lt "$RTT_NEAR" ] &&
			[ "${RTTS[r + 1]}" -lt "$RTT_NEAR" ] && state=shared
		count[$state]=$((${count[$state]:-0} + 1))
		for v in "${VARIANTS[@]}"; do
			pps[$state,$v]+=" ${PPS_OF[$v,$r]}"
		done
	done
	[ ${#count[@]} -eq 2 ] || return 0
	for state in shared apart; do
		# shellcheck disable=SC2086
		x=$(stats ${pps[$state,af_xdp]} | cut -d' ' -f1)
		# shellcheck disable=SC2086
		p=$(stats ${pps[$state,af_packet]} | cut -d' ' -f1)
		printf '  rounds with the CPUs %s: %d of %d: af_xdp %d,' \
			"$([ $state = shared ] && echo sharing a cache || echo apart)" \
			"${count[$state]}" "$ROUNDS" "$x"
		awk -v x="$x" -v p="$p" \
			'BEGIN { printf " af_packet %d pps, ratio %.2f\n", p, x / p }'
	done
}

# Where vg's receive of the echoes runs: see SINK in the header.
sink_up() {
	local p pids
	case $SINK in
	napi)
		in_ns e ethtool -K "$VE" tso off >/dev/null &&
			in_ns g ethtool -K "$VG" gro on >/dev/null &&
			pids=$(napi_threaded g "$VG" "$GEN_CPU") && [ -n "$pids" ] ||
			fail "cannot give $VG a threaded NAPI on CPU $GEN_CPU"
		for p in $pids; do
			chrt -f -p 50 "$p" ||
				fail "cannot run $VG's NAPI kthread $p at SCHED_FIFO"
		done ;;
	rps)
		in_ns g sh -c "printf %x $((1 << GEN_CPU)) > \
			/sys/class/net/$VG/queues/rx-0/rps_cpus" ;;
	local) ;;
	*) fail "SINK=$SINK: one of napi, rps, local" ;;
	esac
}

main() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ "$NCPU" -ge 2 ] || skip "needs 2 CPUs"
	local f missing=()
	for f in "$SYSFLOW" "$XDPGEN" "$AFP_ECHO" "$CPU_RTT" "$XDP_PASS_OBJ"; do
		[ -e "$f" ] || missing+=("$f")
	done
	if [ ${#missing[@]} -gt 0 ]; then # run alone: build what is missing
		make -s -C "$ROOT" BUILD="$BUILD" "${missing[@]}" >/dev/null ||
			fail "cannot build ${missing[*]}; run make BUILD=... bench"
	fi
	ns_add g
	ns_add e
	ip link add "$VG" netns "$(ns g)" address "$MAC_G" type veth \
		peer name "$VE" netns "$(ns e)" address "$MAC_E"
	in_ns g ip link set "$VG" up
	in_ns e ip link set "$VE" up
	sink_up
	on_exit bg_kill_all # runs first: cleanups go in reverse order

	echo "xsk echo: 60-byte UDP to port 7 over a veth, echoed to the sender"
	echo "xdpgen (XDP live frames) on CPU $GEN_CPU, echo on CPU $ECHO_CPU," \
	     "its NAPI on $NAPI_CPU; echoes received by: $SINK"
	echo "af_xdp: sysflow echo, native XDP, copy mode, rings of" \
	     "$RING${ECHO_ARGS:+ ($ECHO_ARGS)}; af_packet: afp_echo"
	echo "median, min, max of $ROUNDS runs x $SECS s, variants interleaved;" \
	     "$NCPU CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	local RTTS=()
	printf '%-10s %9s %9s %9s %9s %11s\n' variant pps min max offered \
		"per CPU-s"
	local r k v med min max
	declare -A res=() off=() cpu=() PPS_OF=()
	for ((r = 0; r < ROUNDS; r++)); do
		RTTS[r]=$(cpu_rtt) || fail "$CPU_RTT failed"
		for ((k = 0; k < ${#VARIANTS[@]}; k++)); do
			v=${VARIANTS[(r + k) % ${#VARIANTS[@]}]}
			run_once "$v"
			info "round $((r + 1)) $v: $PPS pps echoed of $OFFERED" \
			     "offered, $PER_CPU_S per CPU-s"
			res[$v]="${res[$v]:-} $PPS"
			PPS_OF[$v,$r]=$PPS
			off[$v]="${off[$v]:-} $OFFERED"
			cpu[$v]="${cpu[$v]:-} $PER_CPU_S"
		done
	done
	declare -A med_of=() cpu_of=()
	# shellcheck disable=SC2086
	for v in "${VARIANTS[@]}"; do
		read -r med min max <<<"$(stats ${res[$v]})"
		med_of[$v]=$med
		cpu_of[$v]=$(stats ${cpu[$v]} | cut -d' ' -f1)
		printf '%-10s %9d %9d %9d %9d %11d\n' "$v" "$med" "$min" "$max" \
			"$(stats ${off[$v]} | cut -d' ' -f1)" "${cpu_of[$v]}"
	done
	RTTS[ROUNDS]=$(cpu_rtt) || fail "$CPU_RTT failed"
	rtt_report
	[ ${#med_of[@]} -eq 2 ] || return 0
	awk -v x="${med_of[af_xdp]}" -v p="${med_of[af_packet]}" -v t="$TARGET" \
		-v cx="${cpu_of[af_xdp]}" -v cp="${cpu_of[af_packet]}" \
		-v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
		ok = (x / p >= t) ? "met" : "NOT met"
		printf "af_xdp/af_packet: pps %.2f (target >= %d: %s)", x / p, t, ok
		if (cp > 0)
			printf ", per CPU-s %.2f", cx / cp
		printf "; load after: %s\n", load }'
	by_state
}

main "$@"
