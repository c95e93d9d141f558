# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# guard_lib.sh: helpers of the guard test suites (sourced after lib.sh):
# a cgroup, a bpffs pin folder and a tmpfs of the test's own, a controller
# and an agent on loopback, and ways to run programs inside the cgroup.
# Python started from the guard tests imports sfp_peer (the raw SysFlow
# peer in this directory) without writing bytecode into the tree.
# Nothing outside what the test creates is hooked or watched. The
# controller and the listeners of the tests bind ports of the host's
# loopback, fixed ones among them: HOST_LOCK makes two runs at once (two
# worktrees) take turns.
HOST_LOCK=guard

CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CGROOT" ] || skip "no cgroup2 mount"
CG=$CGROOT/sfg-test-$$
PIN=/sys/fs/bpf/sfg-test-$$
MNT=$TMP/mnt
CTL=$TMP/ctl.sock
# below the ephemeral range (32768-60999), which connect() may hand out
PORT=$((20000 + $$ % 12000))
HOSTID=$(printf '%08x' $$)00000000000000000000000a
PY=/usr/bin/python3
PYTHONPATH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)${PYTHONPATH:+:$PYTHONPATH}
export PYTHONPATH PYTHONDONTWRITEBYTECODE=1

guard_setup() {
	mkdir "$CG"
	on_exit guard_rm_cgroup "$CG"
	mkdir -p "$MNT"
	mount -t tmpfs -o size=4m sfg-test "$MNT"
	on_exit "umount -l '$MNT'"
	on_exit "'$SYSFLOW' agent --unload -F '$PIN' -q; rm -rf '$PIN'"
}

# guard_rm_cgroup DIR: kill what is left in the test cgroup, then remove it.
guard_rm_cgroup() {
	local p i
	for ((i = 0; i < 50; i++)); do
		for p in $(cat "$1/cgroup.procs" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null || true
		done
		rmdir "$1" 2>/dev/null && return 0
		sleep 0.05
	done
}

# start_controller [OPTIONS...]: on 127.0.0.1:$PORT, ready when listening.
start_controller() {
	bg_start controller "$SYSFLOW" controller -l 127.0.0.1 -p "$PORT" \
		-C "$CTL" --echo-interval 500 --dead-interval 3000 "$@"
	wait_for "$TMP/controller.err" "controller listening"
}

# host_sessions: how many sessions of the test host the controller took
# up (its "host NAME (id HOSTID, ...) connected" lines).
host_sessions() {
	cat "$TMP/controller.err" 2>/dev/null | grep -c "(id $HOSTID, " || true
}
more_sessions_than() { [ "$(host_sessions)" -gt "$1" ]; }

# start_agent [OPTIONS...]: socket hooks on the test cgroup, fanotify on
# the test tmpfs; ready when the session is up on both ends. The agent
# says "connected" at the controller's HELLO; the controller takes the
# host up, and ctl can reach it, only at FEATURES_REPLY, an exchange
# later.
start_agent() {
	local n
	n=$(host_sessions)
	bg_start agent "$SYSFLOW" agent 127.0.0.1 "$PORT" -F "$PIN" -c "$CG" \
		-w "$MNT" --host-id "$HOSTID" --backoff-max 300 \
		--echo-interval 500 --dead-interval 3000 "$@"
	wait_for "$TMP/agent.err" "connected to controller"
	wait_until 10 more_sessions_than "$n"
}

ctl() { "$SYSFLOW" ctl -S "$CTL" "$@"; }

# add_rule JSON: install on the test host and wait for the BARRIER.
add_rule() {
	ctl add "$HOSTID" "$1" >"$TMP/ctl.out" 2>"$TMP/ctl.err" ||
		fail "ctl add $1: $(cat "$TMP/ctl.err")"
}

# in_cg CMD...: run CMD as a member of the test cgroup.
in_cg() {
	bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}

# connect_rc PORT [PROGRAM]: connect from the cgroup; prints ok or errno.
connect_py() {
	in_cg "$PY" -c '
import errno, socket, sys
try:
    s = socket.socket()
    s.connect(("127.0.0.1", int(sys.argv[1])))
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])' "$1"
}

connect_bash() {
	in_cg bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && echo ok" 2>/dev/null || echo fail
}

# listen_on PORT: a TCP listener outside the cgroup, stopped on exit.
listen_on() {
	bg_start "listen$1" "$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
print("listening", flush=True)
while True:
    c, _ = s.accept(); c.close()' "$1"
	wait_for "$TMP/listen$1.out" listening
}

# rule_hits COOKIE: the hits of the rule with that cookie, from ctl.
rule_hits() {
	ctl rules "$HOSTID" -j | "$PY" -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("cookie") == int(sys.argv[1]):
        print(o["hits"])' "$1"
}

# wait_rule REGEX: until a rule of the test host matches (as JSON).
wait_rule() {
	local i
	for ((i = 0; i < 100; i++)); do
		ctl rules "$HOSTID" -j 2>/dev/null | grep -qE "$1" && return 0
		sleep 0.05
	done
	fail "no rule matching /$1/: $(ctl rules "$HOSTID" -j 2>&1)"
}
