#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/guard/run.sh: the SysFlow dataplane benchmark, runnable alone (as
# root). Side by side in one run:
#   - ns per connect() (UDP, cgroup hook) and per open() (fanotify) with no
#     agent, with 1,000 non-matching rules, and with a matching rule;
#   - FLOW_MOD sent -> rule in force (p50, p99), and FLOW_MOD -> BARRIER;
#   - a controller serving AGENTS simulated agents at RATE events/s each.
# Everything runs on loopback, in a cgroup, pin folder and tmpfs of its
# own, removed at the end. Knobs: BUILD, N (calls per round), AGENTS,
# RATE, SECS, INSTALLS.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${N:-20000}
AGENTS=${AGENTS:-100}
RATE=${RATE:-1000}
SECS=${SECS:-5}
INSTALLS=${INSTALLS:-200}
SYSFLOW=$PWD/$BUILD/sysflow
B=$PWD/$BUILD/bench/guard
[ "$(id -u)" -eq 0 ] || { echo "bench/guard/run.sh needs root" >&2; exit 1; }
make -s BUILD="$BUILD" "$BUILD/sysflow" "$BUILD/bench/guard/op_cost" \
	"$BUILD/bench/guard/install_lat" "$BUILD/bench/guard/agents_sim" \
	"$BUILD/bench/guard/fan_floor" >/dev/null

TMP=$(mktemp -d /tmp/sfg-bench.XXXXXX)
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG=$CGROOT/sfg-bench-$$
PIN=/sys/fs/bpf/sfg-bench-$$
MNT=$TMP/mnt
PORT=$((40000 + $$ % 10000))
HOSTID=$(printf '%08x' $$)000000000000000000000b0b
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	"$SYSFLOW" agent --unload -F "$PIN" -q 2>/dev/null || true
	umount -l "$MNT" 2>/dev/null || true
	rmdir "$CG" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir "$CG" "$MNT"
mount -t tmpfs -o size=4m sfg-bench "$MNT"
echo x >"$MNT/target"

wait_for() { # FILE REGEX
	local i
	for ((i = 0; i < 400; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for $2 in $1" >&2
	tail -5 "$1" >&2
	exit 1
}
in_cg() { bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
cost() { in_cg "$B/op_cost" "$@" "$N"; }

# 1,000 socket rules over four mask shapes, and 1,000 file rules; none
# matches what op_cost does.
"$(command -v python3)" - "$MNT" >"$TMP/policy.json" <<'PY'
import json, sys
mnt = sys.argv[1]
rules = []
for i in range(250):
    rules.append({"op": "connect", "port": 20000 + i, "actions": ["deny"]})
    rules.append({"op": "connect", "comm": "x%d" % i, "port": 80, "actions": ["deny"]})
    rules.append({"op": "connect", "addr": "10.%d.%d.0/24" % (i // 200, i % 200), "port": 443, "actions": ["deny"]})
    rules.append({"op": "connect", "uid": 5000 + i, "actions": ["deny"]})
for i in range(1000):
    rules.append({"op": "open", "path": "%s/nomatch%d" % (mnt, i), "actions": ["deny"]})
print(json.dumps({"rules": rules}))
PY

start_controller() { # NAME ARGS...
	local name=$1; shift
	"$SYSFLOW" controller -l 127.0.0.1 -p "$PORT" -C "$TMP/ctl.sock" -q "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	PIDS+=($!)
	for ((i = 0; i < 100; i++)); do [ -S "$TMP/ctl.sock" ] && return 0; sleep 0.05; done
	echo "controller did not start" >&2; exit 1
}
stop_last() { kill -INT "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }

echo "sysflow guard benchmark: $(uname -r), $(nproc) cores, N=$N calls per round"
base_c=$(cost connect 9 )
base_o=$(cost open "$MNT/target")
"$B/fan_floor" "$MNT" >"$TMP/floor.out" &
floor_pid=$!
wait_for "$TMP/floor.out" ready
floor_o=$(cost open "$MNT/target")
kill "$floor_pid"; wait "$floor_pid" 2>/dev/null || true

start_controller ctrl -P "$TMP/policy.json"
"$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" -w "$MNT" \
	--host-id "$HOSTID" --cleanup >"$TMP/agent.out" 2>"$TMP/agent.err" &
PIDS+=($!)
wait_for "$TMP/agent.err" "connected to controller"
for ((i = 0; i < 200; i++)); do
	n=$("$SYSFLOW" ctl -S "$TMP/ctl.sock" rules "$HOSTID" -j | grep -c '"cookie"' || true)
	[ "$n" -ge 2000 ] && break
	sleep 0.1
done
[ "$n" -ge 2000 ] || { echo "only $n rules installed" >&2; exit 1; }
miss_c=$(cost connect 9)
miss_o=$(cost open "$MNT/target")
"$SYSFLOW" ctl -S "$TMP/ctl.sock" add "$HOSTID" '{"op":"connect","port":9,"actions":["allow"],"cookie":1}' >/dev/null
"$SYSFLOW" ctl -S "$TMP/ctl.sock" add "$HOSTID" "{\"op\":\"open\",\"path\":\"$MNT/target\",\"actions\":[\"allow\"],\"cookie\":2}" >/dev/null
hit_c=$(cost connect 9)
hit_o=$(cost open "$MNT/target")
hits=$("$SYSFLOW" ctl -S "$TMP/ctl.sock" rules "$HOSTID" -j | grep '"cookie":1,' | sed 's/.*"hits":\([0-9]*\).*/\1/')
kill -INT "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'
stop_last

printf '\n%-34s %10s %10s %12s\n' "added cost per call" "no agent" "1000 miss" "match"
printf '%-34s %8s ns %8s ns %10s ns\n' "connect() (cgroup connect4 hook)" "$base_c" "$miss_c" "$hit_c"
printf '%-34s %8s ns %8s ns %10s ns\n' "open() (fanotify decision)" "$base_o" "$miss_o" "$hit_o"
printf '%-34s %10s %10s %12s\n' "  added over no agent" "" \
	"+$((miss_c - base_c))/+$((miss_o - base_o))" "+$((hit_c - base_c))/+$((hit_o - base_o))"
echo "  (matching rule counted $hits connects: 9 rounds x $N)"
printf '%-34s %8s ns (+%s): the mechanism alone\n' "open() under a bare fanotify allow" "$floor_o" "$((floor_o - base_o))"

# install latency: install_lat plays the controller
in_cg "$B/install_lat" "$PORT" "$INSTALLS" >"$TMP/lat.out" 2>"$TMP/lat.err" &
lat_pid=$!
wait_for "$TMP/lat.out" listening
"$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" --host-id "$HOSTID" \
	--cleanup -q >"$TMP/agent2.out" 2>"$TMP/agent2.err" &
PIDS+=($!)
wait "$lat_pid" || { cat "$TMP/lat.err" >&2; exit 1; }
read -r p50 p99 b50 b99 < <(tail -1 "$TMP/lat.out")
stop_last
printf '\n%-34s %8s us %8s us\n' "FLOW_MOD -> rule in force ($INSTALLS)" "p50 $p50" "p99 $p99"
printf '%-34s %8s us %8s us\n' "FLOW_MOD -> BARRIER_REPLY" "p50 $b50" "p99 $b99"

# many agents
start_controller ctrl2
"$B/agents_sim" "$PORT" "$AGENTS" "$RATE" "$SECS" >"$TMP/sim.out" 2>"$TMP/sim.err"
"$SYSFLOW" ctl -S "$TMP/ctl.sock" stats -j >"$TMP/stats"
stop_last
sent=$(sed -n 's/^sent \([0-9]*\).*/\1/p' "$TMP/sim.out")
secs=$(sed -n 's/^sent [0-9]* in \([0-9.]*\).*/\1/p' "$TMP/sim.out")
handled=$(sed 's/.*"events_in":\([0-9]*\).*/\1/' "$TMP/stats")
hosts=$(sed 's/.*"sessions":\([0-9]*\).*/\1/' "$TMP/stats")
printf '\n%-34s %s sessions, %s events sent in %s s, %s handled (%s/s)\n' \
	"controller, $AGENTS x $RATE ev/s" "$hosts" "$sent" "$secs" "$handled" \
	"$(awk -v h="$handled" -v s="$secs" 'BEGIN { printf "%.0f", h / s }')"
