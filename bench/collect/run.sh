#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/collect/run.sh: what `sysflow collect` costs a syscall-heavy
# workload, side by side with no tracing and with Debian's bpftrace running
# an equivalent script (peer.bt), in one run:
#   - paced at RATE syscalls/s (default 200000): CPU time per syscall of
#     the workload (tracing runs in its context) and events lost;
#   - unpaced: syscalls/s the workload reaches.
# Prints slowdown ratios, events/s, events that crossed the ring buffer per
# syscall made, and events lost. Each figure is the median of ROUNDS runs
# taken in turns (none, sysflow, bpftrace), so load drift hits all three.
#   sudo BUILD=build bench/collect/run.sh   [RATE=200000 SECS=10 ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
RATE=${RATE:-200000}
SECS=${SECS:-10}
MAX_SECS=${MAX_SECS:-5}
ROUNDS=${ROUNDS:-3}
SYSFLOW=${SYSFLOW:-$PWD/$BUILD/sysflow}
PEER=$PWD/bench/collect/peer.bt
TMP=$(mktemp -d /tmp/sysflow-bench-collect.XXXXXX)
. bench/collect/lib.sh
cleanup() {
	kill_jobs
	rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "bench/collect: needs root" >&2; exit 1; }
[ -x "$SYSFLOW" ] || { echo "bench/collect: build $SYSFLOW first (make)" >&2; exit 1; }
LOAD=$PWD/$BUILD/bench/collect/syscall_load
if [ ! -x "$LOAD" ]; then
	LOAD=$TMP/syscall_load
	cc -O2 -Wall -o "$LOAD" bench/collect/syscall_load.c
fi
HAVE_BT=1
command -v bpftrace >/dev/null || { HAVE_BT=0; echo "# bpftrace missing (apt-get install bpftrace): peer column skipped" >&2; }

load() { # RATE SECS -> JSON line
	"$LOAD" -d "$2" -r "$1" -f "$TMP/load.dat"
}

# run TRACER RATE SECS: one run, one result line:
#   tracer rate cpu_s syscalls wall events lost
run() {
	local tracer=$1 rate=$2 secs=$3 pid out events=0 lost=0
	case $tracer in
	sysflow)
		rm -rf "$TMP/sf" && mkdir "$TMP/sf"
		"$SYSFLOW" collect -w "$TMP/sf/" --stats >"$TMP/sf.out" 2>"$TMP/sf.err" &
		pid=$!
		wait_line "$TMP/sf.err" "Tracing processes"
		;;
	bpftrace)
		bpftrace "$PEER" >"$TMP/bt.out" 2>"$TMP/bt.err" &
		pid=$!
		wait_line "$TMP/bt.out" "^Attaching"
		;;
	esac
	out=$(load "$rate" "$secs")
	case $tracer in
	sysflow)
		stop "$pid"
		events=$(sed -n 's/^syscalls [0-9]*, events sent \([0-9]*\), lost \([0-9]*\);.*/\1/p' "$TMP/sf.err")
		lost=$(sed -n 's/^syscalls [0-9]*, events sent \([0-9]*\), lost \([0-9]*\);.*/\2/p' "$TMP/sf.err")
		;;
	bpftrace)
		stop "$pid"
		events=$(($(wc -l <"$TMP/bt.out") - 1))
		lost=$({ grep -oE 'Lost [0-9]+ events' "$TMP/bt.err" || true; } | awk '{s += $2} END {print s + 0}')
		;;
	esac
	/usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[2])
print(sys.argv[1], r["rate"], r["cpu_s"], r["syscalls"], r["wall_s"], sys.argv[3] or 0, sys.argv[4] or 0)
' "$tracer" "$out" "${events:-0}" "${lost:-0}"
}

TRACERS="none sysflow"
[ $HAVE_BT = 1 ] && TRACERS="$TRACERS bpftrace"

echo "sysflow collect benchmark: $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "workload: open/pread/pwrite/close + send/recv both ways on TCP loopback,"
echo "  a new connection every 100 rounds, fork+exec /bin/true every 2000"
for phase in paced max; do
	: >"$TMP/$phase.res"
	for ((r = 0; r < ROUNDS; r++)); do
		for t in $TRACERS; do
			if [ $phase = paced ]; then
				run "$t" "$RATE" "$SECS" >>"$TMP/$phase.res"
			else
				run "$t" 0 "$MAX_SECS" >>"$TMP/$phase.res"
			fi
		done
	done
	/usr/bin/python3 - "$phase" "$RATE" "$TMP/$phase.res" <<'PY'
import statistics as st, sys
phase, rate, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(path):
    t, r, cpu, n, wall, ev, lost = line.split()
    rows.setdefault(t, []).append((float(r), float(cpu) / int(n) * 1e6, int(n),
                                   float(wall), int(ev), int(lost)))
def med(t, i):
    return st.median(x[i] for x in rows[t])
base_rate, base_cpu = med("none", 0), med("none", 1)
if phase == "paced":
    print("\npaced at %d syscalls/s, median of %d runs" % (rate, len(rows["none"])))
    print("%-9s %12s %13s %9s %10s %9s %8s" % ("tracer", "syscalls/s", "cpu us/sysc",
          "slowdown", "events/s", "ev/sysc", "lost"))
else:
    print("\nunpaced (as fast as it goes), median of %d runs" % len(rows["none"]))
    print("%-9s %12s %13s %9s %10s %9s %8s" % ("tracer", "syscalls/s", "cpu us/sysc",
          "slowdown", "events/s", "ev/sysc", "lost"))
for t in rows:
    r, c = med(t, 0), med(t, 1)
    slow = c / base_cpu if phase == "paced" else base_rate / r
    ev = med(t, 4)
    print("%-9s %12.0f %13.3f %9.3f %10.0f %9.4f %8d" % (t, r, c, slow,
          ev / med(t, 3), ev / med(t, 2), max(x[5] for x in rows[t])))
PY
done
echo
echo "slowdown: paced = workload CPU time per syscall / untraced;"
echo "  unpaced = untraced syscalls/s / traced syscalls/s"
echo "events: records that crossed the ring buffer (sysflow --stats \"sent\","
echo "  bpftrace printed lines); ev/sysc per syscall the workload made; lost:"
echo "  the worst run (sysflow per-CPU counters, bpftrace \"Lost N events\")"
